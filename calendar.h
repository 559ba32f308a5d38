/*-------------------------------------------------------------------------
 * calendar.h
 *	  French business days (jours ouvrés), SPEC §1.
 *
 * A KpiCalendar is the holiday rules of one calendar plus the company's
 * overrides, loaded once and then used for many dates without further
 * catalog or table access.
 *-------------------------------------------------------------------------
 */
#ifndef KPI_MAIL_CALENDAR_H
#define KPI_MAIL_CALENDAR_H

#include "postgres.h"
#include "utils/date.h"

typedef struct KpiCalendar KpiCalendar;

/*
 * Loads the calendar named calendar_name (NULL = the configured one) with the
 * rows of kpi_mail.calendar_override, allocated in mcxt.  Uses SPI.
 */
extern KpiCalendar *kpi_calendar_load(MemoryContext mcxt, const char *calendar_name);

/* Is calendar_name one of FR, FR-ALSACE-MOSELLE, WEEKENDS-ONLY? */
extern bool kpi_calendar_name_is_known(const char *calendar_name);

extern bool kpi_is_business_day(const KpiCalendar *cal, DateADT d);
extern int	kpi_business_days_between(const KpiCalendar *cal, DateADT from, DateADT to);
extern DateADT kpi_add_business_days(const KpiCalendar *cal, DateADT d, int n);

#endif							/* KPI_MAIL_CALENDAR_H */
