CREATE TABLE `backlog_samples` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`awaiting_review` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `backlog_samples_at_idx` ON `backlog_samples` (`at`);--> statement-breakpoint
CREATE TABLE `fleet_periods` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`provider` text,
	`started_at` integer NOT NULL,
	`ended_at` integer,
	`detail` text
);
--> statement-breakpoint
CREATE INDEX `fleet_periods_kind_idx` ON `fleet_periods` (`kind`,`provider`,`ended_at`);--> statement-breakpoint
CREATE INDEX `fleet_periods_started_idx` ON `fleet_periods` (`started_at`);--> statement-breakpoint
CREATE INDEX `fleet_periods_ended_idx` ON `fleet_periods` (`ended_at`);--> statement-breakpoint
-- The review backlog over time: one sample whenever a spec enters or leaves awaiting_review, by
-- whatever path (verdict, approve, decline, phone link, kill, retry). Counted in
-- specs_review_idx, which holds only the specs awaiting review.
CREATE TRIGGER `specs_backlog_sample` AFTER UPDATE OF `status` ON `specs`
WHEN (OLD.`status` = 'awaiting_review') <> (NEW.`status` = 'awaiting_review')
BEGIN
	INSERT INTO `backlog_samples` (`at`, `awaiting_review`)
	VALUES (NEW.`updated_at`, (SELECT count(*) FROM `specs` WHERE `status` = 'awaiting_review'));
END;
