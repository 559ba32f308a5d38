-- Weekly report with the holiday calendars (SPEC §1, §4): an invoice on time
-- in Alsace-Moselle (Good Friday, 26 December are holidays there) is late in
-- metropolitan France; a company closure day (calendar_override) counts too.
SET client_min_messages = warning;
CREATE EXTENSION kpi_mail;
\pset format unaligned
\pset tuples_only on

-- Week of Good Friday 2026 (03/04): edited Sunday 29/03, the period ends
-- Saturday 04/04 (E = Sunday 05/04).
--   A-1 sent Friday 03/04: FR 5 business days (30/03..03/04), Alsace 4.
--   A-2 not sent: FR 5 business days up to E, Alsace 4.
INSERT INTO kpi_mail.invoice (invoice_number, client_name, edited_at, sent_on) VALUES
	('A-1', 'Envoyée le Vendredi saint', '2026-03-29 10:00+00', '2026-04-03'),
	('A-2', 'Non envoyée', '2026-03-29 10:00+00', NULL);
SELECT kpi_mail.kpi_weekly_report('2026-04-04');
UPDATE kpi_mail.settings SET holiday_calendar = 'FR-ALSACE-MOSELLE';
SELECT kpi_mail.kpi_weekly_report('2026-04-04');

-- Week of 26/12/2022 (a Monday; 25/12 is a Sunday): edited Sunday 25/12,
-- sent Friday 30/12, period ends Saturday 31/12.  FR: 5 business days
-- (26/12..30/12), Alsace: 4.
TRUNCATE kpi_mail.invoice;
INSERT INTO kpi_mail.invoice (invoice_number, client_name, edited_at, sent_on) VALUES
	('D-1', 'Envoyée après la Saint-Étienne', '2022-12-25 10:00+00', '2022-12-30');
SELECT kpi_mail.kpi_weekly_report('2022-12-31');
UPDATE kpi_mail.settings SET holiday_calendar = 'FR';
SELECT kpi_mail.kpi_weekly_report('2022-12-31');

-- A company closure day (Tuesday 27/12/2022) makes it on time in FR too.
INSERT INTO kpi_mail.calendar_override (day, is_business_day, label)
VALUES ('2022-12-27', false, 'Fermeture de fin d''année');
\pset tuples_only off
SELECT f #> '{invoices,on_time}' AS on_time, f #> '{invoices,late}' AS late
FROM kpi_mail.kpi_weekly_figures('2022-12-31') AS f;

DROP EXTENSION kpi_mail;
