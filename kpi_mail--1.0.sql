/* kpi_mail--1.0.sql
 *
 * Weekly KPI mail and alerts for invoices and payment reminders, computed in
 * PostgreSQL with French business days.  See README.md and SPEC sections (§).
 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION kpi_mail" to load this file. \quit

-- The script creates schema kpi_mail itself, so that it is a member of the
-- extension and DROP EXTENSION removes it (a schema named in the control
-- file would be left behind); the control file names pg_catalog, as pg_cron.
CREATE SCHEMA kpi_mail;
COMMENT ON SCHEMA kpi_mail IS 'Indicateurs hebdomadaires (factures, relances) et alertes par mail';

CREATE FUNCTION kpi_mail.kpi_mail_version()
RETURNS text
AS 'MODULE_PATHNAME', 'kpi_mail_version'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION kpi_mail.kpi_mail_version() IS 'Version de la bibliothèque kpi_mail chargée';

/* ======================================================================
 * Settings (§6): one row, edited with UPDATE, validated by a trigger.
 * ====================================================================== */

CREATE TABLE kpi_mail.settings (
	singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	smtp_url text NOT NULL DEFAULT 'smtp://127.0.0.1:25',
	smtp_username text,
	smtp_password text,
	smtp_tls text NOT NULL DEFAULT 'try',
	smtp_timeout_ms integer NOT NULL DEFAULT 30000,
	mail_from text NOT NULL DEFAULT 'kpi-mail@localhost',
	timezone text NOT NULL DEFAULT 'Europe/Paris',
	holiday_calendar text NOT NULL DEFAULT 'FR',
	invoice_max_business_days integer NOT NULL DEFAULT 4,
	reminder_result_days integer NOT NULL DEFAULT 8,
	detail_limit integer NOT NULL DEFAULT 50,
	backlog_weeks integer NOT NULL DEFAULT 12,
	alert_repeat_days integer NOT NULL DEFAULT 0,
	report_weekday integer NOT NULL DEFAULT 1,
	report_time time NOT NULL DEFAULT '07:00'
);
COMMENT ON TABLE kpi_mail.settings IS 'Paramètres de kpi_mail (une seule ligne, modifiée par UPDATE)';
COMMENT ON COLUMN kpi_mail.settings.singleton IS 'Toujours vrai : la table n''a qu''une ligne';
COMMENT ON COLUMN kpi_mail.settings.smtp_url IS 'Serveur SMTP : smtp://hôte:port ou smtps://hôte:port';
COMMENT ON COLUMN kpi_mail.settings.smtp_username IS 'Identifiant SMTP (vide : pas d''authentification)';
COMMENT ON COLUMN kpi_mail.settings.smtp_password IS 'Mot de passe SMTP (jamais affiché dans settings_public)';
COMMENT ON COLUMN kpi_mail.settings.smtp_tls IS 'Chiffrement : none, try (STARTTLS si proposé) ou require';
COMMENT ON COLUMN kpi_mail.settings.smtp_timeout_ms IS 'Délai maximal d''un envoi SMTP, en millisecondes';
COMMENT ON COLUMN kpi_mail.settings.mail_from IS 'Adresse d''expédition des mails';
COMMENT ON COLUMN kpi_mail.settings.timezone IS 'Fuseau horaire de l''entreprise (ex. Europe/Paris)';
COMMENT ON COLUMN kpi_mail.settings.holiday_calendar IS 'Calendrier des jours fériés : FR, FR-ALSACE-MOSELLE ou WEEKENDS-ONLY';
COMMENT ON COLUMN kpi_mail.settings.invoice_max_business_days IS 'Délai maximal d''envoi d''une facture, en jours ouvrés';
COMMENT ON COLUMN kpi_mail.settings.reminder_result_days IS 'Délai de saisie du résultat d''une relance, en jours';
COMMENT ON COLUMN kpi_mail.settings.detail_limit IS 'Nombre maximal de lignes par liste de détails du rapport';
COMMENT ON COLUMN kpi_mail.settings.backlog_weeks IS 'Nombre de semaines précédentes examinées pour les retards anciens';
COMMENT ON COLUMN kpi_mail.settings.alert_repeat_days IS 'Répétition des alertes tous les N jours (0 : une seule alerte)';
COMMENT ON COLUMN kpi_mail.settings.report_weekday IS 'Jour d''envoi du rapport hebdomadaire (ISO : 1 = lundi)';
COMMENT ON COLUMN kpi_mail.settings.report_time IS 'Heure d''envoi du rapport hebdomadaire, dans le fuseau de l''entreprise';

