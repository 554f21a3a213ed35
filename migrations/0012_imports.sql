CREATE TABLE `import_chunks` (
	`import_id` integer NOT NULL,
	`seq` integer NOT NULL,
	`rows` text NOT NULL,
	`done` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`import_id`, `seq`)
);
--> statement-breakpoint
CREATE TABLE `imports` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`file_name` text NOT NULL,
	`status` text NOT NULL,
	`rows` integer NOT NULL,
	`valid` integer NOT NULL,
	`repeated` integer NOT NULL,
	`invalid` integer NOT NULL,
	`errors` text NOT NULL,
	`chunks` integer NOT NULL,
	`chunks_done` integer DEFAULT 0 NOT NULL,
	`valid_done` integer DEFAULT 0 NOT NULL,
	`imported` integer DEFAULT 0 NOT NULL,
	`error` text,
	`created_at` integer NOT NULL,
	`finished_at` integer
);
