CREATE TABLE `issue_batches` (
	`id` integer PRIMARY KEY NOT NULL,
	`week` text NOT NULL,
	`batch_no` integer NOT NULL,
	`recipients` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`error` text,
	`sent_at` integer
);
--> statement-breakpoint
CREATE TABLE `issues` (
	`week` text PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`subject` text DEFAULT '' NOT NULL,
	`papers` text,
	`html` text,
	`text` text,
	`cursor` integer DEFAULT 0 NOT NULL,
	`fanout_done` integer DEFAULT false NOT NULL,
	`recipients` integer DEFAULT 0 NOT NULL,
	`batches` integer DEFAULT 0 NOT NULL,
	`batches_sent` integer DEFAULT 0 NOT NULL,
	`sent` integer DEFAULT 0 NOT NULL,
	`api_calls` integer DEFAULT 0 NOT NULL,
	`retries` integer DEFAULT 0 NOT NULL,
	`failures` integer DEFAULT 0 NOT NULL,
	`rows_read` integer DEFAULT 0 NOT NULL,
	`rows_written` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`started_at` integer NOT NULL,
	`finished_at` integer
);
