-- The indicators read invoices and reminders only through
-- kpi_mail.source_query() (SPEC §8 seam): pointing it at other tables changes
-- the report and the invoice_kpi view, not the code.  A NULL recorded_at
-- counts from midnight starting the reminder date; a result with a NULL
-- result_recorded_at (even a legacy RAS) counts as recorded long ago.
SET client_min_messages = warning;
CREATE EXTENSION kpi_mail;
CREATE TABLE public.factures (numero text, client text, edition timestamptz, envoi date);
CREATE TABLE public.relances (id integer, client text, facture text, date_relance date,
	resultat text);
INSERT INTO public.factures VALUES
	('X-1', 'Client X', '2026-02-10 09:00+00', NULL),
	('X-2', 'Client Y', '2026-02-02 09:00+00', NULL);
INSERT INTO public.relances VALUES
	(1, 'Client X', 'X-1', '2026-02-11', NULL),
	(2, 'Client Y', 'X-2', '2026-02-12', 'RAS'),
	(3, 'Client Z', 'X-3', '2026-02-03', NULL);
INSERT INTO kpi_mail.invoice (invoice_number, client_name, edited_at, sent_on)
VALUES ('NOT-READ', 'Table interne', '2026-02-10 09:00+00', NULL);

CREATE OR REPLACE FUNCTION kpi_mail.source_query(kind text)
RETURNS text
LANGUAGE sql STABLE
RETURN CASE kind
	WHEN 'invoices' THEN
		'SELECT f.numero AS invoice_number, f.client AS client_name, '
		'(f.edition AT TIME ZONE ''Europe/Paris'')::date AS edited_on, f.envoi AS sent_on '
		'FROM public.factures f'
	WHEN 'reminders' THEN
		'SELECT r.id::bigint AS reminder_id, r.client AS client_name, r.facture AS invoice_number, '
		'r.date_relance AS reminded_on, NULL::timestamptz AS recorded_at, r.resultat AS result, '
		'NULL::timestamptz AS result_recorded_at, NULL::text AS responsible_email '
		'FROM public.relances r'
	END;

\pset format unaligned
\pset tuples_only on
SELECT kpi_mail.kpi_weekly_report('2026-02-15');
\pset format aligned
\pset tuples_only off
SELECT * FROM kpi_mail.invoice_kpi ORDER BY invoice_number;

-- a source that returns NULL is refused with a French message
CREATE OR REPLACE FUNCTION kpi_mail.source_query(kind text)
RETURNS text
LANGUAGE sql STABLE
RETURN NULL;
\set VERBOSITY terse
SELECT kpi_mail.kpi_weekly_report('2026-02-15');
\set VERBOSITY default

DROP EXTENSION kpi_mail;
DROP TABLE public.factures, public.relances;
