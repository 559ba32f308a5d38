"""pg_dump / pg_restore keeps the attachment of the company's tables (SPEC §7, §8).

Attaches an invoice table and a reminder table with French names in one
database, dumps it with pg_dump -Fc, restores it into a new database, and
checks that the attachment row, the source_query rows, the guards on the
attached tables (and the weekly report text, when kpi_weekly_report exists)
are the same.

Run by test/run on a throw-away cluster (PGHOST, PGPORT, PGUSER from the
environment; pg_dump and pg_restore from the bindir on PATH).
"""
import os
import shutil
import subprocess
import tempfile
import unittest

import psycopg2
import psycopg2.errors

SOURCE_DB = "kpi_attach_dump_src"
TARGET_DB = "kpi_attach_dump_dst"
PERIOD_END = "2024-03-10"

SCHEMA_SQL = r"""
SET client_min_messages = warning;
CREATE EXTENSION kpi_mail;
CREATE SCHEMA "ERP Compta";
CREATE TABLE "ERP Compta"."Factures Clients" (
    "N° Facture" text PRIMARY KEY,
    "Client" text NOT NULL,
    "Date Édition" timestamp NOT NULL
);
INSERT INTO "ERP Compta"."Factures Clients"
SELECT 'FA-' || lpad(i::text, 4, '0'), 'Client ' || (i % 7),
       timestamp '2024-02-01 09:00' + (i - 1) / 5 * interval '1 day' + i % 5 * interval '2 hours'
FROM generate_series(1, 200) i;
-- no primary key: kpi_reminder_id is added; no entry time: kpi_recorded_at is added
CREATE TABLE "ERP Compta"."Relances" (
    "Client" text NOT NULL,
    "N° Facture" text NOT NULL,
    "Date de Relance" date NOT NULL,
    "Résultat de la Relance" text
);
INSERT INTO "ERP Compta"."Relances"
SELECT 'Client ' || (i % 7), 'FA-' || lpad(i::text, 4, '0'), date '2024-02-01' + (i - 1) / 4,
       (ARRAY['RAS', 'nouvelle relance', NULL, 'règlement facture', 'En cours'])[1 + i % 5]
FROM generate_series(1, 160) i;
SELECT kpi_mail.attach_invoices('"ERP Compta"."Factures Clients"', 'N° Facture', 'Client',
                                'Date Édition', 'Date d''Envoi');
SELECT kpi_mail.attach_reminders('"ERP Compta"."Relances"', 'Client', 'N° Facture',
                                 'Date de Relance', 'Résultat de la Relance');
UPDATE "ERP Compta"."Factures Clients"
SET "Date d'Envoi" = "Date Édition"::date + substr("N° Facture", 4)::integer % 8
WHERE substr("N° Facture", 4)::integer % 6 <> 0;
UPDATE "ERP Compta"."Relances" SET "Résultat de la Relance" = 'délais supplémentaire'
WHERE kpi_reminder_id % 10 = 3;
"""

# One line per source: its row count and a digest of its rows, instants as epochs
# so that the text does not depend on the session time zone.
SOURCE_DIGEST_SQL = """
SELECT format('invoices %s %s', count(*), md5(string_agg(
           (s.invoice_number, s.client_name, s.edited_on, s.sent_on)::text, '|'
           ORDER BY s.invoice_number)))
FROM ({invoices}) s
UNION ALL
SELECT format('reminders %s %s', count(*), md5(string_agg(
           (s.reminder_id, s.client_name, s.invoice_number, s.reminded_on,
            extract(epoch FROM s.recorded_at), s.result,
            extract(epoch FROM s.result_recorded_at), s.responsible_email)::text, '|'
           ORDER BY s.reminder_id)))
FROM ({reminders}) s
"""


def connect(dbname):
    conn = psycopg2.connect(dbname=dbname)
    conn.autocommit = True
    return conn


def admin_sql(dbname, *statements):
    """Runs statements one by one outside any transaction block (CREATE/DROP DATABASE)."""
    conn = connect(dbname)
    try:
        with conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
    finally:
        conn.close()


def run_tool(*args):
    """Runs a PostgreSQL client program from the bindir on PATH; fails the test on error."""
    program = shutil.which(args[0])
    if program is None:
        raise unittest.SkipTest(f"{args[0]} introuvable dans PATH")
    done = subprocess.run([program, *args[1:]], capture_output=True, text=True)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(args)} a échoué ({done.returncode}):\n{done.stderr}")
    return done


