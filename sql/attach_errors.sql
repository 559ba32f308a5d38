-- Attaching refused (§8): missing columns (42703), wrong types (42804),
-- wrong kinds of relation (42809), unknown kinds for detach (22023); a
-- refusal changes nothing, not even a previous attachment.  Names shaped
-- like SQL injection are attached safely.  Only the owner may attach.
SET client_min_messages = warning;
CREATE EXTENSION kpi_mail;
\set SHOW_CONTEXT never

CREATE SCHEMA erp;
CREATE TABLE erp.factures (numero text PRIMARY KEY, client text, montant integer,
	edition timestamptz, envoi_texte text);
CREATE TABLE erp.relances (id bigint PRIMARY KEY, client text, facture text, le date, saisie timestamp,
	saisie_tz timestamptz, resultat text, code integer, kpi_recorded_at date);
CREATE VIEW erp.vue_relances AS SELECT * FROM erp.relances;
CREATE VIEW erp.vue_factures AS SELECT numero, client, edition FROM erp.factures;
CREATE SEQUENCE erp.compteur;
CREATE TEMPORARY TABLE brouillon (numero text, client text, edition date);

-- the shape of each table before the refusals
CREATE VIEW shape AS
	SELECT c.relname, count(a.attnum) AS columns,
	       (SELECT count(*) FROM pg_trigger t WHERE t.tgrelid = c.oid) AS triggers
	FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	WHERE c.relnamespace = 'erp'::regnamespace AND c.relkind = 'r' AND NOT c.relispartition
	GROUP BY c.oid, c.relname ORDER BY c.relname;
SELECT * FROM shape;

-- missing columns: 42703
SELECT kpi_mail.attach_invoices('erp.factures', 'Numero', 'client', 'edition');
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.attach_invoices('erp.vue_factures', 'numero', 'client', 'edition');
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.attach_reminders('erp.relances', 'client', 'facture', 'le', 'résultat');
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.attach_reminders('erp.relances', 'client', 'facture', 'le', 'resultat', 'saisie_le');
\echo :LAST_ERROR_SQLSTATE
-- wrong types: 42804
SELECT kpi_mail.attach_invoices('erp.factures', 'numero', 'montant', 'edition');
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.attach_invoices('erp.factures', 'numero', 'client', 'client');
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.attach_invoices('erp.factures', 'numero', 'client', 'edition', 'envoi_texte');
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.attach_reminders('erp.relances', 'client', 'facture', 'saisie', 'resultat', 'saisie_tz');
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.attach_reminders('erp.relances', 'client', 'facture', 'le', 'code', 'saisie_tz');
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.attach_reminders('erp.relances', 'client', 'facture', 'le', 'resultat', 'saisie');
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.attach_reminders('erp.relances', 'client', 'facture', 'le', 'resultat', 'saisie_tz', 'code');
\echo :LAST_ERROR_SQLSTATE
-- without recorded_at_column, kpi_recorded_at is used: an existing one must be a timestamptz
SELECT kpi_mail.attach_reminders('erp.relances', 'client', 'facture', 'le', 'resultat');
\echo :LAST_ERROR_SQLSTATE
-- wrong kinds of relation: 42809
SELECT kpi_mail.attach_reminders('erp.vue_relances', 'client', 'facture', 'le', 'resultat', 'saisie_tz');
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.attach_invoices('erp.compteur', 'numero', 'client', 'edition');
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.attach_invoices('brouillon', 'numero', 'client', 'edition');
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.attach_invoices('kpi_mail.invoice', 'invoice_number', 'client_name', 'edited_at');
\echo :LAST_ERROR_SQLSTATE
-- a partitioned table without a single-column integer key: kpi_reminder_id
-- cannot be added as an identity (0A000); a filled kpi_reminder_id of the
-- company is used instead
CREATE TABLE erp.relances_part (client text, facture text, le date, resultat text) PARTITION BY RANGE (le);
CREATE TABLE erp.relances_2024 PARTITION OF erp.relances_part FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
SELECT kpi_mail.attach_reminders('erp.relances_part', 'client', 'facture', 'le', 'resultat');
\echo :LAST_ERROR_SQLSTATE
-- missing arguments: 22004; an unknown relation is refused by regclass itself: 42P01
SELECT kpi_mail.attach_invoices('erp.factures', 'numero', NULL, 'edition');
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.attach_invoices('erp.inconnue', 'numero', 'client', 'edition');
\echo :LAST_ERROR_SQLSTATE
-- unknown kinds for detach: 22023
SELECT kpi_mail.detach('factures');
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.detach(NULL);
\echo :LAST_ERROR_SQLSTATE
-- nothing changed
SELECT * FROM shape;
SELECT count(*) AS attachments FROM kpi_mail.attachment;

