"""Helpers for the Python tests of the alerts and the schedule: a database of
their own on the throw-away cluster of test/with-cluster (PGHOST, PGPORT,
PGUSER from the environment), with kpi_mail installed."""
import os
import time

import psycopg2

# The report body is kpi_mail.kpi_weekly_report (SPEC §4); where it is not
# built, a stand-in for the tests (not a member of the extension).
STUB_REPORT = """
DO $$
BEGIN
    IF pg_catalog.to_regprocedure('kpi_mail.kpi_weekly_report(date)') IS NULL THEN
        CREATE FUNCTION kpi_mail.kpi_weekly_report(period_end date DEFAULT NULL) RETURNS text
        LANGUAGE sql STABLE RETURN 'Rapport de test jusqu''au ' || period_end::text || E'\\n';
    END IF;
END
$$"""

DROP_STUB_REPORT = """
DO $$
BEGIN
    IF pg_catalog.to_regprocedure('kpi_mail.kpi_weekly_report(date)') IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                       WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.deptype = 'e'
                         AND d.objid = 'kpi_mail.kpi_weekly_report(date)'::regprocedure) THEN
        DROP FUNCTION kpi_mail.kpi_weekly_report(date);
    END IF;
END
$$"""


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
