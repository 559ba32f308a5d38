/*-------------------------------------------------------------------------
 * alerts.c
 *	  Text of the alert mail sent when a payment reminder still has no
 *	  result D days after it was entered (SPEC §3, §5).
 *
 * Choosing the reminders, the recipients and queueing the mail is done in
 * SQL (kpi_mail.send_alerts); this file only builds the body, with the
 * formatting rules shared with the weekly report (textfmt.c).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "settings.h"
#include "textfmt.h"

PG_FUNCTION_INFO_V1(kpi_alert_body);

/* The wall-clock time of ts in timezone, as a timestamp without time zone. */
static Timestamp
local_timestamp(TimestampTz ts, const char *timezone)
{
	return DatumGetTimestamp(DirectFunctionCall2(timestamptz_zone,
												 CStringGetTextDatum(timezone),
												 TimestampTzGetDatum(ts)));
}

/* Appends the wall-clock date and time of ts in timezone as "DD/MM/YYYY à HH:MM". */
static void
append_local_datetime(StringInfo buf, TimestampTz ts, const char *timezone)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (TIMESTAMP_NOT_FINITE(ts) ||
		timestamp2tm(local_timestamp(ts, timezone), NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("date de saisie de la relance hors limites")));
	kpi_append_date(buf, kpi_date_in_zone(ts, timezone));
	appendStringInfo(buf, " à %02d:%02d", tm.tm_hour, tm.tm_min);
}

/*
 * kpi_mail.alert_body(client_name, invoice_number, reminded_on, recorded_at,
 * as_of, timezone): the exact body of SPEC §5, so that send_alerts never
 * formats dates, plurals or control characters itself.  NULL texts print as
 * empty; a NULL instant or time zone gives NULL.
 */
Datum
kpi_alert_body(PG_FUNCTION_ARGS)
{
	StringInfoData buf;
	TimestampTz recorded_at;
	TimestampTz as_of;
	char	   *timezone;

	if (PG_ARGISNULL(3) || PG_ARGISNULL(4) || PG_ARGISNULL(5))
		PG_RETURN_NULL();
	recorded_at = PG_GETARG_TIMESTAMPTZ(3);
	as_of = PG_GETARG_TIMESTAMPTZ(4);
	timezone = text_to_cstring(PG_GETARG_TEXT_PP(5));

	initStringInfo(&buf);
	appendStringInfoString(&buf, "Le champ 'Résultat de la Relance' n'a pas été rempli pour ");
	if (!PG_ARGISNULL(0))
		kpi_append_clean(&buf, text_to_cstring(PG_GETARG_TEXT_PP(0)));
	appendStringInfoString(&buf, ", ");
	if (!PG_ARGISNULL(1))
		kpi_append_clean(&buf, text_to_cstring(PG_GETARG_TEXT_PP(1)));
	appendStringInfoString(&buf, " depuis ");
	kpi_append_count(&buf, kpi_whole_days_in_zone(recorded_at, as_of, timezone), "jour", "jours");
	appendStringInfoString(&buf, ". Veuillez compléter les informations requises.\n\nRelance du ");
	if (PG_ARGISNULL(2))
		appendStringInfoString(&buf, "(date inconnue)");
	else
		kpi_append_date(&buf, PG_GETARG_DATEADT(2));
	appendStringInfoString(&buf, ", saisie le ");
	append_local_datetime(&buf, recorded_at, timezone);
	appendStringInfoString(&buf, ".\n");

	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}
