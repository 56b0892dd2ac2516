ALTER TABLE `executors` ADD `boot` text;--> statement-breakpoint
ALTER TABLE `executors` ADD `retired_boot` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `executor_boot` text;