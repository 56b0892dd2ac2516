DROP INDEX `specs_dispatch_idx`;--> statement-breakpoint
CREATE INDEX `specs_claim_idx` ON `specs` (`repo`,`provider`,"priority" DESC,`created_at`) WHERE "specs"."status" = 'queued';--> statement-breakpoint
CREATE INDEX `runs_patch_idx` ON `runs` (`finished_at`) WHERE "runs"."patch_id" IS NOT NULL;