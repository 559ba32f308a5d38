-- The view kpi_mail.invoice_kpi (SPEC §2): one row per invoice, deadline,
-- delay in business days and status as of today in the company time zone.
-- February 2024 has no public holiday; invoices of 2024 are long past, so
-- their statuses do not depend on the day the test runs.
SET client_min_messages = warning;
CREATE EXTENSION kpi_mail;

INSERT INTO kpi_mail.invoice (invoice_number, client_name, edited_at, sent_on) VALUES
	('K-1', 'Envoyée en 3 jours', '2024-02-05 09:00+00', '2024-02-08'),
	('K-2', 'Envoyée en 6 jours', '2024-02-05 09:00+00', '2024-02-13'),
	('K-3', 'Éditée un vendredi', '2024-02-09 09:00+00', '2024-02-15'),
	('K-4', 'Jamais envoyée', '2024-02-02 09:00+00', NULL),
	('K-5', 'Éditée le dimanche à Paris', '2024-02-03 23:30+00', NULL),
	('K-6', 'Envoyée le jour même', '2024-02-05 09:00+00', '2024-02-05'),
	('K-7', 'Éditée aujourd''hui', now(), NULL);

SELECT * FROM kpi_mail.invoice_kpi WHERE invoice_number <> 'K-7' ORDER BY invoice_number;
-- edited today: pending, deadline after today, no delay
SELECT status, deadline > edited_on AS deadline_later, edited_on = kpi_mail.today() AS edited_today,
	delay_business_days IS NULL AS no_delay
FROM kpi_mail.invoice_kpi WHERE invoice_number = 'K-7';

-- the session's TimeZone does not matter
SET TimeZone = 'Pacific/Kiritimati';
SELECT invoice_number, edited_on, deadline, status FROM kpi_mail.invoice_kpi
WHERE invoice_number = 'K-5';
SELECT status, edited_on = kpi_mail.today() AS edited_today FROM kpi_mail.invoice_kpi
WHERE invoice_number = 'K-7';
RESET TimeZone;

-- thresholds and time zone come from the settings
UPDATE kpi_mail.settings SET invoice_max_business_days = 6, timezone = 'UTC';
SELECT invoice_number, edited_on, deadline, delay_business_days, status
FROM kpi_mail.invoice_kpi WHERE invoice_number IN ('K-2', 'K-5') ORDER BY invoice_number;

-- French comments on the view and its columns
SELECT a.attname, pg_catalog.col_description(a.attrelid, a.attnum)
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = 'kpi_mail.invoice_kpi'::pg_catalog.regclass AND a.attnum > 0
ORDER BY a.attnum;
SELECT pg_catalog.obj_description('kpi_mail.invoice_kpi'::pg_catalog.regclass, 'pg_class');

DROP EXTENSION kpi_mail;
