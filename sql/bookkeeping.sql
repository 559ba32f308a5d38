-- result_recorded_at and recorded_at bookkeeping (§3).
SET client_min_messages = warning;
CREATE EXTENSION kpi_mail;

BEGIN;
-- defaults: recorded_at = now(); no result, no result time
INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on)
VALUES ('Boulangerie Martin', 'F2026-0001', '2026-11-02');
-- a result given on INSERT: recorded now
INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, result)
VALUES ('Cabinet Roux', 'F2026-0002', '2026-11-02', 'nouvelle relance');
-- an import of history: the given result time is kept
INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, recorded_at, result, result_recorded_at)
VALUES ('Atelier Petit', 'F2026-0003', '2026-11-02', '2026-11-02 09:00+01', 'règlement facture', '2026-11-05 10:00+01');
-- a result time without result is dropped
INSERT INTO kpi_mail.payment_reminder (client_name, invoice_number, reminded_on, result_recorded_at)
VALUES ('Imprimerie Blanc', 'F2026-0004', '2026-11-02', '2026-11-05 10:00+01');
SELECT invoice_number, recorded_at = now() AS recorded_now,
	result_recorded_at = now() AS result_now, result_recorded_at IS NULL AS no_result_time
FROM kpi_mail.payment_reminder ORDER BY reminder_id;
SELECT result_recorded_at AT TIME ZONE 'Europe/Paris' AS imported
FROM kpi_mail.payment_reminder WHERE invoice_number = 'F2026-0003';
COMMIT;

-- UPDATE: a new or changed result is recorded now; an unchanged one keeps its time
BEGIN;
UPDATE kpi_mail.payment_reminder SET result = 'délais supplémentaire' WHERE invoice_number = 'F2026-0001';
UPDATE kpi_mail.payment_reminder SET client_name = 'Atelier Petit SARL', result_recorded_at = now()
WHERE invoice_number = 'F2026-0003';
SELECT invoice_number, result, result_recorded_at = now() AS result_now
FROM kpi_mail.payment_reminder WHERE invoice_number IN ('F2026-0001', 'F2026-0003') ORDER BY 1;
SELECT result_recorded_at AT TIME ZONE 'Europe/Paris' AS kept
FROM kpi_mail.payment_reminder WHERE invoice_number = 'F2026-0003';
-- changing the value records it anew; clearing it clears the time
UPDATE kpi_mail.payment_reminder SET result = 'nouvelle relance' WHERE invoice_number = 'F2026-0003';
UPDATE kpi_mail.payment_reminder SET result = NULL WHERE invoice_number = 'F2026-0002';
SELECT invoice_number, result, result_recorded_at = now() AS result_now, result_recorded_at IS NULL AS cleared
FROM kpi_mail.payment_reminder WHERE invoice_number IN ('F2026-0002', 'F2026-0003') ORDER BY 1;
COMMIT;

DROP EXTENSION kpi_mail;
