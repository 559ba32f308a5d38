-- Invoice and reminder date validations (§9): 23514, clear French messages,
-- nothing stored; the edition date is taken in the company time zone.
SET client_min_messages = warning;
CREATE EXTENSION kpi_mail;
\set SHOW_CONTEXT never

-- 2026-11-22 23:40 UTC is 23/11/2026 00:40 in Paris: the edition date is 23/11
INSERT INTO kpi_mail.invoice (invoice_number, client_name, edited_at)
VALUES ('F2026-1109', 'Clinique Vétérinaire Morel', '2026-11-22 23:40:00+00');

-- before the edition date, whatever the session's TimeZone
SET TimeZone = 'UTC';
UPDATE kpi_mail.invoice SET sent_on = '2026-11-22' WHERE invoice_number = 'F2026-1109';
\echo :LAST_ERROR_SQLSTATE
SET TimeZone = 'America/New_York';
UPDATE kpi_mail.invoice SET sent_on = '2026-11-22' WHERE invoice_number = 'F2026-1109';
\echo :LAST_ERROR_SQLSTATE
INSERT INTO kpi_mail.invoice (invoice_number, client_name, edited_at, sent_on)
VALUES ('F2026-1200', 'Atelier Petit', '2026-11-10 12:00:00+01', '2026-11-09');
\echo :LAST_ERROR_SQLSTATE
RESET TimeZone;
-- the edition day itself is fine
UPDATE kpi_mail.invoice SET sent_on = '2026-11-23' WHERE invoice_number = 'F2026-1109';
-- moving the edition after the send date is refused too
UPDATE kpi_mail.invoice SET edited_at = '2026-11-24 08:00:00+01' WHERE invoice_number = 'F2026-1109';
\echo :LAST_ERROR_SQLSTATE
SELECT invoice_number, sent_on, edited_at AT TIME ZONE 'Europe/Paris' AS edited_paris
FROM kpi_mail.invoice ORDER BY invoice_number;

-- with the company in UTC, the same invoice was edited on 22/11
UPDATE kpi_mail.settings SET timezone = 'UTC';
UPDATE kpi_mail.invoice SET sent_on = '2026-11-22' WHERE invoice_number = 'F2026-1109';
SELECT invoice_number, sent_on FROM kpi_mail.invoice ORDER BY invoice_number;
UPDATE kpi_mail.settings SET timezone = 'Europe/Paris';
-- an unrelated change does not re-check a row that became inconsistent
UPDATE kpi_mail.invoice SET client_name = 'Clinique Vétérinaire Morel SAS' WHERE invoice_number = 'F2026-1109';
SELECT invoice_number, client_name, sent_on FROM kpi_mail.invoice ORDER BY invoice_number;

-- after today (company time zone): refused; today: accepted
\set VERBOSITY terse
INSERT INTO kpi_mail.invoice (invoice_number, client_name, edited_at, sent_on)
VALUES ('F2026-1201', 'Cabinet Roux', now() - interval '2 days', kpi_mail.today() + 1);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO kpi_mail.invoice (invoice_number, client_name, edited_at, sent_on)
VALUES ('F2026-1201', 'Cabinet Roux', now() - interval '2 days', kpi_mail.today());
SELECT sent_on = kpi_mail.today() AS sent_today FROM kpi_mail.invoice WHERE invoice_number = 'F2026-1201';

INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on)
VALUES ('Cabinet Roux', 'F2026-1201', kpi_mail.today() + 1);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number)
VALUES ('Cabinet Roux', 'F2026-1201');
UPDATE kpi_mail.payment_reminder SET reminded_on = reminded_on + 1;
\echo :LAST_ERROR_SQLSTATE
SELECT reminded_on = kpi_mail.today() AS reminded_today, recorded_at = now() AS recorded_now
FROM kpi_mail.payment_reminder;
-- a deferred check cannot be dodged by updating the row again
BEGIN;
SET CONSTRAINTS ALL DEFERRED;
UPDATE kpi_mail.invoice SET sent_on = kpi_mail.today() + 1 WHERE invoice_number = 'F2026-1201';
UPDATE kpi_mail.invoice SET client_name = 'Cabinet Roux SAS' WHERE invoice_number = 'F2026-1201';
COMMIT;
\echo :LAST_ERROR_SQLSTATE
BEGIN;
SET CONSTRAINTS ALL DEFERRED;
UPDATE kpi_mail.payment_reminder SET reminded_on = kpi_mail.today() + 1;
UPDATE kpi_mail.payment_reminder SET client_name = 'Cabinet Roux SAS';
COMMIT;
\echo :LAST_ERROR_SQLSTATE
SELECT sent_on = kpi_mail.today() AS sent_today, client_name FROM kpi_mail.invoice WHERE invoice_number = 'F2026-1201';
SELECT reminded_on = kpi_mail.today() AS reminded_today, client_name FROM kpi_mail.payment_reminder;
\set VERBOSITY default

-- the responsible person's address (§9): a plain address or nothing
INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, responsible_email)
VALUES ('Atelier Petit', 'F2026-1203', '2026-11-02', 'pas une adresse');
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.payment_reminder SET responsible_email = E'claire@example.fr\r\nBcc: x@example.invalid';
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.payment_reminder SET responsible_email = '  Claire.Petit@example.fr ';
SELECT responsible_email FROM kpi_mail.payment_reminder;
UPDATE kpi_mail.payment_reminder SET responsible_email = '   ';
SELECT count(*) AS reminders, count(responsible_email) AS with_responsible FROM kpi_mail.payment_reminder;

-- full message, detail and hint (fixed dates)
INSERT INTO kpi_mail.invoice (invoice_number, client_name, edited_at, sent_on)
VALUES ('F2026-1202', 'Imprimerie Blanc', '2026-11-20 09:00:00+01', '2026-11-19');

DROP EXTENSION kpi_mail;
