-- One key/value table: the monitor's bookkeeping (runaway_watermark, digest, report) moves into
-- settings beside the switches and the budget state. Its keys are its own, so nothing is replaced.
INSERT OR IGNORE INTO `settings` (`key`, `value`) SELECT `key`, `value` FROM `monitor_state`;--> statement-breakpoint
DROP TABLE `monitor_state`;