/*
 * A refused re-attachment leaves the previous attachment in place, with
 * its triggers.
 */
SELECT kpi_mail.attach_reminders('erp.relances', 'client', 'facture', 'le', 'resultat', 'saisie_tz');
SELECT * FROM shape;
-- (without recorded_at_column: the date column kpi_recorded_at is refused)
SELECT kpi_mail.attach_reminders('erp.relances', 'client', 'facture', 'le', 'resultat', NULL, 'code');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM shape;
SELECT kind, relation_name, reminder_id_column, recorded_at_column, responsible_column FROM kpi_mail.attachment;
-- a named recorded_at column is used as is; the integer key is the reminder id
SELECT kpi_mail.source_query('reminders');
CREATE SEQUENCE erp.relances_part_seq;
ALTER TABLE erp.relances_part ADD COLUMN kpi_reminder_id bigint NOT NULL DEFAULT nextval('erp.relances_part_seq');
INSERT INTO erp.relances_part VALUES ('Client un', 'F1', '2024-02-01', 'RAS');
SELECT kpi_mail.attach_reminders('erp.relances_part', 'client', 'facture', 'le', 'resultat');
SELECT reminder_id, client_name, result FROM kpi_mail.legacy_results();
INSERT INTO erp.relances_part VALUES ('Client deux', 'F2', '2024-02-02', 'RAS');
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.attach_reminders('erp.relances', 'client', 'facture', 'le', 'resultat', 'saisie_tz');
SELECT (SELECT count(*) FROM pg_trigger t WHERE t.tgrelid = 'erp.relances_part'::regclass) AS part_triggers;
-- DROP EXTENSION refuses while a table is attached (the triggers depend on it)
DROP EXTENSION kpi_mail;
\echo :LAST_ERROR_SQLSTATE

/*
 * The attached relation disappears: source_query says so (42P01), detach
 * still works.
 */
DROP TABLE erp.relances CASCADE;
SELECT kpi_mail.source_query('reminders');
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.detach('reminders');
SELECT kpi_mail.source_query('reminders') LIKE '%FROM kpi_mail.payment_reminder r' AS builtin_reminders;

/*
 * Names shaped like SQL injection, quotes and format directives, in the
 * schema, the table and every column; a text primary key, so the reminder
 * id is the added kpi_reminder_id.
 */
CREATE TABLE t (survivor text);
INSERT INTO t VALUES ('still here');
CREATE SCHEMA "s""; DROP TABLE t; --";
CREATE TABLE "s""; DROP TABLE t; --"."Robert'); DROP TABLE t;--" (
	"ref'); DROP TABLE t; --" text PRIMARY KEY,
	"a'b" text,
	"c""d" text,
	"e f %I" date,
	"x""; DROP TABLE t; --" text
);
INSERT INTO "s""; DROP TABLE t; --"."Robert'); DROP TABLE t;--" VALUES
	('R2', 'Client ''deux''', 'F"2', '2024-02-01', 'RAS'),
	('R1', 'Client un', 'F1', '2024-02-02', NULL);
SELECT kpi_mail.attach_reminders('"s""; DROP TABLE t; --"."Robert''); DROP TABLE t;--"',
	'a''b', 'c"d', 'e f %I', 'x"; DROP TABLE t; --');
