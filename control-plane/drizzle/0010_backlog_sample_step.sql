-- The review backlog sample steps from the last one (+1 as a spec enters awaiting_review, -1 as
-- it leaves) instead of counting every spec awaiting review on each change: a verdict must not
-- cost more as the backlog grows. With no earlier sample (the first, or all pruned) it counts
-- once.
DROP TRIGGER IF EXISTS `specs_backlog_sample`;--> statement-breakpoint
CREATE TRIGGER `specs_backlog_sample` AFTER UPDATE OF `status` ON `specs`
WHEN (OLD.`status` = 'awaiting_review') <> (NEW.`status` = 'awaiting_review')
BEGIN
	INSERT INTO `backlog_samples` (`at`, `awaiting_review`)
	VALUES (
		NEW.`updated_at`,
		COALESCE(
			(SELECT `awaiting_review` FROM `backlog_samples` ORDER BY `id` DESC LIMIT 1)
				+ CASE WHEN NEW.`status` = 'awaiting_review' THEN 1 ELSE -1 END,
			(SELECT count(*) FROM `specs` WHERE `status` = 'awaiting_review')
		)
	);
END;
