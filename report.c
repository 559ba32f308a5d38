/*-------------------------------------------------------------------------
 * report.c
 *	  The weekly report (SPEC §4): the exact French text of the mail body,
 *	  kpi_mail.kpi_weekly_report(), and the same figures with full lists as
 *	  jsonb, kpi_mail.kpi_weekly_figures().
 *
 * Both are pure functions of the data and the period end: no clock reading
 * besides the check that the period end is not after today.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "indicators.h"
#include "report.h"
#include "textfmt.h"

/* Appends one detail entry (without the leading "  * " and the LF). */
typedef void (*DetailPrinter) (StringInfo buf, const void *item);

/*
 * Appends a detail list: at most limit entries, then "  * … et K autres"
 * for the rest (K follows the plural rule: "… et 1 autre").
 */
static void
append_details(StringInfo buf, const List *items, int limit, DetailPrinter print)
{
	int			shown = 0;
	ListCell   *lc;

	foreach(lc, items)
	{
		if (shown >= limit)
			break;
		appendStringInfoString(buf, "  * ");
		print(buf, lfirst(lc));
		appendStringInfoChar(buf, '\n');
		shown++;
	}
	if (list_length(items) > shown)
	{
		appendStringInfoString(buf, "  * … et ");
		kpi_append_count(buf, list_length(items) - shown, "autre", "autres");
		appendStringInfoChar(buf, '\n');
	}
}

/* Appends "- label : count (pct)" with the percentage of the cohort size. */
static void
append_share(StringInfo buf, const char *label, int count, int total)
{
	appendStringInfo(buf, "- %s : %d (", label, count);
	kpi_append_percent(buf, count, total);
	appendStringInfoString(buf, ")\n");
}

/* "{invoice_number} ({client_name}) : éditée le …, … retard … jour(s) ouvré(s)". */
static void
print_invoice(StringInfo buf, const void *item)
{
	const KpiInvoiceRow *row = item;

	kpi_append_clean(buf, row->invoice_number);
	appendStringInfoString(buf, " (");
	kpi_append_clean(buf, row->client_name);
	appendStringInfoString(buf, ") : éditée le ");
	kpi_append_date(buf, row->edited_on);
	if (row->sent)
	{
		appendStringInfoString(buf, ", envoyée le ");
		kpi_append_date(buf, row->sent_on);
		appendStringInfoString(buf, ", retard de ");
	}
	else
		appendStringInfoString(buf, ", non envoyée, retard d'au moins ");
	kpi_append_count(buf, row->lateness, "jour ouvré", "jours ouvrés");
}

/* "{client_name}, facture {invoice_number} : relance du {reminded_on}" */
static void
print_reminder_head(StringInfo buf, const KpiReminderRow *row)
{
	kpi_append_clean(buf, row->client_name);
	appendStringInfoString(buf, ", facture ");
	kpi_append_clean(buf, row->invoice_number);
	appendStringInfoString(buf, " : relance du ");
	kpi_append_date(buf, row->reminded_on);
}

/* A reminder of the cohort still without result, with its due date. */
static void
print_missing_result(StringInfo buf, const void *item)
{
	const KpiReminderRow *row = item;

	print_reminder_head(buf, row);
	appendStringInfoString(buf, ", résultat attendu au plus tard le ");
	kpi_append_date(buf, row->result_due_on);
}

/* A reminder of earlier weeks overdue, with its days without result. */
static void
print_reminder_backlog(StringInfo buf, const void *item)
{
	const KpiReminderRow *row = item;

	print_reminder_head(buf, row);
	appendStringInfoString(buf, ", sans résultat depuis ");
	kpi_append_count(buf, row->days_without_result, "jour", "jours");
}

