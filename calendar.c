/*-------------------------------------------------------------------------
 * calendar.c
 *	  French business days (jours ouvrés), SPEC §1.
 *
 * PLACEHOLDER: a day-by-day implementation that ignores holidays, so that
 * other parts can be built against calendar.h.  To be replaced.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/date.h"

#include "calendar.h"

struct KpiCalendar
{
	int			dummy;
};

KpiCalendar *
kpi_calendar_load(MemoryContext mcxt, const char *calendar_name)
{
	return MemoryContextAllocZero(mcxt, sizeof(KpiCalendar));
}

bool
kpi_calendar_name_is_known(const char *calendar_name)
{
	return strcmp(calendar_name, "FR") == 0 ||
		strcmp(calendar_name, "FR-ALSACE-MOSELLE") == 0 ||
		strcmp(calendar_name, "WEEKENDS-ONLY") == 0;
}

bool
kpi_is_business_day(const KpiCalendar *cal, DateADT d)
{
	int			dow = (d + 6) % 7;	/* 2000-01-01 was a Saturday; 0 = Sunday */

	if (dow < 0)
		dow += 7;
	return dow != 0 && dow != 6;
}

int
kpi_business_days_between(const KpiCalendar *cal, DateADT from, DateADT to)
{
	int			n = 0;

	if (to < from)
		return -kpi_business_days_between(cal, to, from);
	for (DateADT d = from + 1; d <= to; d++)
		n += kpi_is_business_day(cal, d);
	return n;
}

DateADT
kpi_add_business_days(const KpiCalendar *cal, DateADT d, int n)
{
	while (n > 0)
	{
		d++;
		n -= kpi_is_business_day(cal, d);
	}
	while (n < 0)
	{
		d--;
		n += kpi_is_business_day(cal, d);
	}
	return d;
}

PG_FUNCTION_INFO_V1(kpi_calendar_is_known);

Datum
kpi_calendar_is_known(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(kpi_calendar_name_is_known(text_to_cstring(PG_GETARG_TEXT_PP(0))));
}