SELECT kind, schema_name, relation_name, invoice_number_column, client_column, reminder_id_column,
       reminded_on_column, result_column FROM kpi_mail.attachment;
SELECT kpi_mail.source_query('reminders');
SELECT reminder_id, client_name, invoice_number, reminded_on, result FROM kpi_mail.legacy_results();
SELECT kpi_mail.source_query('reminders') AS reminders \gset
SELECT reminder_id, client_name, invoice_number, reminded_on, result, result_recorded_at
FROM (:reminders) s ORDER BY reminder_id;
-- the guard watches the hostile column
UPDATE "s""; DROP TABLE t; --"."Robert'); DROP TABLE t;--" SET "x""; DROP TABLE t; --" = 'R.A.S' WHERE "ref'); DROP TABLE t; --" = 'R1';
\echo :LAST_ERROR_SQLSTATE
UPDATE "s""; DROP TABLE t; --"."Robert'); DROP TABLE t;--" SET "x""; DROP TABLE t; --" = 'nouvelle relance' WHERE "ref'); DROP TABLE t; --" = 'R1';
SELECT reminder_id, result, result_recorded_at IS NOT NULL AS result_recorded FROM (:reminders) s ORDER BY reminder_id;
-- invoices too, with the send date added under a hostile name
CREATE TABLE "s""; DROP TABLE t; --"."F'); DROP TABLE t;--" ("%s" text, "$1" text, "'; --" timestamp);
INSERT INTO "s""; DROP TABLE t; --"."F'); DROP TABLE t;--" VALUES ('F1', 'Client un', '2024-02-01 10:00');
SELECT kpi_mail.attach_invoices('"s""; DROP TABLE t; --"."F''); DROP TABLE t;--"', '%s', '$1', ''';',
	'"); DROP TABLE t; --');
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.attach_invoices('"s""; DROP TABLE t; --"."F''); DROP TABLE t;--"', '%s', '$1', '''; --',
	'"); DROP TABLE t; --');
SELECT kpi_mail.source_query('invoices') AS invoices \gset
UPDATE "s""; DROP TABLE t; --"."F'); DROP TABLE t;--" SET """); DROP TABLE t; --" = '2024-01-31';
\echo :LAST_ERROR_SQLSTATE
UPDATE "s""; DROP TABLE t; --"."F'); DROP TABLE t;--" SET """); DROP TABLE t; --" = '2024-02-05';
SELECT * FROM (:invoices) s;
SELECT kpi_mail.detach('invoices');
SELECT kpi_mail.detach('reminders');
SELECT count(*) AS triggers_left FROM pg_trigger WHERE tgname LIKE 'kpi_mail%';
SELECT * FROM t;

/*
 * Privileges: attach, detach and legacy_results belong to the owner.
 */
CREATE ROLE regress_kpi_attach_staff;
SELECT p.proname, has_function_privilege('regress_kpi_attach_staff', p.oid, 'EXECUTE') AS staff_may_execute
FROM pg_proc p
WHERE p.pronamespace = 'kpi_mail'::regnamespace
  AND (p.proname LIKE 'attach%' OR p.proname IN ('detach', 'legacy_results'))
ORDER BY p.proname;
SELECT has_table_privilege('regress_kpi_attach_staff', 'kpi_mail.attachment', 'SELECT') AS staff_may_read;
GRANT USAGE ON SCHEMA kpi_mail TO regress_kpi_attach_staff;
SET ROLE regress_kpi_attach_staff;
SELECT kpi_mail.detach('invoices');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
REVOKE USAGE ON SCHEMA kpi_mail FROM regress_kpi_attach_staff;
DROP ROLE regress_kpi_attach_staff;

DROP EXTENSION kpi_mail;
DROP VIEW shape;
DROP SCHEMA erp CASCADE;
DROP SCHEMA "s""; DROP TABLE t; --" CASCADE;
DROP TABLE t;
