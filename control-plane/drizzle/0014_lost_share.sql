ALTER TABLE `specs` ADD `lost_share` real DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `runs_boot_idx` ON `runs` (`executor_boot`,`finished_at`) WHERE "runs"."executor_boot" IS NOT NULL;--> statement-breakpoint
UPDATE `specs` SET `lost_share` = `lost_streak`;