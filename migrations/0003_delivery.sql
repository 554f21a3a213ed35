CREATE TABLE `departures` (
	`subscriber_id` integer PRIMARY KEY NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `mail_batches` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`items` text NOT NULL,
	`status` text NOT NULL,
	`version` integer DEFAULT 0 NOT NULL,
	`state` text DEFAULT 'ready' NOT NULL,
	`lease_until` integer,
	`attempts` integer DEFAULT 0 NOT NULL,
	`sent` integer DEFAULT 0 NOT NULL,
	`rejected` integer DEFAULT 0 NOT NULL,
	`error` text,
	`parked_at` integer,
	`created_at` integer NOT NULL,
	`sent_at` integer
);
--> statement-breakpoint
CREATE TABLE `mail_items` (
	`key` text PRIMARY KEY NOT NULL,
	`batch_id` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `issue_batches` ADD `version` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `issue_batches` ADD `state` text DEFAULT 'ready' NOT NULL;--> statement-breakpoint
ALTER TABLE `issue_batches` ADD `lease_until` integer;--> statement-breakpoint
ALTER TABLE `issue_batches` ADD `cut_at` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `issue_batches` ADD `rejected` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `issues` ADD `dropped` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `issues` ADD `rejected` integer DEFAULT 0 NOT NULL;