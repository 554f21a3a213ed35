CREATE TABLE `confirm_domain_hours` (
	`domain` text NOT NULL,
	`hour` integer NOT NULL,
	`count` integer NOT NULL,
	PRIMARY KEY(`domain`, `hour`)
);
