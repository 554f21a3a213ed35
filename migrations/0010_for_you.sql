CREATE TABLE `ratings` (
	`subscriber_id` integer NOT NULL,
	`paper_id` text NOT NULL,
	`direction` integer NOT NULL,
	`week` text NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`subscriber_id`, `paper_id`)
);
--> statement-breakpoint
ALTER TABLE `issues` ADD `pool` text;--> statement-breakpoint
ALTER TABLE `subscribers` ADD `topics` text;--> statement-breakpoint
ALTER TABLE `subscribers` ADD `taste` text;