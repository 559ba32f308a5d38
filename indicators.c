/*-------------------------------------------------------------------------
 * indicators.c
 *	  The invoice delay indicator (SPEC §2) and the weekly figures (§4):
 *	  invoice cohort and backlog, reminder cohort and backlog, computed for
 *	  a period end P, plus the rows of the kpi_mail.invoice_kpi view.
 *
 * Invoices and reminders are read only through kpi_mail.source_query(kind),
 * wrapped as a subquery with our filters and bound parameters, and run by
 * source.c with the source's identity, so attaching the company's own
 * tables (§8) changes nothing here.  Business days come
 * from one KpiCalendar loaded per call; calendar days and midnights are
 * taken on the wall clock of the company time zone (settings.timezone),
 * never in the session's TimeZone.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "calendar.h"
#include "indicators.h"
#include "settings.h"
#include "source.h"
#include "textfmt.h"

/* Rows fetched at a time by the invoice_kpi view. */
#define INVOICE_KPI_BATCH 1000

/* Columns of the invoice query (see invoice_query). */
#define INV_NUMBER 1
#define INV_CLIENT 2
#define INV_EDITED_ON 3
#define INV_SENT_ON 4

/* Columns of the reminder query (see reminder_query). */
#define REM_ID 1
#define REM_CLIENT 2
#define REM_INVOICE 3
#define REM_REMINDED_ON 4
#define REM_RECORDED_AT 5
#define REM_HAS_RESULT 6
#define REM_RESPONSIBLE 7

/*
 * §3, the one place of the rule: a reminder has a result at instant $3 when
 * result is not NULL and result_recorded_at < $3 (a NULL result_recorded_at
 * on a result counts as recorded long ago).  It is overdue at $3 when it has
 * none and result_due_at <= $3 (checked in C, see reminder_overdue).
 */
#define HAS_RESULT_AT_3 \
	"(src.result IS NOT NULL AND (src.result_recorded_at IS NULL" \
	" OR src.result_recorded_at::pg_catalog.timestamptz < $3))"

/*
 * The entry time of a reminder: recorded_at, or when NULL (attached tables)
 * midnight starting reminded_on in tz ($4), as kpi_recorded_at's backfill.
 */
#define RECORDED_AT \
	"COALESCE(src.recorded_at::pg_catalog.timestamptz," \
	" pg_catalog.timezone($4, src.reminded_on::pg_catalog.timestamp))"

/* Which reminders reminder_query selects. */
typedef enum ReminderSelection
{
	REMINDERS_COHORT,			/* reminded_on in [$1, $2] */
	REMINDERS_BACKLOG,			/* reminded_on in [$1, $2), no result at $3 */
	REMINDERS_WITHOUT_RESULT	/* any reminded_on, no result at $3 */
} ReminderSelection;

/* A date as DD/MM/YYYY (for error details). */
static char *
date_text(DateADT d)
{
	StringInfoData buf;

	initStringInfo(&buf);
	kpi_append_date(&buf, d);
	return buf.data;
}

/*
 * The invoice source wrapped with a filter on edited_on (from $1, to $2,
 * both included) and ordered by edited_on, invoice_number.  Without bounds
 * (for the view) it reads every invoice.
 */
static char *
invoice_query(const KpiSource *source, bool bounded)
{
	return psprintf("SELECT src.invoice_number::pg_catalog.text, src.client_name::pg_catalog.text,"
					" src.edited_on::pg_catalog.date, src.sent_on::pg_catalog.date"
					" FROM (%s) AS src%s"
					" ORDER BY 3, 1",
					source->query,
					bounded ? " WHERE src.edited_on >= $1 AND src.edited_on <= $2" : "");
}

/*
 * The reminder source wrapped with the selection's filters (dates $1, $2,
 * instant $3), the entry time (RECORDED_AT, time zone $4) and has_result at
 * $3.  The weekly report and the alerts both read reminders here, so they
 * see the same rows; rows without a finite entry time (infinite, or NULL
 * with a NULL date) are left out, as they have no due date.  Cohort rows are
 * ordered by reminded_on, client_name, invoice_number; the others by
 * recorded_at, reminder_id.
 */
