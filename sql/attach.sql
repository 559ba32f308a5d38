-- Attaching the company's own tables (§8): an ERP-like schema with French
-- names (capitals, accents, spaces, apostrophes), a few hundred rows with
-- legacy results (RAS and older values), the figures of one past week read
-- through source_query, the guards on the attached tables, detach.
SET client_min_messages = warning;
CREATE EXTENSION kpi_mail;
\set SHOW_CONTEXT never
-- Results do not depend on the session time zone (the company's is Europe/Paris).
SET TimeZone = 'America/New_York';

CREATE SCHEMA "ERP Compta";

-- 300 invoices edited from 28/01/2024 to 10/03/2024, 7 a day, no send date yet.
CREATE TABLE "ERP Compta"."Factures Clients" (
	"N° Facture" varchar(20) PRIMARY KEY,
	"Client" text NOT NULL,
	"Date Édition" timestamp NOT NULL,
	"Montant TTC" numeric(12, 2)
);
INSERT INTO "ERP Compta"."Factures Clients"
SELECT 'FA-2024-' || lpad(i::text, 4, '0'),
	(ARRAY['Boulangerie Dupont', 'Société Générale d''Électricité', 'L''Atelier du Meuble',
	       'Café « Le Zinc »', 'Garage Martin & Fils'])[1 + i % 5],
	timestamp '2024-01-28 08:00' + (i - 1) / 7 * interval '1 day' + i % 7 * interval '97 minutes',
	100 + i
FROM generate_series(1, 300) i;

-- 240 reminders from 29/01/2024 to 08/03/2024, 6 a day, with legacy results.
CREATE TABLE "ERP Compta"."Relances" (
	"N° Relance" integer PRIMARY KEY,
	"Client" text NOT NULL,
	"N° Facture" varchar(20) NOT NULL,
	"Date de Relance" date NOT NULL,
	"Résultat de la Relance" varchar(40),
	"Responsable" text
);
INSERT INTO "ERP Compta"."Relances"
SELECT 1000 + i,
	(ARRAY['Boulangerie Dupont', 'Société Générale d''Électricité', 'L''Atelier du Meuble',
	       'Café « Le Zinc »', 'Garage Martin & Fils'])[1 + i % 5],
	'FA-2024-' || lpad(i::text, 4, '0'),
	date '2024-01-29' + (i - 1) / 6,
	(ARRAY['RAS', 'délais supplémentaire', 'nouvelle relance', 'règlement facture', NULL,
	       'Promesse de paiement', NULL, 'règlement facture'])[1 + i % 8],
	CASE WHEN i % 3 = 0 THEN 'compta@example.fr' END
FROM generate_series(1, 240) i;

-- The company's own triggers: an audit journal (enabled) and a disabled one.
CREATE TABLE "ERP Compta"."Journal" (quand text, "N° Relance" integer);
CREATE FUNCTION "ERP Compta"."journaliser"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO "ERP Compta"."Journal" VALUES (TG_OP, NEW."N° Relance");
	RETURN NEW;
END
$$;
CREATE TRIGGER "Journal des Relances" AFTER UPDATE ON "ERP Compta"."Relances"
	FOR EACH ROW EXECUTE FUNCTION "ERP Compta"."journaliser"();
CREATE TRIGGER "Ancien journal" AFTER UPDATE ON "ERP Compta"."Relances"
	FOR EACH ROW EXECUTE FUNCTION "ERP Compta"."journaliser"();
ALTER TABLE "ERP Compta"."Relances" DISABLE TRIGGER "Ancien journal";

-- Before any attachment: the built-in tables.
SELECT kpi_mail.source_query('invoices') LIKE '%FROM kpi_mail.invoice i' AS builtin_invoices,
       kpi_mail.source_query('reminders') LIKE '%FROM kpi_mail.payment_reminder r' AS builtin_reminders;

/*
 * Attach the invoices; the send date is missing, attach adds it under the
 * name given (with an apostrophe).
 */
SELECT kpi_mail.attach_invoices('"ERP Compta"."Factures Clients"', 'N° Facture', 'Client',
	'Date Édition', 'Date d''Envoi');
SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
       pg_catalog.col_description(a.attrelid, a.attnum) AS comment
FROM pg_attribute a
WHERE a.attrelid = '"ERP Compta"."Factures Clients"'::regclass AND a.attnum > 0
ORDER BY a.attnum;
SELECT t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t
WHERE t.tgrelid = '"ERP Compta"."Factures Clients"'::regclass ORDER BY t.tgname;
SELECT kind, schema_name, relation_name, invoice_number_column, client_column, edited_at_column,
       sent_on_column FROM kpi_mail.attachment ORDER BY kind;
SELECT kpi_mail.source_query('invoices');

-- Staff enter send dates: edition date + (i mod 9) days, one invoice in ten never sent.
UPDATE "ERP Compta"."Factures Clients"
SET "Date d'Envoi" = "Date Édition"::date + substr("N° Facture", 9)::integer % 9
WHERE substr("N° Facture", 9)::integer % 10 <> 0;

-- §9 on the attached table: before the edition date, after today (23514).
UPDATE "ERP Compta"."Factures Clients" SET "Date d'Envoi" = '2024-03-01' WHERE "N° Facture" = 'FA-2024-0250';
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY terse
UPDATE "ERP Compta"."Factures Clients" SET "Date d'Envoi" = kpi_mail.today() + 1 WHERE "N° Facture" = 'FA-2024-0250';
\set VERBOSITY default
\echo :LAST_ERROR_SQLSTATE
-- other columns stay editable
UPDATE "ERP Compta"."Factures Clients" SET "Montant TTC" = 1234.50 WHERE "N° Facture" = 'FA-2024-0250';
SELECT "N° Facture", "Date Édition", "Date d'Envoi", "Montant TTC" FROM "ERP Compta"."Factures Clients"
WHERE "N° Facture" = 'FA-2024-0250';

/*
 * Attach the reminders: the integer primary key is the reminder id, the
 * entry time kpi_recorded_at is added (existing rows: midnight starting
 * their reminder date in Europe/Paris) and kpi_result_recorded_at (NULL: a
 * result already held counts as recorded long ago).
 */
SELECT kpi_mail.attach_reminders('"ERP Compta"."Relances"', 'Client', 'N° Facture',
	'Date de Relance', 'Résultat de la Relance', responsible_column => 'Responsable');
SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
       pg_get_expr(d.adbin, d.adrelid) AS "default",
       pg_catalog.col_description(a.attrelid, a.attnum) AS comment
FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = '"ERP Compta"."Relances"'::regclass AND a.attnum > 0
ORDER BY a.attnum;
SELECT t.tgname, t.tgenabled, pg_get_triggerdef(t.oid) FROM pg_trigger t
WHERE t.tgrelid = '"ERP Compta"."Relances"'::regclass ORDER BY t.tgname;
-- the backfill did not go through the company's triggers
SELECT count(*) AS journal_rows FROM "ERP Compta"."Journal";
-- attaching again replaces the attachment: same columns, same triggers, no second backfill
SELECT kpi_mail.attach_reminders('"ERP Compta"."Relances"', 'Client', 'N° Facture',
	'Date de Relance', 'Résultat de la Relance', responsible_column => 'Responsable');
SELECT (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = '"ERP Compta"."Relances"'::regclass AND a.attnum > 0) AS columns,
       (SELECT count(*) FROM pg_trigger t WHERE t.tgrelid = '"ERP Compta"."Relances"'::regclass AND t.tgname LIKE 'kpi_mail%') AS kpi_triggers,
       (SELECT count(*) FROM "ERP Compta"."Journal") AS journal_rows,
       (SELECT count(*) FROM kpi_mail.attachment) AS attachments;
SELECT kind, schema_name, relation_name, invoice_number_column, client_column, reminder_id_column,
       reminded_on_column, recorded_at_column, result_column, result_recorded_at_column,
       responsible_column FROM kpi_mail.attachment WHERE kind = 'reminders';
SELECT count(*) FILTER (WHERE kpi_recorded_at = ("Date de Relance"::timestamp AT TIME ZONE 'Europe/Paris')) AS backfilled,
       count(*) FILTER (WHERE kpi_result_recorded_at IS NULL) AS result_time_null,
       count(*) AS total
FROM "ERP Compta"."Relances";
SELECT "N° Relance", kpi_recorded_at AT TIME ZONE 'Europe/Paris' AS recorded_paris
FROM "ERP Compta"."Relances" WHERE "N° Relance" IN (1001, 1240) ORDER BY 1;
SELECT kpi_mail.source_query('reminders');

/*
 * The figures of the week 04/03/2024 – 10/03/2024 (P = 10/03/2024), read
 * through source_query.  No public holiday lies between 28/01/2024 and
 * 11/03/2024, so business days are the weekdays here.
 */
CREATE FUNCTION pg_temp.weekdays_between(a date, b date) RETURNS bigint
LANGUAGE sql IMMUTABLE
RETURN (SELECT count(*) FROM generate_series(a + 1, b, interval '1 day') d WHERE extract(isodow FROM d) < 6);
SELECT kpi_mail.source_query('invoices') AS invoices, kpi_mail.source_query('reminders') AS reminders \gset

SELECT count(*) AS invoices, min(edited_on), max(edited_on), count(sent_on) AS sent FROM (:invoices) s;
-- invoice cohort and statuses as of P (N = 4)
WITH s AS (SELECT * FROM (:invoices) s),
status AS (
	SELECT s.*, CASE
		WHEN sent_on <= '2024-03-10' THEN
			CASE WHEN pg_temp.weekdays_between(edited_on, sent_on) <= 4 THEN 'on_time' ELSE 'late' END
		WHEN pg_temp.weekdays_between(edited_on, '2024-03-11') > 4 THEN 'late'
		ELSE 'pending' END AS status
	FROM s)
SELECT status, count(*) FROM status WHERE edited_on BETWEEN '2024-03-04' AND '2024-03-10'
GROUP BY ROLLUP (status) ORDER BY status NULLS LAST;
-- invoice backlog: edited in the 12 weeks before S, late and not sent as of P
SELECT count(*) AS invoice_backlog FROM (:invoices) s
WHERE edited_on >= date '2024-03-04' - 84 AND edited_on < '2024-03-04'
  AND (sent_on IS NULL OR sent_on > '2024-03-10')
  AND pg_temp.weekdays_between(edited_on, '2024-03-11') > 4;
-- reminder cohort: with a result at E_ts = 11/03/2024 00:00 Paris (legacy values count)
WITH s AS (SELECT * FROM (:reminders) s WHERE reminded_on BETWEEN '2024-03-04' AND '2024-03-10')
SELECT count(*) AS made,
       count(*) FILTER (WHERE result IS NOT NULL
	       AND coalesce(result_recorded_at < timestamp '2024-03-11' AT TIME ZONE 'Europe/Paris', true)) AS with_result,
       count(*) FILTER (WHERE result IN ('RAS', 'Promesse de paiement')) AS of_which_legacy
FROM s;
-- reminder backlog: reminded in the 12 weeks before S, overdue at E_ts (D = 8)
SELECT count(*) AS reminder_backlog FROM (:reminders) s
WHERE reminded_on >= date '2024-03-04' - 84 AND reminded_on < '2024-03-04'
  AND NOT (result IS NOT NULL AND coalesce(result_recorded_at < timestamp '2024-03-11' AT TIME ZONE 'Europe/Paris', true))
  AND ((recorded_at AT TIME ZONE 'Europe/Paris') + interval '8 days') AT TIME ZONE 'Europe/Paris'
      <= timestamp '2024-03-11' AT TIME ZONE 'Europe/Paris';
-- the same sources read from another session time zone give the same rows
SELECT md5(string_agg(s::text, '|' ORDER BY s.invoice_number)) AS invoices_digest FROM (:invoices) s \gset
-- (instants compared as epochs: their text form follows the session time zone)
SELECT md5(string_agg((s.reminder_id, s.client_name, s.invoice_number, s.reminded_on,
	extract(epoch FROM s.recorded_at), s.result, extract(epoch FROM s.result_recorded_at),
	s.responsible_email)::text, '|' ORDER BY s.reminder_id)) AS reminders_digest FROM (:reminders) s \gset
SET TimeZone = 'Asia/Tokyo';
SELECT md5(string_agg(s::text, '|' ORDER BY s.invoice_number)) = :'invoices_digest' AS same_invoices
FROM (:invoices) s;
SELECT md5(string_agg((s.reminder_id, s.client_name, s.invoice_number, s.reminded_on,
	extract(epoch FROM s.recorded_at), s.result, extract(epoch FROM s.result_recorded_at),
	s.responsible_email)::text, '|' ORDER BY s.reminder_id)) = :'reminders_digest' AS same_reminders
FROM (:reminders) s;
SET TimeZone = 'America/New_York';

-- The weekly report and figures over the attached tables agree with the
-- figures above (legacy results count as recorded results).
SELECT f->'invoices'->'edited' AS edited, f->'invoices'->'on_time' AS on_time, f->'invoices'->'late' AS late,
       f->'invoices'->'pending' AS pending, f->'invoices'->'backlog' AS backlog,
       f->'reminders'->'made' AS made, f->'reminders'->'with_result' AS with_result,
       f->'reminders'->'missing' AS missing, f->'reminders'->'backlog' AS reminder_backlog
FROM kpi_mail.kpi_weekly_figures('2024-03-10') f;
\pset format unaligned
\pset tuples_only on
SELECT kpi_mail.kpi_weekly_report('2024-03-10');
\pset tuples_only off
\pset format aligned

/*
 * Legacy results: kept unchanged, listed by legacy_results(), still
 * editable on other columns; no change may bring RAS back.
 */
SELECT count(*) AS legacy, count(*) FILTER (WHERE result = 'RAS') AS ras FROM kpi_mail.legacy_results();
SELECT * FROM kpi_mail.legacy_results() LIMIT 4;
SELECT "Résultat de la Relance", count(*) FROM "ERP Compta"."Relances" GROUP BY 1 ORDER BY 1 NULLS LAST;
-- a RAS row: another column changes, the result and its (NULL) entry time stay
UPDATE "ERP Compta"."Relances" SET "Responsable" = 'direction@example.fr' WHERE "N° Relance" = 1008;
SELECT "N° Relance", "Résultat de la Relance", "Responsable", kpi_result_recorded_at
FROM "ERP Compta"."Relances" WHERE "N° Relance" = 1008;
-- the company's enabled trigger still runs, the disabled one stays disabled
SELECT * FROM "ERP Compta"."Journal";
-- changing a result to RAS, in any spelling, fails; so does a new RAS row
UPDATE "ERP Compta"."Relances" SET "Résultat de la Relance" = 'ras' WHERE "N° Relance" = 1008;
\echo :LAST_ERROR_SQLSTATE
UPDATE "ERP Compta"."Relances" SET "Résultat de la Relance" = 'RAS' WHERE "N° Relance" = 1004;
\echo :LAST_ERROR_SQLSTATE
UPDATE "ERP Compta"."Relances" SET "Résultat de la Relance" = 'R.A.S.' WHERE "N° Relance" = 1002;
\echo :LAST_ERROR_SQLSTATE
UPDATE "ERP Compta"."Relances" SET "Résultat de la Relance" = 'Promesse de paiement' WHERE "N° Relance" = 1004;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO "ERP Compta"."Relances" ("N° Relance", "Client", "N° Facture", "Date de Relance", "Résultat de la Relance")
VALUES (9001, 'Boulangerie Dupont', 'FA-2024-0001', kpi_mail.today(), 'RAS');
\echo :LAST_ERROR_SQLSTATE
-- §9: a reminder date after today is refused (23514)
\set VERBOSITY terse
INSERT INTO "ERP Compta"."Relances" ("N° Relance", "Client", "N° Facture", "Date de Relance")
VALUES (9002, 'Boulangerie Dupont', 'FA-2024-0001', kpi_mail.today() + 1);
\set VERBOSITY default
\echo :LAST_ERROR_SQLSTATE
-- a legacy value replaced by an allowed one: leaves the list, its entry time is now
BEGIN;
UPDATE "ERP Compta"."Relances" SET "Résultat de la Relance" = 'règlement facture' WHERE "N° Relance" = 1005;
SELECT "Résultat de la Relance", kpi_result_recorded_at = now() AS recorded_now
FROM "ERP Compta"."Relances" WHERE "N° Relance" = 1005;
COMMIT;
SELECT count(*) AS legacy FROM kpi_mail.legacy_results();
-- a new reminder: entered now, its result time set by the bookkeeping
BEGIN;
INSERT INTO "ERP Compta"."Relances" ("N° Relance", "Client", "N° Facture", "Date de Relance", "Résultat de la Relance")
VALUES (9003, 'Garage Martin & Fils', 'FA-2024-0300', kpi_mail.today(), 'nouvelle relance');
SELECT reminder_id, client_name, reminded_on = kpi_mail.today() AS today, recorded_at = now() AS recorded_now,
       result, result_recorded_at = now() AS result_now
FROM (:reminders) s WHERE reminder_id = 9003;
COMMIT;
-- clearing a result clears its entry time
UPDATE "ERP Compta"."Relances" SET "Résultat de la Relance" = NULL WHERE "N° Relance" = 9003;
SELECT result, result_recorded_at FROM (:reminders) s WHERE reminder_id = 9003;

-- Alerts read the attached table too: legacy results (RAS…) count as results
-- and raise none; every alert names the company's table as its source.
INSERT INTO kpi_mail.recipient (email, role) VALUES ('direction@example.fr', 'alert');
SELECT kpi_mail.send_alerts('2024-03-11 00:00+01') AS queued;
-- (reminder 1005 got its result only today: it had none at that instant)
SELECT count(*) AS overdue_without_result FROM (:reminders) s
WHERE NOT (s.result IS NOT NULL AND (s.result_recorded_at IS NULL OR s.result_recorded_at < '2024-03-11 00:00+01'))
  AND (s.recorded_at AT TIME ZONE 'Europe/Paris') + interval '8 days' <= '2024-03-11 00:00';
SELECT o.reminder_source, count(*) AS alerts, count(DISTINCT o.reminder_id) AS reminders
FROM kpi_mail.outbox o WHERE o.kind = 'alert' GROUP BY 1;
SELECT count(*) AS alerted_despite_a_result
FROM kpi_mail.outbox o JOIN "ERP Compta"."Relances" r ON r."N° Relance" = o.reminder_id
WHERE o.kind = 'alert' AND r."Résultat de la Relance" IS NOT NULL
  AND (r.kpi_result_recorded_at IS NULL OR r.kpi_result_recorded_at < '2024-03-11 00:00+01');
SELECT count(*) AS alerted_legacy FROM kpi_mail.outbox o JOIN kpi_mail.legacy_results() l ON l.reminder_id = o.reminder_id;
SELECT kpi_mail.send_alerts('2024-03-11 00:00+01') AS queued_again;
DELETE FROM kpi_mail.outbox;
DELETE FROM kpi_mail.alert_log;
DELETE FROM kpi_mail.recipient;

/*
 * A view of invoices with a timestamptz edition: no column added, no
 * trigger; the edition date is read in Europe/Paris.  Attaching it
 * replaces the table's attachment (its trigger goes, its column stays).
 */
CREATE TABLE "ERP Compta"."Export Factures" (numero text, client text, "Édité le" timestamptz, "Envoyé le" date);
INSERT INTO "ERP Compta"."Export Factures" VALUES
	('EX-1', 'Café « Le Zinc »', '2024-03-04 22:30+00', NULL),	-- 23:30 in Paris: 04/03
	('EX-2', 'Café « Le Zinc »', '2024-03-04 23:30+00', '2024-03-05'),	-- 00:30 in Paris: 05/03
	('EX-3', 'Café « Le Zinc »', '2024-06-30 22:30+00', '2024-07-01');	-- summer time: 00:30, 01/07
CREATE VIEW "ERP Compta"."Vue Factures" AS
	SELECT numero AS "Numéro", client AS "Client", "Édité le", ("Édité le" AT TIME ZONE 'UTC')::date AS "Jour d'édition", "Envoyé le"
	FROM "ERP Compta"."Export Factures";
SELECT kpi_mail.attach_invoices('"ERP Compta"."Vue Factures"', 'Numéro', 'Client', 'Édité le', 'Envoyé le');
SELECT kpi_mail.source_query('invoices') AS invoices \gset
SELECT * FROM (:invoices) s ORDER BY invoice_number;
SET TimeZone = 'UTC';
SELECT * FROM (:invoices) s ORDER BY invoice_number;
SET TimeZone = 'America/New_York';
SELECT count(*) AS view_triggers FROM pg_trigger WHERE tgrelid = '"ERP Compta"."Vue Factures"'::regclass;
SELECT (SELECT count(*) FROM pg_trigger t WHERE t.tgrelid = '"ERP Compta"."Factures Clients"'::regclass) AS table_triggers,
       (SELECT count("Date d'Envoi") FROM "ERP Compta"."Factures Clients") AS send_dates_kept;
-- a date edition column
SELECT kpi_mail.attach_invoices('"ERP Compta"."Vue Factures"', 'Numéro', 'Client', 'Jour d''édition', 'Envoyé le');
SELECT kpi_mail.source_query('invoices') AS invoices \gset
SELECT invoice_number, edited_on FROM (:invoices) s ORDER BY invoice_number;

/*
 * Detach: back to the built-in tables; the triggers go, the added columns
 * and their data stay.
 */
SELECT kpi_mail.detach('invoices');
SELECT kpi_mail.detach('reminders');
SELECT kpi_mail.source_query('invoices') LIKE '%FROM kpi_mail.invoice i' AS builtin_invoices,
       kpi_mail.source_query('reminders') LIKE '%FROM kpi_mail.payment_reminder r' AS builtin_reminders;
SELECT count(*) AS attachments FROM kpi_mail.attachment;
SELECT t.tgname, t.tgenabled FROM pg_trigger t
WHERE t.tgrelid = '"ERP Compta"."Relances"'::regclass ORDER BY t.tgname;
SELECT count(kpi_recorded_at) AS recorded, count(kpi_result_recorded_at) AS result_recorded,
       count(*) FILTER (WHERE "Résultat de la Relance" = 'RAS') AS ras
FROM "ERP Compta"."Relances";
-- without the guard, the table is the company's business again
UPDATE "ERP Compta"."Relances" SET "Résultat de la Relance" = 'RAS' WHERE "N° Relance" = 9003;
-- detaching twice only says so
SET client_min_messages = notice;
SELECT kpi_mail.detach('reminders');
SET client_min_messages = warning;

DROP EXTENSION kpi_mail;
DROP SCHEMA "ERP Compta" CASCADE;
