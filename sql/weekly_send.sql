-- §6 send_weekly_report: one message to every report recipient, at most one
-- per period unless forced, a clear error without recipient.
SET client_min_messages = warning;
\set SHOW_CONTEXT never
CREATE EXTENSION kpi_mail;
SET TimeZone = 'Asia/Tokyo';


\i sql/include/try.sql

CREATE VIEW reports AS
	SELECT o.message_id, o.kind, o.period_end, o.forced, o.recipients, o.subject,
		   o.body = kpi_mail.kpi_weekly_report(o.period_end) AS body_is_report
	FROM kpi_mail.outbox o ORDER BY o.message_id;

-- No report recipient (an alert recipient does not count): 55000.
INSERT INTO kpi_mail.recipient (email, role) VALUES ('alerte@example.fr', 'alert');
SELECT pg_temp.try($$SELECT kpi_mail.send_weekly_report('2026-03-29')$$) AS without_recipient;
SELECT count(*) AS queued FROM kpi_mail.outbox;

INSERT INTO kpi_mail.recipient (email, display_name, role) VALUES
	('direction@example.fr', 'Direction', 'report'),
	('Compta@Example.fr', NULL, 'report'),
	('alerte@example.fr', NULL, 'report');

SELECT kpi_mail.send_weekly_report('2026-03-29') IS NOT NULL AS queued;
\x on
SELECT kind, period_end, forced, recipients, subject, body_is_report FROM reports;
\x off

-- Second call for the same period: no-op with a NOTICE, returns NULL.
SET client_min_messages = notice;
SELECT kpi_mail.send_weekly_report('2026-03-29') IS NULL AS nothing_queued;
SELECT kpi_mail.send_weekly_report('2026-03-29', false) IS NULL AS nothing_queued;
RESET client_min_messages;
SELECT count(*) AS reports_for_0329 FROM reports WHERE period_end = '2026-03-29';

-- force => true sends another copy, marked forced; a message id is returned.
SELECT kpi_mail.send_weekly_report('2026-03-29', force => true) AS forced_id \gset
SELECT forced FROM kpi_mail.outbox WHERE message_id = :forced_id;
-- Forcing a period without report queues the period's report (not forced).
SELECT kpi_mail.send_weekly_report('2026-03-22', true) IS NOT NULL AS queued;
SELECT period_end, forced, subject, body_is_report FROM reports ORDER BY message_id;
-- Only the non-forced report counts for "at most one per period".
SELECT pg_temp.try($$INSERT INTO kpi_mail.outbox (kind, period_end, recipients, subject, body)
	VALUES ('weekly_report', '2026-03-22', '{x@example.fr}', 's', 'b')$$) AS unique_index;

-- Default period: yesterday in the company time zone (whatever the session's).
SELECT kpi_mail.send_weekly_report() IS NOT NULL AS queued;
SELECT period_end = kpi_mail.today() - 1 AS yesterday, forced,
	   subject = 'Rapport hebdomadaire des indicateurs – semaine du '
				 || pg_catalog.to_char(kpi_mail.today() - 7, 'DD/MM/YYYY') || ' au '
				 || pg_catalog.to_char(kpi_mail.today() - 1, 'DD/MM/YYYY') AS subject_ok,
	   body_is_report
FROM reports ORDER BY message_id DESC LIMIT 1;

-- The stand-in must not outlive the extension.
DROP VIEW reports;
DROP EXTENSION kpi_mail;
