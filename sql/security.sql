-- §7 privileges: the SMTP password stays with the owner, the outbox and the
-- mail functions are not for PUBLIC, settings_public is readable.
SET client_min_messages = warning;
\set SHOW_CONTEXT never
CREATE EXTENSION kpi_mail;
UPDATE kpi_mail.settings SET smtp_username = 'kpi', smtp_password = 'S3cret-pw!';

\i sql/include/try.sql

-- A staff role that may use the schema (as the README recommends).
CREATE ROLE regress_kpi_clerk NOLOGIN;
GRANT USAGE ON SCHEMA kpi_mail TO regress_kpi_clerk;
SET ROLE regress_kpi_clerk;
SELECT t.command, pg_temp.try(t.command) AS result
FROM (VALUES
	('SELECT smtp_password FROM kpi_mail.settings'),
	('SELECT * FROM kpi_mail.settings'),
	('SELECT timezone, report_weekday FROM kpi_mail.settings'),
	('SELECT * FROM kpi_mail.settings_public'),
	('UPDATE kpi_mail.settings SET smtp_password = NULL'),
	('SELECT * FROM kpi_mail.outbox'),
	('INSERT INTO kpi_mail.outbox (kind, recipients, subject, body) VALUES (''alert'', ''{x@example.fr}'', ''s'', ''b'')'),
	('SELECT * FROM kpi_mail.alert_log'),
	('SELECT * FROM kpi_mail.recipient'),
	('SELECT kpi_mail.send_alerts()'),
	('SELECT kpi_mail.send_weekly_report(''2026-03-29'')'),
	('SELECT kpi_mail.due_report_period()'),
	('CALL kpi_mail.run_scheduled()'),
	('SELECT kpi_mail.schedule_jobs()'),
	('SELECT kpi_mail.unschedule_jobs()'),
	('SELECT kpi_mail.alert_body(''c'', ''f'', ''2026-01-01'', now(), now(), ''UTC'')'),
	('SELECT kpi_mail.today()')
) AS t(command);
SELECT smtp_url, smtp_username, smtp_password_set, mail_from, timezone, report_weekday, report_time
FROM kpi_mail.settings_public;
RESET ROLE;

-- settings_public: every column of settings but the password, plus smtp_password_set.
SELECT a.attname FROM pg_catalog.pg_attribute a
WHERE a.attrelid = 'kpi_mail.settings'::regclass AND a.attnum > 0 AND NOT a.attisdropped
EXCEPT
SELECT a.attname FROM pg_catalog.pg_attribute a
WHERE a.attrelid = 'kpi_mail.settings_public'::regclass AND a.attnum > 0
ORDER BY 1;
-- The password appears in no view of the extension (as text of any row).
DO $$
DECLARE
	v regclass;
	hits bigint;
BEGIN
	FOR v IN SELECT c.oid FROM pg_catalog.pg_class c
			 WHERE c.relnamespace = 'kpi_mail'::regnamespace AND c.relkind IN ('v', 'm') ORDER BY c.relname
	LOOP
		EXECUTE pg_catalog.format('SELECT count(*) FROM %s AS v WHERE v::text LIKE ''%%S3cret-pw!%%''', v) INTO hits;
		IF hits > 0 THEN
			RAISE WARNING 'the SMTP password is visible in %', v;
		END IF;
	END LOOP;
END
$$;
-- No privilege on the password column for PUBLIC, nor on the tables as a whole.
SELECT pg_catalog.has_column_privilege('public', 'kpi_mail.settings', 'smtp_password', 'SELECT') AS public_password,
	   pg_catalog.has_table_privilege('public', 'kpi_mail.settings', 'SELECT') AS public_settings,
	   pg_catalog.has_table_privilege('public', 'kpi_mail.outbox', 'SELECT') AS public_outbox,
	   pg_catalog.has_table_privilege('public', 'kpi_mail.settings_public', 'SELECT') AS public_settings_public,
	   pg_catalog.has_schema_privilege('public', 'kpi_mail', 'USAGE') AS public_schema_usage;

-- PUBLIC has no column of kpi_mail.settings either: the C code reads them
-- with the owner's rights (one accessor, settings.c).  No row expected.
SELECT a.attname AS public_readable_setting
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = 'kpi_mail.settings'::regclass AND a.attnum > 0 AND NOT a.attisdropped
  AND pg_catalog.has_column_privilege('public', 'kpi_mail.settings', a.attname, 'SELECT');

-- Staff with USAGE and SELECT/INSERT/UPDATE on the built-in tables only
-- (README): the guards, today(), the calendar and the indicators still work.
CREATE ROLE regress_kpi_staff NOLOGIN;
GRANT USAGE ON SCHEMA kpi_mail TO regress_kpi_staff;
GRANT SELECT, INSERT, UPDATE ON kpi_mail.invoice, kpi_mail.payment_reminder TO regress_kpi_staff;
GRANT SELECT ON kpi_mail.invoice_kpi TO regress_kpi_staff;
UPDATE kpi_mail.settings SET timezone = 'Pacific/Kiritimati';
SET ROLE regress_kpi_staff;
SELECT kpi_mail.company_timezone() AS tz,
	   kpi_mail.today() = (now() AT TIME ZONE 'Pacific/Kiritimati')::date AS today_in_tz,
	   kpi_mail.business_days_between('2026-04-30', '2026-05-11') AS business_days;
