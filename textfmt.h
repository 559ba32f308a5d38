/*-------------------------------------------------------------------------
 * textfmt.h
 *	  French text formatting shared by the weekly report and the alerts
 *	  (SPEC §4, §5): dates, plurals, percentages, control characters.
 *-------------------------------------------------------------------------
 */
#ifndef KPI_MAIL_TEXTFMT_H
#define KPI_MAIL_TEXTFMT_H

#include "postgres.h"
#include "lib/stringinfo.h"
#include "utils/date.h"

/* Appends d as DD/MM/YYYY. */
extern void kpi_append_date(StringInfo buf, DateADT d);

/* Appends "n singular" when |n| <= 1, else "n plural" (1 jour ouvré, 2 jours ouvrés). */
extern void kpi_append_count(StringInfo buf, int n, const char *singular, const char *plural);

/* Appends count/total as "66,7 %" (half away from zero), or "n.d." when total is 0. */
extern void kpi_append_percent(StringInfo buf, int count, int total);

/* Appends text with every control character (C0 and DEL) replaced by one space. */
extern void kpi_append_clean(StringInfo buf, const char *text);

#endif							/* KPI_MAIL_TEXTFMT_H */
