"""The pg_cron job of kpi_mail.schedule_jobs, run for real by pg_cron
(SPEC §6): it calls kpi_mail.run_scheduled, which queues the weekly report
of the last completed period and the due alerts; after DROP EXTENSION
kpi_mail the job removes itself at its next run.

The cluster of test/run preloads pg_cron with cron.database_name = kpi_cron.
pg_cron 1.4 runs jobs at most once a minute: this test takes one to three
minutes.  The mails go to a real SMTP server on loopback (test/smtp_server.py)
and are checked as received.
"""
import os
import sys
import unittest
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from test.support import connect, recreate_database, text_of, wait_for

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smtp_server import SmtpServer  # noqa: E402

DB = "kpi_cron"
JOB = "kpi_mail_run_scheduled"
PARIS = ZoneInfo("Europe/Paris")


class CronJob(unittest.TestCase):
    def setUp(self):
        recreate_database(DB)
        self.smtp = SmtpServer()
        self.conn = connect(DB)
        self.sql("CREATE EXTENSION pg_cron")
        self.sql("CREATE EXTENSION kpi_mail")
        self.sql("UPDATE kpi_mail.settings SET smtp_url = %s, smtp_tls = 'none'", (self.smtp.url,))
        self.sql("INSERT INTO kpi_mail.recipient (email, role) VALUES "
                 "('direction@example.fr', 'report'), ('alerte@example.fr', 'alert')")
        self.sql("INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, recorded_at) "
                 "VALUES ('Martin SA', 'F-002', '2026-01-05', '2026-01-05 10:30+01')")

    def tearDown(self):
        self.conn.close()
        self.smtp.stop()

    def sql(self, query, params=None):
        with self.conn.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall() if cur.description else None

    def finished_runs(self):
        return self.sql("SELECT status, return_message FROM cron.job_run_details "
                        "WHERE status IN ('succeeded', 'failed') ORDER BY runid")

    def test_job_runs_and_cleans_up_after_drop(self):
        period = self.sql("SELECT kpi_mail.due_report_period()")[0][0]
        self.assertIsNotNone(period)
        self.sql("SELECT kpi_mail.schedule_jobs('* * * * *')")
        self.assertEqual(self.sql("SELECT jobname, active FROM cron.job"), [(JOB, True)])

        runs = wait_for(self.finished_runs, timeout=80, interval=1)
        self.assertTrue(runs, "pg_cron did not run the job within 80 s")
        self.assertEqual(runs[0][0], "succeeded", runs[0][1])
        queued = self.sql("SELECT kind, period_end, reminder_id FROM kpi_mail.outbox ORDER BY message_id")
        self.assertEqual(queued, [("weekly_report", period, None), ("alert", None, 1)])

        # pg_cron's run queued both, the commit started delivery: the mails as received
        self.assertTrue(self.smtp.wait_for(2, timeout=30), "the queued mail was not delivered")
        mails = {m.rcpt_tos[0]: m.parse() for m in self.smtp.messages}
        self.assertEqual(sorted(mails), ["alerte@example.fr", "direction@example.fr"])
        report = mails["direction@example.fr"]
        start = period - timedelta(days=6)
        self.assertEqual(str(report["Subject"]),
                         "Rapport hebdomadaire des indicateurs – semaine du %s au %s"
                         % (start.strftime("%d/%m/%Y"), period.strftime("%d/%m/%Y")))
        self.assertEqual(text_of(report),
                         self.sql("SELECT kpi_mail.kpi_weekly_report(%s)", (period,))[0][0])
        alert = mails["alerte@example.fr"]
        self.assertEqual(str(alert["Subject"]), "Alerte de Suivi Manquant pour Relance Client")
        queued_at = self.sql("SELECT queued_at FROM kpi_mail.outbox WHERE kind = 'alert'")[0][0]
        days = (queued_at.astimezone(PARIS).replace(tzinfo=None) - datetime(2026, 1, 5, 10, 30)).days
        self.assertEqual(text_of(alert),
                         "Le champ 'Résultat de la Relance' n'a pas été rempli pour Martin SA, F-002 "
                         "depuis %d jours. Veuillez compléter les informations requises.\n\n"
                         "Relance du 05/01/2026, saisie le 05/01/2026 à 10:30.\n" % days)
        self.assertEqual(self.sql("SELECT count(*) FROM kpi_mail.outbox WHERE status = 'sent'"), [(2,)])

        done = len(runs)
        self.sql("DROP EXTENSION kpi_mail")
        self.assertEqual(len(self.sql("SELECT 1 FROM cron.job")), 1)
        gone = wait_for(lambda: not self.sql("SELECT 1 FROM cron.job"), timeout=80, interval=1)
        self.assertTrue(gone, "the job did not remove itself after DROP EXTENSION kpi_mail")
        last = wait_for(lambda: self.finished_runs()[done:], timeout=10)
        self.assertTrue(last)
        self.assertEqual(last[-1][0], "succeeded", last[-1][1])


if __name__ == "__main__":
    unittest.main()
