-- Rebuilding `subscribers` for AUTOINCREMENT (0005) dropped its triggers: the departures triggers come back here,
-- unchanged (see 0004).
CREATE TRIGGER `subscribers_departed_on_update` AFTER UPDATE OF `status`, `paused_until` ON `subscribers`
WHEN OLD.`status` = 'active' AND (NEW.`status` <> 'active' OR (NEW.`paused_until` IS NOT NULL AND NEW.`paused_until` IS NOT OLD.`paused_until`))
BEGIN
  INSERT INTO `departures` (`subscriber_id`, `at`) VALUES (NEW.`id`, CAST(unixepoch('subsec') * 1000 AS INTEGER))
  ON CONFLICT (`subscriber_id`) DO UPDATE SET `at` = excluded.`at`;
END;
--> statement-breakpoint
CREATE TRIGGER `subscribers_departed_on_delete` AFTER DELETE ON `subscribers`
WHEN OLD.`status` = 'active'
BEGIN
  INSERT INTO `departures` (`subscriber_id`, `at`) VALUES (OLD.`id`, CAST(unixepoch('subsec') * 1000 AS INTEGER))
  ON CONFLICT (`subscriber_id`) DO UPDATE SET `at` = excluded.`at`;
END;
--> statement-breakpoint
-- AUTOINCREMENT only counts from the highest id the table holds now; ids of subscribers erased before this migration
-- may be higher, and batch lists still name them. One row at the highest id anywhere moves the sequence past them,
-- then goes (its status is not active, so no departure is recorded).
INSERT INTO `subscribers` (`id`, `email`, `email_key`, `status`, `source`, `created_at`, `consent_at`)
SELECT m, '', '~id-reservation~', 'unsubscribed', 'import', 0, 0 FROM (
  SELECT max(
    coalesce((SELECT max(json_extract(j.value, '$.id')) FROM `issue_batches`, json_each(`issue_batches`.`recipients`) j), 0),
    coalesce((SELECT max(json_extract(j.value, '$.sub')) FROM `mail_batches`, json_each(`mail_batches`.`items`) j), 0),
    coalesce((SELECT max(`subscriber_id`) FROM `departures`), 0)
  ) AS m
) WHERE m > coalesce((SELECT max(`id`) FROM `subscribers`), 0);
--> statement-breakpoint
DELETE FROM `subscribers` WHERE `email_key` = '~id-reservation~';
