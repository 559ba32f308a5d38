-- An attached reminder table whose entry-time column holds NULL or infinite
-- values (§3, §8): the weekly report and the alerts read the same reminders.
-- A NULL entry time counts from midnight starting the reminder date in the
-- company time zone (as the kpi_recorded_at backfill); an infinite one has
-- no due date, so the reminder is in neither.
SET client_min_messages = warning;
\set SHOW_CONTEXT never
CREATE EXTENSION kpi_mail;
SET TimeZone = 'America/New_York';

CREATE SCHEMA erp;
CREATE TABLE erp.relances (id integer PRIMARY KEY, client text, facture text, le date,
	saisie timestamptz, resultat text);
INSERT INTO erp.relances VALUES
	(1, 'Client A', 'F-1', '2024-03-04', NULL, NULL),
	(2, 'Client B', 'F-2', '2024-03-05', '2024-03-05 15:30+01', NULL),
	(3, 'Client C', 'F-3', '2024-03-06', 'infinity', NULL),
	(4, 'Client D', 'F-4', '2024-02-20', NULL, NULL),
	(5, 'Client E', 'F-5', '2024-03-07', '-infinity', NULL);
SELECT kpi_mail.attach_reminders('erp.relances', 'client', 'facture', 'le', 'resultat', 'saisie');
INSERT INTO kpi_mail.recipient (email, role) VALUES ('alerte@example.fr', 'alert');

-- The week of 11/03 to 17/03: reminders 1 and 2 (dated the week before) and
-- 4 are overdue at its end; 3 and 5 appear nowhere.
\pset format unaligned
\pset tuples_only on
SELECT substring(kpi_mail.kpi_weekly_report('2024-03-17') FROM '2\. Relance encours Clients.*$');
SELECT substring(kpi_mail.kpi_weekly_report('2024-03-10') FROM '2\. Relance encours Clients.*$');
\pset format aligned
\pset tuples_only off

-- The alerts at the same instant (midnight starting 18/03 in Paris).
SELECT reminder_id, client_name, reminded_on,
	   recorded_at AT TIME ZONE 'Europe/Paris' AS recorded_paris,
	   result_due_at AT TIME ZONE 'Europe/Paris' AS due_paris, days_without_result
FROM kpi_mail.overdue_reminders('2024-03-18 00:00+01') ORDER BY recorded_at, reminder_id;
SELECT kpi_mail.send_alerts('2024-03-18 00:00+01') AS alerts_queued;
SELECT reminder_id, pg_catalog.split_part(body, E'\n', 3) AS entered
FROM kpi_mail.outbox ORDER BY reminder_id;

SELECT kpi_mail.detach('reminders');
DROP EXTENSION kpi_mail;
DROP SCHEMA erp CASCADE;
