/*-------------------------------------------------------------------------
 * textfmt.c
 *	  French text formatting shared by the weekly report and the alerts
 *	  (SPEC §4, §5).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/datetime.h"

#include "textfmt.h"

/* Appends d as DD/MM/YYYY, whatever the session's DateStyle. */
void
kpi_append_date(StringInfo buf, DateADT d)
{
	int			year,
				month,
				day;

	j2date(d + POSTGRES_EPOCH_JDATE, &year, &month, &day);
	appendStringInfo(buf, "%02d/%02d/%04d", day, month, year);
}

/* Appends "n singular" for -1..1, else "n plural". */
void
kpi_append_count(StringInfo buf, int n, const char *singular, const char *plural)
{
	appendStringInfo(buf, "%d %s", n, (n >= -1 && n <= 1) ? singular : plural);
}

/*
 * Appends 100 * count / total with one decimal and a decimal comma, rounded
 * half away from zero on the exact ratio (integer arithmetic: no binary
 * floating-point surprise such as 1/16 = 6.25 -> 6.2).
 */
void
kpi_append_percent(StringInfo buf, int count, int total)
{
	int64		tenths;

	if (total == 0)
	{
		appendStringInfoString(buf, "n.d.");
		return;
	}
	/* round(1000 * count / total), half away from zero; counts are >= 0 */
	tenths = ((int64) count * 2000 + total) / ((int64) total * 2);
	appendStringInfo(buf, "%lld,%lld %%", (long long) (tenths / 10), (long long) (tenths % 10));
}

/* Appends text, each control character (C0, DEL) becoming one space. */
void
kpi_append_clean(StringInfo buf, const char *text)
{
	for (const unsigned char *p = (const unsigned char *) text; *p; p++)
		appendStringInfoChar(buf, (*p < 0x20 || *p == 0x7f) ? ' ' : (char) *p);
}