static char *
reminder_query(const KpiSource *source, ReminderSelection selection)
{
	return psprintf("SELECT src.reminder_id::pg_catalog.int8, src.client_name::pg_catalog.text,"
					" src.invoice_number::pg_catalog.text, src.reminded_on::pg_catalog.date,"
					" " RECORDED_AT ", " HAS_RESULT_AT_3 " AS has_result,"
					" src.responsible_email::pg_catalog.text"
					" FROM (%s) AS src"
					" WHERE pg_catalog.isfinite(" RECORDED_AT ")%s%s"
					" ORDER BY %s",
					source->query,
					selection == REMINDERS_COHORT ? " AND src.reminded_on >= $1 AND src.reminded_on <= $2" :
					selection == REMINDERS_BACKLOG ? " AND src.reminded_on >= $1 AND src.reminded_on < $2" : "",
					selection == REMINDERS_COHORT ? "" : " AND NOT " HAS_RESULT_AT_3,
					selection == REMINDERS_COHORT ? "4, 2, 3, 1" : "5, 1");
}

/* A text column of an SPI row as a palloc'd string, "" when NULL. */
static char *
spi_string(HeapTuple tuple, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		value = SPI_getbinval(tuple, desc, col, &isnull);

	return isnull ? pstrdup("") : TextDatumGetCString(value);
}

/* A date column of an SPI row; *isnull tells whether it was NULL. */
static DateADT
spi_date(HeapTuple tuple, TupleDesc desc, int col, bool *isnull)
{
	Datum		value = SPI_getbinval(tuple, desc, col, isnull);

	return *isnull ? 0 : DatumGetDateADT(value);
}

/*
 * Evaluates one invoice as of period end P (§2): sent means sent_on <= P;
 * a sent invoice is on time when its delay is at most N business days; an
 * unsent one is late as soon as sending it on E = P + 1 would be late.
 */
void
kpi_invoice_evaluate(const KpiCalendar *cal, int max_business_days,
					 DateADT period_end, bool has_sent_on, KpiInvoiceRow *row)
{
	row->deadline = kpi_add_business_days(cal, row->edited_on, max_business_days);
	row->sent = has_sent_on && row->sent_on <= period_end;
	row->delay = 0;
	row->lateness = 0;
	if (row->sent)
	{
		row->delay = kpi_business_days_between(cal, row->edited_on, row->sent_on);
		row->lateness = row->delay - max_business_days;
		row->status = row->lateness > 0 ? KPI_INVOICE_LATE : KPI_INVOICE_ON_TIME;
	}
	else
	{
		row->lateness = kpi_business_days_between(cal, row->edited_on, period_end + 1)
			- max_business_days;
		row->status = row->lateness > 0 ? KPI_INVOICE_LATE : KPI_INVOICE_PENDING;
	}
	if (row->lateness < 0)
		row->lateness = 0;
}

/* Reads an invoice SPI row into a new KpiInvoiceRow evaluated as of P. */
static KpiInvoiceRow *
invoice_row_read(HeapTuple tuple, TupleDesc desc, const KpiCalendar *cal,
				 int max_business_days, DateADT period_end)
{
	KpiInvoiceRow *row = palloc0(sizeof(KpiInvoiceRow));
	bool		isnull;
	bool		sent_null;

	row->invoice_number = spi_string(tuple, desc, INV_NUMBER);
	row->client_name = spi_string(tuple, desc, INV_CLIENT);
	row->edited_on = spi_date(tuple, desc, INV_EDITED_ON, &isnull);
	row->sent_on = spi_date(tuple, desc, INV_SENT_ON, &sent_null);
	kpi_invoice_evaluate(cal, max_business_days, period_end, !sent_null, row);
	return row;
}

/* Orders late invoices by lateness descending, then source order (edited_on, invoice_number). */
static int
late_invoice_cmp(const ListCell *a, const ListCell *b)
{
	const KpiInvoiceRow *ra = lfirst(a);
	const KpiInvoiceRow *rb = lfirst(b);

	if (ra->lateness != rb->lateness)
		return ra->lateness > rb->lateness ? -1 : 1;
	return (ra->ordinal > rb->ordinal) - (ra->ordinal < rb->ordinal);
}

/*
 * The period end a caller asked for: NULL means yesterday in the company
 * time zone; a date after today there (or an infinite date) is refused.
 */
