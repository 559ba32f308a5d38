"""The kpi_mail demo (run by demo/run inside a throw-away cluster).

Creates database kpi_demo with pg_cron and kpi_mail, loads demo/data.sql,
points kpi_mail at a real SMTP server on loopback (test/smtp_server.py),
configures recipients, makes the weekly report due now and schedules the job
with kpi_mail.schedule_jobs; pg_cron itself runs it.  Prints every mail the
server received and saves it as demo-mails/NN-kind.eml.
"""
import os
import subprocess
import sys
import time

import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "test"))
from smtp_server import SmtpServer  # noqa: E402

DB = "kpi_demo"
OUT = os.path.join(ROOT, "demo-mails")


def connect(dbname):
    conn = psycopg2.connect(host=os.environ["PGHOST"], port=os.environ["PGPORT"],
                            user=os.environ.get("PGUSER", "postgres"), dbname=dbname)
    conn.autocommit = True
    return conn


def query(conn, sql, params=None):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else None


def show(message, number):
    mail = message.parse()
    print("=" * 100)
    print(f"Mail {number}")
    print(f"From:    {mail['From']}")
    print(f"To:      {mail['To']}")
    print(f"Subject: {mail['Subject']}")
    print(f"Date:    {mail['Date']}")
    print()
    print(mail.get_content().rstrip("\n"))
    print()


def main():
    admin = connect("postgres")
    query(admin, f"CREATE DATABASE {DB}")
    admin.close()
    conn = connect(DB)
    query(conn, "CREATE EXTENSION pg_cron")
    query(conn, "CREATE EXTENSION kpi_mail")
    subprocess.run(["psql", "-X", "-q", "-d", DB, "-f", os.path.join(HERE, "data.sql")], check=True)

    with SmtpServer() as server:
        # The report is due at 00:00 on today's weekday: the first run sends the
        # report of the week that ended yesterday, then the overdue alerts.
        query(conn, """UPDATE kpi_mail.settings SET smtp_url = %s, smtp_tls = 'none',
                         mail_from = 'indicateurs@example.com',
                         report_weekday = extract(isodow FROM kpi_mail.today()), report_time = '00:00'""",
              (server.url,))
        query(conn, """INSERT INTO kpi_mail.recipient (email, display_name, role) VALUES
                         ('direction@example.com', 'Direction générale', 'report'),
                         ('daf@example.com', 'Direction financière', 'report'),
                         ('managers@example.com', 'Managers', 'alert'),
                         ('Recouvrement@Example.com', 'Service recouvrement', 'alert')""")
        job = query(conn, "SELECT kpi_mail.schedule_jobs('* * * * *')")[0][0]
        print(f"pg_cron job {job}: {query(conn, 'SELECT schedule, command FROM cron.job')[0]}")
        print("waiting for pg_cron's next minute tick and for the delivery of what the job queued ...")
        sys.stdout.flush()

        def done():
            ran = query(conn, "SELECT count(*) FROM cron.job_run_details WHERE status = 'succeeded'")[0][0]
            queued, pending = query(conn, "SELECT count(*), count(*) FILTER (WHERE status = 'pending') "
                                          "FROM kpi_mail.outbox")[0]
            return ran > 0 and queued > 0 and pending == 0 and len(server.messages) >= queued

        deadline = time.monotonic() + 150
        while not done() and time.monotonic() < deadline:
            time.sleep(1)
        runs = query(conn, "SELECT status, start_time FROM cron.job_run_details ORDER BY runid")
        query(conn, "SELECT kpi_mail.unschedule_jobs()")
        print(f"pg_cron runs: {[(status, str(start)) for status, start in runs]}")
        outbox = query(conn, "SELECT kind, status, count(*) FROM kpi_mail.outbox GROUP BY 1, 2 ORDER BY 1, 2")
        print(f"outbox: {outbox}")
        print()

        os.makedirs(OUT, exist_ok=True)
        for old in os.listdir(OUT):
            os.remove(os.path.join(OUT, old))
        for number, message in enumerate(server.messages, start=1):
            show(message, number)
            kind = "rapport" if "Rapport" in str(message.parse()["Subject"]) else "alerte"
            with open(os.path.join(OUT, f"{number:02d}-{kind}.eml"), "wb") as f:
                f.write(message.data)
        print(f"{len(server.messages)} mails received by the SMTP server, saved in {OUT}/")
        if not done():
            print("the demo did not receive every queued mail in time", file=sys.stderr)
            return 1
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
