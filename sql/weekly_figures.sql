-- kpi_weekly_figures (SPEC §4) on the worked example: same figures as the
-- report, full lists.  Depends on the FR holidays (11/11 Armistice).
SET client_min_messages = warning;
CREATE EXTENSION kpi_mail;
\getenv abs_srcdir PG_ABS_SRCDIR
\set data_file :abs_srcdir '/test/data/weekly_2026-11-29.sql'
\set ECHO none
\i :data_file
\set ECHO all
SELECT pg_catalog.jsonb_pretty(kpi_mail.kpi_weekly_figures('2026-11-29'));
-- detail_limit shortens the text, never the figures
CREATE TEMP TABLE figures_before AS SELECT kpi_mail.kpi_weekly_figures('2026-11-29') AS f;
UPDATE kpi_mail.settings SET detail_limit = 1;
SELECT pg_catalog.jsonb_array_length(f #> '{invoices,backlog_details}') AS invoice_backlog,
	pg_catalog.jsonb_array_length(f #> '{reminders,missing_details}') AS missing,
	f = kpi_mail.kpi_weekly_figures('2026-11-29') AS same_figures
FROM figures_before;
SELECT line FROM pg_catalog.regexp_split_to_table(kpi_mail.kpi_weekly_report('2026-11-29'), E'\n') AS line
WHERE line LIKE '  * …%';
DROP TABLE figures_before;
DROP EXTENSION kpi_mail;
