/*-------------------------------------------------------------------------
 * settings.c
 *	  Reads the kpi_mail.settings row and converts dates in the company
 *	  time zone, independently of the session's TimeZone (SPEC §2, §3).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/timestamp.h"

#include "settings.h"

/* Returns column colname of the single SPI result row as a C string (NULL if null). */
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
 * Reads the settings row.  The caller is connected to SPI; the strings are
 * copied to the caller's memory context so they outlive SPI_finish().
 */
KpiSettings *
kpi_settings_load(void)
{
	MemoryContext caller_context = CurrentMemoryContext;
	MemoryContext spi_context;
	KpiSettings *settings;

	if (SPI_execute("SELECT timezone, holiday_calendar, invoice_max_business_days,"
					" reminder_result_days, detail_limit, backlog_weeks,"
					" alert_repeat_days, report_weekday, report_time::text AS report_time,"
					" mail_from, smtp_url FROM kpi_mail.settings",
					true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("la table kpi_mail.settings doit contenir exactement une ligne"),
				 errhint("Recréez la ligne avec INSERT INTO kpi_mail.settings DEFAULT VALUES.")));

	spi_context = MemoryContextSwitchTo(caller_context);
	settings = palloc0(sizeof(KpiSettings));
	settings->timezone = pstrdup(spi_text("timezone"));
	settings->holiday_calendar = pstrdup(spi_text("holiday_calendar"));
	settings->invoice_max_business_days = spi_int("invoice_max_business_days");
	settings->reminder_result_days = spi_int("reminder_result_days");
	settings->detail_limit = spi_int("detail_limit");
	settings->backlog_weeks = spi_int("backlog_weeks");
	settings->alert_repeat_days = spi_int("alert_repeat_days");
	settings->report_weekday = spi_int("report_weekday");
	settings->report_time = DatumGetTimeADT(DirectFunctionCall1(time_in,
																CStringGetDatum(spi_text("report_time"))));
	settings->mail_from = pstrdup(spi_text("mail_from"));
	settings->smtp_url = pstrdup(spi_text("smtp_url"));
	MemoryContextSwitchTo(spi_context);
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