/* The report body of §4, exactly, ending with a line feed. */
char *
kpi_weekly_report_format(const KpiWeeklyFigures *f)
{
	StringInfoData buf;
	int			limit = f->detail_limit;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "Voici le rapport hebdomadaire des indicateurs de performance"
						   " pour la période se terminant le ");
	kpi_append_date(&buf, f->period_end);
	appendStringInfoString(&buf, " (du ");
	kpi_append_date(&buf, f->period_start);
	appendStringInfoString(&buf, " au ");
	kpi_append_date(&buf, f->period_end);
	appendStringInfoString(&buf, ").\n\n");

	appendStringInfoString(&buf, "1. Traitement Factures Client\n\nObjectif : Délai de ");
	kpi_append_count(&buf, f->invoice_max_business_days, "jour ouvré", "jours ouvrés");
	appendStringInfoString(&buf, " entre l'édition et l'envoi de la facture.\nStatut :\n");
	appendStringInfo(&buf, "- Nombre de factures éditées : %d\n", f->invoices_edited);
	append_share(&buf, "Factures envoyées dans les délais", f->invoices_on_time, f->invoices_edited);
	append_share(&buf, "Factures en retard", f->invoices_late, f->invoices_edited);
	append_share(&buf, "Factures en attente d'envoi (délai non échu)", f->invoices_pending,
				 f->invoices_edited);
	if (f->late_invoices == NIL)
		appendStringInfoString(&buf, "- Détails des Retards : aucun\n");
	else
	{
		appendStringInfoString(&buf, "- Détails des Retards :\n");
		append_details(&buf, f->late_invoices, limit, print_invoice);
	}
	appendStringInfo(&buf, "- Factures des semaines précédentes toujours non envoyées : %d\n",
					 list_length(f->invoice_backlog));
	append_details(&buf, f->invoice_backlog, limit, print_invoice);

	appendStringInfoString(&buf, "\n2. Relance encours Clients\n\n"
						   "Objectif : Suivi des relances et des résultats de relance.\nStatut :\n");
	appendStringInfo(&buf, "- Relances effectuées : %d\n", f->reminders_made);
	append_share(&buf, "Résultats enregistrés", f->reminders_with_result, f->reminders_made);
	append_share(&buf, "Résultats manquants", f->reminders_missing, f->reminders_made);
	if (f->missing_results == NIL)
		appendStringInfoString(&buf, "- Détails des Manquements : aucun\n");
	else
	{
		appendStringInfoString(&buf, "- Détails des Manquements :\n");
		append_details(&buf, f->missing_results, limit, print_missing_result);
	}
	appendStringInfoString(&buf, "- Relances des semaines précédentes sans résultat après ");
	kpi_append_count(&buf, f->reminder_result_days, "jour", "jours");
	appendStringInfo(&buf, " : %d\n", list_length(f->reminder_backlog));
	append_details(&buf, f->reminder_backlog, limit, print_reminder_backlog);
	return buf.data;
}

/* Appends d as a JSON string in ISO format (YYYY-MM-DD). */
static void
json_date(StringInfo buf, DateADT d)
{
	int			year,
				month,
				day;

	j2date(d + POSTGRES_EPOCH_JDATE, &year, &month, &day);
	appendStringInfo(buf, "\"%04d-%02d-%02d\"", year, month, day);
}

/* Appends an invoice detail object of §4. */
static void
json_invoice(StringInfo buf, const KpiInvoiceRow *row)
{
	appendStringInfoString(buf, "{\"invoice_number\": ");
	escape_json(buf, row->invoice_number);
	appendStringInfoString(buf, ", \"client_name\": ");
	escape_json(buf, row->client_name);
	appendStringInfoString(buf, ", \"edited_on\": ");
	json_date(buf, row->edited_on);
	appendStringInfoString(buf, ", \"deadline\": ");
	json_date(buf, row->deadline);
	appendStringInfoString(buf, ", \"sent_on\": ");
	if (row->sent)
		json_date(buf, row->sent_on);
	else
		appendStringInfoString(buf, "null");
	appendStringInfo(buf, ", \"lateness_business_days\": %d}", row->lateness);
}

/* Appends a reminder detail object of §4 (missing result or backlog). */
static void
json_reminder(StringInfo buf, const KpiReminderRow *row, bool backlog)
{
	appendStringInfo(buf, "{\"reminder_id\": " INT64_FORMAT ", \"client_name\": ", row->reminder_id);
	escape_json(buf, row->client_name);
	appendStringInfoString(buf, ", \"invoice_number\": ");
	escape_json(buf, row->invoice_number);
	appendStringInfoString(buf, ", \"reminded_on\": ");
	json_date(buf, row->reminded_on);
	if (backlog)
		appendStringInfo(buf, ", \"days_without_result\": %d}", row->days_without_result);
	else
	{
		appendStringInfoString(buf, ", \"result_due_on\": ");
		json_date(buf, row->result_due_on);
		appendStringInfoChar(buf, '}');
	}
}

