-- The weekly report counts days on the wall clock of settings.timezone
-- (SPEC §2, §3, §4), never in the session's TimeZone or DateStyle; midnight
-- and DST changes are taken in the company time zone.
SET client_min_messages = warning;
CREATE EXTENSION kpi_mail;

-- Week of 23/11/2026 to 29/11/2026 (E_ts = 30/11 00:00 Paris = 29/11 23:00 UTC).
INSERT INTO kpi_mail.invoice (invoice_number, client_name, edited_at, sent_on) VALUES
	('T-1', 'Éditée 23/11 00:40 à Paris', '2026-11-22 23:40+00', '2026-11-23'),
	('T-2', 'Éditée 30/11 00:30 à Paris', '2026-11-29 23:30+00', NULL),
	('T-3', 'Éditée 23/11 à midi', '2026-11-23 12:00+00', NULL);
INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, recorded_at, result, result_recorded_at) VALUES
	('Saisie 23/11 00:30 à Paris', 'T-1', '2026-11-23', '2026-11-22 23:30+00', NULL, NULL),
	('Résultat 30/11 00:30 à Paris', 'T-3', '2026-11-24', '2026-11-24 10:00+00', 'nouvelle relance', '2026-11-29 23:30+00');
-- DST, spring: saisie 21/03/2026 23:30 CET; 8 days later on the wall clock is
-- 29/03 23:30 CEST = 21:30 UTC, before E_ts (30/03 00:00 CEST = 29/03 22:00
-- UTC): overdue for 8 days (8 x 24 h would end at 22:30 UTC, too late).
INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, recorded_at) VALUES
	('Heure d''été', 'T-4', '2026-03-21', '2026-03-21 22:30+00');
-- DST, autumn: saisie 18/10/2026 00:30 CEST; due 26/10 00:30 CET = 25/10
-- 23:30 UTC, after E_ts (26/10 00:00 CET = 25/10 23:00 UTC): not overdue for
-- the week ending 25/10 (8 x 24 h would end at 22:30 UTC, before E_ts).
INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, recorded_at) VALUES
	('Heure d''hiver', 'T-5', '2026-10-18', '2026-10-17 22:30+00');

-- The same texts and figures under any session TimeZone and DateStyle.
CREATE TEMP TABLE reports (session_tz text, period_end date, body text, figures jsonb);
SET TimeZone = 'UTC';
INSERT INTO reports SELECT current_setting('TimeZone'), p, kpi_mail.kpi_weekly_report(p), kpi_mail.kpi_weekly_figures(p)
FROM unnest(ARRAY[date '2026-11-29', date '2026-03-29', date '2026-10-25']) AS p;
SET TimeZone = 'Europe/Paris';
INSERT INTO reports SELECT current_setting('TimeZone'), p, kpi_mail.kpi_weekly_report(p), kpi_mail.kpi_weekly_figures(p)
FROM unnest(ARRAY[date '2026-11-29', date '2026-03-29', date '2026-10-25']) AS p;
SET TimeZone = 'America/New_York';
SET DateStyle = 'SQL, DMY';
INSERT INTO reports SELECT current_setting('TimeZone'), p, kpi_mail.kpi_weekly_report(p), kpi_mail.kpi_weekly_figures(p)
FROM unnest(ARRAY[date '2026-11-29', date '2026-03-29', date '2026-10-25']) AS p;
RESET DateStyle;
SET TimeZone = 'Asia/Tokyo';
INSERT INTO reports SELECT current_setting('TimeZone'), p, kpi_mail.kpi_weekly_report(p), kpi_mail.kpi_weekly_figures(p)
FROM unnest(ARRAY[date '2026-11-29', date '2026-03-29', date '2026-10-25']) AS p;
SELECT period_end, count(*) AS sessions, count(DISTINCT body) AS distinct_texts,
	count(DISTINCT figures) AS distinct_figures
FROM reports GROUP BY period_end ORDER BY period_end;

\pset format unaligned
\pset tuples_only on
SELECT body FROM reports WHERE session_tz = 'UTC' ORDER BY period_end;

-- With the company time zone set to UTC, T-1 moves to 22/11 (out of the
-- week), T-2 to 29/11 (in it), the first reminder is due on 30/11 and the
-- second one's result counts (recorded before 30/11 00:00 UTC).
UPDATE kpi_mail.settings SET timezone = 'UTC';
SELECT kpi_mail.kpi_weekly_report('2026-11-29');
\pset tuples_only off
CREATE TEMP TABLE utc_reports AS
	SELECT current_setting('TimeZone') AS session_tz, kpi_mail.kpi_weekly_report('2026-11-29') AS body;
SET TimeZone = 'Europe/Paris';
INSERT INTO utc_reports SELECT current_setting('TimeZone'), kpi_mail.kpi_weekly_report('2026-11-29');
SET TimeZone = 'America/New_York';
INSERT INTO utc_reports SELECT current_setting('TimeZone'), kpi_mail.kpi_weekly_report('2026-11-29');
RESET TimeZone;
SELECT count(*) AS sessions, count(DISTINCT u.body) AS distinct_texts,
	bool_and(u.body <> r.body) AS differs_from_company_tz_paris
FROM utc_reports u, reports r WHERE r.session_tz = 'UTC' AND r.period_end = '2026-11-29';

DROP TABLE reports, utc_reports;
DROP EXTENSION kpi_mail;
