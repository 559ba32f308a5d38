-- Demo data for kpi_mail: three months of invoices and payment reminders of
-- fictional French clients, anchored on today (company time zone) so that
-- last week's report and the alerts always have something to say.
-- Deterministic: the same day gives the same data.
\set ON_ERROR_STOP on
BEGIN;

CREATE TEMP TABLE demo_client (n int PRIMARY KEY, name text NOT NULL);
INSERT INTO demo_client VALUES
	(0, 'Boulangerie Martin'), (1, 'Garage Dupuis & Fils'), (2, 'SARL Lefèvre'),
	(3, 'Cabinet Roux'), (4, 'Transports Garnier'), (5, 'Société Générale d''Élevage'),
	(6, 'Imprimerie Blanc'), (7, 'Atelier Petit'), (8, 'Clinique Vétérinaire Morel'),
	(9, 'Menuiserie Fabre'), (10, 'Pharmacie Lambert'), (11, 'Plomberie Chevalier');

-- Invoices: one or two per business day over 13 weeks, edited during office
-- hours; most are sent within 1 to 3 business days, some late, the last few
-- days' still pending, and a few old ones never sent (the backlog).
INSERT INTO kpi_mail.invoice (invoice_number, client_name, edited_at, sent_on)
SELECT pg_catalog.format('F%s-%s', pg_catalog.to_char(d, 'YYYY'), pg_catalog.lpad((row_number() OVER (ORDER BY d, k))::text, 4, '0')),
	c.name,
	(d + pg_catalog.make_time(8 + (k * 3 + i) % 9, (i * 17) % 60, 0)) AT TIME ZONE 'Europe/Paris',
	CASE
		WHEN i % 23 = 0 THEN NULL                                   -- forgotten
		ELSE NULLIF(LEAST(
			kpi_mail.add_business_days(d, CASE WHEN i % 5 = 0 THEN 6 WHEN i % 7 = 0 THEN 5 WHEN i % 3 = 0 THEN 4 ELSE 1 + i % 3 END),
			kpi_mail.today() + 1), kpi_mail.today() + 1)             -- not sent yet
	END
FROM pg_catalog.generate_series(kpi_mail.today() - 91, kpi_mail.today() - 1, interval '1 day') AS g(ts),
	LATERAL (SELECT g.ts::date AS d) AS day,
	LATERAL pg_catalog.generate_series(0, CASE WHEN pg_catalog.date_part('day', d)::int % 3 = 0 THEN 1 ELSE 0 END) AS k,
	LATERAL (SELECT (d - DATE '2000-01-01') * 2 + k AS i) AS seed,
	demo_client c
WHERE kpi_mail.is_business_day(d) AND c.n = (i * 7) % 12;

-- Reminders: on two business days out of three; results are usually entered within a few
-- days, some never (they raise alerts once 8 days have passed).
INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, recorded_at, result, result_recorded_at, responsible_email)
SELECT c.name,
	pg_catalog.format('F%s-%s', pg_catalog.to_char(d - 45, 'YYYY'), pg_catalog.lpad(((d - DATE '2000-01-01') % 997)::text, 4, '0')),
	d,
	(d + pg_catalog.make_time(9 + i % 8, (i * 13) % 60, 0)) AT TIME ZONE 'Europe/Paris',
	r.result,
	CASE WHEN r.result IS NOT NULL THEN (d + 1 + i % 5 + pg_catalog.make_time(11, 0, 0)) AT TIME ZONE 'Europe/Paris' END,
	CASE WHEN i % 11 = 0 THEN 'claire.bernard@example.com' WHEN i % 11 = 5 THEN 'recouvrement@example.com' END
FROM pg_catalog.generate_series(kpi_mail.today() - 60, kpi_mail.today() - 1, interval '1 day') AS g(ts),
	LATERAL (SELECT g.ts::date AS d) AS day,
	LATERAL (SELECT d - DATE '2000-01-01' AS i) AS seed,
	LATERAL (SELECT CASE
		WHEN (i * 7) % 10 < 3 OR d + 1 + i % 5 >= kpi_mail.today() THEN NULL
		ELSE (ARRAY['délais supplémentaire', 'nouvelle relance', 'règlement facture'])[1 + i % 3]
	END AS result) AS r,
	demo_client c
WHERE kpi_mail.is_business_day(d) AND i % 3 <> 1 AND c.n = (i * 5) % 12;

COMMIT;
SELECT pg_catalog.count(*) AS invoices FROM kpi_mail.invoice;
SELECT pg_catalog.count(*) AS reminders FROM kpi_mail.payment_reminder;
