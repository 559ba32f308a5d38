-- Included by the jobs tests: drops the stand-in of report_stub.sql (not a
-- member of the extension, it would block DROP EXTENSION).
DO $$
BEGIN
	IF pg_catalog.to_regprocedure('kpi_mail.kpi_weekly_report(date)') IS NOT NULL
	   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
					   WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.deptype = 'e'
					     AND d.objid = 'kpi_mail.kpi_weekly_report(date)'::regprocedure) THEN
		DROP FUNCTION kpi_mail.kpi_weekly_report(date);
	END IF;
END
$$;
