"""Concurrency of kpi_mail.send_alerts and kpi_mail.send_weekly_report
(SPEC §5, §6): however many sessions call them at the same time, one reminder
gets one alert, and one period one report.

Two techniques make the calls really overlap:
- lock ordering: session A queues in an open transaction, session B calls
  while A holds its claims; the test checks that B waits on A's lock, then
  ends A (commit or rollback) and looks at B's result;
- a barrier: several threads start their calls at the same instant.
"""
import threading
import unittest

from test.support import (connect, drop_database,
                               recreate_database, wait_for)

DB = "kpi_jobs_concurrency"
AS_OF = "2026-04-01 12:00:00+00"
REMINDERS = 40


class Concurrency(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        recreate_database(DB)
        conn = connect(DB)
        with conn.cursor() as cur:
            cur.execute("CREATE EXTENSION kpi_mail")
            cur.execute("INSERT INTO kpi_mail.recipient (email, role) VALUES "
                        "('direction@example.fr', 'alert'), ('rapport@example.fr', 'report')")
        conn.close()

    @classmethod
    def tearDownClass(cls):
        conn = connect(DB)
        with conn.cursor() as cur:
            cur.execute("DROP EXTENSION kpi_mail")
        conn.close()
        drop_database(DB)

    def setUp(self):
        self.conns = []
        self.admin = self.session()
        self.sql("TRUNCATE kpi_mail.outbox, kpi_mail.alert_log, kpi_mail.payment_reminder")
        self.sql("UPDATE kpi_mail.settings SET alert_repeat_days = 0")

    def tearDown(self):
        for conn in self.conns:
            conn.close()

    def session(self, autocommit=True):
        conn = connect(DB, autocommit)
        self.conns.append(conn)
        return conn

    def sql(self, query, params=None, conn=None):
        with (conn or self.admin).cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall() if cur.description else None

    def add_overdue_reminders(self, count, day="2026-03-01"):
        """count reminders recorded on day (Paris), overdue at AS_OF."""
        self.sql("INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, recorded_at) "
                 "SELECT 'Client ' || i, 'F-' || i, %s::date, %s::date + time '09:00' + i * interval '1 second' "
                 "FROM generate_series(1, %s) AS i", (day, day, count))

    def alerts_per_reminder(self):
        return self.sql("SELECT r.reminder_id, count(o.message_id) FROM kpi_mail.payment_reminder r "
                        "LEFT JOIN kpi_mail.outbox o ON o.kind = 'alert' AND o.reminder_id = r.reminder_id "
                        "GROUP BY r.reminder_id ORDER BY r.reminder_id")

    def call_in_thread(self, conn, query, params):
        """Starts query on conn in a thread; returns (thread, result dict)."""
        result = {}

        def run():
            try:
                result["rows"] = self.sql(query, params, conn)
            except Exception as exc:  # reported by the test
                result["error"] = exc
        thread = threading.Thread(target=run)
        thread.start()
        return thread, result

    def wait_until_blocked(self, conn):
        """True once the backend of conn waits for a lock held by another session."""
        pid = conn.get_backend_pid()
        return wait_for(lambda: self.sql("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s",
                                         (pid,))[0][0], timeout=10)

    def race_with_open_transaction(self, query, params, end_first):
        """A runs query in an open transaction, B runs it meanwhile (and must
        wait), then A ends with end_first ('commit' or 'rollback').  Returns
        (A's rows, B's rows)."""
        a = self.session(autocommit=False)
        b = self.session(autocommit=True)
        rows_a = self.sql(query, params, a)
        thread, result_b = self.call_in_thread(b, query, params)
        blocked = self.wait_until_blocked(b)
        getattr(a, end_first)()
        thread.join(30)
        self.assertTrue(blocked, "the second session never waited for the first one")
        self.assertFalse(thread.is_alive())
        self.assertNotIn("error", result_b)
        return rows_a, result_b["rows"]

    def test_second_session_waits_then_queues_nothing(self):
        self.add_overdue_reminders(REMINDERS)
        rows_a, rows_b = self.race_with_open_transaction("SELECT kpi_mail.send_alerts(%s)", (AS_OF,), "commit")
        self.assertEqual(rows_a, [(REMINDERS,)])
        self.assertEqual(rows_b, [(0,)])
        self.assertEqual({n for _, n in self.alerts_per_reminder()}, {1})

    def test_second_session_queues_all_when_first_rolls_back(self):
        self.add_overdue_reminders(REMINDERS)
        rows_a, rows_b = self.race_with_open_transaction("SELECT kpi_mail.send_alerts(%s)", (AS_OF,), "rollback")
        self.assertEqual(rows_a, [(REMINDERS,)])
        self.assertEqual(rows_b, [(REMINDERS,)])
        self.assertEqual({n for _, n in self.alerts_per_reminder()}, {1})

    def test_simultaneous_calls(self):
        sessions = 4
        total = 0
        for round_ in range(5):
            self.add_overdue_reminders(REMINDERS, day=f"2026-03-{round_ + 1:02d}")
            total += REMINDERS
            conns = [self.session() for _ in range(sessions)]
            barrier = threading.Barrier(sessions)
            results = [None] * sessions

            def run(i):
                barrier.wait()
                results[i] = self.sql("SELECT kpi_mail.send_alerts(%s)", (AS_OF,), conns[i])[0][0]
            threads = [threading.Thread(target=run, args=(i,)) for i in range(sessions)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            self.assertEqual(sum(results), REMINDERS, f"round {round_}: {results}")
            per_reminder = self.alerts_per_reminder()
            self.assertEqual(len(per_reminder), total)
            self.assertEqual({n for _, n in per_reminder}, {1})

    def test_concurrent_repeat_is_queued_once(self):
        self.sql("UPDATE kpi_mail.settings SET alert_repeat_days = 2")
        self.add_overdue_reminders(REMINDERS)
        self.assertEqual(self.sql("SELECT kpi_mail.send_alerts(%s)", (AS_OF,)), [(REMINDERS,)])
        later = "2026-04-03 12:00:00+00"
        rows_a, rows_b = self.race_with_open_transaction("SELECT kpi_mail.send_alerts(%s)", (later,), "commit")
        self.assertEqual((rows_a, rows_b), ([(REMINDERS,)], [(0,)]))
        self.assertEqual({n for _, n in self.alerts_per_reminder()}, {2})
        self.assertEqual(self.sql("SELECT DISTINCT alert_count FROM kpi_mail.alert_log"), [(2,)])

    def test_weekly_report_once_per_period(self):
        query = "SELECT kpi_mail.send_weekly_report(%s)"
        rows_a, rows_b = self.race_with_open_transaction(query, ("2026-03-29",), "commit")
        self.assertIsNotNone(rows_a[0][0])
        self.assertEqual(rows_b, [(None,)])
        rows_a, rows_b = self.race_with_open_transaction(query, ("2026-03-22",), "rollback")
        self.assertIsNotNone(rows_b[0][0])
        self.assertEqual(self.sql("SELECT period_end::text, count(*) FROM kpi_mail.outbox "
                                  "WHERE kind = 'weekly_report' GROUP BY 1 ORDER BY 1"),
                         [("2026-03-22", 1), ("2026-03-29", 1)])


if __name__ == "__main__":
    unittest.main()
