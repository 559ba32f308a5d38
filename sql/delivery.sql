-- Mail delivery without a server (§6, §7, §9): the exact text of built
-- messages, SMTP settings validation, privileges, deliver_outbox() with
-- nothing due.  test/test_delivery.py covers sending to a real server.
SET client_min_messages = warning;
CREATE EXTENSION kpi_mail;
\set SHOW_CONTEXT never
UPDATE kpi_mail.settings SET mail_from = 'kpi@societe.example';

-- The wire text shows CRLF as LF below; "crlf_only" checks that every line
-- ends with CRLF and that no other CR or LF is left.
CREATE FUNCTION pg_temp.show(m text) RETURNS text LANGUAGE sql
RETURN pg_catalog.replace(m, E'\r\n', E'\n');
CREATE FUNCTION pg_temp.crlf_only(m text) RETURNS boolean LANGUAGE sql
RETURN m ~ E'\r\n$' AND pg_catalog.replace(m, E'\r\n', '') !~ E'[\r\n]';
CREATE FUNCTION pg_temp.longest_line(m text) RETURNS integer LANGUAGE sql
RETURN (SELECT max(pg_catalog.octet_length(l)) FROM pg_catalog.regexp_split_to_table(m, E'\r\n') l);

\pset format unaligned
\pset tuples_only on

-- plain ASCII, winter time in Paris, whatever the session's TimeZone
SET TimeZone = 'America/New_York';
SELECT pg_temp.show(kpi_mail.build_message(
	ARRAY['direction@societe.example', 'Compta.Client@Societe.example'],
	'Weekly report', E'Hello,\nsecond line\n',
	'2026-11-30 07:00:00+01', '<kpi-mail.1.0123456789ABCDEF@societe.example>'));
RESET TimeZone;

-- French text: encoded subject, quoted-printable body; summer time
SELECT pg_temp.show(kpi_mail.build_message(
	ARRAY['direction@societe.example'],
	'Alerte de Suivi Manquant pour Relance Client',
	E'Le champ ''Résultat de la Relance'' n''a pas été rempli pour Clinique Vétérinaire Morel, F2026-1109 depuis 8 jours. Veuillez compléter les informations requises.\n\nRelance du 20/11/2026, saisie le 20/11/2026 à 09:15.\n',
	'2026-07-14 12:00:00+00', '<a@b>'));

-- a long subject with 2-, 3- and 4-byte characters: encoded words of at
-- most 75 characters on lines of at most 76, never cutting a character
SELECT pg_temp.show(kpi_mail.build_message(
	ARRAY['d@societe.example'],
	'Échéances dépassées : Société Générale d''Équipements Électriques — 12 € — 😀 — Ça coûte cher, très cher',
	'x', '2026-11-30 07:00:00+01', '<a@b>'));

-- dots and "From " at line starts, blanks at line ends, long lines, controls,
-- a body without final line feed (ends with a soft break)
SELECT pg_temp.show(kpi_mail.build_message(
	ARRAY['d@societe.example'], 'Points',
	E'.\n..\n.hidden\nFrom here\nfrom here\nblank at end \ntab at end\t\nequal = sign\nbell \x07 and tab\tinside\n'
	|| repeat('0123456789', 10) || E'\n' || repeat('é', 40) || E'\nend.',
	'2026-11-30 07:00:00+01', '<a@b>'));

-- CR/LF in the subject cannot add a header; in the body they are text
SELECT pg_temp.show(kpi_mail.build_message(
	ARRAY['d@societe.example'], E'Relance Dupont\r\nBcc: someone@example.invalid',
	E'Client : Dupont\r\nBcc: someone@example.invalid\rX\n',
	'2026-11-30 07:00:00+01', '<a@b>'));

-- display names of kpi_mail.recipient in To (address case aside, lowest
-- recipient_id first): atext words as is, specials quoted, non-ASCII and
-- "=?" encoded, control characters as spaces (here past the trigger), a
-- name too long for one line encoded and folded, no row or a blank name:
-- the bare address; the addresses themselves are unchanged
INSERT INTO kpi_mail.recipient (email, display_name, role) VALUES
	('direction@societe.example', 'Direction', 'report'),
	('DIRECTION@societe.example', 'Autre nom', 'alert'),
	('roux@societe.example', 'Roux, "Paul" \ compta', 'report'),
	('dg@societe.example', 'Direction générale', 'report'),
	('piege@societe.example', '=?UTF-8?Q?x?=', 'report'),
	('blanc@societe.example', '   ', 'report'),
	('long@societe.example', 'Service des relances clients de la Société Générale d''Équipements Électriques', 'report'),
	('longascii@societe.example', 'Service des relances clients et du recouvrement des creances impayees', 'report');
SET session_replication_role = replica;	-- past recipient_validate
INSERT INTO kpi_mail.recipient (email, display_name, role) VALUES
	('ctrl@societe.example', E' Jean\t\tDupont\r\nBcc: x@y ', 'report');
RESET session_replication_role;
SELECT pg_temp.show(kpi_mail.build_message(
	ARRAY['Direction@Societe.example', 'roux@societe.example', 'dg@societe.example', 'inconnu@societe.example',
		'piege@societe.example', 'blanc@societe.example', 'ctrl@societe.example',
		'long@societe.example', 'longascii@societe.example'],
	's', 'b', '2026-11-30 07:00:00+01', '<a@b>'));
SELECT kpi_mail.recipient_display_names(ARRAY['Direction@Societe.example', 'inconnu@societe.example', NULL]);
DELETE FROM kpi_mail.recipient;

\pset format aligned
\pset tuples_only off

