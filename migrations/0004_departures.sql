-- Every way a subscriber stops being mailable (unsubscribe, suppression, pause, erasure, any status change away
-- from active) is recorded in `departures`, whichever code path made it, so a batch frozen before it can drop them.
-- Times are D1's own clock, in milliseconds.
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