DateADT
kpi_period_end_resolve(bool is_null, DateADT period_end)
{
	KpiSettings *settings = kpi_settings_load();
	DateADT		today = kpi_today(settings);

	if (is_null)
		return today - 1;
	if (DATE_NOT_FINITE(period_end))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("la fin de période doit être une date finie"),
				 errhint("Indiquez une date passée, ou NULL pour la semaine se terminant hier.")));
	if (period_end > today)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("la fin de période ne peut pas être postérieure à aujourd'hui"),
				 errdetail("La période demandée se termine le %s ; nous sommes le %s dans le fuseau horaire %s.",
						   date_text(period_end), date_text(today), settings->timezone),
				 errhint("Indiquez une date passée, ou NULL pour la semaine se terminant hier.")));
	return period_end;
}

/*
 * Reads the invoices edited in [backlog_start, P] into the figures f, whose
 * rows and lists are allocated in mcxt.
 */
static void
compute_invoices(KpiWeeklyFigures *f, const KpiCalendar *cal, MemoryContext mcxt)
{
	Oid			argtypes[2] = {DATEOID, DATEOID};
	Datum		values[2];
	TupleDesc	desc;
	int			ordinal = 0;
	KpiSource  *source = kpi_source_get("invoices");

	values[0] = DateADTGetDatum(f->backlog_start);
	values[1] = DateADTGetDatum(f->period_end);
	kpi_source_execute(source, invoice_query(source, true), 2, argtypes, values);
	/* SPI calls return in the SPI procedure context; the rows go to mcxt */
	MemoryContextSwitchTo(mcxt);
	desc = SPI_tuptable->tupdesc;
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		KpiInvoiceRow *row;

		CHECK_FOR_INTERRUPTS();
		row = invoice_row_read(SPI_tuptable->vals[i], desc, cal,
							   f->invoice_max_business_days, f->period_end);
		row->ordinal = ordinal++;
		if (row->edited_on >= f->period_start)
		{
			f->invoices_edited++;
			if (row->status == KPI_INVOICE_ON_TIME)
				f->invoices_on_time++;
			else if (row->status == KPI_INVOICE_PENDING)
				f->invoices_pending++;
			else
			{
				f->invoices_late++;
				f->late_invoices = lappend(f->late_invoices, row);
			}
		}
		else if (row->status == KPI_INVOICE_LATE && !row->sent)
			f->invoice_backlog = lappend(f->invoice_backlog, row);
	}
	SPI_freetuptable(SPI_tuptable);
	list_sort(f->late_invoices, late_invoice_cmp);
}

/*
 * Runs the reminder query of selection over source with dates from, to and
 * instant t; the result is in SPI_tuptable.
 */
static void
run_reminder_query(const KpiSource *source, ReminderSelection selection,
				   DateADT from, DateADT to, TimestampTz t, const char *timezone)
{
	Oid			argtypes[4] = {DATEOID, DATEOID, TIMESTAMPTZOID, TEXTOID};
	Datum		values[4];

	values[0] = DateADTGetDatum(from);
	values[1] = DateADTGetDatum(to);
	values[2] = TimestampTzGetDatum(t);
	values[3] = CStringGetTextDatum(timezone);
	kpi_source_execute(source, reminder_query(source, selection), 4, argtypes, values);
}

/* Reads a reminder SPI row into a new KpiReminderRow (due date and days in tz). */
static KpiReminderRow *
reminder_row_read(HeapTuple tuple, TupleDesc desc, int result_days,
				  TimestampTz end_ts, const char *timezone)
{
	KpiReminderRow *row = palloc0(sizeof(KpiReminderRow));
	bool		isnull;
	Datum		value;

	value = SPI_getbinval(tuple, desc, REM_ID, &isnull);
	row->reminder_id = isnull ? 0 : DatumGetInt64(value);
	row->client_name = spi_string(tuple, desc, REM_CLIENT);
	row->invoice_number = spi_string(tuple, desc, REM_INVOICE);
	row->reminded_on = spi_date(tuple, desc, REM_REMINDED_ON, &isnull);
	row->recorded_at = DatumGetTimestampTz(SPI_getbinval(tuple, desc, REM_RECORDED_AT, &isnull));
	row->result_due_at = kpi_add_days_in_zone(row->recorded_at, result_days, timezone);
	row->result_due_on = kpi_date_in_zone(row->result_due_at, timezone);
	row->days_without_result = kpi_whole_days_in_zone(row->recorded_at, end_ts, timezone);
	return row;
}

/*
 * §3: a reminder read without result at t (REMINDERS_BACKLOG or
 * REMINDERS_WITHOUT_RESULT at instant t) is overdue when its result was due
 * at or before t.
 */
static bool
reminder_overdue(const KpiReminderRow *row, TimestampTz t)
{
	return row->result_due_at <= t;
}

