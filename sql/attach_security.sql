-- An attached relation is read with its owner's rights, like a view (§7, §8).
-- send_weekly_report and send_alerts run as the extension owner (a
-- superuser) and pg_cron as a superuser: the owner of an attached relation
-- must not get their functions run with those rights.  Here a non-superuser
-- owns the attached relations, then makes reading them call a function of
-- theirs that records who runs it and tries what only a superuser may do.
SET client_min_messages = warning;
\set SHOW_CONTEXT never
CREATE EXTENSION kpi_mail;
SET TimeZone = 'UTC';
\i sql/include/try.sql

CREATE ROLE regress_kpi_mallory NOLOGIN;
CREATE SCHEMA mallory AUTHORIZATION regress_kpi_mallory;
SET ROLE regress_kpi_mallory;
CREATE TABLE mallory.factures_data (numero text PRIMARY KEY, client text, edition date, envoi date);
CREATE VIEW mallory.factures AS SELECT * FROM mallory.factures_data;
CREATE TABLE mallory.relances (id integer PRIMARY KEY, client text, facture text, le date, resultat text);
INSERT INTO mallory.factures_data VALUES ('M-1', 'Client M', '2024-03-04', NULL);
INSERT INTO mallory.relances VALUES (1, 'Client M', 'M-1', '2024-03-04', NULL), (2, 'Client N', 'M-2', '2024-03-05', 'RAS');
-- What the function saw, each time it ran.
CREATE TABLE mallory.log (source text, role_name text, session_is_superuser boolean, alter_role text, temp_table text);
CREATE FUNCTION mallory.spy(source text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
	alter_role text := 'ok';
	temp_table text := 'ok';
BEGIN
	BEGIN
		ALTER ROLE regress_kpi_mallory SUPERUSER;
	EXCEPTION WHEN OTHERS THEN
		alter_role := SQLSTATE || ' ' || SQLERRM;
	END;
	BEGIN
		CREATE TEMP TABLE mallory_was_here (x integer);
	EXCEPTION WHEN OTHERS THEN
		temp_table := SQLSTATE || ' ' || SQLERRM;
	END;
	INSERT INTO mallory.log VALUES (source, current_user,
		(SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = session_user), alter_role, temp_table);
	RETURN true;
END
$$;
RESET ROLE;

-- The administrator attaches them (attach needs the owner or a superuser).
SELECT kpi_mail.attach_invoices('mallory.factures', 'numero', 'client', 'edition', 'envoi');
SELECT kpi_mail.attach_reminders('mallory.relances', 'client', 'facture', 'le', 'resultat', NULL, NULL);
INSERT INTO kpi_mail.recipient (email, role) VALUES ('direction@example.fr', 'report'), ('alerte@example.fr', 'alert');

-- Then the owner redefines the invoice view and replaces the reminder table
-- by a view, both calling the function.
SET ROLE regress_kpi_mallory;
CREATE OR REPLACE VIEW mallory.factures AS SELECT * FROM mallory.factures_data WHERE mallory.spy('factures');
ALTER TABLE mallory.relances RENAME TO relances_data;
CREATE VIEW mallory.relances AS SELECT * FROM mallory.relances_data WHERE mallory.spy('relances');
RESET ROLE;

CREATE VIEW seen AS
	SELECT DISTINCT l.source, l.role_name, l.session_is_superuser, l.alter_role, l.temp_table
	FROM mallory.log l ORDER BY 1, 2;

-- The weekly report, as a superuser: the sources are read as their owner.
\pset format unaligned
\pset tuples_only on
SELECT kpi_mail.kpi_weekly_report('2024-03-10');
\pset format aligned
\pset tuples_only off
SELECT kpi_mail.kpi_weekly_report('2024-03-10') AS report \gset
SELECT * FROM seen;
TRUNCATE mallory.log;

-- send_weekly_report (SECURITY DEFINER) and send_alerts (idem), as pg_cron would.
SELECT kpi_mail.send_weekly_report('2024-03-10') IS NOT NULL AS report_queued;
SELECT * FROM seen;
TRUNCATE mallory.log;
SELECT kpi_mail.send_alerts('2024-04-01 00:00+00') AS alerts_queued;
SELECT kind, recipients, reminder_id, subject FROM kpi_mail.outbox ORDER BY message_id;
SELECT * FROM seen;
TRUNCATE mallory.log;

-- The other readers of the sources: the invoice_kpi view, legacy_results(),
-- overdue_reminders() and reminder_source_rows().
SELECT invoice_number, client_name, edited_on, sent_on FROM kpi_mail.invoice_kpi;
SELECT reminder_id, client_name, result FROM kpi_mail.legacy_results();
SELECT reminder_id, client_name, reminded_on, recorded_at, result_due_at, days_without_result
FROM kpi_mail.overdue_reminders('2024-04-01 00:00+00');
SELECT count(*) AS source_rows FROM kpi_mail.reminder_source_rows();
SELECT * FROM seen;
TRUNCATE mallory.log;

-- The owner is still not a superuser, and nothing was created as anyone else.
SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = 'regress_kpi_mallory';
SELECT count(*) AS temp_tables FROM pg_catalog.pg_class WHERE relname = 'mallory_was_here';

-- Like a view: a reader needs SELECT on the attached relation (42501
-- otherwise), and the relation's functions still run as its owner.
CREATE ROLE regress_kpi_reader NOLOGIN;
GRANT USAGE ON SCHEMA kpi_mail, mallory TO regress_kpi_reader;
SET ROLE regress_kpi_reader;
SELECT pg_temp.try($$SELECT kpi_mail.kpi_weekly_report('2024-03-10')$$) AS without_select;
SELECT pg_temp.try($$SELECT count(*) FROM kpi_mail.reminder_source_rows()$$) AS without_select;
RESET ROLE;
GRANT SELECT ON mallory.factures, mallory.relances TO regress_kpi_reader;
SET ROLE regress_kpi_reader;
SELECT kpi_mail.kpi_weekly_report('2024-03-10') = :'report' AS same_report;
RESET ROLE;
SELECT * FROM seen;
TRUNCATE mallory.log;

-- An error inside the source restores the caller's identity.
SET ROLE regress_kpi_mallory;
CREATE OR REPLACE VIEW mallory.factures AS
	SELECT * FROM mallory.factures_data WHERE mallory.spy('factures') AND 1 / 0 = 1;
RESET ROLE;
SELECT pg_temp.try($$SELECT kpi_mail.kpi_weekly_report('2024-03-10')$$) AS division_by_zero;
SELECT current_user = session_user AS identity_restored;

-- Back to the built-in tables: no switch needed, read as the caller.
SELECT kpi_mail.detach('invoices');
SELECT kpi_mail.detach('reminders');
SELECT count(*) AS builtin_rows FROM kpi_mail.reminder_source_rows();

DROP VIEW seen;
DROP SCHEMA mallory CASCADE;
DROP EXTENSION kpi_mail;
DROP OWNED BY regress_kpi_reader;
DROP ROLE regress_kpi_reader;
DROP ROLE regress_kpi_mallory;
