-- The settings row (§6, §9): defaults, one row only, validation with French
-- messages and SQLSTATE 22023; nothing stored on error.
SET client_min_messages = warning;
CREATE EXTENSION kpi_mail;
\set SHOW_CONTEXT never
\x on
SELECT * FROM kpi_mail.settings;
\x off

UPDATE kpi_mail.settings SET timezone = 'Europe/Pariss';
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.settings SET holiday_calendar = 'DE';
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.settings SET invoice_max_business_days = 0;
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.settings SET reminder_result_days = -1;
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.settings SET reminder_result_days = 367;
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.settings SET detail_limit = 0;
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.settings SET backlog_weeks = 0;
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.settings SET alert_repeat_days = -1;
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.settings SET report_weekday = 8;
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.settings SET smtp_timeout_ms = 0;
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.settings SET smtp_url = 'http://mail.example.fr';
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.settings SET smtp_url = 'smtp://mail.example.fr/../etc';
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.settings SET smtp_url = 'smtp://mail.example.fr:65536';
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.settings SET smtp_url = 'smtp://mail.example.fr:0';
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.settings SET smtp_url = 'smtp://127.0.0.1:123456';
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.settings SET smtp_url = 'smtp://[::1]:2525';
SELECT smtp_url FROM kpi_mail.settings;
UPDATE kpi_mail.settings SET smtp_tls = 'always';
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.settings SET mail_from = 'kpi example.fr';
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.settings SET mail_from = E'kpi@example.fr\r\nBcc: x@example.invalid';
\echo :LAST_ERROR_SQLSTATE

-- valid values are stored
UPDATE kpi_mail.settings SET timezone = 'America/New_York', holiday_calendar = 'FR-ALSACE-MOSELLE',
	invoice_max_business_days = 366, reminder_result_days = 1, alert_repeat_days = 0,
	smtp_url = 'smtps://mail.example.fr:465', smtp_tls = 'require', mail_from = 'kpi@example.fr';
SELECT timezone, holiday_calendar, invoice_max_business_days, reminder_result_days, smtp_url, smtp_tls, mail_from
FROM kpi_mail.settings;

-- an INSERT (as pg_restore does) replaces the row: still one row
INSERT INTO kpi_mail.settings (timezone) VALUES ('Europe/Paris');
SELECT count(*), min(timezone) FROM kpi_mail.settings;
INSERT INTO kpi_mail.settings (timezone) VALUES ('Mars/Olympus');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*), min(timezone) FROM kpi_mail.settings;

-- the row cannot be deleted: everything reads it
DELETE FROM kpi_mail.settings;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE kpi_mail.settings;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM kpi_mail.settings;

DROP EXTENSION kpi_mail;
