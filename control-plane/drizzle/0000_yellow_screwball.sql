CREATE TABLE `executors` (
	`id` text PRIMARY KEY NOT NULL,
	`host` text NOT NULL,
	`version` text NOT NULL,
	`arch` text NOT NULL,
	`capacity` integer NOT NULL,
	`providers` text NOT NULL,
	`repos` text NOT NULL,
	`load` text,
	`draining` integer DEFAULT false NOT NULL,
	`key_id` text,
	`last_seen_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `gates` (
	`name` text PRIMARY KEY NOT NULL,
	`action` text NOT NULL,
	`retry` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `providers` (
	`name` text PRIMARY KEY NOT NULL,
	`slots` integer DEFAULT 2 NOT NULL,
	`effective_slots` integer DEFAULT 2 NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`harness` text,
	`model` text,
	`frozen` integer DEFAULT false NOT NULL,
	`breaker_state` text DEFAULT 'closed' NOT NULL,
	`consecutive_failures` integer DEFAULT 0 NOT NULL,
	`open_until` integer,
	`cooldown_ms` integer DEFAULT 0 NOT NULL,
	`cooling_until` integer,
	`bad_streak` integer DEFAULT 0 NOT NULL,
	`recent_outcomes` text DEFAULT '[]' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `runs` (
	`id` text PRIMARY KEY NOT NULL,
	`spec_id` text NOT NULL,
	`attempt` integer NOT NULL,
	`executor_id` text NOT NULL,
	`provider` text NOT NULL,
	`model` text,
	`harness` text,
	`status` text NOT NULL,
	`phase` text,
	`lease_token` text NOT NULL,
	`lease_expires_at` integer NOT NULL,
	`cancel` integer DEFAULT false NOT NULL,
	`trial` integer DEFAULT false NOT NULL,
	`gates` text NOT NULL,
	`feedback` text DEFAULT '[]' NOT NULL,
	`progress` text,
	`claimed_at` integer NOT NULL,
	`started_at` integer,
	`heartbeat_at` integer,
	`finished_at` integer,
	`outcome` text,
	`flags` text DEFAULT '[]' NOT NULL,
	`failure` text,
	`branch` text,
	`base_sha` text,
	`head_sha` text,
	`commits` integer,
	`diffstat` text,
	`usage` text,
	`duration_ms` integer,
	`log_tail` text,
	`patch_id` text
);
--> statement-breakpoint
CREATE INDEX `runs_spec_idx` ON `runs` (`spec_id`,`attempt`);--> statement-breakpoint
CREATE INDEX `runs_lease_idx` ON `runs` (`status`,`lease_expires_at`);--> statement-breakpoint
CREATE INDEX `runs_provider_idx` ON `runs` (`provider`,`status`);--> statement-breakpoint
CREATE INDEX `runs_executor_idx` ON `runs` (`executor_id`,`status`);--> statement-breakpoint
CREATE INDEX `runs_finished_idx` ON `runs` (`finished_at`);--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `specs` (
	`id` text PRIMARY KEY NOT NULL,
	`title` text NOT NULL,
	`repo` text NOT NULL,
	`provider` text NOT NULL,
	`priority` integer DEFAULT 0 NOT NULL,
	`status` text NOT NULL,
	`attempt` integer DEFAULT 0 NOT NULL,
	`max_attempt` integer NOT NULL,
	`spec` text NOT NULL,
	`warnings` text DEFAULT '[]' NOT NULL,
	`dedup_key` text NOT NULL,
	`feedback` text DEFAULT '[]' NOT NULL,
	`next_attempt_at` integer,
	`current_run_id` text,
	`outcome` text,
	`flags` text DEFAULT '[]' NOT NULL,
	`created_by` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`review_decision` text,
	`review_grade` text,
	`review_note` text,
	`review_by` text,
	`review_at` integer
);
--> statement-breakpoint
CREATE INDEX `specs_dispatch_idx` ON `specs` (`status`,`priority`,`created_at`);--> statement-breakpoint
CREATE INDEX `specs_dedup_idx` ON `specs` (`dedup_key`,`status`);--> statement-breakpoint
CREATE INDEX `specs_created_idx` ON `specs` (`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `specs_backoff_idx` ON `specs` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE TABLE `outbox` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`type` text NOT NULL,
	`payload` text NOT NULL,
	`created_at` integer NOT NULL,
	`processed_at` integer
);
--> statement-breakpoint
CREATE INDEX `outbox_pending_idx` ON `outbox` (`processed_at`,`id`);--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`scope` text NOT NULL,
	`key` text NOT NULL,
	`request_hash` text NOT NULL,
	`state` text NOT NULL,
	`response_status` integer,
	`response_body` text,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`scope`, `key`)
);
--> statement-breakpoint
CREATE INDEX `idempotency_created_idx` ON `idempotency_keys` (`created_at`);--> statement-breakpoint
CREATE TABLE `nonces` (
	`key_id` text NOT NULL,
	`nonce` text NOT NULL,
	`seen_at` integer NOT NULL,
	PRIMARY KEY(`key_id`, `nonce`)
);
--> statement-breakpoint
CREATE INDEX `nonces_seen_idx` ON `nonces` (`seen_at`);