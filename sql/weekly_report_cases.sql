-- Weekly report (SPEC §4) on small data sets, each with its full text:
-- empty week, percentage rounding, singular/plural, detail cap, control
-- characters, changed thresholds.  Week of 09/02/2026 to 15/02/2026: no
-- public holiday between 01/01/2026 and Easter, so the texts do not depend
-- on the holiday rules.
SET client_min_messages = warning;
CREATE EXTENSION kpi_mail;
\pset format unaligned
\pset tuples_only on

-- 1. Empty week: counts 0, (n.d.), "aucun", no backlog lists.
SELECT kpi_mail.kpi_weekly_report('2026-02-15');

-- 2. Percentage rounding, half away from zero on the exact ratio.
-- 16 invoices: 10 on time (62,5 %), 1 late (1/16 = 6,25 -> 6,3 %),
-- 5 pending (5/16 = 31,25 -> 31,3 %).
INSERT INTO kpi_mail.invoice (invoice_number, client_name, edited_at, sent_on)
SELECT 'R-' || lpad(i::text, 2, '0'), 'Client ' || i,
	CASE WHEN i <= 11 THEN timestamptz '2026-02-09 08:00+00' ELSE timestamptz '2026-02-12 08:00+00' END,
	CASE WHEN i <= 10 THEN date '2026-02-09' END
FROM generate_series(1, 16) AS i;
-- 3 reminders, 2 with result (2/3 -> 66,7 %), 1 missing (33,3 %); the second
-- result has a NULL result_recorded_at (legacy row: recorded long ago), stored
-- with triggers off so that no bookkeeping fills it.
INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, recorded_at, result, result_recorded_at)
VALUES ('Relance Un', 'R-01', '2026-02-10', '2026-02-10 09:00+00', 'nouvelle relance', '2026-02-11 09:00+00');
SET session_replication_role = replica;
INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, recorded_at, result, result_recorded_at)
VALUES ('Relance Deux', 'R-02', '2026-02-11', '2026-02-11 09:00+00', 'règlement facture', NULL);
RESET session_replication_role;
INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, recorded_at, result, result_recorded_at)
VALUES ('Relance Trois', 'R-03', '2026-02-12', '2026-02-12 09:00+00', NULL, NULL);
SELECT kpi_mail.kpi_weekly_report('2026-02-15');

-- 3. Singular and plural, N = 1 and D = 1 in the texts.
TRUNCATE kpi_mail.invoice, kpi_mail.payment_reminder RESTART IDENTITY;
UPDATE kpi_mail.settings SET invoice_max_business_days = 1, reminder_result_days = 1;
INSERT INTO kpi_mail.invoice (invoice_number, client_name, edited_at, sent_on) VALUES
	('P-1', 'Envoyée avec 1 jour de retard', '2026-02-09 08:00+00', '2026-02-11'),
	('P-2', 'Envoyée avec 2 jours de retard', '2026-02-09 08:00+00', '2026-02-12'),
	('P-3', 'Non envoyée, 1 jour de retard', '2026-02-12 08:00+00', NULL),
	('P-4', 'Non envoyée, dans les délais', '2026-02-13 08:00+00', NULL);
INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, recorded_at, result, result_recorded_at) VALUES
	('Sans résultat', 'P-1', '2026-02-10', '2026-02-10 09:00+00', NULL, NULL),
	('Depuis un jour', 'P-0', '2026-02-07', '2026-02-14 22:30+00', NULL, NULL),
	('Depuis deux jours', 'P-00', '2026-02-06', '2026-02-13 20:00+00', NULL, NULL);
SELECT kpi_mail.kpi_weekly_report('2026-02-15');
UPDATE kpi_mail.settings SET invoice_max_business_days = DEFAULT, reminder_result_days = DEFAULT;

-- 4. Detail cap: detail_limit = 2; lists of 3, 4, 5 and exactly 2 entries.
TRUNCATE kpi_mail.invoice, kpi_mail.payment_reminder RESTART IDENTITY;
UPDATE kpi_mail.settings SET detail_limit = 2;
INSERT INTO kpi_mail.invoice (invoice_number, client_name, edited_at, sent_on) VALUES
	('C-03', 'Trois', '2026-02-09 08:00+00', NULL),
	('C-01', 'Un', '2026-02-09 08:00+00', NULL),
	('C-02', 'Deux', '2026-02-09 08:00+00', NULL),
	('B-1', 'Ancienne 1', '2026-01-12 08:00+00', NULL),
	('B-2', 'Ancienne 2', '2026-01-13 08:00+00', NULL),
	('B-3', 'Ancienne 3', '2026-01-14 08:00+00', NULL),
	('B-4', 'Ancienne 4', '2026-01-15 08:00+00', NULL);
INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, recorded_at)
SELECT 'Client ' || i, 'M-' || i, date '2026-02-08' + i, timestamptz '2026-02-08 09:00+00' + i * interval '1 day'
FROM generate_series(1, 5) AS i;
INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, recorded_at) VALUES
	('Ancien A', 'M-A', '2026-01-20', '2026-01-20 09:00+00'),
	('Ancien B', 'M-B', '2026-01-21', '2026-01-21 09:00+00');
SELECT kpi_mail.kpi_weekly_report('2026-02-15');
-- the figures keep the full lists
\pset tuples_only off
SELECT jsonb_array_length(f #> '{invoices,late_details}') AS late,
	jsonb_array_length(f #> '{invoices,backlog_details}') AS invoice_backlog,
	jsonb_array_length(f #> '{reminders,missing_details}') AS missing,
	jsonb_array_length(f #> '{reminders,backlog_details}') AS reminder_backlog
FROM kpi_mail.kpi_weekly_figures('2026-02-15') AS f;
\pset tuples_only on
UPDATE kpi_mail.settings SET detail_limit = DEFAULT;

-- 5. Control characters (CR, LF, TAB, other C0, DEL) become one space each.
TRUNCATE kpi_mail.invoice, kpi_mail.payment_reminder RESTART IDENTITY;
INSERT INTO kpi_mail.invoice (invoice_number, client_name, edited_at, sent_on) VALUES
	(E'F-\r\n01', E'A\tB\x01C\x1fD\x7fE', '2026-02-09 08:00+00', NULL);
INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, recorded_at) VALUES
	(E'Client\r\nSubject: piège', E'X\x0bY\x1bZ', '2026-02-10', '2026-02-10 09:00+00'),
	(E'Ancien\x7f', E'\n', '2026-02-02', '2026-02-02 09:00+00');
SELECT kpi_mail.kpi_weekly_report('2026-02-15');
\pset tuples_only off
SELECT kpi_mail.kpi_weekly_report('2026-02-15') ~ '[\x01-\x09\x0b-\x1f\x7f]' AS has_control_chars,
	kpi_mail.kpi_weekly_figures('2026-02-15') #>> '{invoices,late_details,0,invoice_number}' = E'F-\r\n01' AS figures_keep_raw_values;
\pset tuples_only on

-- 6. Changed thresholds: N = 2, D = 3, backlog_weeks = 1 (backlog from 02/02).
TRUNCATE kpi_mail.invoice, kpi_mail.payment_reminder RESTART IDENTITY;
UPDATE kpi_mail.settings SET invoice_max_business_days = 2, reminder_result_days = 3, backlog_weeks = 1;
INSERT INTO kpi_mail.invoice (invoice_number, client_name, edited_at, sent_on) VALUES
	('S-1', 'Trois jours', '2026-02-09 08:00+00', '2026-02-12'),
	('S-2', 'Un jour', '2026-02-11 08:00+00', '2026-02-12'),
	('S-3', 'En attente', '2026-02-12 08:00+00', NULL),
	('S-4', 'Semaine précédente', '2026-02-03 08:00+00', NULL),
	('S-5', 'Hors fenêtre', '2026-01-30 08:00+00', NULL);
INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, recorded_at) VALUES
	('Cette semaine', 'S-1', '2026-02-10', '2026-02-10 09:00+00'),
	('Dix jours', 'S-4', '2026-02-05', '2026-02-05 09:00+00'),
	('Trois jours', 'S-4', '2026-02-06', '2026-02-12 21:00+00'),
	('Pas encore', 'S-4', '2026-02-06', '2026-02-13 09:00+00'),
	('Hors fenêtre', 'S-5', '2026-01-30', '2026-01-30 09:00+00');
SELECT kpi_mail.kpi_weekly_report('2026-02-15');
UPDATE kpi_mail.settings SET invoice_max_business_days = DEFAULT, reminder_result_days = DEFAULT, backlog_weeks = DEFAULT;
-- same data with the default thresholds (N = 4, D = 8, 12 weeks)
SELECT kpi_mail.kpi_weekly_report('2026-02-15');

DROP EXTENSION kpi_mail;
