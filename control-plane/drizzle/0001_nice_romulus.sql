CREATE TABLE `action_links` (
	`nonce` text PRIMARY KEY NOT NULL,
	`spec_id` text NOT NULL,
	`action` text NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `action_links_expires_idx` ON `action_links` (`expires_at`);--> statement-breakpoint
CREATE TABLE `monitor_flags` (
	`spec_id` text NOT NULL,
	`kind` text NOT NULL,
	`detail` text NOT NULL,
	`attempt` integer NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`spec_id`, `kind`)
);
--> statement-breakpoint
CREATE TABLE `monitor_passes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`started_at` integer NOT NULL,
	`duration_ms` integer NOT NULL,
	`changes` text NOT NULL,
	`details` text NOT NULL,
	`truncated` integer DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE INDEX `monitor_passes_started_idx` ON `monitor_passes` (`started_at`);--> statement-breakpoint
CREATE TABLE `monitor_state` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`endpoint_id` text NOT NULL,
	`outbox_id` integer NOT NULL,
	`event` text NOT NULL,
	`body` text NOT NULL,
	`content_type` text NOT NULL,
	`target_url` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer,
	`last_status` integer,
	`last_error` text,
	`log` text NOT NULL,
	`created_at` integer NOT NULL,
	`delivered_at` integer
);
--> statement-breakpoint
CREATE INDEX `webhook_deliveries_due_idx` ON `webhook_deliveries` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_endpoint_idx` ON `webhook_deliveries` (`endpoint_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `webhook_endpoints` (
	`id` text PRIMARY KEY NOT NULL,
	`url` text NOT NULL,
	`secret` text NOT NULL,
	`events` text NOT NULL,
	`format` text NOT NULL,
	`links_base` text NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`disabled_reason` text,
	`created_by` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `webhook_endpoints_enabled_idx` ON `webhook_endpoints` (`enabled`);