CREATE TABLE `outbox` (
	`id` integer PRIMARY KEY NOT NULL,
	`idempotency_key` text,
	`from_address` text NOT NULL,
	`to_address` text NOT NULL,
	`subject` text NOT NULL,
	`html` text NOT NULL,
	`text` text NOT NULL,
	`headers` text,
	`tags` text,
	`created_at` integer DEFAULT (unixepoch() * 1000) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_idempotency_key_unique` ON `outbox` (`idempotency_key`);--> statement-breakpoint
CREATE TABLE `subscribers` (
	`id` integer PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`email_key` text NOT NULL,
	`status` text NOT NULL,
	`source` text NOT NULL,
	`created_at` integer NOT NULL,
	`consent_at` integer NOT NULL,
	`consent_origin` text,
	`consent_ip_hash` text,
	`confirmed_at` integer,
	`unsubscribed_at` integer,
	`paused_until` integer,
	`confirm_sent_at` integer,
	`confirm_count` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `subscribers_email_key_unique` ON `subscribers` (`email_key`);--> statement-breakpoint
CREATE INDEX `subscribers_active_id` ON `subscribers` (`id`) WHERE status = 'active';