INSERT INTO kpi_mail.invoice (invoice_number, client_name, edited_at)
VALUES ('F-STAFF', 'Dupont SARL', '2026-03-02 09:00+01');
UPDATE kpi_mail.invoice SET sent_on = '2026-03-09' WHERE invoice_number = 'F-STAFF';
SELECT invoice_number, edited_on, deadline, sent_on, delay_business_days, status FROM kpi_mail.invoice_kpi;
-- the guards read the settings too: a future date, a send date before the edition, RAS
SELECT pg_temp.try('UPDATE kpi_mail.invoice SET sent_on = kpi_mail.today() + 1 WHERE invoice_number = ''F-STAFF''') AS future_sent_on;
SELECT pg_temp.try('UPDATE kpi_mail.invoice SET sent_on = ''2026-03-01'' WHERE invoice_number = ''F-STAFF''') AS sent_before_edition;
INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, recorded_at)
VALUES ('Dupont SARL', 'F-STAFF', '2026-03-10', '2026-03-10 10:00+01');
WITH r AS (INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number) VALUES ('Durand', 'F-9')
		   RETURNING reminded_on)
SELECT reminded_on = kpi_mail.today() AS default_reminded_on_is_today FROM r;
SELECT pg_temp.try('INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on) VALUES (''Durand'', ''F-10'', kpi_mail.today() + 1)') AS future_reminder;
UPDATE kpi_mail.payment_reminder SET result = 'nouvelle relance' WHERE invoice_number = 'F-STAFF';
SELECT pg_temp.try('UPDATE kpi_mail.payment_reminder SET result = ''RAS'' WHERE invoice_number = ''F-STAFF''') AS ras;
SELECT pg_catalog.split_part(kpi_mail.kpi_weekly_report('2026-03-15'), E'\n', 1) AS report_first_line;
SELECT f -> 'invoices' ->> 'edited' AS invoices_edited, f -> 'invoices' ->> 'on_time' AS on_time,
	   f -> 'reminders' ->> 'made' AS reminders_made, f -> 'reminders' ->> 'with_result' AS with_result
FROM kpi_mail.kpi_weekly_figures('2026-03-15') AS f;
RESET ROLE;
UPDATE kpi_mail.settings SET timezone = 'Europe/Paris';
DELETE FROM kpi_mail.invoice;
DELETE FROM kpi_mail.payment_reminder;

-- The mail functions run as the owner, with a fixed search_path.
SELECT p.oid::regprocedure AS function, p.prosecdef AS security_definer, p.proconfig,
	   pg_catalog.has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
FROM pg_catalog.pg_proc p
WHERE p.oid IN ('kpi_mail.send_alerts(timestamptz)'::regprocedure,
				'kpi_mail.send_weekly_report(date, boolean)'::regprocedure,
				'kpi_mail.due_report_period(timestamptz)'::regprocedure,
				'kpi_mail.run_scheduled(timestamptz)'::regprocedure,
				'kpi_mail.schedule_jobs(text, boolean)'::regprocedure,
				'kpi_mail.unschedule_jobs()'::regprocedure)
ORDER BY 1::text;
-- Every SECURITY DEFINER routine of the extension (whoever wrote it) has a
-- search_path from pg_catalog to pg_temp and is not executable by PUBLIC:
-- no row expected.
SELECT p.oid::regprocedure AS unsafe_definer
FROM pg_catalog.pg_proc p
WHERE p.pronamespace = 'kpi_mail'::regnamespace AND p.prosecdef
  AND (NOT EXISTS (SELECT 1 FROM pg_catalog.unnest(p.proconfig) AS c(setting)
				   WHERE c.setting LIKE 'search\_path=pg\_catalog,%pg\_temp')
	   OR pg_catalog.has_function_privilege('public', p.oid, 'EXECUTE'));

-- An administrator granted EXECUTE can queue mail (the function runs as owner).
CREATE ROLE regress_kpi_admin NOLOGIN;
GRANT USAGE ON SCHEMA kpi_mail TO regress_kpi_admin;
GRANT EXECUTE ON FUNCTION kpi_mail.send_alerts(timestamptz) TO regress_kpi_admin;
INSERT INTO kpi_mail.recipient (email, role) VALUES ('direction@example.fr', 'alert');
INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, recorded_at)
VALUES ('Martin SA', 'F-002', '2026-03-21', '2026-03-21 10:30+01');
SET ROLE regress_kpi_admin;
SELECT kpi_mail.send_alerts('2026-04-01 00:00+00') AS queued;
SELECT pg_temp.try('SELECT count(*) FROM kpi_mail.outbox') AS read_outbox;
RESET ROLE;
SELECT count(*) AS outbox_rows FROM kpi_mail.outbox;

DROP OWNED BY regress_kpi_clerk, regress_kpi_admin, regress_kpi_staff;
DROP ROLE regress_kpi_clerk;
DROP ROLE regress_kpi_admin;
DROP ROLE regress_kpi_staff;
DROP EXTENSION kpi_mail;
