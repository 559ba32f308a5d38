"""Helpers shared by the Python tests: databases of their own on the
throw-away cluster of test/with-cluster (PGHOST, PGPORT, PGUSER from the
environment), polling, and the text of a received mail."""
import os
import time

import psycopg2


def connect(dbname, autocommit=True):
    """A new connection to dbname on the test cluster."""
    conn = psycopg2.connect(host=os.environ["PGHOST"], port=os.environ["PGPORT"],
                            user=os.environ.get("PGUSER", "postgres"), dbname=dbname)
    conn.autocommit = autocommit
    return conn


def recreate_database(dbname):
    """Drops (forcefully) and creates dbname."""
    admin = connect("postgres")
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{dbname}"')
    admin.close()


def drop_database(dbname):
    """Drops dbname, even with sessions still connected."""
    admin = connect("postgres")
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    admin.close()


def wait_for(predicate, timeout, interval=0.2):
    """Polls predicate() until it returns a true value (returned) or timeout seconds pass (None)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


def text_of(mail):
    """The decoded body of a parsed mail, with the CRLF line ends of the wire as LF
    (as mail readers show it)."""
    return mail.get_content().replace("\r\n", "\n")
