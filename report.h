/*-------------------------------------------------------------------------
 * report.h
 *	  The weekly report of SPEC §4: its exact French text and its figures as
 *	  jsonb, from the figures computed by indicators.c.
 *-------------------------------------------------------------------------
 */
#ifndef KPI_MAIL_REPORT_H
#define KPI_MAIL_REPORT_H

#include "postgres.h"
#include "utils/date.h"

#include "indicators.h"

/* The report body (ends with LF) of already computed figures, palloc'd. */
extern char *kpi_weekly_report_format(const KpiWeeklyFigures *figures);

/* The figures as JSON text with full detail lists (keys of §4), palloc'd. */
extern char *kpi_weekly_figures_json(const KpiWeeklyFigures *figures);

/*
 * The report body for the period ending period_end, which must not lie after
 * today in the company time zone (error 22023; resolve a NULL period end
 * first with kpi_period_end_resolve).  Uses SPI; for send_weekly_report.
 */
extern char *kpi_weekly_report_text(DateADT period_end);

#endif							/* KPI_MAIL_REPORT_H */