class AttachDumpRestoreTest(unittest.TestCase):
    """An attached database survives pg_dump -Fc / pg_restore into a new database."""

    @classmethod
    def setUpClass(cls):
        admin_sql("postgres", *[f'DROP DATABASE IF EXISTS "{db}"' for db in (SOURCE_DB, TARGET_DB)],
                  f'CREATE DATABASE "{SOURCE_DB}"', f'CREATE DATABASE "{TARGET_DB}"')
        admin_sql(SOURCE_DB, SCHEMA_SQL)
        cls.source = connect(SOURCE_DB)

        cls.tmpdir = tempfile.mkdtemp(prefix="kpi_attach_dump.")
        dump = os.path.join(cls.tmpdir, "source.dump")
        run_tool("pg_dump", "-Fc", "-f", dump, SOURCE_DB)
        run_tool("pg_restore", "--exit-on-error", "-d", TARGET_DB, dump)
        cls.target = connect(TARGET_DB)

    @classmethod
    def tearDownClass(cls):
        cls.source.close()
        cls.target.close()
        shutil.rmtree(cls.tmpdir, ignore_errors=True)
        admin_sql("postgres", *[f'DROP DATABASE IF EXISTS "{db}"' for db in (SOURCE_DB, TARGET_DB)])

    @staticmethod
    def query(conn, sql, params=None):
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def source_digest(self, conn):
        (invoices, reminders), = self.query(
            conn, "SELECT kpi_mail.source_query('invoices'), kpi_mail.source_query('reminders')")
        return [row[0] for row in self.query(
            conn, SOURCE_DIGEST_SQL.format(invoices=invoices, reminders=reminders))]

    def test_attachment_row_restored(self):
        sql = "SELECT to_jsonb(a) FROM kpi_mail.attachment a ORDER BY kind"
        source = self.query(self.source, sql)
        self.assertEqual([row[0]["kind"] for row in source], ["invoices", "reminders"])
        self.assertEqual(source[1][0]["reminder_id_column"], "kpi_reminder_id")
        self.assertEqual(self.query(self.target, sql), source)

    def test_source_query_rows_restored(self):
        source = self.source_digest(self.source)
        self.assertTrue(source[0].startswith("invoices 200 "), source[0])
        self.assertTrue(source[1].startswith("reminders 160 "), source[1])
        self.assertEqual(self.source_digest(self.target), source)
        self.assertIn('FROM "ERP Compta"."Relances" t',
                      self.query(self.target, "SELECT kpi_mail.source_query('reminders')")[0][0])

    def test_legacy_results_restored(self):
        sql = "SELECT count(*), count(*) FILTER (WHERE result = 'RAS') FROM kpi_mail.legacy_results()"
        self.assertEqual(self.query(self.source, sql), [(64, 32)])
        self.assertEqual(self.query(self.target, sql), [(64, 32)])

    def test_guards_restored(self):
        sql = """SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                 WHERE t.tgname LIKE 'kpi_mail%' ORDER BY 1, 2"""
        self.assertEqual(self.query(self.target, sql), self.query(self.source, sql))
        self.assertEqual(len(self.query(self.target, sql)), 4)
        with self.assertRaises(psycopg2.errors.CheckViolation):
            self.query(self.target, """UPDATE "ERP Compta"."Relances" SET "Résultat de la Relance" = 'RAS'
                                       WHERE kpi_reminder_id = 3 RETURNING 1""")
        # a new row gets the next identity value and an entry time (defaults
        # restored); rolled back so that the other tests see the restored rows
        self.query(self.target, "BEGIN; SELECT 1")
        try:
            self.assertEqual(self.query(self.target, """
                INSERT INTO "ERP Compta"."Relances" ("Client", "N° Facture", "Date de Relance")
                VALUES ('Client 1', 'FA-9999', '2024-03-01')
                RETURNING kpi_reminder_id, kpi_recorded_at = now()"""), [(161, True)])
        finally:
            self.query(self.target, "ROLLBACK; SELECT 1")

    def test_weekly_report_restored(self):
        sql = "SELECT kpi_mail.kpi_weekly_report(%s::date)"
        source = self.query(self.source, sql, (PERIOD_END,))[0][0]
        # the figures of the attached ERP tables, checked in the attach regression test
        figures = [line for line in source.split("\n") if line.startswith("- ")]
        self.assertEqual(figures, [
            "- Nombre de factures éditées : 35",
            "- Factures envoyées dans les délais : 14 (40,0 %)",
            "- Factures en retard : 1 (2,9 %)",
            "- Factures en attente d'envoi (délai non échu) : 20 (57,1 %)",
            "- Détails des Retards :",
            "- Factures des semaines précédentes toujours non envoyées : 26",
            "- Relances effectuées : 28",
            "- Résultats enregistrés : 20 (71,4 %)",
            "- Résultats manquants : 8 (28,6 %)",
            "- Détails des Manquements :",
            "- Relances des semaines précédentes sans résultat après 8 jours : 39",
        ])
        self.assertEqual(self.query(self.target, sql, (PERIOD_END,))[0][0], source)


if __name__ == "__main__":
    unittest.main()
