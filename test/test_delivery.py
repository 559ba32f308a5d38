"""Mail delivery against a real SMTP server on loopback (SPEC §6, §7).

Each class creates its own database (CREATE EXTENSION kpi_mail) on the
cluster named by PGHOST/PGPORT, and its own aiosmtpd server (smtp_server.py).
Mails are parsed with Python's email package and checked value by value.
"""

import email.header
import email.utils
import os
import re
import sys
import threading
import time
import unittest
from datetime import datetime, timedelta, timezone

import psycopg2
import psycopg2.errors

from test.support import connect, drop_database, recreate_database, wait_for

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smtp_server import SmtpServer  # noqa: E402

MAIL_FROM = "kpi@societe.example"
PASSWORD = "S3cret-Pa55word!"
ENCODED_WORD = re.compile(rb"=\?UTF-8\?Q\?([^?]*)\?=")


def q_decode(payload):
    """Bytes of an RFC 2047 "Q" payload."""
    out = bytearray()
    i = 0
    while i < len(payload):
        c = payload[i:i + 1]
        if c == b"_":
            out += b" "
        elif c == b"=":
            out += bytes([int(payload[i + 1:i + 3], 16)])
            i += 2
        else:
            out += c
        i += 1
    return bytes(out)


class DeliveryCase(unittest.TestCase):
    """A database with kpi_mail and an SMTP server, for one test class."""

    server_options = {}
    timeout_ms = 5000

    @classmethod
    def setUpClass(cls):
        cls.dbname = "kpi_delivery_" + cls.__name__.lower()
        recreate_database(cls.dbname)
        cls.server = SmtpServer(**cls.server_options)
        cls.conn = connect(cls.dbname)
        cls.sql("CREATE EXTENSION kpi_mail")
        cls.sql("UPDATE kpi_mail.settings SET smtp_url = %s, mail_from = %s, smtp_timeout_ms = %s",
                (cls.server.url, MAIL_FROM, cls.timeout_ms))

    @classmethod
    def tearDownClass(cls):
        cls.conn.close()
        cls.server.stop()
        drop_database(cls.dbname)

    def setUp(self):
        self.wait_idle()
        self.sql("DELETE FROM kpi_mail.outbox")
        self.server.clear()
        del self.conn.notices[:]

    def tearDown(self):
        self.wait_idle()

    # -- helpers ---------------------------------------------------------
    @classmethod
    def sql(cls, query, args=None, conn=None):
        with (conn or cls.conn).cursor() as cur:
            cur.execute(query, args)
            return cur.fetchall() if cur.description else None

    def value(self, query, args=None, conn=None):
        return self.sql(query, args, conn)[0][0]

    def queue(self, subject="Objet", body="Corps\n", recipients=("dest@example.com",), due=True,
              conn=None):
        """Inserts an outbox row (committed unless conn is in a transaction); returns its id.

        A row that is not due is inserted with triggers off (session_replication_role),
        so that no delivery worker starts: tests then control delivery themselves.
        """
        insert = ("INSERT INTO kpi_mail.outbox (kind, recipients, subject, body, next_attempt_at)"
                  " VALUES ('alert', %s, %s, %s, now() + interval '1 day') RETURNING message_id")
        if due:
            insert = insert.replace("now() + interval '1 day'", "now()")
            return self.value(insert, (list(recipients), subject, body), conn)
        self.sql("SET session_replication_role = replica", conn=conn)
        try:
            return self.value(insert, (list(recipients), subject, body), conn)
        finally:
            self.sql("RESET session_replication_role", conn=conn)

    def make_due(self):
        """Makes every pending row due, without firing the insert trigger."""
        self.sql("UPDATE kpi_mail.outbox SET next_attempt_at = now() WHERE status = 'pending'")

    def row(self, message_id):
        with self.conn.cursor() as cur:
            cur.execute("SELECT *, next_attempt_at - now() AS wait FROM kpi_mail.outbox WHERE message_id = %s",
                        (message_id,))
            names = [d[0] for d in cur.description]
            return dict(zip(names, cur.fetchone()))

    def wait_row(self, message_id, predicate, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            row = self.row(message_id)
            if predicate(row):
                return row
            if time.monotonic() > deadline:
                self.fail("row %d never reached the expected state: %r" % (message_id, row))
            time.sleep(0.05)

    def workers(self):
        return self.value("SELECT count(*) FROM pg_stat_activity"
                          " WHERE backend_type = 'kpi_mail delivery' AND datname = current_database()")

    def wait_idle(self, timeout=20.0):
        deadline = time.monotonic() + timeout
        while self.workers() > 0:
            if time.monotonic() > deadline:
                self.fail("delivery workers still running")
            time.sleep(0.05)

    def deliver(self):
        return self.value("SELECT kpi_mail.deliver_outbox()")

    def assert_wire_ok(self, raw):
        """CRLF everywhere, no line over 998 octets (ours stay within 78), no leading dot."""
        self.assertTrue(raw.endswith(b"\r\n"))
        self.assertNotIn(b"\r\n.", b"\r\n" + raw)
        lines = raw.split(b"\r\n")
        for line in lines:
            self.assertNotIn(b"\n", line)
            self.assertNotIn(b"\r", line)
            self.assertLessEqual(len(line), 998)
            self.assertLessEqual(len(line), 78)


class MessageFormat(DeliveryCase):
    """What recipients get: headers, encodings, body, line limits."""

    def one_mail(self, subject, body, recipients=("dest@example.com",)):
        message_id = self.queue(subject, body, recipients)
        self.assertTrue(self.server.wait_for(1), "no mail received")
        self.wait_row(message_id, lambda r: r["status"] == "sent")
        self.assertEqual(len(self.server.messages), 1)
        received = self.server.messages[0]
        self.assert_wire_ok(received.data)
        return message_id, received, received.parse()

    def test_accented_subject_and_body(self):
        subject = "Alerte de Suivi Manquant pour Relance Client « Crème & Brûlée » — 25 €"
        body = ("Le champ 'Résultat de la Relance' n'a pas été rempli pour Clinique Vétérinaire Morel, "
                "F2026-1109 depuis 8 jours. Veuillez compléter les informations requises.\n"
                "\n"
                "Relance du 20/11/2026, saisie le 20/11/2026 à 09:15.\n")
        message_id, received, msg = self.one_mail(subject, body, ("a@example.com", "B@Example.com"))
        row = self.row(message_id)
        self.assertEqual(msg["Subject"], subject)
        self.assertEqual(msg.get_content().replace("\r\n", "\n"), body)
        self.assertEqual(msg["From"], MAIL_FROM)
        self.assertEqual(msg["To"], "a@example.com, B@Example.com")
        self.assertEqual(msg["MIME-Version"], "1.0")
        self.assertEqual(msg.get_content_type(), "text/plain")
        self.assertEqual(msg.get_content_charset(), "utf-8")
        self.assertEqual(msg["Content-Transfer-Encoding"], "quoted-printable")
        self.assertEqual(msg["Message-ID"], row["mail_message_id"])
        self.assertRegex(row["mail_message_id"], r"^<kpi-mail\.%d\.[0-9A-F]{32}@societe\.example>$" % message_id)
        date = email.utils.parsedate_to_datetime(msg["Date"])
        self.assertLess(abs(date - datetime.now(timezone.utc)), timedelta(minutes=2))
        # Europe/Paris: +0100 or +0200
        self.assertRegex(msg["Date"], r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0[12]00$")
        self.assertEqual(received.mail_from, MAIL_FROM)
        self.assertEqual(received.rcpt_tos, ["a@example.com", "B@Example.com"])
        self.assertTrue(row["smtp_reply"].startswith("250 2.0.0 Ok: queued as KPI"))
        self.assertEqual((row["attempts"], row["last_error"]), (1, None))
        self.assertIsNotNone(row["sent_at"])

    def test_long_subject_encoded_words(self):
        subject = ("Rapport hebdomadaire des indicateurs : Société Générale d'Équipements Électriques, "
                   "Ça coûte 12 € — 😀 ünïcödé — " * 4).strip()
        _, received, msg = self.one_mail(subject, "x\n")
        self.assertEqual(msg["Subject"], subject)
        header = re.search(rb"\r\nSubject:(.*?)\r\n(?! )", received.data, re.S).group(1)
        words = ENCODED_WORD.findall(header)
        self.assertGreater(len(words), 5)
        for word in ENCODED_WORD.finditer(header):
            self.assertLessEqual(len(word.group(0)), 75)
            # each word holds whole UTF-8 characters
            q_decode(word.group(1)).decode("utf-8")
        for line in (b"Subject:" + header).split(b"\r\n"):
            self.assertLessEqual(len(line), 76)
        self.assertEqual(b"".join(q_decode(w) for w in words).decode("utf-8"), subject)

    def test_plain_subject_folded(self):
        subject = "Weekly report " + " ".join("word%d" % i for i in range(40))
        _, received, msg = self.one_mail(subject, "x\n")
        self.assertEqual(msg["Subject"], subject)
        self.assertNotIn(b"=?", received.data.split(b"\r\n\r\n")[0])

    def test_2000_line_body(self):
        lines = ["Ligne %d : facture F%05d, client « Dupont » = 100 %%" % (i, i) for i in range(2000)]
        lines[10] = "x" * 5000
        lines[11] = "é" * 3000
        lines[12] = "trailing blanks   \t"
        lines[13] = ""
        body = "\n".join(lines) + "\n"
        _, received, msg = self.one_mail("Long", body)
        self.assertEqual(msg.get_content().replace("\r\n", "\n"), body)

    def test_dot_lines_intact(self):
        body = ".\n..\n.hidden\n. \nFrom the start\n>From\nend."
        _, received, msg = self.one_mail("Points", body)
        self.assertEqual(msg.get_content().replace("\r\n", "\n"), body)

    def test_body_without_final_newline_and_crlf(self):
        body = "ligne 1\r\nligne 2\rmême ligne\nfin"
        _, received, msg = self.one_mail("Fins de ligne", body)
        self.assertEqual(msg.get_content().replace("\r\n", "\n"), "ligne 1\nligne 2\rmême ligne\nfin")

    def test_no_header_injection(self):
        evil = "Dupont\r\nBcc: someone@example.invalid"
        subject = "Relance " + evil
        body = "Client : %s\r\n\r\nBcc: someone@example.invalid\nX-Evil: 1\n" % evil
        _, received, msg = self.one_mail(subject, body)
        self.assertEqual(sorted(k.lower() for k in msg.keys()),
                         sorted(["date", "from", "to", "subject", "message-id", "mime-version",
                                 "content-type", "content-transfer-encoding", "auto-submitted"]))
        self.assertIsNone(msg["Bcc"])
        self.assertEqual(msg["Subject"], "Relance Dupont  Bcc: someone@example.invalid")
        self.assertEqual(received.rcpt_tos, ["dest@example.com"])
        self.assertEqual(msg.get_content().replace("\r\n", "\n"), body.replace("\r\n", "\n"))
        headers = received.data.split(b"\r\n\r\n")[0]
        self.assertNotIn(b"\r\nBcc", headers)
        self.assertNotIn(b"\r\nX-Evil", headers)

    def test_display_names_in_to(self):
        long_name = ("Service des relances clients de la Société Générale d'Équipements Électriques "
                     "— Île-de-France")
        self.assertGreater(len(long_name), 75)
        self.sql("""INSERT INTO kpi_mail.recipient (email, display_name, role) VALUES
                    ('dg@example.com', 'Direction générale', 'report'),
                    ('DG@example.com', 'Autre nom', 'alert'),
                    ('paul.roux@example.com', 'Roux, "Paul"', 'alert'),
                    ('relances@example.com', %s, 'report')""", (long_name,))
        try:
            recipients = ("Dg@Example.com", "paul.roux@example.com", "relances@example.com", "x@example.com")
            _, received, msg = self.one_mail("Noms", "x\n", recipients)
        finally:
            self.sql("DELETE FROM kpi_mail.recipient")
        # the envelope and the addr-specs are the plain addresses
        self.assertEqual(received.rcpt_tos, list(recipients))
        self.assertEqual([a.addr_spec for a in msg["To"].addresses], list(recipients))
        # decoded names: the lowest recipient_id of the address, case aside; none without a row
        addresses = msg["To"].addresses
        self.assertEqual([addresses[i].display_name for i in (0, 1, 3)], ["Direction générale", 'Roux, "Paul"', ""])
        # raw header: encoded words, a quoted-string, folding
        header = re.search(rb"\r\nTo:(.*?)\r\n(?! )", received.data, re.S).group(1)
        lines = (b"To:" + header).split(b"\r\n")
        self.assertEqual(lines[0], b"To: =?UTF-8?Q?Direction_g=C3=A9n=C3=A9rale?= <Dg@Example.com>,")
        self.assertEqual(lines[1], b' "Roux, \\"Paul\\"" <paul.roux@example.com>,')
        self.assertTrue(lines[-1].endswith(b"?= <relances@example.com>, x@example.com"), lines[-1])
        for line in lines:
            self.assertLessEqual(len(line), 76 if b"=?" in line else 78)
        words = ENCODED_WORD.findall(header)
        self.assertGreater(len(words), 2)
        for word in ENCODED_WORD.finditer(header):
            self.assertLessEqual(len(word.group(0)), 75)
            # only the characters RFC 2047 §5(3) allows in a phrase; whole UTF-8 characters
            self.assertRegex(word.group(1), rb"^[A-Za-z0-9!*+/=_-]*$")
            q_decode(word.group(1)).decode("utf-8")
        self.assertEqual(q_decode(words[0]).decode("utf-8"), "Direction générale")
        self.assertEqual(b"".join(q_decode(w) for w in words[1:]).decode("utf-8"), long_name)
        # the long name is several encoded words: RFC 2047 §6.2 ignores the folding
        # whitespace between them, as email.header does; the headerregistry parser of
        # Python 3.11 keeps it as a space (CPython gh-128110), so it is not used here
        phrase = header.split(b"<paul.roux@example.com>,")[1].split(b"<relances@example.com>")[0].strip()
        self.assertEqual(str(email.header.make_header(email.header.decode_header(phrase.decode("ascii")))),
                         long_name)

    def test_message_ids_unique(self):
        ids = [self.queue("Objet %d" % i, "corps\n") for i in range(5)]
        self.assertTrue(self.server.wait_for(5))
        for i in ids:
            self.wait_row(i, lambda r: r["status"] == "sent")
        received = sorted(m.parse()["Message-ID"] for m in self.server.messages)
        stored = sorted(self.row(i)["mail_message_id"] for i in ids)
        self.assertEqual(len(set(received)), 5)
        self.assertEqual(received, stored)


class Transactions(DeliveryCase):
    """Commit, rollback, promptness, batches."""

    def test_rollback_sends_nothing(self):
        conn = connect(self.dbname, autocommit=False)
        self.queue("Annulé", "rien\n", conn=conn)
        self.queue("Annulé 2", "rien\n", conn=conn)
        conn.rollback()
        conn.close()
        time.sleep(3)
        self.assertEqual(self.server.messages, [])
        self.assertEqual(self.server.connections, 0)
        self.assertEqual(self.value("SELECT count(*) FROM kpi_mail.outbox"), 0)

    def test_commit_delivers_within_seconds(self):
        conn = connect(self.dbname, autocommit=False)
        message_id = self.queue("Tout de suite", "corps\n", conn=conn)
        # nothing leaves before the commit
        time.sleep(1)
        self.assertEqual(self.server.messages, [])
        start = time.monotonic()
        conn.commit()
        conn.close()
        self.assertTrue(self.server.wait_for(1, timeout=5))
        self.assertLess(time.monotonic() - start, 5)
        row = self.wait_row(message_id, lambda r: r["status"] == "sent")
        self.assertEqual(row["attempts"], 1)
        self.assertEqual(self.server.messages[0].parse()["Subject"], "Tout de suite")

    def test_batch_uses_one_connection(self):
        conn = connect(self.dbname, autocommit=False)
        ids = [self.queue("Lot %d" % i, "corps %d\n" % i, conn=conn) for i in range(6)]
        conn.commit()
        conn.close()
        self.assertTrue(self.server.wait_for(6))
        for i in ids:
            self.wait_row(i, lambda r: r["status"] == "sent")
        self.assertEqual(self.server.connections, 1)
        self.assertEqual({m.connection for m in self.server.messages}, {1})
        self.assertEqual(sorted(m.parse()["Subject"] for m in self.server.messages),
                         ["Lot %d" % i for i in range(6)])

    def test_deliver_outbox_counts(self):
        self.assertEqual(self.deliver(), 0)
        ids = [self.queue("Plus tard %d" % i, "corps\n", due=False) for i in range(4)]
        self.wait_idle()
        self.assertEqual(self.deliver(), 0)
        self.assertEqual(self.server.messages, [])
        self.make_due()
        self.assertEqual(self.deliver(), 4)
        self.assertEqual(len(self.server.messages), 4)
        self.assertEqual(self.server.connections, 1)
        for i in ids:
            self.assertEqual(self.row(i)["status"], "sent")
        self.assertEqual(self.deliver(), 0)
        self.assertEqual(self.conn.notices, [])


class Failures(DeliveryCase):
    """Server down, hanging server, cancel, statement_timeout."""

    server_options = {"mode": "down"}
    timeout_ms = 2000

    def tearDown(self):
        super().tearDown()
        self.server.start("down")
        self.sql("UPDATE kpi_mail.settings SET smtp_timeout_ms = %s", (self.timeout_ms,))

    def test_server_down_then_up(self):
        message_id = self.queue("Réessai", "corps\n")
        row = self.wait_row(message_id, lambda r: r["attempts"] == 1)
        self.assertEqual(row["status"], "pending")
        self.assertRegex(row["last_error"], r"^connexion au serveur SMTP impossible : "
                                            r"Failed to connect to 127\.0\.0\.1 port %d " % self.server.port)
        self.assertGreater(row["wait"], timedelta(seconds=50))
        self.assertLessEqual(row["wait"], timedelta(minutes=1))
        # not due yet: nothing to do
        self.assertEqual(self.deliver(), 0)
        # due again, still down: a second failure waits 2 minutes, with a WARNING
        self.make_due()
        self.assertEqual(self.deliver(), 0)
        self.assertEqual(len(self.conn.notices), 1)
        self.assertIn("WARNING:  1 mail n'a pas pu être envoyé", self.conn.notices[0])
        row = self.row(message_id)
        self.assertEqual((row["status"], row["attempts"]), ("pending", 2))
        self.assertGreater(row["wait"], timedelta(seconds=110))
        self.assertLessEqual(row["wait"], timedelta(minutes=2))
        # server up: delivered exactly once
        self.server.start("up")
        self.make_due()
        self.assertEqual(self.deliver(), 1)
        row = self.row(message_id)
        self.assertEqual((row["status"], row["attempts"], row["last_error"]), ("sent", 3, None))
        self.assertEqual(self.deliver(), 0)
        time.sleep(1)
        self.assertEqual(len(self.server.messages), 1)
        self.assertEqual(self.server.messages[0].parse()["Subject"], "Réessai")

    def test_backoff_is_capped_at_one_hour(self):
        message_id = self.queue("Plafond", "corps\n", due=False)
        self.sql("UPDATE kpi_mail.outbox SET attempts = 9, next_attempt_at = now() WHERE message_id = %s",
                 (message_id,))
        self.assertEqual(self.deliver(), 0)
        row = self.row(message_id)
        self.assertEqual(row["attempts"], 10)
        self.assertGreater(row["wait"], timedelta(minutes=59))
        self.assertLessEqual(row["wait"], timedelta(hours=1))

    def test_hanging_server_times_out(self):
        self.server.start("hang")
        message_id = self.queue("Silence", "corps\n", due=False)
        self.wait_idle()
        self.make_due()
        start = time.monotonic()
        self.assertEqual(self.deliver(), 0)
        elapsed = time.monotonic() - start
        self.assertGreater(elapsed, 1.5)
        self.assertLess(elapsed, 6)
        row = self.row(message_id)
        self.assertEqual((row["status"], row["attempts"]), ("pending", 1))
        self.assertTrue(row["last_error"].startswith("délai dépassé (smtp_timeout_ms) : "), row["last_error"])
        self.assertIn("WARNING:  1 mail n'a pas pu être envoyé", self.conn.notices[0])

    def test_no_free_worker_slot(self):
        """Every max_worker_processes slot busy: a WARNING at commit, the mail waits for the next run."""
        self.server.start("hang")
        self.sql("UPDATE kpi_mail.settings SET smtp_timeout_ms = 30000")
        first = self.queue("Bloquant", "corps\n", due=False)
        self.make_due()
        sessions = []

        def call(conn):
            try:
                self.sql("SELECT kpi_mail.deliver_outbox()", conn=conn)
            except psycopg2.Error:
                pass

        try:
            # one worker hangs on the server, the next ones wait for its lock
            for _ in range(64):
                conn = connect(self.dbname)
                thread = threading.Thread(target=call, args=(conn,))
                sessions.append((conn, thread))
                thread.start()
                deadline = time.monotonic() + 3
                while self.workers() < len(sessions) and thread.is_alive() and time.monotonic() < deadline:
                    time.sleep(0.02)
                if not thread.is_alive():
                    break
            self.assertFalse(thread.is_alive())
            self.assertIn("WARNING:  aucun processus de fond disponible pour envoyer les mails", conn.notices[0])
            # a commit that queued mail warns the same way, and the row waits
            second = self.queue("En attente", "corps\n")
            self.assertIn("WARNING:  aucun processus de fond disponible pour envoyer les mails",
                          self.conn.notices[-1])
        finally:
            for conn, thread in sessions:
                self.sql("SELECT pg_cancel_backend(%s)", (conn.get_backend_pid(),))
            for conn, thread in sessions:
                thread.join(10)
                conn.close()
        self.wait_idle(timeout=10)
        self.assertEqual(self.server.messages, [])
        for i in (first, second):
            row = self.row(i)
            self.assertEqual((row["status"], row["attempts"]), ("pending", 0))
        # the next run delivers both (once the postmaster has freed the slots)
        self.server.start("up")
        for _ in range(100):
            del self.conn.notices[:]
            sent = self.deliver()
            if sent or not any("aucun processus de fond" in n for n in self.conn.notices):
                break
            time.sleep(0.1)
        self.assertEqual(sent, 2)
        self.assertEqual(sorted(m.parse()["Subject"] for m in self.server.messages), ["Bloquant", "En attente"])

    def run_interrupted(self, setup_sql, interrupt):
        """Runs deliver_outbox() on a hanging server in another session; returns (error, seconds)."""
        self.server.start("hang")
        self.sql("UPDATE kpi_mail.settings SET smtp_timeout_ms = 60000")
        message_id = self.queue("Annulation", "corps\n", due=False)
        self.wait_idle()
        self.make_due()
        other = connect(self.dbname)
        pid = other.get_backend_pid()
        outcome = {}

        def call():
            try:
                if setup_sql:
                    self.sql(setup_sql, conn=other)
                self.sql("SELECT kpi_mail.deliver_outbox()", conn=other)
            except psycopg2.Error as e:
                outcome["error"] = e
            outcome["end"] = time.monotonic()

        thread = threading.Thread(target=call)
        thread.start()
        self.assertTrue(wait_for(lambda: self.workers() == 1, timeout=10), "no delivery worker started")
        start = time.monotonic()
        if interrupt:
            self.assertTrue(self.value("SELECT pg_cancel_backend(%s)", (pid,)))
        thread.join(15)
        self.assertFalse(thread.is_alive())
        other.close()
        # the worker is gone too, and the message in flight is untouched
        self.wait_idle(timeout=5)
        row = self.row(message_id)
        self.assertEqual((row["status"], row["attempts"], row["last_error"]), ("pending", 0, None))
        return outcome.get("error"), outcome["end"] - start

    def test_cancel_interrupts_delivery(self):
        error, seconds = self.run_interrupted(None, True)
        self.assertIsInstance(error, psycopg2.errors.QueryCanceled)
        self.assertEqual(error.pgcode, "57014")
        self.assertIn("canceling statement due to user request", str(error))
        self.assertLess(seconds, 10)   # the SMTP timeout is 60 s: this was an interruption

    def test_statement_timeout_interrupts_delivery(self):
        error, seconds = self.run_interrupted("SET statement_timeout = '2s'", False)
        self.assertIsInstance(error, psycopg2.errors.QueryCanceled)
        self.assertEqual(error.pgcode, "57014")
        self.assertIn("canceling statement due to statement timeout", str(error))
        self.assertLess(seconds, 10)   # statement_timeout 2 s, SMTP timeout 60 s


class TlsAndAuth(DeliveryCase):
    """smtp_tls, credentials, and the password kept out of every text."""

    server_options = {"auth_required": True}

    def setUp(self):
        super().setUp()
        self.sql("UPDATE kpi_mail.settings SET smtp_username = 'kpi-user', smtp_password = %s", (PASSWORD,))

    def tearDown(self):
        super().tearDown()
        self.sql("UPDATE kpi_mail.settings SET smtp_url = %s, smtp_tls = 'try'", (self.server.url,))
        self.assert_password_nowhere()

    def assert_password_nowhere(self):
        outbox = self.value("SELECT string_agg(o::text, ' ') FROM kpi_mail.outbox o") or ""
        self.assertNotIn(PASSWORD, outbox)
        for notice in self.conn.notices:
            self.assertNotIn(PASSWORD, notice)
        with open(os.environ["KPI_CLUSTER_LOG"], encoding="utf-8", errors="replace") as log:
            self.assertNotIn(PASSWORD, log.read())

    def test_require_without_starttls_sends_no_credentials(self):
        self.sql("UPDATE kpi_mail.settings SET smtp_tls = 'require'")
        message_id = self.queue("Secret", "corps\n")
        row = self.wait_row(message_id, lambda r: r["attempts"] == 1)
        self.assertEqual(row["status"], "pending")
        self.assertTrue(row["last_error"].startswith(
            "le serveur SMTP ne propose pas STARTTLS, exigé par smtp_tls = require : "), row["last_error"])
        self.assertEqual(self.server.credentials, [])
        self.assertEqual([c for c in self.server.transcript if c.startswith("AUTH")], [])
        self.assertEqual(self.server.messages, [])
        self.assertEqual(self.server.connections, 1)

    def test_try_authenticates_in_clear_when_no_starttls(self):
        message_id = self.queue("Authentifié", "corps\n")
        self.assertTrue(self.server.wait_for(1))
        self.wait_row(message_id, lambda r: r["status"] == "sent")
        self.assertEqual([c[1:] for c in self.server.credentials], [("kpi-user", PASSWORD)])

    def test_wrong_password_is_reported_without_it(self):
        self.server.auth_accept = False
        try:
            message_id = self.queue("Refusé", "corps\n")
            row = self.wait_row(message_id, lambda r: r["attempts"] == 1)
        finally:
            self.server.auth_accept = True
        self.assertEqual(row["status"], "pending")
        self.assertTrue(row["last_error"].startswith("authentification SMTP refusée : "), row["last_error"])
        self.assertEqual([c[1:] for c in self.server.credentials], [("kpi-user", PASSWORD)])

    def test_tls_peer_is_verified(self):
        with SmtpServer(starttls=True, auth_required=True) as tls_server:
            self.sql("UPDATE kpi_mail.settings SET smtp_url = %s, smtp_tls = 'try'", (tls_server.url,))
            message_id = self.queue("Certificat", "corps\n")
            row = self.wait_row(message_id, lambda r: r["attempts"] == 1)
            self.assertEqual(row["status"], "pending")
            self.assertRegex(row["last_error"], r"^(certificat TLS du serveur SMTP non vérifié|"
                                                r"échec de la négociation TLS avec le serveur SMTP) : .*certificate")
            self.assertIn("STARTTLS", tls_server.transcript)
            self.assertEqual(tls_server.credentials, [])
            self.assertEqual(tls_server.messages, [])


class Rejections(DeliveryCase):
    """Recipients the server refuses are recorded."""

    server_options = {"reject": ("nobody@example.com",)}

    def test_one_refused_recipient_is_recorded(self):
        message_id = self.queue("Partiel", "corps\n", ("ok@example.com", "nobody@example.com"))
        self.assertTrue(self.server.wait_for(1))
        row = self.wait_row(message_id, lambda r: r["status"] == "sent")
        self.assertEqual(self.server.messages[0].rcpt_tos, ["ok@example.com"])
        self.assertEqual(row["last_error"],
                         "destinataires refusés par le serveur : nobody@example.com "
                         "(550 5.1.1 <nobody@example.com>: Recipient address rejected: unknown user)")
        self.assertTrue(row["smtp_reply"].startswith("250 2.0.0 Ok: queued as KPI"))
        # the To header still names both: the message is the same for all
        self.assertEqual(self.server.messages[0].parse()["To"], "ok@example.com, nobody@example.com")

    def test_every_recipient_refused_fails_for_good(self):
        message_id = self.queue("Refusé", "corps\n", ("nobody@example.com",))
        row = self.wait_row(message_id, lambda r: r["attempts"] == 1)
        self.assertEqual(row["status"], "failed")
        self.assertEqual(row["last_error"],
                         "tous les destinataires ont été refusés par le serveur : nobody@example.com "
                         "(550 5.1.1 <nobody@example.com>: Recipient address rejected: unknown user)")
        self.assertEqual(self.server.messages, [])
        # a failed row is never retried
        self.assertEqual(self.deliver(), 0)
        self.assertEqual(self.row(message_id)["attempts"], 1)

    def test_bad_address_in_outbox_fails_that_row_only(self):
        conn = connect(self.dbname, autocommit=False)
        bad = self.queue("Mauvais", "corps\n", ("x@example.com>\r\nRCPT TO:<evil@example.com",), conn=conn)
        good = self.queue("Bon", "corps\n", ("ok@example.com",), conn=conn)
        conn.commit()
        conn.close()
        self.assertTrue(self.server.wait_for(1))
        row = self.wait_row(bad, lambda r: r["attempts"] == 1)
        self.assertEqual(row["status"], "failed")
        self.assertTrue(row["last_error"].startswith(
            "message impossible à construire : adresse de destinataire invalide : "), row["last_error"])
        self.wait_row(good, lambda r: r["status"] == "sent")
        self.assertEqual([m.rcpt_tos for m in self.server.messages], [["ok@example.com"]])
        self.assertEqual([c for c in self.server.transcript if "evil" in c], [])


if __name__ == "__main__":
    unittest.main()
