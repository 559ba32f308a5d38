-- §1 extreme dates: the rules cover the years 1..9999; outside (BC dates,
-- year 10000+, infinity) every function raises 22008, as does a result of
-- add_business_days that would leave the range.  Long ranges are exact.
SET client_min_messages = warning;
CREATE EXTENSION kpi_mail;
SET DateStyle = 'ISO, YMD';

-- The whole supported range (independently checked by a day-by-day count).
SELECT kpi_mail.business_days_between('0001-01-01', '9999-12-31') AS whole_range,
	kpi_mail.business_days_between('9999-12-31', '0001-01-01') AS reversed;
SELECT kpi_mail.is_business_day('0001-01-01') AS jan_1_year_1,
	kpi_mail.is_business_day('0001-01-02') AS jan_2_year_1,
	kpi_mail.is_business_day('9999-12-31') AS dec_31_year_9999;
SELECT kpi_mail.add_business_days('0001-01-01', 2521907) AS to_the_end,
	kpi_mail.add_business_days('9999-12-31', -2521906) AS to_the_start;
SELECT kpi_mail.add_business_days('0001-01-02', -1) AS before_first;
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.add_business_days('9999-12-31', 1) AS after_last;
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.add_business_days('2026-01-01', 2147483647) AS huge_n;
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.add_business_days('2026-01-01', -2147483648) AS huge_negative_n;
\echo :LAST_ERROR_SQLSTATE

-- add_business_days and business_days_between agree over long ranges.
SELECT count(*) AS checked,
	count(*) FILTER (WHERE kpi_mail.business_days_between(d, kpi_mail.add_business_days(d, n)) <> n
		OR NOT kpi_mail.is_business_day(kpi_mail.add_business_days(d, n))) AS wrong
FROM generate_series(1, 9000, 7) y,
	LATERAL (SELECT make_date(y, 1 + y % 12, 1 + y % 28) AS d) t,
	(VALUES (1), (-1), (4), (-4), (250), (-250), (100000), (-100000)) v(n)
WHERE make_date(y, 1 + y % 12, 1 + y % 28) BETWEEN '0500-01-01' AND '9500-01-01';

-- Dates outside the range.
SELECT kpi_mail.business_days_between('infinity', '2026-01-01');
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.business_days_between('2026-01-01', '-infinity');
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.is_business_day('0001-12-31 BC');
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.is_business_day('10000-01-01');
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.add_business_days('infinity', 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM kpi_mail.public_holidays(0, 'FR');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM kpi_mail.public_holidays(10000);
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.easter_sunday(10000);
\echo :LAST_ERROR_SQLSTATE

-- NULL arguments: STRICT.
SELECT kpi_mail.business_days_between(NULL, '2026-01-01') IS NULL AS a,
	kpi_mail.add_business_days('2026-01-01', NULL) IS NULL AS b,
	kpi_mail.is_business_day(NULL) IS NULL AS c,
	kpi_mail.easter_sunday(NULL) IS NULL AS d;

DROP EXTENSION kpi_mail;
