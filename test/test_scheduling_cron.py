"""The pg_cron job of kpi_mail.schedule_jobs, run for real by pg_cron
(SPEC §6): it calls kpi_mail.run_scheduled, which queues the weekly report
of the last completed period and the due alerts; after DROP EXTENSION
kpi_mail the job removes itself at its next run.

The cluster of test/run preloads pg_cron with cron.database_name = kpi_cron.
pg_cron 1.4 runs jobs at most once a minute: this test takes one to three
minutes.  When mail delivery is built (kpi_mail.deliver_outbox), the run also
delivers to a local SMTP server (aiosmtpd), which the test then checks.
"""
import socket
import unittest

from aiosmtpd.controller import Controller

from test.jobs_support import (DROP_STUB_REPORT, STUB_REPORT, connect, recreate_database,
                               wait_for)

DB = "kpi_cron"
JOB = "kpi_mail_run_scheduled"


class Collector:
    """aiosmtpd handler keeping the accepted messages."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


def free_port():
    """A TCP port of 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CronJob(unittest.TestCase):
    def setUp(self):
        recreate_database(DB)
        self.smtp = Collector()
        port = free_port()
        self.controller = Controller(self.smtp, hostname="127.0.0.1", port=port)
        self.controller.start()
        self.conn = connect(DB)
        self.sql("CREATE EXTENSION pg_cron")
        self.sql("CREATE EXTENSION kpi_mail")
        self.sql(STUB_REPORT)
        self.sql("UPDATE kpi_mail.settings SET smtp_url = %s, smtp_tls = 'none'", (f"smtp://127.0.0.1:{port}",))
        self.sql("INSERT INTO kpi_mail.recipient (email, role) VALUES "
                 "('direction@example.fr', 'report'), ('alerte@example.fr', 'alert')")
        self.sql("INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, recorded_at) "
                 "VALUES ('Martin SA', 'F-002', '2026-01-05', '2026-01-05 10:30+01')")

    def tearDown(self):
        self.conn.close()
        self.controller.stop()

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
        queued = self.sql("SELECT kind, period_end >= %s, reminder_id FROM kpi_mail.outbox ORDER BY message_id",
                          (period,))
        self.assertEqual(queued, [("weekly_report", True, None), ("alert", None, 1)])

        if self.sql("SELECT to_regprocedure('kpi_mail.deliver_outbox()') IS NOT NULL")[0][0]:
            self.assertTrue(wait_for(lambda: len(self.smtp.messages) >= 2, timeout=30),
                            "the queued mail was not delivered")
            self.assertEqual(sorted(m.rcpt_tos[0] for m in self.smtp.messages),
                             ["alerte@example.fr", "direction@example.fr"])

        done = len(runs)
        self.sql(DROP_STUB_REPORT)
        self.sql("DROP EXTENSION kpi_mail")
        self.assertEqual(len(self.sql("SELECT 1 FROM cron.job")), 1)
        gone = wait_for(lambda: not self.sql("SELECT 1 FROM cron.job"), timeout=80, interval=1)
        self.assertTrue(gone, "the job did not remove itself after DROP EXTENSION kpi_mail")
        last = wait_for(lambda: self.finished_runs()[done:], timeout=10)
        self.assertTrue(last)
        self.assertEqual(last[-1][0], "succeeded", last[-1][1])


if __name__ == "__main__":
    unittest.main()
