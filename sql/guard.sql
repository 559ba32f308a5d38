-- The result guard (§3): NULL and the three allowed values pass; RAS in any
-- spelling, the empty string and any other value are refused with 23514.
SET client_min_messages = warning;
CREATE EXTENSION kpi_mail;
\set SHOW_CONTEXT never

INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, recorded_at)
VALUES ('Boulangerie Martin', 'F2026-0001', '2026-11-02', '2026-11-02 09:00+01');

-- the three allowed values and NULL
UPDATE kpi_mail.payment_reminder SET result = 'délais supplémentaire';
UPDATE kpi_mail.payment_reminder SET result = 'nouvelle relance';
UPDATE kpi_mail.payment_reminder SET result = 'règlement facture';
UPDATE kpi_mail.payment_reminder SET result = NULL;
INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, result)
VALUES ('Cabinet Roux', 'F2026-0002', '2026-11-03', 'nouvelle relance');
SELECT client_name, result FROM kpi_mail.payment_reminder ORDER BY reminder_id;

-- every RAS spelling gets its own message
UPDATE kpi_mail.payment_reminder SET result = 'RAS' WHERE invoice_number = 'F2026-0001';
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.payment_reminder SET result = 'ras' WHERE invoice_number = 'F2026-0001';
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.payment_reminder SET result = ' R.A.S. ' WHERE invoice_number = 'F2026-0001';
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.payment_reminder SET result = 'R A S' WHERE invoice_number = 'F2026-0001';
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.payment_reminder SET result = 'r.a.s' WHERE invoice_number = 'F2026-0001';
\echo :LAST_ERROR_SQLSTATE
INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, result)
VALUES ('Atelier Petit', 'F2026-0003', '2026-11-03', 'Ras.');
\echo :LAST_ERROR_SQLSTATE
-- the empty string (NULL means "not yet")
UPDATE kpi_mail.payment_reminder SET result = '' WHERE invoice_number = 'F2026-0001';
\echo :LAST_ERROR_SQLSTATE
-- unknown values, near misses included
UPDATE kpi_mail.payment_reminder SET result = 'paiement reçu' WHERE invoice_number = 'F2026-0001';
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.payment_reminder SET result = 'Nouvelle relance' WHERE invoice_number = 'F2026-0001';
\echo :LAST_ERROR_SQLSTATE
UPDATE kpi_mail.payment_reminder SET result = 'RASA' WHERE invoice_number = 'F2026-0001';
\echo :LAST_ERROR_SQLSTATE

-- nothing was stored by the refused statements
SELECT client_name, result FROM kpi_mail.payment_reminder ORDER BY reminder_id;

-- clients see the table and the constraint (errtableconstraint)
SET client_min_messages = notice;
DO $$
DECLARE
	state text; msg text; hint text; tab text; sch text; con text;
BEGIN
	UPDATE kpi_mail.payment_reminder SET result = 'RAS';
EXCEPTION WHEN check_violation THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT,
		sch = SCHEMA_NAME, tab = TABLE_NAME, con = CONSTRAINT_NAME;
	RAISE NOTICE 'sqlstate=% schema=% table=% constraint=%', state, sch, tab, con;
	RAISE NOTICE 'message=%', msg;
	RAISE NOTICE 'hint=%', hint;
END
$$ LANGUAGE plpgsql;
SET client_min_messages = warning;

-- the guard is deferrable: a wrong value may be fixed before commit
BEGIN;
SET CONSTRAINTS kpi_mail.result_guard DEFERRED;
UPDATE kpi_mail.payment_reminder SET result = 'RAS' WHERE invoice_number = 'F2026-0001';
UPDATE kpi_mail.payment_reminder SET result = 'nouvelle relance' WHERE invoice_number = 'F2026-0001';
COMMIT;
BEGIN;
SET CONSTRAINTS kpi_mail.result_guard DEFERRED;
UPDATE kpi_mail.payment_reminder SET result = 'RAS' WHERE invoice_number = 'F2026-0001';
COMMIT;
\echo :LAST_ERROR_SQLSTATE
SELECT client_name, result FROM kpi_mail.payment_reminder ORDER BY reminder_id;

