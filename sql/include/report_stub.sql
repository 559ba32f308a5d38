-- Included by the jobs tests: the report body is kpi_mail.kpi_weekly_report
-- (SPEC §4); where that function is not built, a stand-in for the test.
DO $$
BEGIN
	IF pg_catalog.to_regprocedure('kpi_mail.kpi_weekly_report(date)') IS NULL THEN
		CREATE FUNCTION kpi_mail.kpi_weekly_report(period_end date DEFAULT NULL) RETURNS text
		LANGUAGE sql STABLE RETURN 'Rapport de test jusqu''au ' || period_end::text || E'\n';
	END IF;
END
$$;
