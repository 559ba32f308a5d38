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
	-- host name, IPv4 or [IPv6], then an optional port
	IF NEW.smtp_url IS NULL OR NEW.smtp_url !~ '^smtps?://(\[[0-9A-Fa-f:.]+\]|[^][/?#@:[:space:]]+)(:[0-9]{1,5})?/?$'
	   OR COALESCE(pg_catalog.substring(NEW.smtp_url, ':([0-9]{1,5})/?$')::integer, 25) NOT BETWEEN 1 AND 65535 THEN
		RAISE EXCEPTION 'adresse de serveur SMTP invalide : %', pg_catalog.to_json(NEW.smtp_url)::text
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Seuls les schémas smtp:// et smtps:// sont acceptés, avec un port de 1 à 65535, par exemple smtp://mail.example.fr:587.';
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
AS 'MODULE_PATHNAME', 'kpi_is_valid_email'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION kpi_mail.is_valid_email(text) IS 'Vrai si le texte est une adresse e-mail simple (local@domaine)';

COMMENT ON FUNCTION kpi_mail.settings_validate() IS 'Trigger : vérifie les paramètres (messages en français) ; un INSERT remplace la ligne';
COMMENT ON FUNCTION kpi_mail.check_threshold(text, integer, integer, integer) IS 'Erreur 22023 si un paramètre numérique sort de ses bornes';

CREATE TRIGGER settings_validate
	BEFORE INSERT OR UPDATE ON kpi_mail.settings
	FOR EACH ROW EXECUTE FUNCTION kpi_mail.settings_validate();

/*
 * The settings row cannot be deleted (everything reads it); only the
 * replacement done by settings_validate on INSERT, one trigger level down,
 * may delete it.
 */
CREATE FUNCTION kpi_mail.settings_keep_row()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF TG_OP = 'DELETE' AND pg_catalog.pg_trigger_depth() > 1 THEN
		RETURN OLD;
	END IF;
	RAISE EXCEPTION 'la ligne de kpi_mail.settings ne peut pas être supprimée'
		USING ERRCODE = 'object_not_in_prerequisite_state',
		      HINT = 'Modifiez les paramètres avec UPDATE kpi_mail.settings SET … ; un INSERT remplace la ligne.';
END
$$;

COMMENT ON FUNCTION kpi_mail.settings_keep_row() IS 'Trigger : la ligne des paramètres ne peut pas être supprimée';

CREATE TRIGGER settings_keep_row
	BEFORE DELETE ON kpi_mail.settings
	FOR EACH ROW EXECUTE FUNCTION kpi_mail.settings_keep_row();
CREATE TRIGGER settings_keep_row_truncate
	BEFORE TRUNCATE ON kpi_mail.settings
	FOR EACH STATEMENT EXECUTE FUNCTION kpi_mail.settings_keep_row();

/*
 * The date of now() in the company time zone, and that time zone.  C
 * (settings.c): they read the settings with the extension owner's rights,
 * so every role gets them without any privilege on kpi_mail.settings (§7).
 */
CREATE FUNCTION kpi_mail.today()
RETURNS date
AS 'MODULE_PATHNAME', 'kpi_mail_today'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION kpi_mail.today() IS 'Date du jour dans le fuseau horaire de l''entreprise';

CREATE FUNCTION kpi_mail.company_timezone()
RETURNS text
AS 'MODULE_PATHNAME', 'kpi_mail_company_timezone'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION kpi_mail.company_timezone() IS 'Fuseau horaire de l''entreprise (paramètre timezone)';

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
	AFTER INSERT OR UPDATE ON kpi_mail.invoice
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
	AFTER INSERT OR UPDATE ON kpi_mail.payment_reminder
	DEFERRABLE INITIALLY IMMEDIATE
	FOR EACH ROW EXECUTE FUNCTION kpi_mail.reminder_result_guard('result');

CREATE TRIGGER result_bookkeeping
	BEFORE INSERT OR UPDATE ON kpi_mail.payment_reminder
	FOR EACH ROW EXECUTE FUNCTION kpi_mail.reminder_result_bookkeeping('result', 'result_recorded_at');

CREATE CONSTRAINT TRIGGER reminded_on_guard
	AFTER INSERT OR UPDATE ON kpi_mail.payment_reminder
	DEFERRABLE INITIALLY IMMEDIATE
	FOR EACH ROW EXECUTE FUNCTION kpi_mail.reminder_date_guard('reminded_on');

/* §9: the person to alert besides the managers has a plain e-mail address. */
CREATE FUNCTION kpi_mail.responsible_email_validate()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- spaces typed around the address are dropped; blank means nobody
	NEW.responsible_email := NULLIF(pg_catalog.btrim(NEW.responsible_email), '');
	IF NEW.responsible_email IS NOT NULL AND NOT kpi_mail.is_valid_email(NEW.responsible_email) THEN
		RAISE EXCEPTION 'adresse e-mail du responsable invalide : %', pg_catalog.to_json(NEW.responsible_email)::text
			USING ERRCODE = 'check_violation',
			      HINT = 'Indiquez une seule adresse simple, par exemple prenom.nom@example.fr, ou laissez le champ vide.',
			      TABLE = TG_TABLE_NAME, SCHEMA = TG_TABLE_SCHEMA, CONSTRAINT = TG_NAME;
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION kpi_mail.responsible_email_validate() IS 'Trigger : l''e-mail du responsable d''une relance est une adresse simple';

CREATE TRIGGER responsible_email_validate
	BEFORE INSERT OR UPDATE OF responsible_email ON kpi_mail.payment_reminder
	FOR EACH ROW EXECUTE FUNCTION kpi_mail.responsible_email_validate();

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
 * that computes the indicators.  C code runs it through source.c, which
 * reads an attached relation with its owner's rights, like a view; SQL code
 * reads reminders through reminder_source_rows() below.
 */
