"""The C calendar (SPEC §1) against an independent day-by-day reference.

The reference computes Easter with Knuth's algorithm (TAOCP 1.3.2, not the
Anonymous Gregorian algorithm of calendar.c), marks every day of 0001-01-01
.. 9999-12-31 as business or not, applies random company overrides, and
answers business_days_between / add_business_days / is_business_day by
counting days.  Thousands of random cases per calendar (short and long
ranges, huge n, both range ends) must agree exactly; results that would
leave the supported range must raise SQLSTATE 22008.

Run by test/run on a throw-away cluster (PGHOST, PGPORT, PGUSER from the
environment).
"""
import bisect
import datetime as dt
import itertools
import random
import unittest

import psycopg2

DB = "kpi_calendar_reference"
FIRST, LAST = dt.date(1, 1, 1), dt.date(9999, 12, 31)
CALENDARS = ("FR", "FR-ALSACE-MOSELLE", "WEEKENDS-ONLY")


def easter(year):
    """Gregorian Easter Sunday, Knuth's Algorithm E."""
    golden = year % 19 + 1
    century = year // 100 + 1
    skipped = 3 * century // 4 - 12
    correction = (8 * century + 5) // 25 - 5
    sunday = 5 * year // 4 - skipped - 10
    epact = (11 * golden + 20 + correction - skipped) % 30
    if (epact == 25 and golden > 11) or epact == 24:
        epact += 1
    n = 44 - epact
    if n < 21:
        n += 30
    n = n + 7 - (sunday + n) % 7
    return dt.date(year, 4, n - 31) if n > 31 else dt.date(year, 3, n)


def holidays(year, calendar):
    if calendar == "WEEKENDS-ONLY":
        return set()
    e, day = easter(year), dt.timedelta
    result = {dt.date(year, 1, 1), e + day(1), dt.date(year, 5, 1), dt.date(year, 5, 8),
              e + day(39), e + day(50), dt.date(year, 7, 14), dt.date(year, 8, 15),
              dt.date(year, 11, 1), dt.date(year, 11, 11), dt.date(year, 12, 25)}
    if calendar == "FR-ALSACE-MOSELLE":
        result |= {e - day(2), dt.date(year, 12, 26)}
    return result


