-- §1 results never depend on the session's TimeZone or DateStyle: the same
-- inputs give the same dates and counts under UTC, Europe/Paris and
-- America/New_York, and under DateStyle 'SQL, DMY' and 'ISO, MDY'.
SET client_min_messages = warning;
CREATE EXTENSION kpi_mail;

-- Inputs around DST changes, holidays and year ends, as ISO literals.
CREATE TEMP TABLE input AS
SELECT d::date AS d, n
FROM generate_series('2025-12-20'::date, '2027-01-10', '1 day') d,
	(VALUES (-5), (-1), (0), (1), (4), (30)) v(n);
INSERT INTO kpi_mail.calendar_override VALUES
	('2026-03-30', false, 'fermeture'), ('2026-10-24', true, 'samedi travaillé');

-- Results as values (not text), one table per session setting.
CREATE FUNCTION pg_temp.results(setting text) RETURNS TABLE(setting text, d date, n integer,
	between_next_month integer, added date, business boolean, holidays bigint)
LANGUAGE sql AS $$
	SELECT setting, i.d, i.n,
		kpi_mail.business_days_between(i.d, (i.d + 31)),
		kpi_mail.add_business_days(i.d, i.n),
		kpi_mail.is_business_day(i.d),
		(SELECT count(*) FROM kpi_mail.public_holidays(pg_catalog.date_part('year', i.d)::integer))
	FROM input i
$$;
CREATE TEMP TABLE result (setting text, d date, n integer,
	between_next_month integer, added date, business boolean, holidays bigint);

SET TimeZone = 'UTC';
SET DateStyle = 'ISO, MDY';
INSERT INTO result SELECT * FROM pg_temp.results('UTC, ISO MDY');
SET TimeZone = 'Europe/Paris';
INSERT INTO result SELECT * FROM pg_temp.results('Europe/Paris, ISO MDY');
SET TimeZone = 'America/New_York';
INSERT INTO result SELECT * FROM pg_temp.results('America/New_York, ISO MDY');
SET DateStyle = 'SQL, DMY';
INSERT INTO result SELECT * FROM pg_temp.results('America/New_York, SQL DMY');
SET TimeZone = 'Europe/Paris';
INSERT INTO result SELECT * FROM pg_temp.results('Europe/Paris, SQL DMY');
SET TimeZone = 'UTC';
INSERT INTO result SELECT * FROM pg_temp.results('UTC, SQL DMY');

-- Every setting gives the rows of the first one (expected: 0 differences).
SELECT r.setting, count(*) AS rows,
	count(*) FILTER (WHERE (r.between_next_month, r.added, r.business, r.holidays)
		IS DISTINCT FROM (u.between_next_month, u.added, u.business, u.holidays)) AS differences
FROM result r JOIN result u ON u.setting = 'UTC, ISO MDY' AND u.d = r.d AND u.n = r.n
GROUP BY r.setting ORDER BY r.setting;

-- A few values, shown under both date styles.
SET DateStyle = 'SQL, DMY';
SELECT d, n, added, between_next_month FROM result
WHERE setting = 'Europe/Paris, SQL DMY' AND d IN ('2026-03-27', '2026-10-23', '2026-12-31') AND n IN (1, 4)
ORDER BY d, n;
SET DateStyle = 'ISO, MDY';
SELECT d, n, added, between_next_month FROM result
WHERE setting = 'America/New_York, ISO MDY' AND d IN ('2026-03-27', '2026-10-23', '2026-12-31') AND n IN (1, 4)
ORDER BY d, n;

DROP EXTENSION kpi_mail;
