/*-------------------------------------------------------------------------
 * indicators.h
 *	  The weekly figures of SPEC §4 (invoice delay, reminder results) as a C
 *	  struct, and the invoice status rules of §2.
 *
 * Invoices and reminders are read only through kpi_mail.source_query(), so
 * the figures do not depend on which tables hold them (§8).
 *-------------------------------------------------------------------------
 */
#ifndef KPI_MAIL_INDICATORS_H
#define KPI_MAIL_INDICATORS_H

#include "postgres.h"
#include "nodes/pg_list.h"
#include "utils/date.h"
#include "utils/timestamp.h"

#include "calendar.h"

/* Status of an invoice as of a period end (§2). */
typedef enum KpiInvoiceStatus
{
	KPI_INVOICE_ON_TIME,
	KPI_INVOICE_LATE,
	KPI_INVOICE_PENDING
} KpiInvoiceStatus;

/* An invoice evaluated as of a period end P (§2). */
typedef struct KpiInvoiceRow
{
	char	   *invoice_number; /* never NULL ("" for a NULL source value) */
	char	   *client_name;	/* never NULL ("" for a NULL source value) */
	DateADT		edited_on;
	DateADT		deadline;		/* add_business_days(edited_on, N) */
	bool		sent;			/* sent_on <= P */
	DateADT		sent_on;		/* meaningful only when sent */
	KpiInvoiceStatus status;
	int			delay;			/* business days edition -> sending, when sent */
	int			lateness;		/* business days beyond N; > 0 only when late */
	int			ordinal;		/* rank in (edited_on, invoice_number) order */
} KpiInvoiceRow;

/* A reminder of a missing-result or backlog list (§3, §4). */
typedef struct KpiReminderRow
{
	int64		reminder_id;
	char	   *client_name;	/* never NULL */
	char	   *invoice_number; /* never NULL */
	DateADT		reminded_on;
	TimestampTz recorded_at;	/* midnight starting reminded_on when NULL */
	TimestampTz result_due_at;	/* recorded_at + D days on the wall clock of tz */
	DateADT		result_due_on;	/* date of result_due_at in tz */
	int			days_without_result;	/* whole days in tz up to E_ts */
} KpiReminderRow;

/* Every figure of the weekly report for one period (§4). */
typedef struct KpiWeeklyFigures
{
	DateADT		period_start;	/* S = P - 6 */
	DateADT		period_end;		/* P */
	DateADT		backlog_start;	/* S - 7 * backlog_weeks */
	TimestampTz end_ts;			/* E_ts: midnight starting P + 1, in tz */

	/* settings the texts quote */
	int			invoice_max_business_days;	/* N */
	int			reminder_result_days;	/* D */
	int			detail_limit;

	/* invoices edited in [S, P], statuses as of P */
	int			invoices_edited;
	int			invoices_on_time;
	int			invoices_late;
	int			invoices_pending;
	List	   *late_invoices;	/* KpiInvoiceRow *: lateness desc, edited_on,
								 * invoice_number */
	List	   *invoice_backlog;	/* KpiInvoiceRow *: edited_on, invoice_number */

	/* reminders dated in [S, P], result as of E_ts */
	int			reminders_made;
	int			reminders_with_result;
	int			reminders_missing;
	List	   *missing_results;	/* KpiReminderRow *: reminded_on, client_name,
									 * invoice_number */
	List	   *reminder_backlog;	/* KpiReminderRow *: recorded_at, reminder_id */
} KpiWeeklyFigures;

/*
 * The period end a caller asked for: NULL (is_null) means yesterday in the
 * company time zone; a date after today there, or an infinite one, is an
 * error (22023).  Uses SPI.
 */
extern DateADT kpi_period_end_resolve(bool is_null, DateADT period_end);

/*
 * Computes the figures of the period ending period_end (already resolved),
 * allocated in the caller's memory context.  Uses SPI (nested connections are
 * fine).
 */
extern KpiWeeklyFigures *kpi_weekly_figures_compute(DateADT period_end);

/*
 * Evaluates one invoice as of period end P with threshold N (§2); fills
 * deadline, sent, status, delay and lateness of row from edited_on and
 * sent_on (has_sent_on false when sent_on is NULL).
 */
extern void kpi_invoice_evaluate(const KpiCalendar *cal, int max_business_days,
								 DateADT period_end, bool has_sent_on,
								 KpiInvoiceRow *row);

#endif							/* KPI_MAIL_INDICATORS_H */
