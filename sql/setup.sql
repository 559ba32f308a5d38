-- CREATE EXTENSION works with or without pg_cron in the database, and
-- DROP EXTENSION leaves nothing behind.
SET client_min_messages = warning;
CREATE VIEW objects_outside_catalogs AS
	SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'public', 'cron');

-- without pg_cron
CREATE EXTENSION kpi_mail;
SELECT extversion, extrelocatable, extnamespace::regnamespace
FROM pg_extension WHERE extname = 'kpi_mail';
SELECT kpi_mail.kpi_mail_version();
SELECT count(*) AS settings_rows FROM kpi_mail.settings;
DROP EXTENSION kpi_mail;
SELECT count(*) AS schemas_left FROM pg_namespace WHERE nspname = 'kpi_mail';
SELECT n AS relations_left FROM objects_outside_catalogs;
SELECT count(*) AS functions_left FROM pg_proc WHERE proname LIKE 'kpi%' OR prosrc LIKE '%kpi_mail%';

-- with pg_cron
CREATE EXTENSION pg_cron;
CREATE EXTENSION kpi_mail;
SELECT extname FROM pg_extension WHERE extname IN ('kpi_mail', 'pg_cron') ORDER BY 1;
DROP EXTENSION kpi_mail;
SELECT count(*) AS schemas_left FROM pg_namespace WHERE nspname = 'kpi_mail';
SELECT n AS relations_left FROM objects_outside_catalogs;
SELECT count(*) AS cron_jobs_left FROM cron.job;
DROP EXTENSION pg_cron;
DROP VIEW objects_outside_catalogs;
