ALTER TABLE `runs` ADD `cost_usd` real;--> statement-breakpoint
ALTER TABLE `runs` ADD `cost_source` text;--> statement-breakpoint
CREATE INDEX `runs_spend_idx` ON `runs` (`finished_at`,`provider`,`cost_usd`) WHERE "runs"."cost_usd" IS NOT NULL;