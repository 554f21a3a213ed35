PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_subscribers` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
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
INSERT INTO `__new_subscribers`("id", "email", "email_key", "status", "source", "created_at", "consent_at", "consent_origin", "consent_ip_hash", "confirmed_at", "unsubscribed_at", "paused_until", "confirm_sent_at", "confirm_count") SELECT "id", "email", "email_key", "status", "source", "created_at", "consent_at", "consent_origin", "consent_ip_hash", "confirmed_at", "unsubscribed_at", "paused_until", "confirm_sent_at", "confirm_count" FROM `subscribers`;--> statement-breakpoint
DROP TABLE `subscribers`;--> statement-breakpoint
ALTER TABLE `__new_subscribers` RENAME TO `subscribers`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE UNIQUE INDEX `subscribers_email_key_unique` ON `subscribers` (`email_key`);--> statement-breakpoint
CREATE INDEX `subscribers_active_id` ON `subscribers` (`id`) WHERE status = 'active';