-- a deferred check cannot be dodged by updating the row again (another column)
BEGIN;
SET CONSTRAINTS kpi_mail.result_guard DEFERRED;
UPDATE kpi_mail.payment_reminder SET result = 'RAS' WHERE invoice_number = 'F2026-0001';
UPDATE kpi_mail.payment_reminder SET client_name = 'Boulangerie Martin SARL' WHERE invoice_number = 'F2026-0001';
COMMIT;
\echo :LAST_ERROR_SQLSTATE
-- nor by updating an inserted row
BEGIN;
SET CONSTRAINTS ALL DEFERRED;
INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, result)
VALUES ('Atelier Petit', 'F2026-0003', '2026-11-03', 'paiement reçu');
UPDATE kpi_mail.payment_reminder SET client_name = 'Atelier Petit SARL' WHERE invoice_number = 'F2026-0003';
COMMIT;
\echo :LAST_ERROR_SQLSTATE
-- an update of another column of a row committed earlier is not re-checked
UPDATE kpi_mail.payment_reminder SET client_name = 'Cabinet Roux & Associés' WHERE invoice_number = 'F2026-0002';
SELECT client_name, result FROM kpi_mail.payment_reminder ORDER BY reminder_id;

-- a legacy value (imported without the triggers) stays editable on its other
-- columns, even twice in one transaction, deferred or not
SET session_replication_role = replica;
INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, result)
VALUES ('Ancien', 'F2025-0001', '2025-06-02', 'RAS');
RESET session_replication_role;
BEGIN;
UPDATE kpi_mail.payment_reminder SET client_name = 'Ancien Client' WHERE invoice_number = 'F2025-0001';
UPDATE kpi_mail.payment_reminder SET responsible_email = 'suivi@example.fr' WHERE invoice_number = 'F2025-0001';
COMMIT;
BEGIN;
SET CONSTRAINTS ALL DEFERRED;
UPDATE kpi_mail.payment_reminder SET client_name = 'Ancien Client SA' WHERE invoice_number = 'F2025-0001';
UPDATE kpi_mail.payment_reminder SET responsible_email = NULL WHERE invoice_number = 'F2025-0001';
COMMIT;
SELECT client_name, result, responsible_email FROM kpi_mail.payment_reminder WHERE invoice_number = 'F2025-0001';
-- but it cannot be set again once changed
UPDATE kpi_mail.payment_reminder SET result = 'nouvelle relance' WHERE invoice_number = 'F2025-0001';
UPDATE kpi_mail.payment_reminder SET result = 'RAS' WHERE invoice_number = 'F2025-0001';
\echo :LAST_ERROR_SQLSTATE
-- a deferred row deleted before commit is not checked
BEGIN;
SET CONSTRAINTS ALL DEFERRED;
UPDATE kpi_mail.payment_reminder SET result = 'RAS' WHERE invoice_number = 'F2025-0001';
DELETE FROM kpi_mail.payment_reminder WHERE invoice_number = 'F2025-0001';
COMMIT;
SELECT count(*) AS rows_left FROM kpi_mail.payment_reminder WHERE invoice_number = 'F2025-0001';

-- misuse of the trigger function is refused
CREATE TABLE not_a_reminder (x text);
CREATE TRIGGER bad BEFORE INSERT ON not_a_reminder
	FOR EACH ROW EXECUTE FUNCTION kpi_mail.reminder_result_guard('x');
INSERT INTO not_a_reminder VALUES ('a');
CREATE CONSTRAINT TRIGGER bad2 AFTER INSERT ON not_a_reminder
	FOR EACH ROW EXECUTE FUNCTION kpi_mail.reminder_result_guard('missing');
DROP TRIGGER bad ON not_a_reminder;
INSERT INTO not_a_reminder VALUES ('a');
DROP TABLE not_a_reminder;

DROP EXTENSION kpi_mail;
