"""The product's mails as recipients get them (SPEC §4, §5, §6): the weekly
report of the worked example and the alerts, queued by the SQL functions,
delivered after commit by the background worker to a real SMTP server on
loopback (aiosmtpd), parsed with Python's email package.

Runs on the cluster named by PGHOST/PGPORT (see test/run), in a database of
its own.
"""
import os
import sys
import time
import unittest

from test.support import connect, drop_database, recreate_database, text_of

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from smtp_server import SmtpServer  # noqa: E402

DB = "kpi_end_to_end"
DATA = os.path.join(HERE, "data", "weekly_2026-11-29.sql")
REPORT = os.path.join(HERE, "data", "weekly_2026-11-29.txt")
AS_OF = "2026-12-02 12:00:00+01"   # Wednesday noon in Paris
ALERT_SUBJECT = "Alerte de Suivi Manquant pour Relance Client"


def alert_body(client, invoice, days, reminded_on, recorded_at):
    return ("Le champ 'Résultat de la Relance' n'a pas été rempli pour %s, %s depuis %d jours. "
            "Veuillez compléter les informations requises.\n\n"
            "Relance du %s, saisie le %s.\n" % (client, invoice, days, reminded_on, recorded_at))


class EndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        recreate_database(DB)
        cls.server = SmtpServer()
        cls.conn = connect(DB)
        cls.sql("CREATE EXTENSION kpi_mail")
        with open(DATA, encoding="utf-8") as f:
            cls.sql(f.read())
        cls.sql("UPDATE kpi_mail.settings SET smtp_url = %s, smtp_tls = 'none', mail_from = 'kpi@societe.example'",
                (cls.server.url,))
        cls.sql("""INSERT INTO kpi_mail.recipient (email, display_name, role) VALUES
                   ('direction@example.com', 'Direction', 'report'),
                   ('daf@example.com', 'DAF', 'report'),
                   ('Managers@Example.com', 'Managers', 'alert'),
                   ('chef.equipe@example.com', NULL, 'alert')""")
        # responsible persons: one duplicate of a manager (other case), one more person
        cls.sql("UPDATE kpi_mail.payment_reminder SET responsible_email = 'MANAGERS@example.com' "
                "WHERE invoice_number = 'F2026-0815'")
        cls.sql("UPDATE kpi_mail.payment_reminder SET responsible_email = 'claire@example.com' "
                "WHERE invoice_number = 'F2026-0840'")

    @classmethod
    def tearDownClass(cls):
        cls.conn.close()
        cls.server.stop()
        drop_database(DB)

    @classmethod
    def sql(cls, query, args=None):
        with cls.conn.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchall() if cur.description else None

    def setUp(self):
        self.server.clear()

    def mails(self, count):
        """The parsed mails once count arrived (and no more a moment later)."""
        self.assertTrue(self.server.wait_for(count, timeout=15), "only %d mail(s) received"
                        % len(self.server.messages))
        time.sleep(1)
        self.assertEqual(len(self.server.messages), count)
        return [m.parse() for m in self.server.messages]

    def test_1_weekly_report(self):
        message_id = self.sql("SELECT kpi_mail.send_weekly_report('2026-11-29')")[0][0]
        self.assertIsNotNone(message_id)
        [mail] = self.mails(1)
        self.assertEqual(str(mail["Subject"]),
                         "Rapport hebdomadaire des indicateurs – semaine du 23/11/2026 au 29/11/2026")
        self.assertEqual([a.addr_spec for a in mail["To"].addresses], ["direction@example.com", "daf@example.com"])
        # the display names of kpi_mail.recipient, around the same plain addresses
        self.assertEqual([a.display_name for a in mail["To"].addresses], ["Direction", "DAF"])
        self.assertIn(b"\r\nTo: Direction <direction@example.com>, DAF <daf@example.com>\r\n",
                      self.server.messages[0].data)
        self.assertEqual(mail["From"].addresses[0].addr_spec, "kpi@societe.example")
        self.assertEqual(sorted(self.server.messages[0].rcpt_tos), ["daf@example.com", "direction@example.com"])
        self.assertEqual(mail.get_content_type(), "text/plain")
        self.assertEqual(mail.get_content_charset(), "utf-8")
        with open(REPORT, encoding="utf-8") as f:
            self.assertEqual(text_of(mail), f.read())
        self.assertEqual(self.sql("SELECT status FROM kpi_mail.outbox WHERE message_id = %s", (message_id,)),
                         [("sent",)])

        # at most one report per period: a second call queues nothing and sends nothing
        self.server.clear()
        self.assertEqual(self.sql("SELECT kpi_mail.send_weekly_report('2026-11-29')"), [(None,)])
        time.sleep(2)
        self.assertEqual(len(self.server.messages), 0)

    def test_2_alerts(self):
        self.assertEqual(self.sql("SELECT kpi_mail.send_alerts(%s)", (AS_OF,)), [(5,)])
        mails = self.mails(5)
        by_invoice = {}
        for received, mail in zip(self.server.messages, mails):
            self.assertEqual(str(mail["Subject"]), ALERT_SUBJECT)
            invoice = text_of(mail).split(", ")[1].split(" ")[0]
            by_invoice[invoice] = (received, mail)
        self.assertEqual(sorted(by_invoice), ["F2026-0790", "F2026-0795", "F2026-0799", "F2026-0815", "F2026-0840"])

        expected = {
            "F2026-0815": ("Garage Dupuis & Fils", 8, "24/11/2026", "24/11/2026 à 11:00"),
            "F2026-0840": ("Atelier Petit", 12, "20/11/2026", "20/11/2026 à 10:00"),
            "F2026-0790": ("Transports Garnier", 19, "12/11/2026", "12/11/2026 à 16:00"),
            "F2026-0795": ("Imprimerie Blanc", 11, "21/11/2026", "21/11/2026 à 09:00"),
            "F2026-0799": ("Boulangerie Martin", 10, "22/11/2026", "22/11/2026 à 09:00"),
        }
        for invoice, (client, days, reminded_on, recorded_at) in expected.items():
            received, mail = by_invoice[invoice]
            self.assertEqual(text_of(mail), alert_body(client, invoice, days, reminded_on, recorded_at))

        # recipients: the alert role plus the responsible person, duplicates removed ignoring case
        def to(invoice):
            return [a.addr_spec for a in by_invoice[invoice][1]["To"].addresses]
        self.assertEqual(to("F2026-0815"), ["Managers@Example.com", "chef.equipe@example.com"])
        self.assertEqual(to("F2026-0840"), ["Managers@Example.com", "chef.equipe@example.com", "claire@example.com"])
        self.assertEqual(to("F2026-0790"), ["Managers@Example.com", "chef.equipe@example.com"])

        # display names: Managers from kpi_mail.recipient; none for a NULL display_name
        # (chef.equipe) nor for a responsible person without a recipient row (claire)
        def names(invoice):
            return [a.display_name for a in by_invoice[invoice][1]["To"].addresses]
        self.assertEqual(names("F2026-0815"), ["Managers", ""])
        self.assertEqual(names("F2026-0840"), ["Managers", "", ""])
        self.assertEqual(names("F2026-0790"), ["Managers", ""])
        self.assertIn(b"\r\nTo: Managers <Managers@Example.com>, chef.equipe@example.com,\r\n"
                      b" claire@example.com\r\n", by_invoice["F2026-0840"][0].data)
        self.assertEqual(sorted(by_invoice["F2026-0840"][0].rcpt_tos),
                         ["Managers@Example.com", "chef.equipe@example.com", "claire@example.com"])

        # a second call sends nothing new
        self.server.clear()
        self.assertEqual(self.sql("SELECT kpi_mail.send_alerts(%s)", (AS_OF,)), [(0,)])
        time.sleep(2)
        self.assertEqual(len(self.server.messages), 0)
        self.assertEqual(self.sql("SELECT count(*), count(*) FILTER (WHERE status = 'sent') "
                                  "FROM kpi_mail.outbox WHERE kind = 'alert'"), [(5, 5)])


if __name__ == "__main__":
    unittest.main()