INSERT INTO kpi_mail.settings DEFAULT VALUES;

/* §1: the calendar names the C code knows. */
CREATE FUNCTION kpi_mail.calendar_is_known(calendar text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'kpi_calendar_is_known'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION kpi_mail.calendar_is_known(text) IS 'Vrai si le calendrier de jours fériés est connu';

/* Validates a settings row with French messages before it is stored. */
CREATE FUNCTION kpi_mail.settings_validate()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- Keep a single row: an INSERT (as pg_restore does) replaces the existing one.
	IF TG_OP = 'INSERT' THEN
		DELETE FROM kpi_mail.settings;
	END IF;
	IF NEW.timezone IS NULL OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names WHERE name = NEW.timezone) THEN
		RAISE EXCEPTION 'fuseau horaire inconnu : %', pg_catalog.to_json(NEW.timezone)::text
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Utilisez un nom IANA, par exemple Europe/Paris (voir pg_timezone_names).';
	END IF;
	IF NOT kpi_mail.calendar_is_known(NEW.holiday_calendar) THEN
		RAISE EXCEPTION 'calendrier de jours fériés inconnu : %', pg_catalog.to_json(NEW.holiday_calendar)::text
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Valeurs possibles : FR, FR-ALSACE-MOSELLE, WEEKENDS-ONLY.';
	END IF;
	PERFORM kpi_mail.check_threshold('invoice_max_business_days', NEW.invoice_max_business_days, 1, 366);
	PERFORM kpi_mail.check_threshold('reminder_result_days', NEW.reminder_result_days, 1, 366);
	PERFORM kpi_mail.check_threshold('detail_limit', NEW.detail_limit, 1, 10000);
	PERFORM kpi_mail.check_threshold('backlog_weeks', NEW.backlog_weeks, 1, 366);
	PERFORM kpi_mail.check_threshold('alert_repeat_days', NEW.alert_repeat_days, 0, 366);
	PERFORM kpi_mail.check_threshold('report_weekday', NEW.report_weekday, 1, 7);
	PERFORM kpi_mail.check_threshold('smtp_timeout_ms', NEW.smtp_timeout_ms, 1, 3600000);
	IF NEW.report_time IS NULL THEN
		RAISE EXCEPTION 'l''heure d''envoi du rapport (report_time) est obligatoire'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF NEW.smtp_url IS NULL OR NEW.smtp_url !~ '^smtps?://[^/?#@[:space:]]+(:[0-9]{1,5})?/?$' THEN
		RAISE EXCEPTION 'adresse de serveur SMTP invalide : %', pg_catalog.to_json(NEW.smtp_url)::text
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Seuls les schémas smtp:// et smtps:// sont acceptés, par exemple smtp://mail.example.fr:587.';
	END IF;
	IF NEW.smtp_tls IS NULL OR NEW.smtp_tls NOT IN ('none', 'try', 'require') THEN
		RAISE EXCEPTION 'mode TLS SMTP invalide : %', pg_catalog.to_json(NEW.smtp_tls)::text
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Valeurs possibles : none, try, require.';
	END IF;
	IF NOT kpi_mail.is_valid_email(NEW.mail_from) THEN
		RAISE EXCEPTION 'adresse d''expédition invalide : %', pg_catalog.to_json(NEW.mail_from)::text
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Indiquez une adresse simple, par exemple kpi@example.fr, sans retour à la ligne.';
	END IF;
	RETURN NEW;
END
$$;