-- every line ends with CRLF and stays short, whatever the input
SELECT pg_temp.crlf_only(m) AS crlf_only, pg_temp.longest_line(m) AS longest_line
FROM kpi_mail.build_message(ARRAY['d@societe.example'],
	repeat('Dépassement ', 40), repeat('x', 5000) || E'\n' || repeat('€', 2000) || E'\n\r\n\r',
	'2026-11-30 07:00:00+01', '<a@b>') m;

-- a Message-ID is generated when none is given; two are never equal
SELECT m1 ~ E'\r\nMessage-ID: <kpi-mail\\.0\\.[0-9A-F]{32}@societe\\.example>\r\n' AS generated,
	substring(m1 from 'Message-ID: ([^\r]*)') <> substring(m2 from 'Message-ID: ([^\r]*)') AS distinct_ids
FROM kpi_mail.build_message(ARRAY['d@societe.example'], 's', 'b') m1,
	kpi_mail.build_message(ARRAY['d@societe.example'], 's', 'b') m2;

-- the Date zone follows the company time zone
UPDATE kpi_mail.settings SET timezone = 'Asia/Kolkata';
SELECT substring(kpi_mail.build_message(ARRAY['d@societe.example'], 's', 'b', '2026-11-30 07:00:00+01', '<a@b>')
	from '^Date: [^\r]*') AS date_header;
UPDATE kpi_mail.settings SET timezone = 'Europe/Paris';

-- unsafe addresses and Message-IDs are refused (22023)
SELECT kpi_mail.build_message(ARRAY[E'a@b.example>\r\nRCPT TO:<x@y.example'], 's', 'b');
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.build_message(ARRAY['Jean Dupont <jean@societe.example>'], 's', 'b');
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.build_message(ARRAY['ok@societe.example', NULL], 's', 'b');
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.build_message('{}', 's', 'b');
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.build_message(ARRAY['ok@societe.example'], 's', 'b', now(), E'<a@b>\r\nBcc: x@y');
\echo :LAST_ERROR_SQLSTATE

-- smtp_url: smtp:// and smtps:// with a host and a port only (22023)
UPDATE kpi_mail.settings SET smtp_url = 'smtps://127.0.0.1:465';
UPDATE kpi_mail.settings SET smtp_url = 'smtp://mail.societe.example:587/';
UPDATE kpi_mail.settings SET smtp_url = 'smtp://mail.societe.example';
SELECT smtp_url FROM kpi_mail.settings;
UPDATE kpi_mail.settings SET smtp_url = 'imap://mail.societe.example';
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.settings SET smtp_url = 'SMTP://mail.societe.example';
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.settings SET smtp_url = 'smtp:mail.societe.example';
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.settings SET smtp_url = 'smtp://';
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.settings SET smtp_url = 'smtp://kpi@mail.societe.example';
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.settings SET smtp_url = 'smtp://mail.societe.example:25/relay';
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.settings SET smtp_url = 'smtp://mail.societe.example:25?x=1';
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.settings SET smtp_url = E'smtp://mail.societe.example\r\n';
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.settings SET smtp_url = NULL;
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.settings SET smtp_timeout_ms = 3600001;
\echo :LAST_ERROR_SQLSTATE
SELECT smtp_url, smtp_timeout_ms FROM kpi_mail.settings;

-- outbox: the stored Message-ID column; the trigger that starts delivery at commit
SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), d.description
FROM pg_attribute a LEFT JOIN pg_description d ON d.objoid = a.attrelid AND d.objsubid = a.attnum
WHERE a.attrelid = 'kpi_mail.outbox'::regclass AND a.attname = 'mail_message_id';
SELECT tgname, pg_catalog.pg_get_triggerdef(oid) FROM pg_trigger
WHERE tgrelid = 'kpi_mail.outbox'::regclass AND NOT tgisinternal;

-- deliver_outbox() with nothing due sends nothing and leaves rows alone
SET session_replication_role = replica;	-- no commit-started worker for this row
INSERT INTO kpi_mail.outbox (kind, recipients, subject, body, next_attempt_at)
VALUES ('alert', ARRAY['d@societe.example'], 'Plus tard', 'corps', now() + interval '1 day');
RESET session_replication_role;
SELECT kpi_mail.deliver_outbox();
SELECT status, attempts, last_error, mail_message_id FROM kpi_mail.outbox;

-- privileges: SECURITY DEFINER with a fixed search_path, nothing for PUBLIC
SELECT p.oid::regprocedure AS function, p.prosecdef, p.proconfig,
	pg_catalog.has_function_privilege('public', p.oid, 'EXECUTE') AS public_can_execute
FROM pg_proc p
WHERE p.oid IN ('kpi_mail.deliver_outbox()'::regprocedure,
	'kpi_mail.build_message(text[], text, text, timestamptz, text)'::regprocedure,
	'kpi_mail.recipient_display_names(text[])'::regprocedure,
	'kpi_mail.outbox_queued()'::regprocedure)
ORDER BY 1::text;
CREATE ROLE kpi_regress_clerk;
GRANT USAGE ON SCHEMA kpi_mail TO kpi_regress_clerk;
SET ROLE kpi_regress_clerk;
SELECT kpi_mail.deliver_outbox();
\echo :LAST_ERROR_SQLSTATE
SELECT kpi_mail.build_message(ARRAY['d@societe.example'], 's', 'b');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM kpi_mail.outbox;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO kpi_mail.outbox (kind, recipients, subject, body) VALUES ('alert', ARRAY['x@y.example'], 's', 'b');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
REVOKE USAGE ON SCHEMA kpi_mail FROM kpi_regress_clerk;
DROP ROLE kpi_regress_clerk;

DROP EXTENSION kpi_mail;
