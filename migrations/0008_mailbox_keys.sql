-- One row per mailbox: email_key becomes the mailbox an address reaches (src/lib/email.ts mailboxKey): lower case,
-- a "+tag" dropped, and for gmail.com / googlemail.com the dots dropped too. Where two existing rows reach the same
-- mailbox, one gets the key and the other keeps its old one (UPDATE OR IGNORE skips a row that would collide).
UPDATE OR IGNORE `subscribers` SET `email_key` = (
  SELECT CASE WHEN d IN ('gmail.com', 'googlemail.com') THEN replace(p, '.', '') || '@gmail.com' ELSE p || '@' || d END
  FROM (
    SELECT CASE WHEN instr(l, '+') > 1 THEN substr(l, 1, instr(l, '+') - 1) ELSE l END AS p, d
    FROM (SELECT substr(`subscribers`.`email_key`, 1, instr(`subscribers`.`email_key`, '@') - 1) AS l, substr(`subscribers`.`email_key`, instr(`subscribers`.`email_key`, '@') + 1) AS d)
  )
)
WHERE instr(`email_key`, '@') > 1;
