-- The worked example of SPEC §4 (test/data/weekly_2026-11-29.sql): the report
-- for the week ending 29/11/2026 must equal weekly_2026-11-29.txt byte for
-- byte.  Depends on the FR holidays (11/11 Armistice).
SET client_min_messages = warning;
CREATE EXTENSION kpi_mail;
\getenv abs_srcdir PG_ABS_SRCDIR
\set data_file :abs_srcdir '/test/data/weekly_2026-11-29.sql'
\set text_file :abs_srcdir '/test/data/weekly_2026-11-29.txt'
\set ECHO none
\i :data_file
\set ECHO all
\pset format unaligned
\pset tuples_only on
SELECT kpi_mail.kpi_weekly_report('2026-11-29');
\pset tuples_only off
-- byte equality with the expected file (read as base64, so nothing is trimmed)
\set expected_base64 `base64 -w0 :'text_file'`
SELECT pg_catalog.convert_to(kpi_mail.kpi_weekly_report('2026-11-29'), 'UTF8')
	= pg_catalog.decode(:'expected_base64', 'base64') AS same_bytes,
	pg_catalog.octet_length(pg_catalog.decode(:'expected_base64', 'base64')) AS expected_octets;
DROP EXTENSION kpi_mail;
