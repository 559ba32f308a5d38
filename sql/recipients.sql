-- §9 recipient addresses and display names, and mail_from: bad input is
-- refused with a French message and SQLSTATE 22023, nothing is stored.
SET client_min_messages = warning;
\set SHOW_CONTEXT never
CREATE EXTENSION kpi_mail;

\i sql/include/try.sql

-- Good input.
INSERT INTO kpi_mail.recipient (email, display_name, role) VALUES
	('direction@example.fr', 'Direction financière', 'report'),
	('a.b+kpi@sub.example.fr', NULL, 'alert'),
	('Compta@Example.FR', 'Service « Comptabilité »', 'alert');
SELECT email, display_name, role FROM kpi_mail.recipient ORDER BY recipient_id;

-- Bad input, one statement each.
SELECT pg_catalog.replace(pg_catalog.replace(t.command, E'\r', '\r'), E'\n', '\n') AS command,
	   pg_catalog.replace(pg_temp.try(t.command), E'\r', '\r') AS result
FROM (VALUES
	('INSERT INTO kpi_mail.recipient (email, role) VALUES (''pas-une-adresse'', ''alert'')'),
	('INSERT INTO kpi_mail.recipient (email, role) VALUES ('''', ''alert'')'),
	('INSERT INTO kpi_mail.recipient (email, role) VALUES (''Direction <direction@example.fr>'', ''alert'')'),
	('INSERT INTO kpi_mail.recipient (email, role) VALUES (''a@b.fr, c@d.fr'', ''alert'')'),
	('INSERT INTO kpi_mail.recipient (email, role) VALUES ('' direction@example.fr'', ''alert'')'),
	(E'INSERT INTO kpi_mail.recipient (email, role) VALUES (E''x@example.fr\\r\\nBcc: pirate@example.com'', ''alert'')'),
	(E'INSERT INTO kpi_mail.recipient (email, role) VALUES (E''x@example.fr\\n'', ''alert'')'),
	(E'INSERT INTO kpi_mail.recipient (email, display_name, role) VALUES (''x@example.fr'', E''Nom\\r\\nBcc: pirate@example.com'', ''alert'')'),
	(E'INSERT INTO kpi_mail.recipient (email, display_name, role) VALUES (''x@example.fr'', E''Nom\\tPrénom'', ''alert'')'),
	('INSERT INTO kpi_mail.recipient (email, role) VALUES (''x@example.fr'', ''patron'')'),
	('UPDATE kpi_mail.recipient SET email = ''direction@'' WHERE role = ''report'''),
	(E'UPDATE kpi_mail.recipient SET display_name = E''Direction\\n'' WHERE role = ''report''')
) AS t(command);
SELECT email, display_name, role FROM kpi_mail.recipient ORDER BY recipient_id;

-- mail_from: same rules (settings validation; the value quoted in the
-- message is left out here).
SELECT pg_catalog.replace(pg_catalog.replace(t.command, E'\r', '\r'), E'\n', '\n') AS command,
	   pg_catalog.split_part(pg_temp.try(t.command), ' : ', 1) AS result
FROM (VALUES
	('UPDATE kpi_mail.settings SET mail_from = ''pas-une-adresse'''),
	('UPDATE kpi_mail.settings SET mail_from = '''''),
	('UPDATE kpi_mail.settings SET mail_from = ''KPI <kpi@example.fr>'''),
	(E'UPDATE kpi_mail.settings SET mail_from = E''kpi@example.fr\\r\\nBcc: pirate@example.com'''),
	('UPDATE kpi_mail.settings SET mail_from = ''kpi@example.fr''')
) AS t(command);
SELECT mail_from FROM kpi_mail.settings;

-- the one address rule (C, shared with the message builder): local part of
-- atext and dots, host labels of 1 to 63 letters, digits and inner '-'
SELECT CASE WHEN length(a) > 40 THEN length(a) || ' octets' ELSE a END AS address,
	kpi_mail.is_valid_email(a) AS valid
FROM unnest(ARRAY['a@b', 'a.b@c.d', 'x@-a.fr', 'x@a-.fr', 'x@a..fr', 'x@.a', 'x@a.', '@a.fr', 'a@@b',
	'a b@c', 'é@a.fr', 'x@' || repeat('a', 63) || '.fr', 'x@' || repeat('a', 64) || '.fr', 'a@b-c.d',
	NULL, '', 'x@a.fr.', 'x@1.2.3.4', 'a!#$%&''*+/=?^_`{|}~-.@x.fr', repeat('a', 243) || '@example.fr',
	repeat('a', 244) || '@example.fr']) AS t(a);

DROP EXTENSION kpi_mail;
