DROP INDEX `subscribers_active_id`;--> statement-breakpoint
ALTER TABLE `subscribers` ADD `cadence` text DEFAULT 'weekly' NOT NULL;--> statement-breakpoint
ALTER TABLE `subscribers` ADD `cadence_from` text;--> statement-breakpoint
CREATE INDEX `subscribers_weekly_id` ON `subscribers` (`id`) WHERE status = 'active' AND (cadence = 'weekly' OR cadence_from IS NOT NULL);--> statement-breakpoint
CREATE INDEX `subscribers_daily_id` ON `subscribers` (`id`) WHERE status = 'active' AND (cadence = 'daily' OR cadence_from IS NOT NULL);--> statement-breakpoint
CREATE INDEX `subscribers_cadence_from` ON `subscribers` (`cadence_from`) WHERE cadence_from IS NOT NULL;--> statement-breakpoint
ALTER TABLE `issues` ADD `cadence` text DEFAULT 'weekly' NOT NULL;