/* Raises 22023 when a numeric setting lies outside [low, high]. */
CREATE FUNCTION kpi_mail.check_threshold(setting_name text, value integer, low integer, high integer)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF value IS NULL OR value < low OR value > high THEN
		RAISE EXCEPTION 'valeur invalide pour % : %', setting_name, coalesce(value::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = pg_catalog.format('La valeur doit être comprise entre %s et %s.', low, high);
	END IF;
END
$$;

/* A plain addr-spec (local@domain), no display name, no CR/LF or spaces. */
CREATE FUNCTION kpi_mail.is_valid_email(address text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN address IS NOT NULL
	AND pg_catalog.length(address) <= 254
	AND address ~ '^[A-Za-z0-9.!#$%&''*+/=?^_`{|}~-]+@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$';
COMMENT ON FUNCTION kpi_mail.is_valid_email(text) IS 'Vrai si le texte est une adresse e-mail simple (local@domaine)';

CREATE TRIGGER settings_validate
	BEFORE INSERT OR UPDATE ON kpi_mail.settings
	FOR EACH ROW EXECUTE FUNCTION kpi_mail.settings_validate();

/* The date of now() in the company time zone. */
CREATE FUNCTION kpi_mail.today()
RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN (pg_catalog.now() AT TIME ZONE (SELECT s.timezone FROM kpi_mail.settings s))::date;
COMMENT ON FUNCTION kpi_mail.today() IS 'Date du jour dans le fuseau horaire de l''entreprise';

/* ======================================================================
 * §1 Calendar: business days, holidays, company overrides.
 * ====================================================================== */

CREATE TABLE kpi_mail.calendar_override (
	day date PRIMARY KEY,
	is_business_day boolean NOT NULL,
	label text
);
COMMENT ON TABLE kpi_mail.calendar_override IS 'Exceptions au calendrier : fermeture de l''entreprise ou jour férié travaillé';
COMMENT ON COLUMN kpi_mail.calendar_override.day IS 'Jour concerné';
COMMENT ON COLUMN kpi_mail.calendar_override.is_business_day IS 'Vrai : jour travaillé ; faux : jour non travaillé';
COMMENT ON COLUMN kpi_mail.calendar_override.label IS 'Motif (ex. Pont de l''Ascension)';

/*
 * Business days (C, calendar.c).  STABLE: they read the setting
 * holiday_calendar and kpi_mail.calendar_override, once per query.  Dates
 * outside 0001-01-01 .. 9999-12-31 (and infinity) raise 22008.
 */
CREATE FUNCTION kpi_mail.business_days_between(from_date date, to_date date)
RETURNS integer
AS 'MODULE_PATHNAME', 'kpi_mail_business_days_between'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION kpi_mail.business_days_between(date, date) IS
	'Nombre de jours ouvrés d tels que from_date < d <= to_date (négatif si to_date précède from_date)';

CREATE FUNCTION kpi_mail.add_business_days(d date, n integer)
RETURNS date
AS 'MODULE_PATHNAME', 'kpi_mail_add_business_days'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION kpi_mail.add_business_days(date, integer) IS
	'N-ième jour ouvré après d (n > 0), d lui-même (n = 0), ou dernier jour ouvré e < d tel que business_days_between(e, d) = -n (n < 0)';

CREATE FUNCTION kpi_mail.is_business_day(d date)
RETURNS boolean
AS 'MODULE_PATHNAME', 'kpi_mail_is_business_day'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION kpi_mail.is_business_day(date) IS
	'Vrai si d est un jour ouvré (lundi à vendredi hors jours fériés, sauf exception de calendar_override)';

/*
 * public_holidays(year) uses the configured calendar; public_holidays(year,
 * calendar) a named one.  Two STRICT overloads rather than one function with
 * "calendar text DEFAULT NULL": a STRICT function would return no row for
 * the default NULL.
 */
CREATE FUNCTION kpi_mail.public_holidays(year integer)
RETURNS TABLE(day date, name text)
AS 'MODULE_PATHNAME', 'kpi_mail_public_holidays'
LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 13;
COMMENT ON FUNCTION kpi_mail.public_holidays(integer) IS
	'Jours fériés de l''année dans le calendrier configuré (holiday_calendar), par date, avec leur nom';

CREATE FUNCTION kpi_mail.public_holidays(year integer, calendar text)
RETURNS TABLE(day date, name text)
AS 'MODULE_PATHNAME', 'kpi_mail_public_holidays'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 13;
COMMENT ON FUNCTION kpi_mail.public_holidays(integer, text) IS
	'Jours fériés de l''année dans le calendrier nommé (FR, FR-ALSACE-MOSELLE, WEEKENDS-ONLY), par date, avec leur nom';

CREATE FUNCTION kpi_mail.easter_sunday(year integer)
RETURNS date
AS 'MODULE_PATHNAME', 'kpi_mail_easter_sunday'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION kpi_mail.easter_sunday(integer) IS
	'Dimanche de Pâques (calendrier grégorien) de l''année, de 1 à 9999';

/* ======================================================================
 * §2 Invoices.
 * ====================================================================== */

CREATE TABLE kpi_mail.invoice (
	invoice_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	invoice_number text NOT NULL UNIQUE,
	client_name text NOT NULL,
	edited_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	sent_on date
);
COMMENT ON TABLE kpi_mail.invoice IS 'Factures clients';
COMMENT ON COLUMN kpi_mail.invoice.invoice_id IS 'Identifiant interne de la facture';
COMMENT ON COLUMN kpi_mail.invoice.invoice_number IS 'Numéro de Facture';
COMMENT ON COLUMN kpi_mail.invoice.client_name IS 'Nom du Client';
COMMENT ON COLUMN kpi_mail.invoice.edited_at IS 'Date d''Édition de la Facture';
COMMENT ON COLUMN kpi_mail.invoice.sent_on IS 'Date d''Envoi de la Facture';

/*
 * §9: the send date lies between the edition date (company time zone) and
 * today.  Arguments: the send-date column, the edition column.
 */
CREATE FUNCTION kpi_mail.invoice_sent_on_guard()
RETURNS trigger
AS 'MODULE_PATHNAME', 'invoice_sent_on_guard'
LANGUAGE C;
COMMENT ON FUNCTION kpi_mail.invoice_sent_on_guard() IS 'Trigger : la date d''envoi d''une facture est comprise entre sa date d''édition et aujourd''hui';

CREATE CONSTRAINT TRIGGER sent_on_guard
	AFTER INSERT OR UPDATE OF sent_on, edited_at ON kpi_mail.invoice
	DEFERRABLE INITIALLY IMMEDIATE
	FOR EACH ROW EXECUTE FUNCTION kpi_mail.invoice_sent_on_guard('sent_on', 'edited_at');

/* ======================================================================
 * §3 Payment reminders and the result guard.
 * ====================================================================== */

CREATE TABLE kpi_mail.payment_reminder (
	reminder_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	client_name text NOT NULL,
	invoice_number text NOT NULL,
	reminded_on date NOT NULL DEFAULT kpi_mail.today(),
	recorded_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	result text,
	result_recorded_at timestamptz,
	responsible_email text
);
COMMENT ON TABLE kpi_mail.payment_reminder IS 'Relances encours clients';
COMMENT ON COLUMN kpi_mail.payment_reminder.reminder_id IS 'Identifiant interne de la relance';
COMMENT ON COLUMN kpi_mail.payment_reminder.client_name IS 'Nom du Client';
COMMENT ON COLUMN kpi_mail.payment_reminder.invoice_number IS 'Numéro de Facture';
COMMENT ON COLUMN kpi_mail.payment_reminder.reminded_on IS 'Date de Relance';
COMMENT ON COLUMN kpi_mail.payment_reminder.recorded_at IS 'Date de Saisie de la Relance';
COMMENT ON COLUMN kpi_mail.payment_reminder.result IS 'Résultat de la Relance';
COMMENT ON COLUMN kpi_mail.payment_reminder.result_recorded_at IS 'Date de Saisie du Résultat';
COMMENT ON COLUMN kpi_mail.payment_reminder.responsible_email IS 'E-mail du Responsable de la Relance';

/*
 * §3: the result is NULL or one of the three allowed values; the old "RAS"
 * is refused with its own message.  Argument: the result column.
 */
CREATE FUNCTION kpi_mail.reminder_result_guard()
RETURNS trigger
AS 'MODULE_PATHNAME', 'reminder_result_guard'
LANGUAGE C;
COMMENT ON FUNCTION kpi_mail.reminder_result_guard() IS 'Trigger de contrainte : résultat de relance NULL ou l''une des trois valeurs autorisées (RAS interdit)';

/* §3: maintains the time a result was recorded.  Arguments: result column, its time column. */
CREATE FUNCTION kpi_mail.reminder_result_bookkeeping()
RETURNS trigger
AS 'MODULE_PATHNAME', 'reminder_result_bookkeeping'
LANGUAGE C;
COMMENT ON FUNCTION kpi_mail.reminder_result_bookkeeping() IS 'Trigger : tient à jour la date de saisie du résultat de la relance';

/* §9: the reminder date is not after today.  Argument: the reminder-date column. */
CREATE FUNCTION kpi_mail.reminder_date_guard()
RETURNS trigger
AS 'MODULE_PATHNAME', 'reminder_date_guard'
LANGUAGE C;
COMMENT ON FUNCTION kpi_mail.reminder_date_guard() IS 'Trigger : la date de relance n''est pas postérieure à aujourd''hui';

CREATE CONSTRAINT TRIGGER result_guard
	AFTER INSERT OR UPDATE OF result ON kpi_mail.payment_reminder
	DEFERRABLE INITIALLY IMMEDIATE
	FOR EACH ROW EXECUTE FUNCTION kpi_mail.reminder_result_guard('result');

CREATE TRIGGER result_bookkeeping
	BEFORE INSERT OR UPDATE ON kpi_mail.payment_reminder
	FOR EACH ROW EXECUTE FUNCTION kpi_mail.reminder_result_bookkeeping('result', 'result_recorded_at');

CREATE CONSTRAINT TRIGGER reminded_on_guard
	AFTER INSERT OR UPDATE OF reminded_on ON kpi_mail.payment_reminder
	DEFERRABLE INITIALLY IMMEDIATE
	FOR EACH ROW EXECUTE FUNCTION kpi_mail.reminder_date_guard('reminded_on');

/* ======================================================================
 * Sources (§8 seam): where the indicators read invoices and reminders.
 * ====================================================================== */

/*
 * source_query(kind) returns the SQL text of a query with the normalized
 * columns the indicators read:
 *   invoices:  invoice_number text, client_name text, edited_on date, sent_on date
 *   reminders: reminder_id bigint, client_name text, invoice_number text,
 *              reminded_on date, recorded_at timestamptz, result text,
 *              result_recorded_at timestamptz, responsible_email text
 * Attaching the company's own tables (§8) changes this text, not the code
 * that computes the indicators.
 */
CREATE FUNCTION kpi_mail.source_query(kind text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tz text := (SELECT s.timezone FROM kpi_mail.settings s);
BEGIN
	IF kind = 'invoices' THEN
		RETURN pg_catalog.format(
			'SELECT i.invoice_number::text AS invoice_number, i.client_name::text AS client_name, '
			'(i.edited_at AT TIME ZONE %L)::date AS edited_on, i.sent_on::date AS sent_on '
			'FROM kpi_mail.invoice i', tz);
	ELSIF kind = 'reminders' THEN
		RETURN pg_catalog.format(
			'SELECT r.reminder_id::bigint AS reminder_id, r.client_name::text AS client_name, '
			'r.invoice_number::text AS invoice_number, r.reminded_on::date AS reminded_on, '
			'r.recorded_at AS recorded_at, r.result::text AS result, '
			'r.result_recorded_at AS result_recorded_at, r.responsible_email::text AS responsible_email '
			'FROM kpi_mail.payment_reminder r');
	END IF;
	RAISE EXCEPTION 'type de source inconnu : %', pg_catalog.quote_literal(kind)
		USING ERRCODE = 'invalid_parameter_value',
		      HINT = 'Valeurs possibles : invoices, reminders.';
END
$$;
COMMENT ON FUNCTION kpi_mail.source_query(text) IS 'Requête SQL normalisée de la source des factures ou des relances';

/* ======================================================================
 * §2/§4 Indicators, the invoice_kpi view and the weekly report.
 * ====================================================================== */

-- [see indicators.c and report.c]

/*
 * The weekly report (§4).  Not STRICT: a NULL period end means yesterday in
 * the company time zone.  PARALLEL RESTRICTED: they run the source query
 * through SPI, and an attached source may name temporary or unsafe objects.
 */
CREATE FUNCTION kpi_mail.kpi_weekly_report(period_end date DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'kpi_weekly_report'
LANGUAGE C STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, kpi_mail, pg_temp;
COMMENT ON FUNCTION kpi_mail.kpi_weekly_report(date) IS
	'Texte du rapport hebdomadaire pour la semaine se terminant à la date donnée (NULL : hier)';

CREATE FUNCTION kpi_mail.kpi_weekly_figures(period_end date DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'kpi_weekly_figures'
LANGUAGE C STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, kpi_mail, pg_temp;
COMMENT ON FUNCTION kpi_mail.kpi_weekly_figures(date) IS
	'Chiffres du rapport hebdomadaire en jsonb, avec les listes complètes (NULL : semaine se terminant hier)';

/* §2: every invoice of the source evaluated today (tz); behind the invoice_kpi view. */
CREATE FUNCTION kpi_mail.invoice_kpi_rows(
	OUT invoice_number text,
	OUT client_name text,
	OUT edited_on date,
	OUT deadline date,
	OUT sent_on date,
	OUT delay_business_days integer,
	OUT status text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'kpi_invoice_kpi_rows'
LANGUAGE C STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, kpi_mail, pg_temp;
COMMENT ON FUNCTION kpi_mail.invoice_kpi_rows() IS
	'Lignes de la vue invoice_kpi : chaque facture de la source évaluée à la date du jour';

CREATE VIEW kpi_mail.invoice_kpi AS
	SELECT r.invoice_number, r.client_name, r.edited_on, r.deadline, r.sent_on,
		r.delay_business_days, r.status
	FROM kpi_mail.invoice_kpi_rows() AS r;
COMMENT ON VIEW kpi_mail.invoice_kpi IS
	'Délai d''envoi de chaque facture, évalué à la date du jour dans le fuseau de l''entreprise';
COMMENT ON COLUMN kpi_mail.invoice_kpi.invoice_number IS 'Numéro de Facture';
COMMENT ON COLUMN kpi_mail.invoice_kpi.client_name IS 'Nom du Client';
COMMENT ON COLUMN kpi_mail.invoice_kpi.edited_on IS 'Date d''Édition de la Facture (fuseau de l''entreprise)';
COMMENT ON COLUMN kpi_mail.invoice_kpi.deadline IS 'Date Limite d''Envoi : dernier jour ouvré pour envoyer la facture dans les délais';
COMMENT ON COLUMN kpi_mail.invoice_kpi.sent_on IS 'Date d''Envoi de la Facture';
COMMENT ON COLUMN kpi_mail.invoice_kpi.delay_business_days IS 'Délai d''Envoi en jours ouvrés (facture envoyée au plus tard aujourd''hui ; vide sinon)';
COMMENT ON COLUMN kpi_mail.invoice_kpi.status IS 'Statut : on_time (envoyée dans les délais), late (en retard) ou pending (en attente, délai non échu)';

/* ======================================================================
 * §5/§6 Recipients, outbox, delivery, alerts, schedule.
 * ====================================================================== */

CREATE TABLE kpi_mail.recipient (
	recipient_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	email text NOT NULL,
	display_name text,
	role text NOT NULL,
	CONSTRAINT recipient_role_check CHECK (role IN ('report', 'alert'))
);
CREATE UNIQUE INDEX recipient_email_role_key ON kpi_mail.recipient (pg_catalog.lower(email), role);
COMMENT ON TABLE kpi_mail.recipient IS 'Destinataires des mails : rôle report (rapport hebdomadaire) ou alert (alertes)';
COMMENT ON COLUMN kpi_mail.recipient.recipient_id IS 'Identifiant interne du destinataire';
COMMENT ON COLUMN kpi_mail.recipient.email IS 'Adresse e-mail';
COMMENT ON COLUMN kpi_mail.recipient.display_name IS 'Nom affiché';
COMMENT ON COLUMN kpi_mail.recipient.role IS 'Rôle : report (rapport hebdomadaire) ou alert (alertes)';

/*
 * Every mail is first a row here, committed with the transaction that queued
 * it; delivery reads the outbox (§6).
 */
CREATE TABLE kpi_mail.outbox (
	message_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind text NOT NULL,
	period_end date,
	forced boolean NOT NULL DEFAULT false,
	reminder_source text,
	reminder_id bigint,
	recipients text[] NOT NULL,
	subject text NOT NULL,
	body text NOT NULL,
	status text NOT NULL DEFAULT 'pending',
	attempts integer NOT NULL DEFAULT 0,
	next_attempt_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	last_error text,
	smtp_reply text,
	queued_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	sent_at timestamptz,
	CONSTRAINT outbox_kind_check CHECK (kind IN ('weekly_report', 'alert')),
	CONSTRAINT outbox_status_check CHECK (status IN ('pending', 'sent', 'failed'))
);
-- At most one weekly report per period unless forced (§6).
CREATE UNIQUE INDEX outbox_one_report_per_period ON kpi_mail.outbox (period_end)
	WHERE kind = 'weekly_report' AND NOT forced;
CREATE INDEX outbox_due ON kpi_mail.outbox (next_attempt_at) WHERE status = 'pending';
COMMENT ON TABLE kpi_mail.outbox IS 'Mails en attente d''envoi ou envoyés';
COMMENT ON COLUMN kpi_mail.outbox.message_id IS 'Identifiant interne du message';
COMMENT ON COLUMN kpi_mail.outbox.kind IS 'Type : weekly_report (rapport hebdomadaire) ou alert (alerte)';
COMMENT ON COLUMN kpi_mail.outbox.period_end IS 'Rapport : dernier jour de la période';
COMMENT ON COLUMN kpi_mail.outbox.forced IS 'Rapport : envoi forcé (en plus du rapport de la période)';
COMMENT ON COLUMN kpi_mail.outbox.reminder_source IS 'Alerte : table source de la relance';
COMMENT ON COLUMN kpi_mail.outbox.reminder_id IS 'Alerte : identifiant de la relance';
COMMENT ON COLUMN kpi_mail.outbox.recipients IS 'Adresses des destinataires';
COMMENT ON COLUMN kpi_mail.outbox.subject IS 'Objet du mail';
COMMENT ON COLUMN kpi_mail.outbox.body IS 'Corps du mail';
COMMENT ON COLUMN kpi_mail.outbox.status IS 'État : pending (à envoyer), sent (envoyé) ou failed (abandonné)';
COMMENT ON COLUMN kpi_mail.outbox.attempts IS 'Nombre de tentatives d''envoi';
COMMENT ON COLUMN kpi_mail.outbox.next_attempt_at IS 'Prochaine tentative d''envoi';
COMMENT ON COLUMN kpi_mail.outbox.last_error IS 'Dernière erreur d''envoi';
COMMENT ON COLUMN kpi_mail.outbox.smtp_reply IS 'Réponse du serveur SMTP';
COMMENT ON COLUMN kpi_mail.outbox.queued_at IS 'Mise en file d''attente';
COMMENT ON COLUMN kpi_mail.outbox.sent_at IS 'Envoi accepté par le serveur SMTP';

/* One row per alerted reminder: one reminder never gets the same alert twice (§5). */
CREATE TABLE kpi_mail.alert_log (
	reminder_source text NOT NULL,
	reminder_id bigint NOT NULL,
	first_alerted_at timestamptz NOT NULL,
	last_alerted_at timestamptz NOT NULL,
	alert_count integer NOT NULL DEFAULT 1,
	PRIMARY KEY (reminder_source, reminder_id)
);
COMMENT ON TABLE kpi_mail.alert_log IS 'Relances ayant déjà fait l''objet d''une alerte';

-- [delivery: more]

/* ======================================================================
 * §8 Attaching the company's own tables.
 * ====================================================================== */

-- [attach]

/* ======================================================================
 * §7 Privileges and pg_dump.
 * ====================================================================== */

SELECT pg_catalog.pg_extension_config_dump('kpi_mail.settings', '');
SELECT pg_catalog.pg_extension_config_dump('kpi_mail.calendar_override', '');
SELECT pg_catalog.pg_extension_config_dump('kpi_mail.invoice', '');
SELECT pg_catalog.pg_extension_config_dump('kpi_mail.payment_reminder', '');
SELECT pg_catalog.pg_extension_config_dump('kpi_mail.invoice_invoice_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('kpi_mail.payment_reminder_reminder_id_seq', '');

SELECT pg_catalog.pg_extension_config_dump('kpi_mail.recipient', '');
SELECT pg_catalog.pg_extension_config_dump('kpi_mail.recipient_recipient_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('kpi_mail.outbox', '');
SELECT pg_catalog.pg_extension_config_dump('kpi_mail.outbox_message_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('kpi_mail.alert_log', '');

REVOKE ALL ON kpi_mail.settings FROM PUBLIC;
REVOKE ALL ON kpi_mail.outbox FROM PUBLIC;
-- [privileges: more]
