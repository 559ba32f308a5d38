-- §6 schedule: when run_scheduled sends the weekly report (company wall
-- clock, DST, missed runs caught up once), what it runs, and the pg_cron job
-- of schedule_jobs (pg_cron absent, then present).
SET client_min_messages = warning;
\set SHOW_CONTEXT never
CREATE EXTENSION kpi_mail;
SET TimeZone = 'America/Los_Angeles';


\i sql/include/try.sql

-- The decision for as_of values given in UTC, with the wall-clock time of
-- the company time zone (default: report on Monday 07:00, Europe/Paris).
CREATE FUNCTION pg_temp.decisions(VARIADIC as_of text[])
RETURNS TABLE (as_of_utc text, company_local_time text, due_period_end date)
LANGUAGE sql AS $$
	SELECT t, pg_catalog.to_char((t::timestamptz) AT TIME ZONE (SELECT s.timezone FROM kpi_mail.settings_public s),
								 'Dy YYYY-MM-DD HH24:MI:SS'),
		   kpi_mail.due_report_period(t::timestamptz)
	FROM pg_catalog.unnest(as_of) WITH ORDINALITY AS u(t, n) ORDER BY n
$$;

-- Winter Monday 2026-03-23 (UTC+1): 07:00 Paris = 06:00 UTC.
-- Summer Monday 2026-03-30, the day after the change (UTC+2): 05:00 UTC.
SELECT * FROM pg_temp.decisions('2026-03-23 05:59:59+00', '2026-03-23 06:00:00+00',
								'2026-03-30 04:59:59+00', '2026-03-30 05:00:00+00');
-- Summer Monday 2026-10-19: 05:00 UTC; winter Monday 2026-10-26, the day
-- after the change: 06:00 UTC.
SELECT * FROM pg_temp.decisions('2026-10-19 04:59:59+00', '2026-10-19 05:00:00+00',
								'2026-10-26 05:59:59+00', '2026-10-26 06:00:00+00');
-- Any other day of the week: the last completed period (Sunday before the
-- latest Monday 07:00).
SELECT * FROM pg_temp.decisions('2026-03-25 12:00:00+00', '2026-03-29 21:59:59+00', '2026-03-29 22:00:00+00');

-- The session TimeZone plays no part.
SET TimeZone = 'Pacific/Kiritimati';
SELECT * FROM pg_temp.decisions('2026-03-30 04:59:59+00', '2026-03-30 05:00:00+00');
SET TimeZone = 'America/Los_Angeles';

-- Another weekday and time: Sunday 02:30, a time that does not exist on
-- 2026-03-29 (02:00 -> 03:00) and exists twice on 2026-10-25.
UPDATE kpi_mail.settings SET report_weekday = 7, report_time = '02:30';
SELECT * FROM pg_temp.decisions('2026-03-29 00:59:59+00', '2026-03-29 01:00:00+00',
								'2026-10-25 00:29:59+00', '2026-10-25 00:30:00+00');
-- Friday 18:00 in New York.
UPDATE kpi_mail.settings SET report_weekday = 5, report_time = '18:00', timezone = 'America/New_York';
SELECT * FROM pg_temp.decisions('2026-04-03 21:59:59+00', '2026-04-03 22:00:00+00', '2026-04-06 12:00:00+00');
UPDATE kpi_mail.settings SET report_weekday = 1, report_time = '07:00', timezone = 'Europe/Paris';

-- Once the period has a report (forced or not), it is no longer due.
INSERT INTO kpi_mail.recipient (email, role) VALUES ('direction@example.fr', 'report'), ('alerte@example.fr', 'alert');
SELECT kpi_mail.send_weekly_report('2026-03-22') IS NOT NULL AS queued_by_hand;
SELECT * FROM pg_temp.decisions('2026-03-23 06:00:00+00', '2026-03-30 04:59:59+00', '2026-03-30 05:00:00+00');

-- run_scheduled: the report if due, then the alerts.  (Delivery, when
-- installed, may log about the unreachable test SMTP server: not shown.)
INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, recorded_at)
VALUES ('Martin SA', 'F-002', '2026-03-21', '2026-03-21 10:30+01');
CREATE VIEW queued AS
	SELECT o.kind, o.period_end, o.forced, o.reminder_id, o.recipients FROM kpi_mail.outbox o ORDER BY o.message_id;
