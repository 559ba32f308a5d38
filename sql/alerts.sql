-- §5 alerts: which reminders alert, exact outbox rows (recipients, subject,
-- body), one alert per reminder, alert_repeat_days, no recipient at all.
-- Fixed past data and explicit as_of values; the session TimeZone is odd on
-- purpose: nothing may depend on it.
SET client_min_messages = warning;
\set SHOW_CONTEXT never
CREATE EXTENSION kpi_mail;
SET TimeZone = 'Pacific/Auckland';

-- The outbox as mail: what was queued, in order (status is delivery's business).
CREATE VIEW queued AS
	SELECT o.reminder_id, o.kind, o.reminder_source, o.recipients, o.subject, o.body
	FROM kpi_mail.outbox o ORDER BY o.message_id;

INSERT INTO kpi_mail.recipient (email, display_name, role) VALUES
	('Direction@Example.fr', 'Direction', 'alert'),
	('controle@example.fr', NULL, 'alert'),
	('boss@example.fr', 'Patron', 'report');

-- Company time zone Europe/Paris (default); DST starts on 2026-03-29.
INSERT INTO kpi_mail.payment_reminder
	(client_name, invoice_number, reminded_on, recorded_at, result, result_recorded_at, responsible_email)
VALUES
	-- 1: control characters in the client name and invoice number; the
	--    responsible is an alert recipient spelled otherwise
	(E'Dupont\r\nBcc: pirate@example.com', E'F-001\t<b>', '2026-03-20', '2026-03-20 10:30+01', NULL, NULL, 'direction@example.FR'),
	-- 2: recorded in winter, due 8 days later at the same local time, in summer
	('Martin SA', 'F-002', '2026-03-21', '2026-03-21 10:30+01', NULL, NULL, 'anne.martin@example.fr'),
	-- 3: a result recorded in time: no alert
	('Bernard', 'F-003', '2026-03-20', '2026-03-20 09:00+01', 'nouvelle relance', '2026-03-25 12:00+01', NULL),
	-- 4: a result entered after as_of: still without result at as_of
	('Petit', 'F-004', '2026-03-18', '2026-03-18 16:45+01', 'règlement facture', '2026-04-02 09:00+02', '  Paul.Petit@Example.fr '),
	-- 5: not overdue yet at the as_of values below
	('Durand', 'F-005', '2026-03-25', '2026-03-25 08:00+01', NULL, NULL, NULL);
-- Imported history, stored without the triggers:
SET session_replication_role = replica;
-- 6: an invalid responsible address is left out with a WARNING
INSERT INTO kpi_mail.payment_reminder
	(client_name, invoice_number, reminded_on, recorded_at, result, result_recorded_at, responsible_email)
VALUES ('Leroy', 'F-006', '2026-03-19', '2026-03-19 11:00+01', NULL, NULL, 'pas une adresse');
-- 7: a legacy row holding RAS without a recording date has a result: no alert
INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, recorded_at, result, result_recorded_at)
VALUES ('Ancien', 'F-007', '2026-01-05', '2026-01-05 10:00+01', 'RAS', NULL);
RESET session_replication_role;

-- Reminder 2 is due at 2026-03-29 10:30 Paris summer time = 08:30 UTC.
SELECT kpi_mail.send_alerts('2026-03-29 08:29:59+00') AS queued_before_due;
SELECT reminder_id FROM queued;
SELECT kpi_mail.send_alerts('2026-03-29 08:30:00+00') AS queued_at_due;
SELECT reminder_id FROM queued;
-- Once each, whatever the number of calls.
SELECT kpi_mail.send_alerts('2026-03-29 08:30:00+00') AS queued_again;

\x on
SELECT * FROM queued;
\x off
SELECT body = E'Le champ ''Résultat de la Relance'' n''a pas été rempli pour Martin SA, F-002 depuis 8 jours. '
			  'Veuillez compléter les informations requises.\n\nRelance du 21/03/2026, saisie le 21/03/2026 à 10:30.\n'
	   AS exact_body
FROM queued WHERE reminder_id = 2;
SELECT reminder_id, pg_catalog.right(body, 1) = E'\n' AS ends_with_lf,
	   body !~ '[\x01-\x09\x0b-\x1f\x7f]' AS no_control_but_lf
FROM queued;
SELECT reminder_source, reminder_id, first_alerted_at AT TIME ZONE 'UTC' AS first_alerted_utc,
	   last_alerted_at AT TIME ZONE 'UTC' AS last_alerted_utc, alert_count
FROM kpi_mail.alert_log ORDER BY reminder_id;

