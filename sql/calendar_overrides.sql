-- §1 company overrides (kpi_mail.calendar_override) win over the rules both
-- ways, in the three functions; a change is seen by the next query, and
-- within a transaction by the next statement.
SET client_min_messages = warning;
CREATE EXTENSION kpi_mail;
SET DateStyle = 'ISO, YMD';

CREATE VIEW probe AS SELECT
	kpi_mail.is_business_day('2026-05-15') AS fri_15_may,
	kpi_mail.is_business_day('2026-05-25') AS whit_monday,
	kpi_mail.is_business_day('2026-05-30') AS sat_30_may,
	kpi_mail.business_days_between('2026-05-13', '2026-05-18') AS wed13_mon18,
	kpi_mail.business_days_between('2026-05-22', '2026-06-01') AS fri22_mon1,
	kpi_mail.add_business_days('2026-05-13', 1) AS wed13_plus_1,
	kpi_mail.add_business_days('2026-05-22', 1) AS fri22_plus_1,
	kpi_mail.add_business_days('2026-05-26', -1) AS tue26_minus_1,
	kpi_mail.add_business_days('2026-05-29', 1) AS fri29_plus_1,
	kpi_mail.add_business_days('2026-06-01', -1) AS mon1_minus_1;

-- Rules only: Ascension 14 May and Whit Monday 25 May 2026 are holidays.
SELECT * FROM probe;

-- A closure on a weekday (the "pont" after Ascension), a worked holiday
-- (Whit Monday, journée de solidarité) and a worked Saturday.
INSERT INTO kpi_mail.calendar_override VALUES
	('2026-05-15', false, 'Pont de l''Ascension'),
	('2026-05-25', true, 'Journée de solidarité'),
	('2026-05-30', true, 'Inventaire');
SELECT * FROM probe;

-- Overrides that repeat the rules change nothing; days outside the
-- supported range are ignored.
INSERT INTO kpi_mail.calendar_override VALUES
	('2026-05-19', true, 'déjà ouvré'), ('2026-05-31', false, 'déjà chômé'),
	('infinity', true, 'hors plage'), ('0001-12-31 BC', false, 'hors plage');
SELECT * FROM probe;

-- Overrides are company decisions, not public holidays.
SELECT count(*) AS holidays_2026 FROM kpi_mail.public_holidays(2026);

-- Long ranges count the overrides too (2026: 252 - 1 + 1 + 1).
SELECT kpi_mail.business_days_between('2026-01-01', '2026-12-31') AS year_2026,
	kpi_mail.business_days_between('2000-01-01', '2040-12-31') AS four_decades;

-- The next query in the same session sees a change.
DELETE FROM kpi_mail.calendar_override WHERE day = '2026-05-15';
SELECT fri_15_may, wed13_mon18, wed13_plus_1 FROM probe;
UPDATE kpi_mail.calendar_override SET is_business_day = false WHERE day = '2026-05-25';
SELECT whit_monday, fri22_plus_1, tue26_minus_1 FROM probe;

-- Within one transaction, the same call site sees the override inserted by
-- the previous statement (cache keyed on the command counter).
SET client_min_messages = notice;
DO $$
DECLARE
	seen text := '';
BEGIN
	FOR i IN 1..3 LOOP
		seen := seen || kpi_mail.is_business_day('2026-06-03')::text || ' ';
		INSERT INTO kpi_mail.calendar_override VALUES ('2026-06-03', i % 2 = 0, 'test')
			ON CONFLICT (day) DO UPDATE SET is_business_day = EXCLUDED.is_business_day;
	END LOOP;
	RAISE NOTICE 'is_business_day(2026-06-03) : %', seen;
END
$$ LANGUAGE plpgsql;
SET client_min_messages = warning;

-- A role that can read neither kpi_mail.settings nor calendar_override gets
-- the same answers: the calendar is read with the extension owner's rights.
CREATE ROLE regress_kpi_calendar_staff;
GRANT USAGE ON SCHEMA kpi_mail TO regress_kpi_calendar_staff;
GRANT SELECT ON probe TO regress_kpi_calendar_staff;
SELECT * FROM probe;
SET ROLE regress_kpi_calendar_staff;
SELECT * FROM kpi_mail.calendar_override;
SELECT * FROM probe;
SELECT count(*) AS holidays_2026 FROM kpi_mail.public_holidays(2026);
RESET ROLE;
REVOKE ALL ON SCHEMA kpi_mail FROM regress_kpi_calendar_staff;
DROP VIEW probe;
DROP ROLE regress_kpi_calendar_staff;

DROP EXTENSION kpi_mail;
