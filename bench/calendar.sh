#!/usr/bin/env bash
# Benchmark of the business-day calendar (SPEC §1).
#
# Usage: bench/calendar.sh [rows]                      (cluster from PGHOST/PGPORT/PGUSER/PGDATABASE)
#        PG_CONFIG=... test/with-cluster -- bench/calendar.sh [rows]   (throw-away cluster)
#
# Installs kpi_mail in the database if needed (make install first), fills
# temporary tables with `rows` date pairs (default 1000000) and times, in one
# backend without parallel workers (best of 5 runs):
#   - baseline: sum(to_date - from_date), a trivial built-in function;
#   - business_days_between on short ranges (0..6 days) and long ranges
#     (30..40 years), with about 250 company overrides added for the run;
#   - add_business_days with n = 4 and n = 10000, and is_business_day.
# long/short should be about 1 (constant work per call, no day-by-day loop);
# calendar/baseline is the cost of a call compared with the cheapest one.
# Everything but CREATE EXTENSION runs in a transaction that is rolled back.
set -euo pipefail
rows=${1:-1000000}
export PGDATABASE=${PGDATABASE:-postgres}

psql -X -q -v ON_ERROR_STOP=1 -v rows="$rows" <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS kpi_mail;
SET max_parallel_workers_per_gather = 0;
SET jit = off;
-- Everything below is rolled back: the database is left as it was.
BEGIN;
SELECT setseed(0.42) \g /dev/null
CREATE TEMP TABLE bench_short AS
	SELECT d AS from_date, d + (random() * 6)::integer AS to_date
	FROM (SELECT '2000-01-01'::date + (random() * 15000)::integer AS d FROM generate_series(1, :rows)) t;
CREATE TEMP TABLE bench_long AS
	SELECT d AS from_date, d + (10950 + random() * 3650)::integer AS to_date
	FROM (SELECT '1950-01-01'::date + (random() * 15000)::integer AS d FROM generate_series(1, :rows)) t;
ANALYZE bench_short;
ANALYZE bench_long;
-- A few overrides so that their lookup is part of the measure.
INSERT INTO kpi_mail.calendar_override
	SELECT d::date, extract(isodow FROM d) >= 6, 'bench'
	FROM generate_series('2000-01-07'::date, '2040-12-31', '61 days') d
	ON CONFLICT (day) DO NOTHING;

CREATE TEMP TABLE bench_query (label text PRIMARY KEY, query text);
INSERT INTO bench_query VALUES
	('baseline_short', 'SELECT sum(to_date - from_date) FROM bench_short'),
	('baseline_long', 'SELECT sum(to_date - from_date) FROM bench_long'),
	('between_short', 'SELECT sum(kpi_mail.business_days_between(from_date, to_date)) FROM bench_short'),
	('between_long', 'SELECT sum(kpi_mail.business_days_between(from_date, to_date)) FROM bench_long'),
	('add_4', 'SELECT sum(kpi_mail.add_business_days(from_date, 4) - from_date) FROM bench_short'),
	('add_10000', 'SELECT sum(kpi_mail.add_business_days(from_date, 10000) - from_date) FROM bench_long'),
	('is_business_day', 'SELECT count(*) FILTER (WHERE kpi_mail.is_business_day(from_date)) FROM bench_short');
CREATE TEMP TABLE bench_result (label text PRIMARY KEY, seconds float8);

-- Rounds run every query once, in turn, so that a load peak on the machine
-- hits all of them alike; each query keeps its best time.
DO $$
DECLARE
	q record;
	t0 timestamptz;
	elapsed float8;
	dummy bigint;
BEGIN
	FOR round IN 1..5 LOOP
		FOR q IN SELECT * FROM bench_query ORDER BY label LOOP
			t0 := clock_timestamp();
			EXECUTE q.query INTO dummy;
			elapsed := extract(epoch FROM clock_timestamp() - t0);
			INSERT INTO bench_result VALUES (q.label, elapsed)
				ON CONFLICT (label) DO UPDATE SET seconds = least(bench_result.seconds, EXCLUDED.seconds);
		END LOOP;
	END LOOP;
END
$$;

\pset format unaligned
\pset tuples_only on
SELECT format('rows: %s (one backend, no parallel workers, best of 5)', :rows);
SELECT format('%s %s s  %s ns/row', rpad(label, 20), to_char(seconds, '990.000'),
	to_char(seconds * 1e9 / :rows, '99990.0'))
FROM bench_result ORDER BY label;
WITH t AS (SELECT label, seconds FROM bench_result),
	s(l, v) AS (SELECT label, seconds FROM t)
SELECT format('%s %s', rpad(x.label, 42), to_char(x.value, '99990.00'))
FROM (SELECT 1, 'ratio between_long / between_short:', (SELECT v FROM s WHERE l = 'between_long') / (SELECT v FROM s WHERE l = 'between_short')
	UNION ALL SELECT 2, 'ratio between_short / baseline_short:', (SELECT v FROM s WHERE l = 'between_short') / (SELECT v FROM s WHERE l = 'baseline_short')
	UNION ALL SELECT 3, 'ratio between_long / baseline_long:', (SELECT v FROM s WHERE l = 'between_long') / (SELECT v FROM s WHERE l = 'baseline_long')
	UNION ALL SELECT 4, 'ratio add_10000 / add_4:', (SELECT v FROM s WHERE l = 'add_10000') / (SELECT v FROM s WHERE l = 'add_4')
	UNION ALL SELECT 5, 'calendar cost per call, ns (short - base):', ((SELECT v FROM s WHERE l = 'between_short') - (SELECT v FROM s WHERE l = 'baseline_short')) * 1e9 / :rows
	) x(n, label, value) ORDER BY x.n;
ROLLBACK;
SQL
