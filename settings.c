/*-------------------------------------------------------------------------
 * settings.c
 *	  Reads the kpi_mail.settings row and converts dates in the company
 *	  time zone, independently of the session's TimeZone (SPEC §2, §3).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "settings.h"

/*
 * Returns column colname of the single SPI result row as a C string (NULL if
 * null), allocated in CurrentMemoryContext.
 */
static char *
spi_text(const char *colname)
{
	int			col = SPI_fnumber(SPI_tuptable->tupdesc, colname);

	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col);
}

/* Returns an integer column of the single SPI result row. */
static int
spi_int(const char *colname)
{
	char	   *value = spi_text(colname);

	return value ? pg_strtoint32(value) : 0;
}

/*
 * The extension's owner: the owner of schema kpi_mail, which the extension
 * script creates (a syscache lookup, cheap enough for every trigger call).
 */
Oid
kpi_extension_owner(void)
{
	Oid			nspid = get_namespace_oid("kpi_mail", false);
	HeapTuple	tuple = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nspid));
	Oid			owner;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for namespace %u", nspid);
	owner = ((Form_pg_namespace) GETSTRUCT(tuple))->nspowner;
	ReleaseSysCache(tuple);
	return owner;
}

/* Reads the settings row through a new SPI connection into a struct in mcxt. */
static KpiSettings *
settings_read(MemoryContext mcxt)
{
	KpiSettings *settings;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT timezone, holiday_calendar, invoice_max_business_days,"
					" reminder_result_days, detail_limit, backlog_weeks,"
					" alert_repeat_days, report_weekday, report_time::pg_catalog.text AS report_time,"
					" mail_from, smtp_url FROM kpi_mail.settings",
					true, 2) != SPI_OK_SELECT || SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("la table kpi_mail.settings doit contenir exactement une ligne"),
				 errhint("Recréez la ligne avec INSERT INTO kpi_mail.settings DEFAULT VALUES.")));

	/* SPI_connect() switched to the SPI context, freed by SPI_finish() */
	MemoryContextSwitchTo(mcxt);
	settings = palloc0(sizeof(KpiSettings));
	settings->timezone = spi_text("timezone");
	settings->holiday_calendar = spi_text("holiday_calendar");
	settings->invoice_max_business_days = spi_int("invoice_max_business_days");
	settings->reminder_result_days = spi_int("reminder_result_days");
	settings->detail_limit = spi_int("detail_limit");
	settings->backlog_weeks = spi_int("backlog_weeks");
	settings->alert_repeat_days = spi_int("alert_repeat_days");
	settings->report_weekday = spi_int("report_weekday");
	settings->report_time = DatumGetTimeADT(DirectFunctionCall1(time_in,
																CStringGetDatum(spi_text("report_time"))));
	settings->mail_from = spi_text("mail_from");
	settings->smtp_url = spi_text("smtp_url");
	SPI_finish();
	return settings;
}

/*
 * Reads the settings row as the extension owner, in a restricted security
 * context (like the referential-integrity checks): kpi_mail.settings is not
 * readable by PUBLIC (it holds the SMTP password), yet the guards, today()
 * and the indicators run with the caller's rights.  The query names only a
 * qualified table and pg_catalog, and the struct is allocated in the
 * caller's memory context.
 */
KpiSettings *
kpi_settings_load(void)
{
	MemoryContext caller_context = CurrentMemoryContext;
	KpiSettings *volatile settings = NULL;
	Oid			save_userid;
	int			save_sec_context;

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(kpi_extension_owner(),
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		settings = settings_read(caller_context);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec_context);
	}
	PG_END_TRY();
	return settings;
}

/* The date of ts on the wall clock of timezone. */
DateADT
kpi_date_in_zone(TimestampTz ts, const char *timezone)
{
	Datum		local = DirectFunctionCall2(timestamptz_zone,
											CStringGetTextDatum(timezone),
											TimestampTzGetDatum(ts));

	return DatumGetDateADT(DirectFunctionCall1(timestamp_date, local));
}

/* The date of now() in the company time zone. */
DateADT
kpi_today(const KpiSettings *settings)
{
	return kpi_date_in_zone(GetCurrentTransactionStartTimestamp(), settings->timezone);
}

/* Midnight starting d on the wall clock of timezone. */
TimestampTz
kpi_midnight_in_zone(DateADT d, const char *timezone)
{
	Datum		local = DirectFunctionCall1(date_timestamp, DateADTGetDatum(d));

	return DatumGetTimestampTz(DirectFunctionCall2(timestamp_zone,
												   CStringGetTextDatum(timezone),
												   local));
}

/* ts plus days calendar days at the same local time in timezone (DST-aware). */
TimestampTz
kpi_add_days_in_zone(TimestampTz ts, int days, const char *timezone)
{
	Datum		local = DirectFunctionCall2(timestamptz_zone,
											CStringGetTextDatum(timezone),
											TimestampTzGetDatum(ts));
	Timestamp	shifted = DatumGetTimestamp(local) + (int64) days * USECS_PER_DAY;

	return DatumGetTimestampTz(DirectFunctionCall2(timestamp_zone,
												   CStringGetTextDatum(timezone),
												   TimestampGetDatum(shifted)));
}

PG_FUNCTION_INFO_V1(kpi_mail_today);

/* kpi_mail.today(): the date of now() in the company time zone, for every role. */
Datum
kpi_mail_today(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATEADT(kpi_today(kpi_settings_load()));
}

PG_FUNCTION_INFO_V1(kpi_mail_company_timezone);

/* kpi_mail.company_timezone(): the setting timezone, for every role (§7). */
Datum
kpi_mail_company_timezone(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(kpi_settings_load()->timezone));
}

/*
 * The largest k such that ts_from plus k days on the wall clock of timezone
 * is not after ts_to (0 when ts_to precedes ts_from): the "days without
 * result" of SPEC §3, §4 and §5.  Starts from the difference of the local
 * dates and corrects it by at most a day either way.
 */
int
kpi_whole_days_in_zone(TimestampTz ts_from, TimestampTz ts_to, const char *timezone)
{
	int			k;

	if (TIMESTAMP_NOT_FINITE(ts_from) || TIMESTAMP_NOT_FINITE(ts_to))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("impossible de compter les jours entre deux instants dont l'un est infini")));
	if (ts_to < ts_from)
		return 0;
	k = kpi_date_in_zone(ts_to, timezone) - kpi_date_in_zone(ts_from, timezone);
	while (k > 0 && kpi_add_days_in_zone(ts_from, k, timezone) > ts_to)
		k--;
	while (kpi_add_days_in_zone(ts_from, k + 1, timezone) <= ts_to)
		k++;
	return k;
}
