-- §1 holiday calendars: the holidays of FR, FR-ALSACE-MOSELLE and
-- WEEKENDS-ONLY with their French names, Gregorian Easter, unknown names.
SET client_min_messages = warning;
CREATE EXTENSION kpi_mail;
SET DateStyle = 'ISO, YMD';

-- FR is the default calendar: public_holidays(year) uses it.
SELECT holiday_calendar FROM kpi_mail.settings;
SELECT day, to_char(day, 'ID') AS isodow, name FROM kpi_mail.public_holidays(2026);
SELECT count(*) AS same_as_named_fr FROM (
	SELECT * FROM kpi_mail.public_holidays(2026)
	INTERSECT SELECT * FROM kpi_mail.public_holidays(2026, 'FR')) t;

-- FR-ALSACE-MOSELLE adds Vendredi saint (Easter - 2) and Saint-Étienne (26 Dec).
SELECT day, to_char(day, 'ID') AS isodow, name FROM kpi_mail.public_holidays(2026, 'FR-ALSACE-MOSELLE');
SELECT day, name FROM kpi_mail.public_holidays(2026, 'FR-ALSACE-MOSELLE')
EXCEPT SELECT day, name FROM kpi_mail.public_holidays(2026, 'FR') ORDER BY day;

-- The configured calendar follows the setting.
UPDATE kpi_mail.settings SET holiday_calendar = 'FR-ALSACE-MOSELLE';
SELECT count(*) AS holidays_2026 FROM kpi_mail.public_holidays(2026);
UPDATE kpi_mail.settings SET holiday_calendar = 'FR';

-- WEEKENDS-ONLY has no holiday: Monday to Friday are business days.
SELECT count(*) AS weekends_only_holidays FROM kpi_mail.public_holidays(2026, 'WEEKENDS-ONLY');

-- Easter Sunday (Anonymous Gregorian algorithm), and Lundi de Pâques = Easter + 1.
SELECT y AS year, kpi_mail.easter_sunday(y) AS easter_sunday,
	(SELECT h.day - 1 FROM kpi_mail.public_holidays(y, 'FR') h WHERE h.name = 'Lundi de Pâques') AS easter_monday_minus_1
FROM (VALUES (1954), (2024), (2025), (2026), (2027), (2028), (2029), (2030)) v(y);
-- Over years 1..9999: always a Sunday, between 22 March and 25 April.
SELECT count(*) FILTER (WHERE extract(isodow FROM e) <> 7) AS not_sunday,
	min(to_char(e, 'MM-DD')) AS earliest, max(to_char(e, 'MM-DD')) AS latest
FROM (SELECT kpi_mail.easter_sunday(y) AS e FROM generate_series(1, 9999) y) t;
-- The movable holidays of 2026: Easter 5 April.
SELECT day, day - kpi_mail.easter_sunday(2026) AS after_easter, name
FROM kpi_mail.public_holidays(2026, 'FR-ALSACE-MOSELLE')
WHERE name IN ('Vendredi saint', 'Lundi de Pâques', 'Ascension', 'Lundi de Pentecôte') ORDER BY day;

-- Early Easter 2008 (23 March): Ascension falls on 1 May, one row for that day.
SELECT day, name FROM kpi_mail.public_holidays(2008, 'FR') WHERE day BETWEEN '2008-03-01' AND '2008-05-31';
SELECT kpi_mail.business_days_between('2008-04-30', '2008-05-02') AS over_1_may_2008;

-- Every year has its 11 (FR) or 13 (FR-ALSACE-MOSELLE) rules: fewer rows only
-- when Ascension falls on 1 or 8 May.
SELECT c.calendar, count(DISTINCT h.day) = count(*) AS one_row_per_day,
	min(n) AS min_rows, max(n) AS max_rows
FROM (VALUES ('FR'), ('FR-ALSACE-MOSELLE')) c(calendar),
	generate_series(1900, 2200) y,
	LATERAL (SELECT count(*) OVER () AS n, p.day FROM kpi_mail.public_holidays(y, c.calendar) p) h
GROUP BY c.calendar ORDER BY 1;

-- Unknown calendar names: 22023 with the list of names.
SELECT * FROM kpi_mail.public_holidays(2026, 'fr');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM kpi_mail.public_holidays(2026, 'FR-ALSACE');
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.calendar_is_known('FR'), kpi_mail.calendar_is_known('FR-ALSACE-MOSELLE'),
	kpi_mail.calendar_is_known('WEEKENDS-ONLY'), kpi_mail.calendar_is_known('Fr');

-- STRICT: an explicit NULL calendar gives no row (omit it for the configured one).
SELECT count(*) AS rows_for_null_calendar FROM kpi_mail.public_holidays(2026, NULL);

DROP EXTENSION kpi_mail;
