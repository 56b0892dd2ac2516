CREATE TABLE `run_patches` (
	`run_id` text PRIMARY KEY NOT NULL,
	`text` text NOT NULL,
	`truncated` integer NOT NULL,
	`bytes` integer NOT NULL
);