/* Reads the reminder cohort and backlog into the figures f, allocated in mcxt. */
static void
compute_reminders(KpiWeeklyFigures *f, const char *timezone, MemoryContext mcxt)
{
	TupleDesc	desc;
	KpiSource  *source = kpi_source_get("reminders");

	/* cohort: reminders dated in [S, P] */
	run_reminder_query(source, REMINDERS_COHORT, f->period_start, f->period_end, f->end_ts,
					   timezone);
	MemoryContextSwitchTo(mcxt);
	desc = SPI_tuptable->tupdesc;
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		bool		isnull;

		CHECK_FOR_INTERRUPTS();
		f->reminders_made++;
		if (DatumGetBool(SPI_getbinval(tuple, desc, REM_HAS_RESULT, &isnull)))
			f->reminders_with_result++;
		else
		{
			f->reminders_missing++;
			f->missing_results = lappend(f->missing_results,
										 reminder_row_read(tuple, desc, f->reminder_result_days,
														   f->end_ts, timezone));
		}
	}
	SPI_freetuptable(SPI_tuptable);

	/* backlog: reminders dated in [backlog_start, S), overdue at E_ts */
	run_reminder_query(source, REMINDERS_BACKLOG, f->backlog_start, f->period_start, f->end_ts,
					   timezone);
	MemoryContextSwitchTo(mcxt);
	desc = SPI_tuptable->tupdesc;
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		KpiReminderRow *row;

		CHECK_FOR_INTERRUPTS();
		row = reminder_row_read(SPI_tuptable->vals[i], desc, f->reminder_result_days,
								f->end_ts, timezone);
		if (reminder_overdue(row, f->end_ts))
			f->reminder_backlog = lappend(f->reminder_backlog, row);
		else
			pfree(row);
	}
	SPI_freetuptable(SPI_tuptable);
}

/*
 * Computes every figure of §4 for the period ending period_end, in the
 * caller's memory context, with the settings and calendar of this instant.
 */
KpiWeeklyFigures *
kpi_weekly_figures_compute(DateADT period_end)
{
	MemoryContext caller_context = CurrentMemoryContext;
	KpiWeeklyFigures *f;
	KpiSettings *settings;
	KpiCalendar *cal;
	int64		backlog_start;

	SPI_connect();

	/*
	 * Every SPI call returns in the SPI procedure context, freed by
	 * SPI_finish(): what must outlive it is allocated in caller_context.
	 */
	MemoryContextSwitchTo(caller_context);
	settings = kpi_settings_load();
	cal = kpi_calendar_load(caller_context, settings->holiday_calendar);

	f = MemoryContextAllocZero(caller_context, sizeof(KpiWeeklyFigures));
	f->period_end = period_end;
	f->period_start = period_end - 6;
	backlog_start = (int64) f->period_start - 7 * (int64) settings->backlog_weeks;
	/* the calendar knows the years 1 to 9999 (calendar.c) */
	if (DATE_NOT_FINITE(period_end) ||
		backlog_start < (int64) (date2j(1, 1, 1) - POSTGRES_EPOCH_JDATE) ||
		!IS_VALID_DATE(period_end + 1))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("la fin de période est trop ancienne"),
				 errdetail("La période et les semaines précédentes examinées (backlog_weeks) doivent commencer au plus tôt le 01/01/0001.")));
	f->backlog_start = (DateADT) backlog_start;
	f->end_ts = kpi_midnight_in_zone(period_end + 1, settings->timezone);
	f->invoice_max_business_days = settings->invoice_max_business_days;
	f->reminder_result_days = settings->reminder_result_days;
	f->detail_limit = settings->detail_limit;

	compute_invoices(f, cal, caller_context);
	compute_reminders(f, settings->timezone, caller_context);

	SPI_finish();
	return f;
}

PG_FUNCTION_INFO_V1(kpi_invoice_kpi_rows);

/*
 * kpi_mail.invoice_kpi_rows(): one row per invoice of the source, evaluated
 * today in the company time zone (P = today), behind the invoice_kpi view.
 */