SET client_min_messages = error;
-- Monday 2026-03-30 06:59 Paris: not yet 07:00, the report of 03-22 exists,
-- the alert of reminder 1 (Martin SA) is due since 03-29 10:30.
CALL kpi_mail.run_scheduled('2026-03-30 04:59:59+00');
SELECT * FROM queued;
-- 07:00: the report of the week ending Sunday 03-29.
CALL kpi_mail.run_scheduled('2026-03-30 05:00:00+00');
-- Every later run of the week: nothing new.
CALL kpi_mail.run_scheduled('2026-03-30 05:15:00+00');
CALL kpi_mail.run_scheduled('2026-04-02 12:00:00+00');
SELECT * FROM queued;
-- The runs of Monday 04-06 and Tuesday 04-07 were missed (server down, say)
-- until Wednesday 04-08: the report of the week ending 04-05 is caught up,
-- once; the week ending 03-29 has its report already.
CALL kpi_mail.run_scheduled('2026-04-08 09:00:00+00');
CALL kpi_mail.run_scheduled('2026-04-08 09:15:00+00');
SELECT * FROM queued;
-- Two missed weeks: only the last completed period is sent.
CALL kpi_mail.run_scheduled('2026-04-21 09:00:00+00');
SELECT period_end FROM queued WHERE kind = 'weekly_report' ORDER BY period_end;
-- Without any report recipient, the run does not fail: the report waits
-- (WARNING) and goes out at the first run after one is added.
DELETE FROM kpi_mail.recipient WHERE role = 'report';
CALL kpi_mail.run_scheduled('2026-04-27 06:00:00+00');
SELECT count(*) AS report_0426 FROM queued WHERE period_end = '2026-04-26';
INSERT INTO kpi_mail.recipient (email, role) VALUES ('direction@example.fr', 'report');
CALL kpi_mail.run_scheduled('2026-04-27 06:15:00+00');
SELECT count(*) AS report_0426 FROM queued WHERE period_end = '2026-04-26';
-- A failing step makes the run fail (cron.job_run_details shows it), after
-- the other steps have run: here the report cannot be built, the alert of
-- reminder 2 (Petit, due on 05-02 16:45) is queued all the same.
ALTER FUNCTION kpi_mail.kpi_weekly_report(date) RENAME TO kpi_weekly_report_away;
INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, recorded_at)
VALUES ('Petit', 'F-004', '2026-04-24', '2026-04-24 16:45+02');
CALL kpi_mail.run_scheduled('2026-05-04 06:00:00+00');
ALTER FUNCTION kpi_mail.kpi_weekly_report_away(date) RENAME TO kpi_weekly_report;
SELECT kind, period_end, reminder_id FROM queued WHERE period_end = '2026-05-03' OR reminder_id = 2;
RESET client_min_messages;
-- COMMIT inside: not callable in a transaction block.
BEGIN;
CALL kpi_mail.run_scheduled('2026-05-11 06:00:00+00');
ROLLBACK;

-- schedule_jobs without pg_cron: 55000 and a hint; unschedule_jobs: nothing to do.
SELECT pg_temp.try($$SELECT kpi_mail.schedule_jobs()$$) AS without_pg_cron;
SELECT kpi_mail.unschedule_jobs() AS removed;

-- With pg_cron (jobs created inactive or on 31 February, so that the
-- launcher of this test cluster never runs them).
CREATE EXTENSION pg_cron;
SELECT kpi_mail.schedule_jobs(active => false) > 0 AS job_created;
SELECT jobname, schedule, command, database = pg_catalog.current_database() AS this_database,
	   username = CURRENT_USER AS this_role, active
FROM cron.job;
-- Calling it again replaces the job (still one).
SELECT kpi_mail.schedule_jobs('0 0 31 2 *') > 0 AS job_replaced;
SELECT jobname, schedule, active FROM cron.job;
SELECT pg_temp.try($$SELECT kpi_mail.schedule_jobs('every day')$$) AS bad_schedule;
SELECT pg_temp.try($$SELECT kpi_mail.schedule_jobs(NULL)$$) AS null_schedule;
SELECT count(*) AS jobs FROM cron.job;
SELECT kpi_mail.unschedule_jobs() AS removed, kpi_mail.unschedule_jobs() AS removed_again;
SELECT count(*) AS jobs FROM cron.job;

-- After DROP EXTENSION kpi_mail, the job removes itself at its next run.
SELECT kpi_mail.schedule_jobs('0 0 31 2 *', false) > 0 AS job_created;
SELECT command AS job_command FROM cron.job \gset
DROP VIEW queued;
DROP EXTENSION kpi_mail;
:job_command;
SELECT count(*) AS jobs_left FROM cron.job;
DROP EXTENSION pg_cron;