/* Appends ", \"key\": [ … ]" with every invoice of the list. */
static void
json_invoice_list(StringInfo buf, const char *key, const List *rows)
{
	ListCell   *lc;

	appendStringInfo(buf, ", \"%s\": [", key);
	foreach(lc, rows)
	{
		if (foreach_current_index(lc) > 0)
			appendStringInfoString(buf, ", ");
		json_invoice(buf, lfirst(lc));
	}
	appendStringInfoChar(buf, ']');
}

/* Appends ", \"key\": [ … ]" with every reminder of the list. */
static void
json_reminder_list(StringInfo buf, const char *key, const List *rows, bool backlog)
{
	ListCell   *lc;

	appendStringInfo(buf, ", \"%s\": [", key);
	foreach(lc, rows)
	{
		if (foreach_current_index(lc) > 0)
			appendStringInfoString(buf, ", ");
		json_reminder(buf, lfirst(lc), backlog);
	}
	appendStringInfoChar(buf, ']');
}

/* The figures of §4 as JSON text, with full lists (detail_limit does not apply). */
char *
kpi_weekly_figures_json(const KpiWeeklyFigures *f)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"period_start\": ");
	json_date(&buf, f->period_start);
	appendStringInfoString(&buf, ", \"period_end\": ");
	json_date(&buf, f->period_end);

	appendStringInfo(&buf, ", \"invoices\": {\"edited\": %d, \"on_time\": %d, \"late\": %d,"
					 " \"pending\": %d",
					 f->invoices_edited, f->invoices_on_time, f->invoices_late,
					 f->invoices_pending);
	json_invoice_list(&buf, "late_details", f->late_invoices);
	appendStringInfo(&buf, ", \"backlog\": %d", list_length(f->invoice_backlog));
	json_invoice_list(&buf, "backlog_details", f->invoice_backlog);

	appendStringInfo(&buf, "}, \"reminders\": {\"made\": %d, \"with_result\": %d, \"missing\": %d",
					 f->reminders_made, f->reminders_with_result, f->reminders_missing);
	json_reminder_list(&buf, "missing_details", f->missing_results, false);
	appendStringInfo(&buf, ", \"backlog\": %d", list_length(f->reminder_backlog));
	json_reminder_list(&buf, "backlog_details", f->reminder_backlog, true);
	appendStringInfoString(&buf, "}}");
	return buf.data;
}

/* The report body for a period end (checked against today), for callers in C. */
char *
kpi_weekly_report_text(DateADT period_end)
{
	period_end = kpi_period_end_resolve(false, period_end);
	return kpi_weekly_report_format(kpi_weekly_figures_compute(period_end));
}

/* The period end argument of the SQL functions: NULL means yesterday (tz). */
static DateADT
period_end_arg(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		return kpi_period_end_resolve(true, 0);
	return kpi_period_end_resolve(false, PG_GETARG_DATEADT(0));
}

PG_FUNCTION_INFO_V1(kpi_weekly_report);

/* kpi_mail.kpi_weekly_report(period_end date DEFAULT NULL) → text (§4). */
Datum
kpi_weekly_report(PG_FUNCTION_ARGS)
{
	KpiWeeklyFigures *f = kpi_weekly_figures_compute(period_end_arg(fcinfo));

	PG_RETURN_TEXT_P(cstring_to_text(kpi_weekly_report_format(f)));
}

PG_FUNCTION_INFO_V1(kpi_weekly_figures);

/* kpi_mail.kpi_weekly_figures(period_end date DEFAULT NULL) → jsonb (§4). */
Datum
kpi_weekly_figures(PG_FUNCTION_ARGS)
{
	KpiWeeklyFigures *f = kpi_weekly_figures_compute(period_end_arg(fcinfo));

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in,
										CStringGetDatum(kpi_weekly_figures_json(f))));
}