Datum
kpi_invoice_kpi_rows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext call_context = CurrentMemoryContext;
	MemoryContext batch_context;
	KpiSettings *settings;
	KpiCalendar *cal;
	DateADT		today;
	Portal		portal;
	KpiSource  *source;

	InitMaterializedSRF(fcinfo, 0);

	SPI_connect();
	MemoryContextSwitchTo(call_context);
	settings = kpi_settings_load();
	cal = kpi_calendar_load(call_context, settings->holiday_calendar);
	today = kpi_today(settings);
	batch_context = AllocSetContextCreate(call_context, "invoice_kpi batch",
										  ALLOCSET_DEFAULT_SIZES);

	source = kpi_source_get("invoices");
	portal = kpi_source_cursor_open(source, invoice_query(source, false), 0, NULL, NULL);
	for (;;)
	{
		TupleDesc	desc;

		kpi_source_cursor_fetch(source, portal, INVOICE_KPI_BATCH);
		if (SPI_processed == 0)
			break;
		desc = SPI_tuptable->tupdesc;
		MemoryContextSwitchTo(batch_context);
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tuple = SPI_tuptable->vals[i];
			Datum		values[7];
			bool		nulls[7] = {false};
			KpiInvoiceRow *row;

			CHECK_FOR_INTERRUPTS();
			values[0] = SPI_getbinval(tuple, desc, INV_NUMBER, &nulls[0]);
			values[1] = SPI_getbinval(tuple, desc, INV_CLIENT, &nulls[1]);
			values[2] = SPI_getbinval(tuple, desc, INV_EDITED_ON, &nulls[2]);
			values[4] = SPI_getbinval(tuple, desc, INV_SENT_ON, &nulls[4]);
			if (nulls[2])
			{
				/* no edition date: nothing can be computed */
				nulls[3] = nulls[5] = nulls[6] = true;
			}
			else
			{
				row = invoice_row_read(tuple, desc, cal,
									   settings->invoice_max_business_days, today);
				values[3] = DateADTGetDatum(row->deadline);
				values[5] = Int32GetDatum(row->delay);
				nulls[5] = !row->sent;
				values[6] = CStringGetTextDatum(row->status == KPI_INVOICE_ON_TIME ? "on_time" :
												row->status == KPI_INVOICE_LATE ? "late" : "pending");
			}
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
		MemoryContextSwitchTo(call_context);
		MemoryContextReset(batch_context);
		SPI_freetuptable(SPI_tuptable);
	}
	kpi_source_cursor_close(source, portal);
	SPI_finish();
	MemoryContextDelete(batch_context);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(kpi_overdue_reminders);

/*
 * kpi_mail.overdue_reminders(as_of): the reminders overdue at as_of (§3),
 * by recorded_at and reminder_id, with the rule and the source reading the
 * weekly report uses; send_alerts selects the reminders to alert from it.
 */
Datum
kpi_overdue_reminders(PG_FUNCTION_ARGS)
{
	TimestampTz as_of = PG_GETARG_TIMESTAMPTZ(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext call_context = CurrentMemoryContext;
	KpiSettings *settings;
	KpiSource  *source;
	TupleDesc	desc;

	if (TIMESTAMP_NOT_FINITE(as_of))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("l'instant de référence doit être fini")));
	InitMaterializedSRF(fcinfo, 0);

	SPI_connect();
	MemoryContextSwitchTo(call_context);
	settings = kpi_settings_load();
	source = kpi_source_get("reminders");
	run_reminder_query(source, REMINDERS_WITHOUT_RESULT, 0, 0, as_of, settings->timezone);
	MemoryContextSwitchTo(call_context);
	desc = SPI_tuptable->tupdesc;
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		KpiReminderRow *row;
		Datum		values[8];
		bool		nulls[8] = {false};

		CHECK_FOR_INTERRUPTS();
		row = reminder_row_read(tuple, desc, settings->reminder_result_days, as_of,
								settings->timezone);
		if (reminder_overdue(row, as_of))
		{
			values[0] = SPI_getbinval(tuple, desc, REM_ID, &nulls[0]);
			values[1] = SPI_getbinval(tuple, desc, REM_CLIENT, &nulls[1]);
			values[2] = SPI_getbinval(tuple, desc, REM_INVOICE, &nulls[2]);
			values[3] = SPI_getbinval(tuple, desc, REM_REMINDED_ON, &nulls[3]);
			values[4] = TimestampTzGetDatum(row->recorded_at);
			values[5] = TimestampTzGetDatum(row->result_due_at);
			values[6] = Int32GetDatum(row->days_without_result);
			values[7] = SPI_getbinval(tuple, desc, REM_RESPONSIBLE, &nulls[7]);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
		pfree(row);
	}
	SPI_freetuptable(SPI_tuptable);
	SPI_finish();
	return (Datum) 0;
}
