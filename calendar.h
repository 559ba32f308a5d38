/*-------------------------------------------------------------------------
 * calendar.h
 *	  French business days (jours ouvrés), SPEC §1.
 *
 * A KpiCalendar is the holiday rules of one calendar plus the company's
 * overrides, loaded once and then used for many dates without further
 * catalog or table access.  Every computation takes constant time (no
 * day-by-day walk), so it can run once per row over millions of rows.
 *
 * Dates must lie in 0001-01-01 .. 9999-12-31 (infinity included in the
 * "outside"); other dates raise SQLSTATE 22008.
 *-------------------------------------------------------------------------
 */
#ifndef KPI_MAIL_CALENDAR_H
#define KPI_MAIL_CALENDAR_H

#include "postgres.h"
#include "fmgr.h"
#include "utils/date.h"

typedef struct KpiCalendar KpiCalendar;

/*
 * Loads the calendar named calendar_name (NULL = the configured one) with the
 * rows of kpi_mail.calendar_override, allocated in mcxt.  Uses SPI (connects
 * and disconnects itself, so it may be called connected or not); the two
 * tables are read with the privileges of the extension's owner, so any role
 * that may call the functions can use the configured calendar.
 * Unknown name: error 22023.
 */
extern KpiCalendar *kpi_calendar_load(MemoryContext mcxt, const char *calendar_name);

/*
 * The configured calendar for a SQL-callable C function, cached in
 * fcinfo->flinfo->fn_extra (so the caller must not use fn_extra itself):
 * loaded once per query, reloaded when the transaction, the snapshot or the
 * command counter changed (so an override changed earlier in the same
 * transaction is seen).
 */
extern const KpiCalendar *kpi_calendar_for_call(FunctionCallInfo fcinfo);

/* Is calendar_name one of FR, FR-ALSACE-MOSELLE, WEEKENDS-ONLY? */
extern bool kpi_calendar_name_is_known(const char *calendar_name);

/* The name of a loaded calendar (FR, FR-ALSACE-MOSELLE or WEEKENDS-ONLY). */
extern const char *kpi_calendar_name(const KpiCalendar *cal);

extern bool kpi_is_business_day(const KpiCalendar *cal, DateADT d);
extern int	kpi_business_days_between(const KpiCalendar *cal, DateADT from, DateADT to);
extern DateADT kpi_add_business_days(const KpiCalendar *cal, DateADT d, int n);

/* Gregorian Easter Sunday of year (1..9999). */
extern DateADT kpi_easter_sunday(int year);

#endif							/* KPI_MAIL_CALENDAR_H */