class Reference:
    """Day-by-day business days of one calendar with overrides."""

    def __init__(self, calendar, overrides):
        ndays = (LAST - FIRST).days + 1
        # 0001-01-01 is a Monday.
        self.business = bytearray((b"\x01" * 5 + b"\x00" * 2) * (ndays // 7 + 1))[:ndays]
        for year in range(1, 10000):
            for h in holidays(year, calendar):
                self.business[self.index(h)] = 0
        for day, is_business in overrides.items():
            self.business[self.index(day)] = is_business
        # upto[i] = business days among the days with index < i
        self.upto = [0] + list(itertools.accumulate(self.business))

    @staticmethod
    def index(day):
        return (day - FIRST).days

    def between(self, a, b):
        """Business days in (a, b], negated when b < a."""
        return self.upto[self.index(b) + 1] - self.upto[self.index(a) + 1]

    def add(self, d, n):
        """The first day x with F(x) >= F(d) + n (None: outside the range)."""
        if n == 0:
            return d
        target = self.upto[self.index(d) + 1] + n
        j = bisect.bisect_left(self.upto, target) - 1
        if j < 0 or j >= len(self.business):
            return None
        return FIRST + dt.timedelta(j)


class CalendarReferenceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        admin = psycopg2.connect(dbname="postgres")
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {DB}")
            cur.execute(f"CREATE DATABASE {DB}")
        admin.close()
        cls.conn = psycopg2.connect(dbname=DB)
        cls.conn.autocommit = True
        with cls.conn.cursor() as cur:
            cur.execute("SET client_min_messages = warning; CREATE EXTENSION kpi_mail")

    @classmethod
    def tearDownClass(cls):
        cls.conn.close()
        admin = psycopg2.connect(dbname="postgres")
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {DB}")
        admin.close()

    def random_overrides(self, rnd):
        overrides = {}
        for _ in range(300):
            overrides[self.near(rnd)] = rnd.random() < 0.5
        for i in range(400):  # a long closure
            overrides[dt.date(2031, 3, 1) + dt.timedelta(i)] = False
        for i in range(0, 200, 7):  # worked weekends
            overrides[dt.date(2033, 1, 1) + dt.timedelta(i)] = True
        overrides[FIRST] = True
        overrides[LAST] = False
        return overrides

    @staticmethod
    def near(rnd):
        return dt.date(1990, 1, 1) + dt.timedelta(rnd.randrange(25932))

    @staticmethod
    def anywhere(rnd):
        return FIRST + dt.timedelta(rnd.randrange((LAST - FIRST).days + 1))

    def check_calendar(self, calendar, seed):
        rnd = random.Random(seed)
        overrides = self.random_overrides(rnd)
        cur = self.conn.cursor()
        cur.execute("DELETE FROM kpi_mail.calendar_override")
        cur.executemany("INSERT INTO kpi_mail.calendar_override (day, is_business_day) VALUES (%s, %s)",
                        list(overrides.items()))
        cur.execute("UPDATE kpi_mail.settings SET holiday_calendar = %s", (calendar,))
        ref = Reference(calendar, overrides)

        pairs = []
        for _ in range(3000):
            k = rnd.random()
            if k < 0.5:
                a, b = self.near(rnd), self.near(rnd)
            elif k < 0.7:
                a = self.near(rnd)
                b = a + dt.timedelta(rnd.randrange(-10, 11))
            else:
                a, b = self.anywhere(rnd), self.anywhere(rnd)
            pairs.append((a, b))
        cur.execute("SELECT a, b, kpi_mail.business_days_between(a, b)"
                    " FROM unnest(%s::date[], %s::date[]) t(a, b)",
                    ([a for a, _ in pairs], [b for _, b in pairs]))
        for a, b, result in cur.fetchall():
            self.assertEqual(result, ref.between(a, b), f"{calendar} business_days_between({a}, {b})")

        cur.execute("SELECT d::date, kpi_mail.is_business_day(d::date)"
                    " FROM generate_series('1990-01-01'::date, '2060-12-31', '1 day') d")
        for d, result in cur.fetchall():
            self.assertEqual(result, bool(ref.business[ref.index(d)]), f"{calendar} is_business_day({d})")

        cases = [(FIRST, 1), (FIRST, -1), (LAST, 1), (LAST, -1)]
        for _ in range(3000):
            k = rnd.random()
            if k < 0.6:
                cases.append((self.near(rnd), rnd.randrange(-30, 31)))
            elif k < 0.8:
                cases.append((self.near(rnd), rnd.randrange(-3000, 3001)))
            else:
                cases.append((self.anywhere(rnd), rnd.randrange(-2600000, 2600001)))
        for d, n in cases:
            expected = ref.add(d, n)
            try:
                cur.execute("SELECT kpi_mail.add_business_days(%s, %s)", (d, n))
                result = cur.fetchone()[0]
            except psycopg2.Error as e:
                self.assertEqual(e.pgcode, "22008", str(e))
                result = None
            self.assertEqual(result, expected, f"{calendar} add_business_days({d}, {n})")
        cur.close()

    def test_fr(self):
        self.check_calendar("FR", 1)

    def test_alsace_moselle(self):
        self.check_calendar("FR-ALSACE-MOSELLE", 2)

    def test_weekends_only(self):
        self.check_calendar("WEEKENDS-ONLY", 3)

    def test_easter_and_holidays_all_years(self):
        cur = self.conn.cursor()
        cur.execute("SELECT y, kpi_mail.easter_sunday(y) FROM generate_series(1, 9999) y")
        for year, day in cur.fetchall():
            self.assertEqual(day, easter(year), year)
        for calendar in CALENDARS:
            cur.execute("SELECT y, array_agg(h.day ORDER BY h.day) FILTER (WHERE h.day IS NOT NULL)"
                        " FROM generate_series(1, 9999) y"
                        " LEFT JOIN LATERAL kpi_mail.public_holidays(y, %s) h ON true GROUP BY y",
                        (calendar,))
            for year, days in cur.fetchall():
                self.assertEqual(days or [], sorted(holidays(year, calendar)), f"{calendar} {year}")
        cur.close()


if __name__ == "__main__":
    unittest.main()
