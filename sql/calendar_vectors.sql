-- §1 reference vectors (test/data/*.csv, copied from the shared vectors):
-- shows every vector whose result differs (expected: none) and how many
-- vectors were checked.  Vectors for a non-default calendar are run with
-- that calendar configured.
SET client_min_messages = warning;
CREATE EXTENSION kpi_mail;
SET DateStyle = 'ISO, YMD';

\getenv abs_srcdir PG_ABS_SRCDIR
CREATE TEMP TABLE bd_vector (from_date date, to_date date, calendar text, expected integer, note text);
CREATE TEMP TABLE add_vector (d date, n integer, calendar text, expected date);
-- \copy does not expand variables: build the command in a variable, then run it.
\set file :abs_srcdir '/test/data/business_days.csv'
\set copy_cmd '\\copy bd_vector FROM ' :'file' ' WITH (FORMAT csv, HEADER)'
:copy_cmd
\set file :abs_srcdir '/test/data/add_business_days.csv'
\set copy_cmd '\\copy add_vector FROM ' :'file' ' WITH (FORMAT csv, HEADER)'
:copy_cmd
SELECT calendar, count(*) AS business_days_vectors FROM bd_vector GROUP BY 1 ORDER BY 1;
SELECT calendar, count(*) AS add_business_days_vectors FROM add_vector GROUP BY 1 ORDER BY 1;

CREATE TEMP TABLE bd_result (LIKE bd_vector, actual integer, actual_reversed integer);
CREATE TEMP TABLE add_result (LIKE add_vector, actual date);

-- One group per calendar, with that calendar configured.
CREATE FUNCTION pg_temp.run_vectors(cal text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	UPDATE kpi_mail.settings SET holiday_calendar = cal;
	INSERT INTO bd_result
		SELECT v.*, kpi_mail.business_days_between(v.from_date, v.to_date),
			kpi_mail.business_days_between(v.to_date, v.from_date)
		FROM bd_vector v WHERE v.calendar = cal;
	INSERT INTO add_result
		SELECT v.*, kpi_mail.add_business_days(v.d, v.n)
		FROM add_vector v WHERE v.calendar = cal;
END
$$;
SELECT pg_temp.run_vectors('FR');
SELECT pg_temp.run_vectors('FR-ALSACE-MOSELLE');
SELECT pg_temp.run_vectors('WEEKENDS-ONLY');
UPDATE kpi_mail.settings SET holiday_calendar = 'FR';

-- Differences (expected: no row).  Reversing the dates negates the count.
SELECT * FROM bd_result
WHERE actual IS DISTINCT FROM expected OR actual_reversed IS DISTINCT FROM -expected;
SELECT * FROM add_result WHERE actual IS DISTINCT FROM expected;

-- Every vector was checked.
SELECT (SELECT count(*) FROM bd_result) AS business_days_checked,
	(SELECT count(*) FROM bd_vector) AS business_days_vectors,
	(SELECT count(*) FROM add_result) AS add_business_days_checked,
	(SELECT count(*) FROM add_vector) AS add_business_days_vectors;

-- The SPEC examples and the hand-checked figures.
SELECT kpi_mail.business_days_between('2026-03-06', '2026-03-09') AS friday_to_monday,
	kpi_mail.business_days_between('2026-06-03', '2026-06-03') AS same_day,
	kpi_mail.business_days_between('2026-01-01', '2026-12-31') AS year_2026_fr;
UPDATE kpi_mail.settings SET holiday_calendar = 'FR-ALSACE-MOSELLE';
SELECT kpi_mail.business_days_between('2026-01-01', '2026-12-31') AS year_2026_alsace_moselle;
UPDATE kpi_mail.settings SET holiday_calendar = 'WEEKENDS-ONLY';
SELECT kpi_mail.business_days_between('2026-01-01', '2026-12-31') AS year_2026_weekends_only;
SELECT kpi_mail.is_business_day('2026-01-01') AS jan_1_weekends_only;

DROP EXTENSION kpi_mail;
