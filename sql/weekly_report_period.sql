-- The period end of kpi_weekly_report / kpi_weekly_figures (SPEC §4): NULL
-- means yesterday in the company time zone; after today is an error (22023).
SET client_min_messages = warning;
CREATE EXTENSION kpi_mail;
INSERT INTO kpi_mail.invoice (invoice_number, client_name, edited_at, sent_on)
VALUES ('N-1', 'Hier', now() - interval '1 day', NULL);

-- NULL (or no argument) is the week ending yesterday
SELECT kpi_mail.kpi_weekly_report() = kpi_mail.kpi_weekly_report(kpi_mail.today() - 1) AS default_is_yesterday,
	kpi_mail.kpi_weekly_report(NULL) = kpi_mail.kpi_weekly_report(kpi_mail.today() - 1) AS null_is_yesterday,
	kpi_mail.kpi_weekly_figures() = kpi_mail.kpi_weekly_figures(kpi_mail.today() - 1) AS figures_default,
	(kpi_mail.kpi_weekly_figures(NULL) ->> 'period_end')::date = kpi_mail.today() - 1 AS figures_period_end,
	(kpi_mail.kpi_weekly_figures(NULL) ->> 'period_start')::date = kpi_mail.today() - 7 AS figures_period_start;
-- yesterday in the company time zone, whatever the session's
SET TimeZone = 'Pacific/Kiritimati';
SELECT kpi_mail.kpi_weekly_report() = kpi_mail.kpi_weekly_report(kpi_mail.today() - 1) AS default_is_yesterday;
RESET TimeZone;
-- today is allowed
SELECT kpi_mail.kpi_weekly_report(kpi_mail.today()) LIKE 'Voici le rapport hebdomadaire %' AS today_allowed;

-- after today, or not a finite date: error 22023
\set VERBOSITY terse
SELECT kpi_mail.kpi_weekly_report(kpi_mail.today() + 1);
SELECT kpi_mail.kpi_weekly_figures(kpi_mail.today() + 1);
SELECT kpi_mail.kpi_weekly_report('infinity');
SELECT kpi_mail.kpi_weekly_report('-infinity');
SELECT kpi_mail.kpi_weekly_report('4713-01-10 BC');
-- the period and its backlog weeks must start on 01/01/0001 or later (calendar range)
SELECT kpi_mail.kpi_weekly_report('0001-01-03');
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.settings SET backlog_weeks = 1;
SELECT kpi_mail.kpi_weekly_report('0001-01-13');
\echo :LAST_ERROR_SQLSTATE
SELECT (kpi_mail.kpi_weekly_figures('0001-01-14'))->>'period_start' AS earliest_start;
UPDATE kpi_mail.settings SET backlog_weeks = 12;
\set VERBOSITY default
DO $$
DECLARE
	p date;
BEGIN
	FOREACH p IN ARRAY ARRAY[kpi_mail.today() + 1, kpi_mail.today() + 400, 'infinity'::date] LOOP
		BEGIN
			PERFORM kpi_mail.kpi_weekly_report(p);
		EXCEPTION WHEN OTHERS THEN
			RAISE WARNING 'kpi_weekly_report: SQLSTATE %', SQLSTATE;
		END;
		BEGIN
			PERFORM kpi_mail.kpi_weekly_figures(p);
		EXCEPTION WHEN OTHERS THEN
			RAISE WARNING 'kpi_weekly_figures: SQLSTATE %', SQLSTATE;
		END;
	END LOOP;
END
$$;
-- the hint says what to do
DO $$
DECLARE
	hint text;
BEGIN
	PERFORM kpi_mail.kpi_weekly_report(kpi_mail.today() + 1);
EXCEPTION WHEN invalid_parameter_value THEN
	GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
	RAISE WARNING '%', hint;
END
$$;

-- how the functions are declared
SELECT p.oid::pg_catalog.regprocedure AS function, p.provolatile, p.proisstrict, p.proparallel
FROM pg_catalog.pg_proc p
WHERE p.pronamespace = 'kpi_mail'::pg_catalog.regnamespace
	AND p.proname IN ('kpi_weekly_report', 'kpi_weekly_figures', 'invoice_kpi_rows')
ORDER BY 1::text;

DROP EXTENSION kpi_mail;