-- Reminder 5 becomes overdue on 2026-04-02 08:00 Paris = 06:00 UTC.
SELECT kpi_mail.send_alerts('2026-04-02 05:59:59+00') AS before_due;
SELECT kpi_mail.send_alerts('2026-04-02 06:00:00+00') AS at_due;
SELECT kpi_mail.send_alerts('2026-04-03 12:00:00+00') AS next_day;
SELECT body FROM queued WHERE reminder_id = 5;

-- alert_repeat_days: alerted again once that many days (wall clock) have passed.
UPDATE kpi_mail.settings SET alert_repeat_days = 2;
-- 1, 2 and 6 were alerted on 03-29 and still have no result; 4 has one
-- since 04-02; 5 was alerted on 04-02 at 08:00 Paris (06:00 UTC).
SELECT kpi_mail.send_alerts('2026-04-04 05:59:59+00') AS repeat_1_2_6;
SELECT kpi_mail.send_alerts('2026-04-04 06:00:00+00') AS repeat_5;
SELECT kpi_mail.send_alerts('2026-04-04 06:00:00+00') AS repeat_again;
SELECT kpi_mail.send_alerts('2026-04-05 12:00:00+00') AS next_day;
SELECT reminder_id, count(*) AS alerts FROM queued GROUP BY reminder_id ORDER BY reminder_id;
SELECT reminder_id, alert_count, last_alerted_at AT TIME ZONE 'UTC' AS last_alerted_utc
FROM kpi_mail.alert_log ORDER BY reminder_id;
SELECT body FROM queued WHERE reminder_id = 5 ORDER BY body;
UPDATE kpi_mail.settings SET alert_repeat_days = 0;

-- Plural rule: with a 1-day delay, "depuis 1 jour".
UPDATE kpi_mail.settings SET reminder_result_days = 1;
INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, recorded_at)
VALUES ('Moreau', 'F-008', '2026-04-05', '2026-04-05 23:15+02');
SELECT kpi_mail.send_alerts('2026-04-06 21:15+00') AS one_day;
SELECT body FROM queued WHERE reminder_id = 8;
UPDATE kpi_mail.settings SET reminder_result_days = 8;

-- No recipient at all: nothing queued, nothing marked, a WARNING; the alert
-- goes out once a recipient exists.
DELETE FROM kpi_mail.recipient WHERE role = 'alert';
INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, recorded_at)
VALUES ('Fournier', 'F-009', '2026-04-01', '2026-04-01 09:00+02');
SELECT kpi_mail.send_alerts('2026-04-20 00:00+00') AS without_recipient;
SELECT count(*) AS logged_9 FROM kpi_mail.alert_log WHERE reminder_id = 9;
INSERT INTO kpi_mail.recipient (email, role) VALUES ('nouveau@example.fr', 'alert');
SELECT kpi_mail.send_alerts('2026-04-20 00:00+00') AS with_recipient;
SELECT reminder_id, recipients FROM queued WHERE reminder_id = 9;

-- A NULL or infinite as_of is refused.
SELECT kpi_mail.send_alerts(NULL);
SELECT kpi_mail.send_alerts('infinity');

-- The days are counted on the company's wall clock, not the session's.
SET TimeZone = 'UTC';
-- Across the spring change: 10:30 Paris on 03-21 (UTC+1) to 10:30 on 03-29 (UTC+2).
SELECT pg_catalog.substring(kpi_mail.alert_body('C', 'F', '2026-03-21', '2026-03-21 10:30+01', t, 'Europe/Paris'),
							'depuis [0-9]+ jours?') AS days, pg_catalog.to_char(t, 'YYYY-MM-DD HH24:MI:SS') AS as_of_utc
FROM pg_catalog.unnest('{2026-03-29 08:29:59+00, 2026-03-29 08:30:00+00}'::timestamptz[]) AS t;
-- Across the autumn change: 02:30 happens twice on 2026-10-25.
SELECT pg_catalog.substring(kpi_mail.alert_body('C', 'F', '2026-10-17', '2026-10-17 02:30+02', t, 'Europe/Paris'),
							'depuis [0-9]+ jours?') AS days, pg_catalog.to_char(t, 'YYYY-MM-DD HH24:MI:SS') AS as_of_utc
FROM pg_catalog.unnest('{2026-10-25 00:30:00+00, 2026-10-25 01:29:59+00, 2026-10-25 01:30:00+00}'::timestamptz[]) AS t;
SET TimeZone = 'America/New_York';
SELECT kpi_mail.alert_body(NULL, NULL, NULL, '2026-03-21 10:30+01', '2026-03-29 08:30+00', 'Europe/Paris') AS null_texts;
SELECT kpi_mail.alert_body('C', 'F', '2026-03-21', NULL, '2026-03-29 08:30+00', 'Europe/Paris') IS NULL AS null_instant;

DROP VIEW queued;
DROP EXTENSION kpi_mail;