CREATE FUNCTION kpi_mail.source_query(kind text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tz text := kpi_mail.company_timezone();
	attached text := kpi_mail.attached_source_query(kind);
BEGIN
	-- §8: an attached table of the company replaces the built-in one.
	IF attached IS NOT NULL THEN
		RETURN attached;
	END IF;
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

/*
 * Every row of the reminder source with the normalized columns of
 * source_query('reminders'), read by source.c: an attached relation with its
 * owner's rights (the caller needs SELECT on it, as on a view).
 */
CREATE FUNCTION kpi_mail.reminder_source_rows(
	OUT reminder_id bigint,
	OUT client_name text,
	OUT invoice_number text,
	OUT reminded_on date,
	OUT recorded_at timestamptz,
	OUT result text,
	OUT result_recorded_at timestamptz,
	OUT responsible_email text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'kpi_reminder_source_rows'
LANGUAGE C STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, kpi_mail, pg_temp;
COMMENT ON FUNCTION kpi_mail.reminder_source_rows() IS
	'Lignes de la source des relances (table intégrée ou table attachée, lue avec les droits de son propriétaire)';

/* ======================================================================
 * §2/§4 Indicators, the invoice_kpi view and the weekly report.
 * ====================================================================== */


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

/*
 * §3: the reminders overdue at as_of (no result at as_of, result due at or
 * before it), with the rule and the reading of the weekly report (C,
 * indicators.c); send_alerts selects from it.
 */
CREATE FUNCTION kpi_mail.overdue_reminders(
	as_of timestamptz,
	OUT reminder_id bigint,
	OUT client_name text,
	OUT invoice_number text,
	OUT reminded_on date,
	OUT recorded_at timestamptz,
	OUT result_due_at timestamptz,
	OUT days_without_result integer,
	OUT responsible_email text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'kpi_overdue_reminders'
LANGUAGE C STABLE STRICT PARALLEL RESTRICTED
SET search_path = pg_catalog, kpi_mail, pg_temp;
COMMENT ON FUNCTION kpi_mail.overdue_reminders(timestamptz) IS
	'Relances sans résultat dont le délai de saisie est échu à l''instant donné, par date de saisie';

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
	mail_message_id text,
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
COMMENT ON COLUMN kpi_mail.outbox.mail_message_id IS 'En-tête Message-ID du mail (fixé au premier essai, gardé pour les suivants)';

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

-- What mail to queue (alerts, weekly report), the schedule, recipient
-- validation.  Mail is only ever queued as rows of kpi_mail.outbox; delivery
-- (kpi_mail.deliver_outbox and the after-commit trigger) follows below.

/* The exact alert body of §5 (C: shares the formatting rules of the report). */
CREATE FUNCTION kpi_mail.alert_body(client_name text, invoice_number text, reminded_on date,
									recorded_at timestamptz, as_of timestamptz, timezone text)
RETURNS text
AS 'MODULE_PATHNAME', 'kpi_alert_body'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION kpi_mail.alert_body(text, text, date, timestamptz, timestamptz, text) IS 'Corps du mail d''alerte d''une relance sans résultat (usage interne de send_alerts)';

/*
 * The addresses in order, without NULLs, empty strings and case-insensitive
 * duplicates (the first spelling is kept).
 */
CREATE FUNCTION kpi_mail.merge_addresses(addresses text[])
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN ARRAY(
	SELECT f.address
	FROM (SELECT DISTINCT ON (pg_catalog.lower(u.address)) u.address, u.position
		  FROM pg_catalog.unnest(addresses) WITH ORDINALITY AS u(address, position)
		  WHERE u.address <> ''
		  ORDER BY pg_catalog.lower(u.address), u.position) AS f
	ORDER BY f.position);
COMMENT ON FUNCTION kpi_mail.merge_addresses(text[]) IS 'Adresses dans l''ordre, sans doublon (casse ignorée, première graphie conservée)';

/*
 * §5: queues one alert per reminder overdue at as_of that has not been
 * alerted yet (or, when alert_repeat_days > 0, was last alerted at least that
 * many days before as_of, on the wall clock of the company time zone).
 *
 * Reminders are read only through overdue_reminders(as_of), which applies
 * the §3 rule of the weekly report (legacy rows, RAS, hold a result, so they
 * never alert) and reads an attached table with its owner's rights.
 *
 * One alert per reminder whatever the concurrency: the claim is the
 * INSERT ... ON CONFLICT DO UPDATE ... WHERE on alert_log's primary key.  A
 * second caller waits for the first one's row lock, then sees its committed
 * row: the WHERE (repeat condition) is false, RETURNING gives nothing and no
 * mail is queued.  If the first caller rolls back, its claim and its mail
 * vanish together, and the second one queues the alert.
 *
 * Recipients: every recipient of role alert (in recipient_id order), then the
 * reminder's responsible_email, duplicates removed ignoring case.  An invalid
 * responsible_email is left out with a WARNING.  With no recipient at all, no
 * mail is queued and the reminder is NOT marked as alerted (so its alert goes
 * out once a recipient exists); one WARNING per call says how many reminders
 * were skipped.  Returns the number of alerts queued.
 */
CREATE FUNCTION kpi_mail.send_alerts(as_of timestamptz DEFAULT pg_catalog.now())
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, kpi_mail, pg_temp
AS $$
DECLARE
	cfg record;
	source_name text := kpi_mail.reminder_source_name();
	alert_recipients text[];
	responsible text;
	addresses text[];
	claimed boolean;
	reminder record;
	queued integer := 0;
	without_recipient integer := 0;
BEGIN
	IF as_of IS NULL OR NOT pg_catalog.isfinite(as_of) THEN
		RAISE EXCEPTION 'instant de référence des alertes invalide : %', coalesce(as_of::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Appelez kpi_mail.send_alerts() sans argument pour utiliser l''instant présent.';
	END IF;
	SELECT s.timezone, s.alert_repeat_days INTO cfg FROM kpi_mail.settings s;
	alert_recipients := ARRAY(
		SELECT r.email FROM kpi_mail.recipient r WHERE r.role = 'alert' ORDER BY r.recipient_id);

	FOR reminder IN
		SELECT o.reminder_id, o.client_name, o.invoice_number, o.reminded_on, o.recorded_at,
		       o.responsible_email
		FROM kpi_mail.overdue_reminders(as_of) AS o
		-- not alerted yet, or due for a repeat (checked again when claiming)
		WHERE NOT EXISTS (
		      SELECT 1 FROM kpi_mail.alert_log l
		      WHERE l.reminder_source = source_name AND l.reminder_id = o.reminder_id
		        AND (cfg.alert_repeat_days = 0
		             OR ((l.last_alerted_at AT TIME ZONE cfg.timezone)
		                 + pg_catalog.make_interval(days => cfg.alert_repeat_days)) AT TIME ZONE cfg.timezone > as_of))
		ORDER BY o.recorded_at, o.reminder_id
	LOOP
		responsible := pg_catalog.btrim(reminder.responsible_email);
		IF responsible <> '' AND NOT kpi_mail.is_valid_email(responsible) THEN
			RAISE WARNING 'adresse du responsable invalide pour la relance % : elle est ignorée', reminder.reminder_id
				USING HINT = 'Corrigez responsible_email : une adresse simple, par exemple prenom.nom@example.fr.';
			responsible := NULL;
		END IF;
		addresses := kpi_mail.merge_addresses(alert_recipients || responsible);
		IF pg_catalog.cardinality(addresses) = 0 THEN
			without_recipient := without_recipient + 1;
			CONTINUE;
		END IF;

		claimed := NULL;
		INSERT INTO kpi_mail.alert_log AS l (reminder_source, reminder_id, first_alerted_at, last_alerted_at)
		VALUES (source_name, reminder.reminder_id, as_of, as_of)
		ON CONFLICT (reminder_source, reminder_id) DO UPDATE
			SET last_alerted_at = EXCLUDED.last_alerted_at,
			    alert_count = l.alert_count + 1
			WHERE cfg.alert_repeat_days > 0
			  AND ((l.last_alerted_at AT TIME ZONE cfg.timezone)
			       + pg_catalog.make_interval(days => cfg.alert_repeat_days)) AT TIME ZONE cfg.timezone <= as_of
		RETURNING true INTO claimed;
		IF claimed IS NULL THEN
			CONTINUE;			-- another call alerted it meanwhile
		END IF;

		INSERT INTO kpi_mail.outbox (kind, reminder_source, reminder_id, recipients, subject, body)
		VALUES ('alert', source_name, reminder.reminder_id, addresses,
				'Alerte de Suivi Manquant pour Relance Client',
				kpi_mail.alert_body(reminder.client_name, reminder.invoice_number, reminder.reminded_on,
									reminder.recorded_at, as_of, cfg.timezone));
		queued := queued + 1;
	END LOOP;

	IF without_recipient > 0 THEN
		RAISE WARNING 'aucun destinataire d''alerte : % relance(s) sans résultat n''ont pas fait l''objet d''une alerte', without_recipient
			USING DETAIL = 'Aucun destinataire de rôle alert et aucun responsible_email valide pour ces relances ; elles seront signalées dès qu''un destinataire existera.',
			      HINT = 'Ajoutez un destinataire, par exemple : INSERT INTO kpi_mail.recipient (email, role) VALUES (''direction@example.fr'', ''alert'');';
	END IF;
	RETURN queued;
END
$$;
COMMENT ON FUNCTION kpi_mail.send_alerts(timestamptz) IS 'Met en file une alerte par relance sans résultat après le délai ; renvoie le nombre d''alertes';

/*
 * §6: queues the weekly report of the period ending period_end (NULL:
 * yesterday in the company time zone) as ONE message to every recipient of
 * role report (all in To, in recipient_id order).
 *
 * Subject (French, dates DD/MM/YYYY, S = P - 6):
 *   Rapport hebdomadaire des indicateurs – semaine du {S} au {P}
 * Body: kpi_mail.kpi_weekly_report(P) (which rejects a future P with 22023).
 *
 * At most one report per period unless force: a second, non-forced call is a
 * no-op with a NOTICE and returns NULL; two concurrent calls are settled by
 * the unique index outbox_one_report_per_period (ON CONFLICT DO NOTHING).
 * force => true queues another copy (forced = true) when the period already
 * has its report; when it has none, the copy is the period's report.
 * No report recipient: error 55000 (object_not_in_prerequisite_state).
 * Returns the message_id of the queued message, or NULL.
 */
CREATE FUNCTION kpi_mail.send_weekly_report(period_end date DEFAULT NULL, force boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, kpi_mail, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	p date := coalesce(send_weekly_report.period_end, kpi_mail.today() - 1);
	again boolean := coalesce(send_weekly_report.force, false);
	report_recipients text[];
	existing bigint;
	mail_subject text;
	mail_body text;
	queued_id bigint;
BEGIN
	report_recipients := kpi_mail.merge_addresses(ARRAY(
		SELECT r.email FROM kpi_mail.recipient r WHERE r.role = 'report' ORDER BY r.recipient_id));
	IF pg_catalog.cardinality(report_recipients) = 0 THEN
		RAISE EXCEPTION 'aucun destinataire pour le rapport hebdomadaire'
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      HINT = 'Ajoutez au moins un destinataire de rôle report, par exemple : INSERT INTO kpi_mail.recipient (email, role) VALUES (''direction@example.fr'', ''report'');';
	END IF;

	SELECT o.message_id INTO existing
	FROM kpi_mail.outbox o
	WHERE o.kind = 'weekly_report' AND o.period_end = p AND NOT o.forced;
	IF existing IS NOT NULL AND NOT again THEN
		RAISE NOTICE 'le rapport hebdomadaire de la période du % au % est déjà en file (message %) : rien n''est ajouté',
			pg_catalog.to_char(p - 6, 'DD/MM/YYYY'), pg_catalog.to_char(p, 'DD/MM/YYYY'), existing
			USING HINT = 'Pour l''envoyer une nouvelle fois, appelez kpi_mail.send_weekly_report(période, force => true).';
		RETURN NULL;
	END IF;

	mail_body := kpi_mail.kpi_weekly_report(p);
	mail_subject := pg_catalog.format('Rapport hebdomadaire des indicateurs – semaine du %s au %s',
									  pg_catalog.to_char(p - 6, 'DD/MM/YYYY'), pg_catalog.to_char(p, 'DD/MM/YYYY'));

	INSERT INTO kpi_mail.outbox (kind, period_end, forced, recipients, subject, body)
	VALUES ('weekly_report', p, false, report_recipients, mail_subject, mail_body)
	ON CONFLICT (period_end) WHERE kind = 'weekly_report' AND NOT forced DO NOTHING
	RETURNING message_id INTO queued_id;
	IF queued_id IS NULL THEN
		-- the period already has its report (possibly queued concurrently)
		IF NOT again THEN
			RAISE NOTICE 'le rapport hebdomadaire de la période du % au % vient d''être mis en file par une autre session : rien n''est ajouté',
				pg_catalog.to_char(p - 6, 'DD/MM/YYYY'), pg_catalog.to_char(p, 'DD/MM/YYYY');
			RETURN NULL;
		END IF;
		INSERT INTO kpi_mail.outbox (kind, period_end, forced, recipients, subject, body)
		VALUES ('weekly_report', p, true, report_recipients, mail_subject, mail_body)
		RETURNING message_id INTO queued_id;
	END IF;
	RETURN queued_id;
END
$$;
COMMENT ON FUNCTION kpi_mail.send_weekly_report(date, boolean) IS 'Met en file le rapport hebdomadaire de la période (un seul par période sauf force) ; renvoie l''identifiant du message ou NULL';

/*
 * §6 schedule decision: the end P of the period whose weekly report is due at
 * as_of and not queued yet, else NULL.  Computed on the wall clock of the
 * company time zone (so DST is handled): W = the latest date with ISO weekday
 * report_weekday whose report_time has come at as_of; P = W - 1 (for the
 * default Monday 07:00, the Sunday before).  Only the last completed period is
 * considered, so a missed run is caught up once, and a period that has any
 * report (forced or not, whatever its delivery status) is never sent again.
 */
CREATE FUNCTION kpi_mail.due_report_period(as_of timestamptz DEFAULT pg_catalog.now())
RETURNS date
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, kpi_mail, pg_temp
AS $$
DECLARE
	cfg record;
	local_now timestamp;
	report_day date;
BEGIN
	IF as_of IS NULL OR NOT pg_catalog.isfinite(as_of) THEN
		RETURN NULL;
	END IF;
	SELECT s.timezone, s.report_weekday, s.report_time INTO cfg FROM kpi_mail.settings s;
	local_now := as_of AT TIME ZONE cfg.timezone;
	report_day := local_now::date
		- (pg_catalog.date_part('isodow', local_now)::integer - cfg.report_weekday + 7) % 7;
	IF report_day = local_now::date AND local_now::time < cfg.report_time THEN
		report_day := report_day - 7;
	END IF;
	IF EXISTS (SELECT 1 FROM kpi_mail.outbox o
			   WHERE o.kind = 'weekly_report' AND o.period_end = report_day - 1) THEN
		RETURN NULL;
	END IF;
	RETURN report_day - 1;
END
$$;
COMMENT ON FUNCTION kpi_mail.due_report_period(timestamptz) IS 'Fin de la période dont le rapport hebdomadaire est dû à cet instant et pas encore mis en file (NULL sinon)';

/*
 * §6: what pg_cron runs.  A PROCEDURE so that each step commits on its own:
 *   1. the weekly report, if due (due_report_period); while no recipient of
 *      role report exists it is skipped with a WARNING and caught up later;
 *   2. the alerts due at as_of (send_alerts);
 *   3. the outbox retry, kpi_mail.deliver_outbox(), when that function exists.
 * Committing before step 3 matters: delivery must never see mail that a
 * later rollback would cancel.  A failing step 1 or 2 gives a WARNING, the
 * next steps still run, and the procedure ends with an error (so that
 * cron.job_run_details shows the failure).
 *
 * Not SECURITY DEFINER and without SET search_path on purpose: PostgreSQL
 * forbids COMMIT in such procedures.  It does nothing by itself: every step
 * is a SECURITY DEFINER function that PUBLIC may not execute, every name is
 * qualified.  Call it outside an explicit transaction block (CALL at top
 * level, as pg_cron does).
 */
CREATE PROCEDURE kpi_mail.run_scheduled(as_of timestamptz DEFAULT pg_catalog.now())
LANGUAGE plpgsql
AS $$
DECLARE
	period date;
	failures text[] := '{}';
BEGIN
	BEGIN
		period := kpi_mail.due_report_period(as_of);
		IF period IS NOT NULL THEN
			PERFORM kpi_mail.send_weekly_report(period);
		END IF;
	EXCEPTION
		WHEN object_not_in_prerequisite_state THEN
			RAISE WARNING 'rapport hebdomadaire non envoyé : %', SQLERRM;
		WHEN OTHERS THEN
			RAISE WARNING 'rapport hebdomadaire non envoyé : % (SQLSTATE %)', SQLERRM, SQLSTATE;
			failures := failures || pg_catalog.format('rapport hebdomadaire : %s (SQLSTATE %s)', SQLERRM, SQLSTATE);
	END;
	COMMIT;

	BEGIN
		PERFORM kpi_mail.send_alerts(as_of);
	EXCEPTION
		WHEN OTHERS THEN
			RAISE WARNING 'alertes non envoyées : % (SQLSTATE %)', SQLERRM, SQLSTATE;
			failures := failures || pg_catalog.format('alertes : %s (SQLSTATE %s)', SQLERRM, SQLSTATE);
	END;
	COMMIT;

	IF pg_catalog.to_regprocedure('kpi_mail.deliver_outbox()') IS NOT NULL THEN
		EXECUTE 'SELECT kpi_mail.deliver_outbox()';
		COMMIT;
	END IF;

	IF pg_catalog.cardinality(failures) > 0 THEN
		RAISE EXCEPTION 'kpi_mail.run_scheduled : % étape(s) en échec', pg_catalog.cardinality(failures)
			USING DETAIL = pg_catalog.array_to_string(failures, E'\n'),
			      HINT = 'Les autres étapes ont été exécutées ; corrigez la cause puis attendez le passage suivant.';
	END IF;
END
$$;
COMMENT ON PROCEDURE kpi_mail.run_scheduled(timestamptz) IS 'Tâche planifiée : rapport hebdomadaire dû, alertes, nouvel essai d''envoi des mails en attente';

/*
 * The command of the pg_cron job.  It removes its own job once kpi_mail is
 * gone: DROP EXTENSION kpi_mail cannot delete rows of cron.job (no event
 * trigger, by choice), so the job unschedules itself at its next run instead
 * of failing every quarter of an hour.  (unschedule_jobs() before DROP
 * EXTENSION removes it at once.)
 */
CREATE FUNCTION kpi_mail.scheduled_command()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN 'DO $kpi_mail$ BEGIN IF pg_catalog.to_regprocedure(''kpi_mail.run_scheduled(timestamp with time zone)'') IS NULL '
	'THEN PERFORM cron.unschedule(''kpi_mail_run_scheduled''); ELSE CALL kpi_mail.run_scheduled(); END IF; END $kpi_mail$';
COMMENT ON FUNCTION kpi_mail.scheduled_command() IS 'Commande SQL de la tâche pg_cron kpi_mail_run_scheduled';

/* Raises 55000 with a hint when pg_cron (1.4 or later) is not usable here. */
CREATE FUNCTION kpi_mail.require_pg_cron()
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cron_db text := pg_catalog.current_setting('cron.database_name', true);
BEGIN
	IF pg_catalog.to_regnamespace('cron') IS NULL THEN
		RAISE EXCEPTION 'l''extension pg_cron n''est pas installée dans la base %', pg_catalog.quote_ident(pg_catalog.current_database())
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      DETAIL = CASE WHEN cron_db IS NULL OR cron_db = '' THEN 'pg_cron n''est pas chargé par le serveur (shared_preload_libraries).'
			                    ELSE pg_catalog.format('pg_cron est configuré pour la base %s (cron.database_name).', pg_catalog.quote_ident(cron_db)) END,
			      HINT = 'Ajoutez pg_cron à shared_preload_libraries, réglez cron.database_name sur cette base, redémarrez le serveur, puis exécutez CREATE EXTENSION pg_cron; avant kpi_mail.schedule_jobs().';
	END IF;
	IF pg_catalog.to_regprocedure('cron.schedule_in_database(text,text,text,text,text,boolean)') IS NULL THEN
		RAISE EXCEPTION 'la version installée de pg_cron est trop ancienne'
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      DETAIL = 'kpi_mail a besoin de cron.schedule_in_database (pg_cron 1.4 ou plus récent).',
			      HINT = 'Mettez pg_cron à jour, puis exécutez ALTER EXTENSION pg_cron UPDATE;';
	END IF;
END
$$;
COMMENT ON FUNCTION kpi_mail.require_pg_cron() IS 'Erreur explicite si pg_cron (1.4 ou plus récent) n''est pas installé dans la base';

/*
 * §6: creates or replaces the pg_cron job kpi_mail_run_scheduled in the
 * current database, run as the current role (which therefore needs EXECUTE
 * on run_scheduled and on the functions it calls, and on
 * cron.schedule_in_database).  schedule is a cron expression, in GMT for
 * pg_cron 1.4: the default, every 15 minutes, does not depend on it, since
 * run_scheduled decides on the company's wall clock.  active => false creates
 * the job disabled.  An existing job of the same name and role is replaced.
 * Returns the job id.  Without pg_cron: error 55000 with a hint.
 */
CREATE FUNCTION kpi_mail.schedule_jobs(schedule text DEFAULT '*/15 * * * *', active boolean DEFAULT true)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM kpi_mail.require_pg_cron();
	IF schedule IS NULL OR active IS NULL THEN
		RAISE EXCEPTION 'la planification et l''activation de la tâche sont obligatoires'
			USING ERRCODE = 'null_value_not_allowed',
			      HINT = 'Par exemple : SELECT kpi_mail.schedule_jobs(''*/15 * * * *'');';
	END IF;
	PERFORM kpi_mail.unschedule_jobs();
	RETURN cron.schedule_in_database('kpi_mail_run_scheduled', schedule, kpi_mail.scheduled_command(),
									 pg_catalog.current_database(), CURRENT_USER::text, active);
END
$$;
COMMENT ON FUNCTION kpi_mail.schedule_jobs(text, boolean) IS 'Crée ou remplace la tâche pg_cron kpi_mail_run_scheduled de cette base ; renvoie son identifiant';

/* Removes this database's kpi_mail_run_scheduled job(s) of the current role; returns how many. */
CREATE FUNCTION kpi_mail.unschedule_jobs()
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	job bigint;
	removed integer := 0;
BEGIN
	IF pg_catalog.to_regclass('cron.job') IS NULL THEN
		RETURN 0;				-- no pg_cron: nothing is scheduled
	END IF;
	FOR job IN SELECT j.jobid FROM cron.job j
			   WHERE j.jobname = 'kpi_mail_run_scheduled' AND j.username = CURRENT_USER
			     AND j.database = pg_catalog.current_database()
			   ORDER BY j.jobid
	LOOP
		PERFORM cron.unschedule(job);
		removed := removed + 1;
	END LOOP;
	RETURN removed;
END
$$;
COMMENT ON FUNCTION kpi_mail.unschedule_jobs() IS 'Supprime la tâche pg_cron kpi_mail_run_scheduled de cette base ; renvoie le nombre de tâches supprimées';

/*
 * §9: recipient addresses go into mail headers: a plain address (local@domain,
 * see is_valid_email), no CR/LF; display names without control characters.
 * SQLSTATE 22023, as for mail_from in settings_validate.
 */
CREATE FUNCTION kpi_mail.recipient_validate()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NEW.email IS NOT NULL THEN
		IF pg_catalog.strpos(NEW.email, E'\r') > 0 OR pg_catalog.strpos(NEW.email, E'\n') > 0 THEN
			RAISE EXCEPTION 'l''adresse e-mail d''un destinataire ne doit contenir ni retour chariot ni saut de ligne'
				USING ERRCODE = 'invalid_parameter_value',
				      HINT = 'Indiquez une seule adresse simple, par exemple direction@example.fr.';
		ELSIF NOT kpi_mail.is_valid_email(NEW.email) THEN
			RAISE EXCEPTION 'adresse e-mail de destinataire invalide : %', pg_catalog.to_json(NEW.email)::text
				USING ERRCODE = 'invalid_parameter_value',
				      HINT = 'Indiquez une adresse simple, par exemple direction@example.fr, sans espace ni chevrons ; le nom va dans display_name.';
		END IF;
	END IF;
	IF NEW.display_name ~ '[\x01-\x1f\x7f]' THEN
		RAISE EXCEPTION 'le nom affiché d''un destinataire ne doit contenir aucun caractère de contrôle (retour à la ligne, tabulation…)'
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Écrivez le nom sur une seule ligne, par exemple Direction financière.';
	END IF;
	IF NEW.role IS NOT NULL AND NEW.role NOT IN ('report', 'alert') THEN
		RAISE EXCEPTION 'rôle de destinataire inconnu : %', pg_catalog.to_json(NEW.role)::text
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Valeurs possibles : report (rapport hebdomadaire), alert (alertes).';
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION kpi_mail.recipient_validate() IS 'Vérifie l''adresse, le nom affiché et le rôle d''un destinataire';

CREATE TRIGGER recipient_validate
	BEFORE INSERT OR UPDATE ON kpi_mail.recipient
	FOR EACH ROW EXECUTE FUNCTION kpi_mail.recipient_validate();

/*
 * §7: the settings as non-owners may see them: everything but the SMTP
 * password, plus whether one is set.
 */
CREATE VIEW kpi_mail.settings_public AS
SELECT s.smtp_url, s.smtp_username,
	   (s.smtp_password IS NOT NULL AND s.smtp_password <> '') AS smtp_password_set,
	   s.smtp_tls, s.smtp_timeout_ms, s.mail_from, s.timezone, s.holiday_calendar,
	   s.invoice_max_business_days, s.reminder_result_days, s.detail_limit, s.backlog_weeks,
	   s.alert_repeat_days, s.report_weekday, s.report_time
FROM kpi_mail.settings s;
COMMENT ON VIEW kpi_mail.settings_public IS 'Paramètres de kpi_mail sans le mot de passe SMTP';
COMMENT ON COLUMN kpi_mail.settings_public.smtp_password_set IS 'Vrai si un mot de passe SMTP est enregistré';
-- The other columns keep the French labels of kpi_mail.settings.
DO $$
DECLARE
	col record;
BEGIN
	FOR col IN
		SELECT v.attname, pg_catalog.col_description(t.attrelid, t.attnum) AS label
		FROM pg_catalog.pg_attribute v
		JOIN pg_catalog.pg_attribute t ON t.attrelid = 'kpi_mail.settings'::regclass AND t.attname = v.attname
		WHERE v.attrelid = 'kpi_mail.settings_public'::regclass AND v.attnum > 0
	LOOP
		EXECUTE pg_catalog.format('COMMENT ON COLUMN kpi_mail.settings_public.%I IS %L', col.attname, col.label);
	END LOOP;
END
$$;


/*
 * Mail delivery (§6): see delivery.c.  Rows are sent by a dynamic background
 * worker started at the commit of the transaction that queued them (it needs
 * a free max_worker_processes slot for a few seconds), and by
 * deliver_outbox(), which pg_cron's run_scheduled() calls to retry.
 */

CREATE FUNCTION kpi_mail.outbox_queued()
RETURNS trigger
AS 'MODULE_PATHNAME', 'kpi_outbox_queued'
LANGUAGE C;
COMMENT ON FUNCTION kpi_mail.outbox_queued() IS 'Trigger : à la validation de la transaction, lance l''envoi des mails mis en file';
REVOKE EXECUTE ON FUNCTION kpi_mail.outbox_queued() FROM PUBLIC;

CREATE TRIGGER outbox_queued
	AFTER INSERT ON kpi_mail.outbox
	FOR EACH STATEMENT EXECUTE FUNCTION kpi_mail.outbox_queued();

CREATE FUNCTION kpi_mail.deliver_outbox()
RETURNS integer
AS 'MODULE_PATHNAME', 'kpi_deliver_outbox'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, kpi_mail, pg_temp;
COMMENT ON FUNCTION kpi_mail.deliver_outbox() IS 'Envoie les mails en attente dont l''heure est venue ; renvoie le nombre de mails envoyés (un processus de fond libre parmi max_worker_processes est nécessaire)';
REVOKE EXECUTE ON FUNCTION kpi_mail.deliver_outbox() FROM PUBLIC;

/*
 * The display name of each address for the To header, in order: the
 * display_name of the kpi_mail.recipient row with the same address (case
 * aside; of several, the lowest recipient_id), NULL without one.  Delivery
 * and build_message use it; outbox.recipients stay plain addresses.
 */
CREATE FUNCTION kpi_mail.recipient_display_names(addresses text[])
RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, kpi_mail, pg_temp
BEGIN ATOMIC
	SELECT ARRAY(
		SELECT (SELECT r.display_name FROM kpi_mail.recipient r
				WHERE pg_catalog.lower(r.email) OPERATOR(pg_catalog.=) pg_catalog.lower(a.address)
				ORDER BY r.recipient_id LIMIT 1)
		FROM pg_catalog.unnest(addresses) WITH ORDINALITY AS a(address, n)
		ORDER BY a.n);
END;
COMMENT ON FUNCTION kpi_mail.recipient_display_names(text[]) IS 'Noms affichés (kpi_mail.recipient.display_name) des adresses données, dans l''ordre, NULL pour une adresse sans destinataire ; utilisés dans l''en-tête To des mails';
REVOKE EXECUTE ON FUNCTION kpi_mail.recipient_display_names(text[]) FROM PUBLIC;

CREATE FUNCTION kpi_mail.build_message(recipients text[], subject text, body text,
	sent_at timestamptz DEFAULT pg_catalog.now(), message_id text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'kpi_build_message'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, kpi_mail, pg_temp;
COMMENT ON FUNCTION kpi_mail.build_message(text[], text, text, timestamptz, text) IS 'Texte exact (RFC 5322, MIME, quoted-printable) du mail que la livraison enverrait, noms affichés des destinataires compris ; Message-ID aléatoire si NULL';
REVOKE EXECUTE ON FUNCTION kpi_mail.build_message(text[], text, text, timestamptz, text) FROM PUBLIC;

/* ======================================================================
 * §8 Attaching the company's own tables.
 * ====================================================================== */


/*
 * The attachment of the company's own tables: at most one row per kind.
 * Names are stored as text (schema, relation, columns), not as regclass, so
 * that pg_dump/pg_restore keeps the attachment (§7); they are resolved again
 * at every use.
 */
CREATE TABLE kpi_mail.attachment (
	kind text PRIMARY KEY,
	schema_name text NOT NULL,
	relation_name text NOT NULL,
	invoice_number_column text NOT NULL,
	client_column text NOT NULL,
	edited_at_column text,
	sent_on_column text,
	reminder_id_column text,
	reminded_on_column text,
	recorded_at_column text,
	result_column text,
	result_recorded_at_column text,
	responsible_column text,
	attached_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT attachment_kind_check CHECK (kind IN ('invoices', 'reminders')),
	CONSTRAINT attachment_invoices_check CHECK (kind <> 'invoices'
		OR (edited_at_column IS NOT NULL AND sent_on_column IS NOT NULL)),
	CONSTRAINT attachment_reminders_check CHECK (kind <> 'reminders'
		OR (reminder_id_column IS NOT NULL AND reminded_on_column IS NOT NULL
			AND recorded_at_column IS NOT NULL AND result_column IS NOT NULL
			AND result_recorded_at_column IS NOT NULL))
);

/*
 * The name recorded with each alert (alert_log, outbox): the attached
 * reminder table, or the built-in one, so that ids of two sources never mix.
 */
CREATE FUNCTION kpi_mail.reminder_source_name()
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN COALESCE((SELECT pg_catalog.format('%I.%I', a.schema_name, a.relation_name)
                 FROM kpi_mail.attachment a WHERE a.kind = 'reminders'),
                'kpi_mail.payment_reminder');
COMMENT ON FUNCTION kpi_mail.reminder_source_name() IS 'Nom de la table source des relances, enregistré avec chaque alerte';
COMMENT ON TABLE kpi_mail.attachment IS 'Tables de l''entreprise utilisées à la place des tables intégrées (factures, relances)';
COMMENT ON COLUMN kpi_mail.attachment.kind IS 'Source remplacée : invoices (factures) ou reminders (relances)';
COMMENT ON COLUMN kpi_mail.attachment.schema_name IS 'Schéma de la table attachée';
COMMENT ON COLUMN kpi_mail.attachment.relation_name IS 'Nom de la table (ou vue) attachée';
COMMENT ON COLUMN kpi_mail.attachment.invoice_number_column IS 'Colonne du Numéro de Facture';
COMMENT ON COLUMN kpi_mail.attachment.client_column IS 'Colonne du Nom du Client';
COMMENT ON COLUMN kpi_mail.attachment.edited_at_column IS 'Factures : colonne de la Date d''Édition (date, timestamp ou timestamptz)';
COMMENT ON COLUMN kpi_mail.attachment.sent_on_column IS 'Factures : colonne de la Date d''Envoi de la Facture';
COMMENT ON COLUMN kpi_mail.attachment.reminder_id_column IS 'Relances : colonne identifiant la relance (clé primaire entière ou kpi_reminder_id)';
COMMENT ON COLUMN kpi_mail.attachment.reminded_on_column IS 'Relances : colonne de la Date de Relance';
COMMENT ON COLUMN kpi_mail.attachment.recorded_at_column IS 'Relances : colonne de la Date de Saisie de la Relance (ou kpi_recorded_at)';
COMMENT ON COLUMN kpi_mail.attachment.result_column IS 'Relances : colonne du Résultat de la Relance';
COMMENT ON COLUMN kpi_mail.attachment.result_recorded_at_column IS 'Relances : colonne de la Date de Saisie du Résultat (kpi_result_recorded_at)';
COMMENT ON COLUMN kpi_mail.attachment.responsible_column IS 'Relances : colonne de l''e-mail du responsable (facultative)';
COMMENT ON COLUMN kpi_mail.attachment.attached_at IS 'Date de l''attachement';

SELECT pg_catalog.pg_extension_config_dump('kpi_mail.attachment', '');
-- Only names (no secret): readable, so that every reader of the indicators
-- (caller's rights) finds the source.
REVOKE ALL ON kpi_mail.attachment FROM PUBLIC;
GRANT SELECT ON kpi_mail.attachment TO PUBLIC;

/* Raises 22023 unless kind is 'invoices' or 'reminders'. */
CREATE FUNCTION kpi_mail.attach_check_kind(kind text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF kind IS NULL OR kind NOT IN ('invoices', 'reminders') THEN
		RAISE EXCEPTION 'type de source inconnu : %', coalesce(pg_catalog.quote_literal(kind), 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Valeurs possibles : invoices, reminders.';
	END IF;
END
$$;

/* The schema-qualified, safely quoted name of an attached relation. */
CREATE FUNCTION kpi_mail.attach_qualified(schema_name text, relation_name text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN pg_catalog.format('%I.%I', schema_name, relation_name);

/*
 * Resolves the relation of an attach call: returns its relkind ('r', 'p',
 * 'v' or 'm'), and refuses what cannot be attached (42809): other kinds
 * (views and materialized views unless allow_view), temporary tables (the
 * attachment would not outlive the session) and kpi_mail's own tables.
 */
CREATE FUNCTION kpi_mail.attach_relation_kind(relation regclass, allow_view boolean)
RETURNS "char"
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	kind "char";
	nsp name;
	persistence "char";
BEGIN
	IF relation IS NULL THEN
		RAISE EXCEPTION 'la relation à attacher est obligatoire'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT c.relkind, n.nspname, c.relpersistence INTO kind, nsp, persistence
	FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
	WHERE c.oid = relation;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'la relation d''OID % n''existe pas', relation::oid
			USING ERRCODE = 'undefined_table';
	END IF;
	IF kind IN ('v', 'm') AND NOT allow_view THEN
		RAISE EXCEPTION '% est une vue : les relances doivent être dans une table', relation
			USING ERRCODE = 'wrong_object_type',
			      DETAIL = 'Le contrôle du Résultat de la Relance et la date de saisie du résultat sont des triggers, qui ne s''installent que sur une table.',
			      HINT = 'Attachez la table sur laquelle la vue est construite.';
	ELSIF kind NOT IN ('r', 'p', 'v', 'm') THEN
		RAISE EXCEPTION '% n''est ni une table ni une vue', relation
			USING ERRCODE = 'wrong_object_type',
			      HINT = CASE WHEN allow_view THEN 'Attachez une table, une vue ou une vue matérialisée.'
			                  ELSE 'Attachez une table.' END;
	ELSIF persistence = 't' THEN
		RAISE EXCEPTION '% est une table temporaire', relation
			USING ERRCODE = 'wrong_object_type',
			      HINT = 'Une table temporaire disparaît à la fin de la session : attachez une table permanente.';
	ELSIF nsp = 'kpi_mail' THEN
		RAISE EXCEPTION '% est une table de kpi_mail', relation
			USING ERRCODE = 'wrong_object_type',
			      HINT = 'Les tables intégrées sont la source par défaut : utilisez kpi_mail.detach pour y revenir.';
	END IF;
	RETURN kind;
END
$$;

/*
 * The declared type of a column, or NULL when the relation has no such
 * (live, user) column.  Types are compared exactly (the triggers of guard.c
 * read date and timestamp values by their type oid); only the text family
 * accepts domains, by their type category.
 */
CREATE FUNCTION kpi_mail.attach_column_type(relation regclass, column_name text)
RETURNS regtype
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
RETURN (SELECT a.atttypid::pg_catalog.regtype
	FROM pg_catalog.pg_attribute a
	WHERE a.attrelid = relation AND a.attname = column_name AND a.attnum > 0 AND NOT a.attisdropped);

/*
 * Checks that a column named by argument `argument` (or, for a name that
 * starts with kpi_, a column kpi_mail manages) exists with a type of
 * family `family` (text: any string type; edition: date, timestamp or
 * timestamptz; date; timestamptz; integer: smallint, integer or bigint) and
 * returns its type.  A missing column raises 42703 unless missing_ok
 * (then NULL is returned); a wrong type raises 42804.
 */
CREATE FUNCTION kpi_mail.attach_check_column(relation regclass, column_name text, argument text,
	family text, missing_ok boolean DEFAULT false)
RETURNS regtype
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	typ regtype;
	accepted boolean;
	expected text;
	origin text := CASE WHEN argument LIKE 'kpi\_%' THEN 'colonne gérée par kpi_mail'
		ELSE 'argument ' || argument END;
BEGIN
	IF column_name IS NULL THEN
		RAISE EXCEPTION 'l''argument % est obligatoire', argument
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	typ := kpi_mail.attach_column_type(relation, column_name);
	IF typ IS NULL THEN
		IF missing_ok THEN
			RETURN NULL;
		END IF;
		RAISE EXCEPTION 'la colonne « % » (%) n''existe pas dans %', column_name, origin, relation
			USING ERRCODE = 'undefined_column',
			      HINT = 'Donnez le nom exact de la colonne, avec ses majuscules, accents et espaces, sans guillemets.';
	END IF;
	CASE family
		WHEN 'text' THEN
			accepted := (SELECT t.typcategory = 'S' FROM pg_catalog.pg_type t WHERE t.oid = typ);
			expected := 'un type texte (text, varchar, char)';
		WHEN 'edition' THEN
			accepted := typ IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype);
			expected := 'date, timestamp ou timestamptz';
		WHEN 'date' THEN
			accepted := typ = 'date'::regtype;
			expected := 'date';
		WHEN 'timestamptz' THEN
			accepted := typ = 'timestamptz'::regtype;
			expected := 'timestamptz (timestamp with time zone)';
		WHEN 'integer' THEN
			accepted := typ IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype);
			expected := 'smallint, integer ou bigint';
		ELSE
			RAISE EXCEPTION 'famille de types inconnue : %', family;
	END CASE;
	IF NOT accepted THEN
		RAISE EXCEPTION 'la colonne « % » (%) de % est de type %, attendu : %',
			column_name, origin, relation, pg_catalog.format_type(typ, NULL), expected
			USING ERRCODE = 'datatype_mismatch',
			      HINT = 'Attachez une colonne du type attendu, ou convertissez la colonne (ALTER TABLE ... ALTER COLUMN ... TYPE).';
	END IF;
	RETURN typ;
END
$$;

/*
 * Removes the triggers an attachment installed on its relation (when it
 * still exists and is a table); the columns it added and their data stay.
 */
CREATE FUNCTION kpi_mail.attach_drop_triggers(att kpi_mail.attachment)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	relation regclass := pg_catalog.to_regclass(kpi_mail.attach_qualified(att.schema_name, att.relation_name));
	trigger_name text;
BEGIN
	IF relation IS NULL OR (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = relation) NOT IN ('r', 'p') THEN
		RETURN;
	END IF;
	FOREACH trigger_name IN ARRAY CASE att.kind
		WHEN 'invoices' THEN ARRAY['kpi_mail_sent_on_guard']
		ELSE ARRAY['kpi_mail_result_guard', 'kpi_mail_result_bookkeeping', 'kpi_mail_reminder_date_guard'] END
	LOOP
		EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS %I ON %s', trigger_name, relation);
	END LOOP;
END
$$;

/*
 * Uses the company's invoice table (or view) as the invoice source (§8).  On
 * a table, adds the send-date column when missing and installs the §9
 * validation of the send date; a view is only read.  Everything is checked
 * before anything changes; re-attaching replaces the previous attachment.
 */
CREATE FUNCTION kpi_mail.attach_invoices(relation regclass, number_column name, client_column name,
	edited_at_column name, sent_on_column name DEFAULT 'sent_on')
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	relkind "char" := kpi_mail.attach_relation_kind(relation, true);
	is_table boolean := relkind IN ('r', 'p');
	previous kpi_mail.attachment;
BEGIN
	PERFORM kpi_mail.attach_check_column(relation, number_column, 'number_column', 'text');
	PERFORM kpi_mail.attach_check_column(relation, client_column, 'client_column', 'text');
	PERFORM kpi_mail.attach_check_column(relation, edited_at_column, 'edited_at_column', 'edition');
	PERFORM kpi_mail.attach_check_column(relation, sent_on_column, 'sent_on_column', 'date', is_table);

	SELECT * INTO previous FROM kpi_mail.attachment a WHERE a.kind = 'invoices' FOR UPDATE;
	IF FOUND THEN
		PERFORM kpi_mail.attach_drop_triggers(previous);
	END IF;

	IF is_table THEN
		IF kpi_mail.attach_column_type(relation, sent_on_column) IS NULL THEN
			EXECUTE pg_catalog.format('ALTER TABLE %s ADD COLUMN %I date', relation, sent_on_column);
			EXECUTE pg_catalog.format('COMMENT ON COLUMN %s.%I IS %L', relation, sent_on_column,
				'Date d''Envoi de la Facture');
		END IF;
		EXECUTE pg_catalog.format(
			'CREATE CONSTRAINT TRIGGER kpi_mail_sent_on_guard AFTER INSERT OR UPDATE ON %s '
			'DEFERRABLE INITIALLY IMMEDIATE FOR EACH ROW EXECUTE FUNCTION kpi_mail.invoice_sent_on_guard(%L, %L)',
			relation, sent_on_column, edited_at_column);
	END IF;

	DELETE FROM kpi_mail.attachment a WHERE a.kind = 'invoices';
	INSERT INTO kpi_mail.attachment (kind, schema_name, relation_name, invoice_number_column,
		client_column, edited_at_column, sent_on_column)
	SELECT 'invoices', n.nspname, c.relname, number_column, client_column, edited_at_column, sent_on_column
	FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
	WHERE c.oid = relation;
END
$$;
COMMENT ON FUNCTION kpi_mail.attach_invoices(regclass, name, name, name, name) IS
	'Utilise une table (ou vue) de l''entreprise comme source des factures';

/*
 * Fills kpi_recorded_at where it is NULL with midnight starting the reminder
 * date in the company time zone.  The user's own triggers are switched off
 * for this one-off update (it is not a business edit) and then restored to
 * exactly their previous state.
 */
CREATE FUNCTION kpi_mail.attach_backfill_recorded_at(relation regclass, reminded_on_column text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tz text := kpi_mail.company_timezone();
	missing boolean;
	trg record;
	disabled text[] := '{}';
	modes "char"[] := '{}';
	i integer;
BEGIN
	EXECUTE pg_catalog.format('SELECT EXISTS (SELECT FROM %s WHERE kpi_recorded_at IS NULL)', relation) INTO missing;
	IF NOT missing THEN
		RETURN;
	END IF;
	FOR trg IN SELECT t.tgname, t.tgenabled FROM pg_catalog.pg_trigger t
		WHERE t.tgrelid = relation AND NOT t.tgisinternal AND t.tgenabled <> 'D' ORDER BY t.tgname
	LOOP
		EXECUTE pg_catalog.format('ALTER TABLE %s DISABLE TRIGGER %I', relation, trg.tgname);
		disabled := disabled || trg.tgname::text;
		modes := modes || trg.tgenabled;
	END LOOP;
	EXECUTE pg_catalog.format(
		'UPDATE %s SET kpi_recorded_at = (%I::date::timestamp AT TIME ZONE %L) WHERE kpi_recorded_at IS NULL',
		relation, reminded_on_column, tz);
	FOR i IN 1 .. pg_catalog.cardinality(disabled) LOOP
		EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE %s TRIGGER %I', relation,
			CASE modes[i] WHEN 'A' THEN 'ALWAYS' WHEN 'R' THEN 'REPLICA' ELSE '' END, disabled[i]);
	END LOOP;
END
$$;

/*
 * Uses the company's reminder table as the reminder source (§8).  Installs
 * the result guard on its result column, the bookkeeping of the result
 * entry time (kpi_result_recorded_at, added), the reminder-date validation,
 * and when no entry-time column is named adds kpi_recorded_at.  The
 * reminder id is the table's single-column integer primary key, otherwise a
 * column kpi_reminder_id (identity) is added.  Everything is checked before
 * anything changes; re-attaching replaces the previous attachment.
 */
CREATE FUNCTION kpi_mail.attach_reminders(relation regclass, client_column name, invoice_column name,
	reminded_on_column name, result_column name, recorded_at_column name DEFAULT NULL,
	responsible_column name DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	relkind "char" := kpi_mail.attach_relation_kind(relation, false);
	id_column text;
	entry_column text := coalesce(recorded_at_column, 'kpi_recorded_at');
	add_id boolean := false;
	add_entry boolean := false;
	add_result_entry boolean := false;
	previous kpi_mail.attachment;
BEGIN
	PERFORM kpi_mail.attach_check_column(relation, client_column, 'client_column', 'text');
	PERFORM kpi_mail.attach_check_column(relation, invoice_column, 'invoice_column', 'text');
	PERFORM kpi_mail.attach_check_column(relation, reminded_on_column, 'reminded_on_column', 'date');
	PERFORM kpi_mail.attach_check_column(relation, result_column, 'result_column', 'text');
	IF recorded_at_column IS NOT NULL THEN
		PERFORM kpi_mail.attach_check_column(relation, recorded_at_column, 'recorded_at_column', 'timestamptz');
	ELSE
		add_entry := kpi_mail.attach_check_column(relation, entry_column, 'kpi_recorded_at', 'timestamptz', true) IS NULL;
	END IF;
	IF responsible_column IS NOT NULL THEN
		PERFORM kpi_mail.attach_check_column(relation, responsible_column, 'responsible_column', 'text');
	END IF;
	add_result_entry := kpi_mail.attach_check_column(relation, 'kpi_result_recorded_at',
		'kpi_result_recorded_at', 'timestamptz', true) IS NULL;

	-- The reminder id: a single-column integer primary key, else kpi_reminder_id.
	SELECT a.attname INTO id_column
	FROM pg_catalog.pg_index i
	JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
	WHERE i.indrelid = relation AND i.indisprimary AND i.indnkeyatts = 1
	  AND kpi_mail.attach_column_type(relation, a.attname) IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype);
	IF id_column IS NULL THEN
		id_column := 'kpi_reminder_id';
		add_id := kpi_mail.attach_check_column(relation, id_column, 'kpi_reminder_id', 'integer', true) IS NULL;
		IF add_id AND relkind = 'p' THEN
			RAISE EXCEPTION '% est une table partitionnée sans clé primaire entière sur une seule colonne', relation
				USING ERRCODE = 'feature_not_supported',
				      DETAIL = 'PostgreSQL ne peut pas ajouter la colonne d''identité kpi_reminder_id à une table partitionnée.',
				      HINT = 'Ajoutez une colonne kpi_reminder_id bigint remplie et unique (par exemple par une séquence), puis attachez de nouveau la table.';
		END IF;
	END IF;

	-- Everything is valid: replace the previous attachment.
	SELECT * INTO previous FROM kpi_mail.attachment a WHERE a.kind = 'reminders' FOR UPDATE;
	IF FOUND THEN
		PERFORM kpi_mail.attach_drop_triggers(previous);
	END IF;

	IF add_id THEN
		EXECUTE pg_catalog.format('ALTER TABLE %s ADD COLUMN kpi_reminder_id bigint GENERATED BY DEFAULT AS IDENTITY', relation);
		EXECUTE pg_catalog.format('COMMENT ON COLUMN %s.kpi_reminder_id IS %L', relation,
			'Identifiant de la relance pour kpi_mail');
	END IF;
	IF add_entry THEN
		EXECUTE pg_catalog.format('ALTER TABLE %s ADD COLUMN kpi_recorded_at timestamptz', relation);
		EXECUTE pg_catalog.format('COMMENT ON COLUMN %s.kpi_recorded_at IS %L', relation,
			'Date de Saisie de la Relance');
	END IF;
	IF recorded_at_column IS NULL THEN
		PERFORM kpi_mail.attach_backfill_recorded_at(relation, reminded_on_column);
		EXECUTE pg_catalog.format('ALTER TABLE %s ALTER COLUMN kpi_recorded_at SET DEFAULT pg_catalog.now()', relation);
	END IF;
	IF add_result_entry THEN
		EXECUTE pg_catalog.format('ALTER TABLE %s ADD COLUMN kpi_result_recorded_at timestamptz', relation);
		EXECUTE pg_catalog.format('COMMENT ON COLUMN %s.kpi_result_recorded_at IS %L', relation,
			'Date de Saisie du Résultat');
	END IF;

	EXECUTE pg_catalog.format(
		'CREATE TRIGGER kpi_mail_result_bookkeeping BEFORE INSERT OR UPDATE ON %s '
		'FOR EACH ROW EXECUTE FUNCTION kpi_mail.reminder_result_bookkeeping(%L, %L)',
		relation, result_column, 'kpi_result_recorded_at');
	EXECUTE pg_catalog.format(
		'CREATE CONSTRAINT TRIGGER kpi_mail_result_guard AFTER INSERT OR UPDATE ON %s '
		'DEFERRABLE INITIALLY IMMEDIATE FOR EACH ROW EXECUTE FUNCTION kpi_mail.reminder_result_guard(%L)',
		relation, result_column);
	EXECUTE pg_catalog.format(
		'CREATE CONSTRAINT TRIGGER kpi_mail_reminder_date_guard AFTER INSERT OR UPDATE ON %s '
		'DEFERRABLE INITIALLY IMMEDIATE FOR EACH ROW EXECUTE FUNCTION kpi_mail.reminder_date_guard(%L)',
		relation, reminded_on_column);

	DELETE FROM kpi_mail.attachment a WHERE a.kind = 'reminders';
	INSERT INTO kpi_mail.attachment (kind, schema_name, relation_name, invoice_number_column,
		client_column, reminder_id_column, reminded_on_column, recorded_at_column, result_column,
		result_recorded_at_column, responsible_column)
	SELECT 'reminders', n.nspname, c.relname, invoice_column, client_column, id_column,
		reminded_on_column, entry_column, result_column, 'kpi_result_recorded_at', responsible_column
	FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
	WHERE c.oid = relation;
END
$$;
COMMENT ON FUNCTION kpi_mail.attach_reminders(regclass, name, name, name, name, name, name) IS
	'Utilise une table de l''entreprise comme source des relances';

/*
 * Returns to the built-in table for one kind: removes the triggers the
 * attachment installed, keeps the columns it added and their data.
 */
CREATE FUNCTION kpi_mail.detach(kind text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	previous kpi_mail.attachment;
BEGIN
	PERFORM kpi_mail.attach_check_kind(kind);
	SELECT * INTO previous FROM kpi_mail.attachment a WHERE a.kind = detach.kind FOR UPDATE;
	IF NOT FOUND THEN
		RAISE NOTICE 'aucune table attachée pour %, la table intégrée est déjà la source', kind;
		RETURN;
	END IF;
	PERFORM kpi_mail.attach_drop_triggers(previous);
	DELETE FROM kpi_mail.attachment a WHERE a.kind = detach.kind;
END
$$;
COMMENT ON FUNCTION kpi_mail.detach(text) IS
	'Revient à la table intégrée (invoices ou reminders) ; les colonnes ajoutées et leurs données sont conservées';

/*
 * The source query over the attached relation of a kind (same normalized
 * columns as source_query), or NULL when nothing is attached.  Column types
 * are read again at each call, so the edition date follows the column's type.
 * The query is run by source.c as the relation's owner (§8).
 */
CREATE FUNCTION kpi_mail.attached_source_query(kind text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	att kpi_mail.attachment;
	qualified text;
	relation regclass;
	tz text := kpi_mail.company_timezone();
	edition regtype;
	edited_on text;
	recorded_at text;
BEGIN
	SELECT * INTO att FROM kpi_mail.attachment a WHERE a.kind = attached_source_query.kind;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	qualified := kpi_mail.attach_qualified(att.schema_name, att.relation_name);
	relation := pg_catalog.to_regclass(qualified);
	IF relation IS NULL THEN
		RAISE EXCEPTION 'la relation attachée % (%) n''existe plus', qualified, kind
			USING ERRCODE = 'undefined_table',
			      HINT = pg_catalog.format('Attachez-la de nouveau, ou revenez à la table intégrée : SELECT kpi_mail.detach(%L);', kind);
	END IF;

	IF kind = 'invoices' THEN
		edition := kpi_mail.attach_column_type(relation, att.edited_at_column);
		edited_on := CASE edition
			WHEN 'timestamptz'::regtype THEN pg_catalog.format('(t.%I::timestamptz AT TIME ZONE %L)::date', att.edited_at_column, tz)
			WHEN 'timestamp'::regtype THEN pg_catalog.format('t.%I::timestamp::date', att.edited_at_column)
			WHEN 'date'::regtype THEN pg_catalog.format('t.%I::date', att.edited_at_column)
		END;
		IF edited_on IS NULL THEN
			RAISE EXCEPTION 'la colonne « % » de % n''est plus une date d''édition (date, timestamp ou timestamptz)',
				att.edited_at_column, qualified
				USING ERRCODE = CASE WHEN edition IS NULL THEN 'undefined_column' ELSE 'datatype_mismatch' END,
				      HINT = 'Attachez de nouveau la table avec kpi_mail.attach_invoices.';
		END IF;
		RETURN pg_catalog.format(
			'SELECT t.%I::text AS invoice_number, t.%I::text AS client_name, '
			'%s AS edited_on, t.%I::date AS sent_on FROM %s t',
			att.invoice_number_column, att.client_column, edited_on, att.sent_on_column, qualified);
	END IF;

	-- A NULL entry time is read by the indicators (and thus the alerts) as
	-- midnight starting the reminder date in tz, as the backfill of
	-- kpi_recorded_at (indicators.c, the one place of this rule).
	recorded_at := pg_catalog.format('t.%I::timestamptz', att.recorded_at_column);
	RETURN pg_catalog.format(
		'SELECT t.%I::bigint AS reminder_id, t.%I::text AS client_name, t.%I::text AS invoice_number, '
		't.%I::date AS reminded_on, %s AS recorded_at, t.%I::text AS result, '
		't.%I::timestamptz AS result_recorded_at, %s AS responsible_email FROM %s t',
		att.reminder_id_column, att.client_column, att.invoice_number_column, att.reminded_on_column,
		recorded_at, att.result_column, att.result_recorded_at_column,
		CASE WHEN att.responsible_column IS NULL THEN 'NULL::text'
		     ELSE pg_catalog.format('t.%I::text', att.responsible_column) END,
		qualified);
END
$$;
COMMENT ON FUNCTION kpi_mail.attached_source_query(text) IS
	'Requête normalisée sur la table attachée (NULL si aucune table n''est attachée)';

/*
 * Reminders whose result is outside the three allowed values, such as the
 * legacy RAS: kept unchanged by the attachment (§8), listed here so staff
 * can review them.
 */
CREATE FUNCTION kpi_mail.legacy_results()
RETURNS TABLE (reminder_id bigint, client_name text, invoice_number text, reminded_on date, result text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN QUERY
		SELECT s.reminder_id, s.client_name, s.invoice_number, s.reminded_on, s.result
		FROM kpi_mail.reminder_source_rows() s
		WHERE s.result IS NOT NULL
		  AND s.result NOT IN ('délais supplémentaire', 'nouvelle relance', 'règlement facture')
		ORDER BY s.reminded_on, s.reminder_id;
END
$$;
COMMENT ON FUNCTION kpi_mail.legacy_results() IS
	'Relances dont le résultat n''est pas une des trois valeurs autorisées (ex. l''ancien RAS)';

REVOKE EXECUTE ON FUNCTION kpi_mail.attach_invoices(regclass, name, name, name, name) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION kpi_mail.attach_reminders(regclass, name, name, name, name, name, name) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION kpi_mail.detach(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION kpi_mail.legacy_results() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION kpi_mail.attach_check_kind(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION kpi_mail.attach_relation_kind(regclass, boolean) FROM PUBLIC;
-- attach_column_type only reads the catalog: attached_source_query, which
-- runs with the caller's rights, needs it for every reader of the sources.
REVOKE EXECUTE ON FUNCTION kpi_mail.attach_check_column(regclass, text, text, text, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION kpi_mail.attach_drop_triggers(kpi_mail.attachment) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION kpi_mail.attach_backfill_recorded_at(regclass, text) FROM PUBLIC;

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
-- Privileges (§7).
--
-- Nothing in schema kpi_mail is reachable by PUBLIC until the administrator
-- grants USAGE on the schema: invoices and reminders are business data.
-- Recommended roles (not created here: roles are cluster-wide):
--   CREATE ROLE kpi_staff NOLOGIN;     -- staff entering invoices and reminders
--   GRANT USAGE ON SCHEMA kpi_mail TO kpi_staff;
--   GRANT SELECT, INSERT, UPDATE ON kpi_mail.invoice, kpi_mail.payment_reminder TO kpi_staff;
--   (plus SELECT on the indicator views and tables the analysts read)
--   CREATE ROLE kpi_admin NOLOGIN;     -- configures and runs the mailing
--   GRANT kpi_staff TO kpi_admin;
--   GRANT SELECT, INSERT, UPDATE, DELETE ON kpi_mail.recipient, kpi_mail.calendar_override TO kpi_admin;
--   GRANT SELECT ON kpi_mail.outbox, kpi_mail.alert_log TO kpi_admin;
--   GRANT EXECUTE ON FUNCTION kpi_mail.send_alerts(timestamptz), kpi_mail.send_weekly_report(date, boolean),
--         kpi_mail.due_report_period(timestamptz), kpi_mail.schedule_jobs(text, boolean),
--         kpi_mail.unschedule_jobs() TO kpi_admin;
--   GRANT EXECUTE ON PROCEDURE kpi_mail.run_scheduled(timestamptz) TO kpi_admin;
-- The settings (and the SMTP password) are changed by the owner only.
--
-- Settings: not readable by PUBLIC at all.  The C code reads them through
-- one accessor (settings.c) with the extension owner's rights, so today(),
-- company_timezone(), the reminder default, source_query(), the guards,
-- the calendar and the indicators work for every role.  settings_public
-- shows everything but the password to everyone with schema USAGE.
GRANT SELECT ON kpi_mail.settings_public TO PUBLIC;
-- Recipients (personal data), the alert log: owner only, like the outbox.
REVOKE ALL ON kpi_mail.recipient, kpi_mail.alert_log FROM PUBLIC;
-- Functions that queue mail or read the outbox: SECURITY DEFINER, not for PUBLIC.
REVOKE EXECUTE ON FUNCTION kpi_mail.send_alerts(timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION kpi_mail.send_weekly_report(date, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION kpi_mail.due_report_period(timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION kpi_mail.alert_body(text, text, date, timestamptz, timestamptz, text) FROM PUBLIC;
-- Scheduling runs with the caller's rights, but is for administrators only.
REVOKE EXECUTE ON PROCEDURE kpi_mail.run_scheduled(timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION kpi_mail.schedule_jobs(text, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION kpi_mail.unschedule_jobs() FROM PUBLIC;

