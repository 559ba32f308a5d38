/*-------------------------------------------------------------------------
 * guard.c
 *	  Triggers that keep staff data valid (SPEC §3, §9):
 *	  - reminder_result_guard: the result of a reminder is NULL or one of the
 *	    three allowed values; the old "RAS" gets its own message;
 *	  - reminder_result_bookkeeping: maintains result_recorded_at;
 *	  - invoice_sent_on_guard: the send date lies between the edition date
 *	    and today (company time zone);
 *	  - reminder_date_guard: the reminder date is not after today.
 *
 * Column names come from the trigger arguments, so the same functions guard
 * the built-in tables and the company's own tables (§8).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "settings.h"
#include "textfmt.h"

#define ALLOWED_RESULTS_HINT \
	"Valeurs autorisées : « délais supplémentaire », « nouvelle relance », « règlement facture »."

static const char *const allowed_results[] = {
	"délais supplémentaire",
	"nouvelle relance",
	"règlement facture",
};

PG_FUNCTION_INFO_V1(reminder_result_guard);
PG_FUNCTION_INFO_V1(reminder_result_bookkeeping);
PG_FUNCTION_INFO_V1(invoice_sent_on_guard);
PG_FUNCTION_INFO_V1(reminder_date_guard);

/* Checks that we are a row-level trigger on INSERT or UPDATE fired at the given timing. */
static TriggerData *
check_row_trigger(FunctionCallInfo fcinfo, const char *funcname, bool before, int nargs)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s ne peut être appelée que comme trigger", funcname)));
	if (!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		(before ? !TRIGGER_FIRED_BEFORE(trigdata->tg_event) : !TRIGGER_FIRED_AFTER(trigdata->tg_event)) ||
		!(TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) || TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event)))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s doit être un trigger %s INSERT OR UPDATE FOR EACH ROW",
						funcname, before ? "BEFORE" : "AFTER")));
	if (trigdata->tg_trigger->tgnargs != nargs)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s attend %d nom(s) de colonne en argument", funcname, nargs)));
	return trigdata;
}

/* The attribute number of the trigger's argno-th column argument; errors if absent. */
static int
trigger_column(TriggerData *trigdata, int argno)
{
	const char *colname = trigdata->tg_trigger->tgargs[argno];
	int			attnum = SPI_fnumber(RelationGetDescr(trigdata->tg_relation), colname);

	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("la colonne « %s » n'existe pas dans la table « %s »",
						colname, RelationGetRelationName(trigdata->tg_relation))));
	return attnum;
}

/* The row as it is after the statement (the new row of an UPDATE). */
static HeapTuple
new_row(TriggerData *trigdata)
{
	return TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ? trigdata->tg_newtuple : trigdata->tg_trigtuple;
}

/* On UPDATE, did the column keep its value (same text form)?  Always false on INSERT. */
static bool
column_unchanged(TriggerData *trigdata, int attnum)
{
	TupleDesc	tupdesc = RelationGetDescr(trigdata->tg_relation);
	char	   *old_value,
			   *new_value;

	if (!TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		return false;
	old_value = SPI_getvalue(trigdata->tg_trigtuple, tupdesc, attnum);
	new_value = SPI_getvalue(trigdata->tg_newtuple, tupdesc, attnum);
	if (old_value == NULL || new_value == NULL)
		return old_value == new_value;
	return strcmp(old_value, new_value) == 0;
}

/*
 * The row version to check: the event's new row or, when that version was
 * updated again in this transaction (possible when the constraint is
 * deferred), the latest version, so that the final values are checked even
 * if the later update changed only another column; NULL when the row was
 * deleted since.
 */
static HeapTuple
row_to_check(TriggerData *trigdata)
{
	Relation	rel = trigdata->tg_relation;
	TupleTableSlot *slot = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
		trigdata->tg_newslot : trigdata->tg_trigslot;
	ItemPointerData tid = slot->tts_tid;
	Snapshot	snapshot;
	TableScanDesc scan;
	TupleTableSlot *latest;
	HeapTuple	row = NULL;

	if (table_tuple_satisfies_snapshot(rel, slot, SnapshotSelf))
		return new_row(trigdata);

	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan_tid(rel, snapshot);
	table_tuple_get_latest_tid(scan, &tid);
	table_endscan(scan);
	latest = table_slot_create(rel, NULL);
	if (table_tuple_fetch_row_version(rel, &tid, snapshot, latest))
		row = ExecCopySlotHeapTuple(latest);
	ExecDropSingleTupleTableSlot(latest);
	UnregisterSnapshot(snapshot);
	return row;
}

/* Does value read as "RAS" once case, white space and dots are ignored? */
static bool
reads_as_ras(const char *value)
{
	char		letters[4];
	int			n = 0;

	for (const char *p = value; *p; p++)
	{
		if (*p == '.' || *p == ' ' || (*p >= '\t' && *p <= '\r'))
			continue;
		if (n == 3)
			return false;
		letters[n++] = pg_ascii_tolower((unsigned char) *p);
	}
	return n == 3 && letters[0] == 'r' && letters[1] == 'a' && letters[2] == 's';
}

/*
 * Constraint trigger on the reminder table: the result is NULL or one of the
 * three allowed values.  An UPDATE that leaves the result as it was is
 * accepted, so rows that hold a legacy value (RAS) stay editable (§8).
 */
Datum
reminder_result_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = check_row_trigger(fcinfo, "reminder_result_guard", false, 1);
	Relation	rel = trigdata->tg_relation;
	int			attnum = trigger_column(trigdata, 0);
	HeapTuple	row;
	char	   *value;

	if (column_unchanged(trigdata, attnum) || (row = row_to_check(trigdata)) == NULL)
		return PointerGetDatum(NULL);
	value = SPI_getvalue(row, RelationGetDescr(rel), attnum);
	if (value == NULL)
		return PointerGetDatum(NULL);
	for (size_t i = 0; i < lengthof(allowed_results); i++)
		if (strcmp(value, allowed_results[i]) == 0)
			return PointerGetDatum(NULL);

	if (reads_as_ras(value))
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("le résultat « RAS » n'est plus autorisé pour une relance"),
				 errdetail("Valeur saisie : « %s ».", value),
				 errhint(ALLOWED_RESULTS_HINT),
				 errtableconstraint(rel, trigdata->tg_trigger->tgname)));
	if (value[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("le résultat d'une relance ne peut pas être vide"),
				 errdetail("Laissez le résultat à NULL tant qu'il n'est pas connu."),
				 errhint(ALLOWED_RESULTS_HINT),
				 errtableconstraint(rel, trigdata->tg_trigger->tgname)));
	ereport(ERROR,
			(errcode(ERRCODE_CHECK_VIOLATION),
			 errmsg("résultat de relance non autorisé : « %s »", value),
			 errhint(ALLOWED_RESULTS_HINT),
			 errtableconstraint(rel, trigdata->tg_trigger->tgname)));
	pg_unreachable();
}

/*
 * BEFORE trigger maintaining the time a result was recorded: on UPDATE, now()
 * when the result gets a value or changes, NULL when it is cleared, the old
 * value otherwise; on INSERT, a value given by the statement is kept (imports
 * of history), otherwise now() when a result is set.
 */
Datum
reminder_result_bookkeeping(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = check_row_trigger(fcinfo, "reminder_result_bookkeeping", true, 2);
	TupleDesc	tupdesc = RelationGetDescr(trigdata->tg_relation);
	int			result_attnum = trigger_column(trigdata, 0);
	int			recorded_attnum = trigger_column(trigdata, 1);
	HeapTuple	row = new_row(trigdata);
	bool		result_null,
				recorded_null;
	Datum		recorded;

	if (TupleDescAttr(tupdesc, recorded_attnum - 1)->atttypid != TIMESTAMPTZOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("la colonne « %s » doit être de type timestamptz",
						trigdata->tg_trigger->tgargs[1])));

	(void) heap_getattr(row, result_attnum, tupdesc, &result_null);
	recorded = heap_getattr(row, recorded_attnum, tupdesc, &recorded_null);

	if (result_null)
		recorded_null = true;
	else if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		if (column_unchanged(trigdata, result_attnum))
			recorded = heap_getattr(trigdata->tg_trigtuple, recorded_attnum, tupdesc, &recorded_null);
		else
		{
			recorded = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
			recorded_null = false;
		}
	}
	else if (recorded_null)
	{
		recorded = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
		recorded_null = false;
	}

	row = heap_modify_tuple_by_cols(row, tupdesc, 1, &recorded_attnum, &recorded, &recorded_null);
	return PointerGetDatum(row);
}

/* The date of an edition value of type date, timestamp (local) or timestamptz (in tz). */
static DateADT
edition_date(Datum value, Oid typid, const char *colname, const KpiSettings *settings)
{
	switch (typid)
	{
		case DATEOID:
			return DatumGetDateADT(value);
		case TIMESTAMPOID:
			return DatumGetDateADT(DirectFunctionCall1(timestamp_date, value));
		case TIMESTAMPTZOID:
			return kpi_date_in_zone(DatumGetTimestampTz(value), settings->timezone);
	}
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("la colonne d'édition « %s » doit être de type date, timestamp ou timestamptz",
					colname)));
	pg_unreachable();
}

/* Reads a date column of row; false when NULL. */
static bool
row_date(TriggerData *trigdata, HeapTuple row, int attnum, DateADT *date)
{
	TupleDesc	tupdesc = RelationGetDescr(trigdata->tg_relation);
	bool		isnull;
	Datum		value;

	if (TupleDescAttr(tupdesc, attnum - 1)->atttypid != DATEOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("la colonne « %s » doit être de type date",
						NameStr(TupleDescAttr(tupdesc, attnum - 1)->attname))));
	value = heap_getattr(row, attnum, tupdesc, &isnull);
	if (!isnull)
		*date = DatumGetDateADT(value);
	return !isnull;
}

/* Raises the 23514 error "<what> after today" with both dates in the detail. */
static void
reject_future_date(TriggerData *trigdata, const char *message, DateADT date, DateADT today)
{
	StringInfoData detail;

	initStringInfo(&detail);
	appendStringInfoString(&detail, "Date saisie : ");
	kpi_append_date(&detail, date);
	appendStringInfoString(&detail, " ; aujourd'hui : ");
	kpi_append_date(&detail, today);
	appendStringInfoString(&detail, ".");
	ereport(ERROR,
			(errcode(ERRCODE_CHECK_VIOLATION),
			 errmsg("%s", message),
			 errdetail("%s", detail.data),
			 errhint("Saisissez la date réelle, au plus tard aujourd'hui."),
			 errtableconstraint(trigdata->tg_relation, trigdata->tg_trigger->tgname)));
}

/*
 * Constraint trigger on an invoice table: the send date ("Date d'Envoi de la
 * Facture") may not precede the edition date (in the company time zone) nor
 * lie after today.  Checked when either column is set or changed.
 */
Datum
invoice_sent_on_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = check_row_trigger(fcinfo, "invoice_sent_on_guard", false, 2);
	TupleDesc	tupdesc = RelationGetDescr(trigdata->tg_relation);
	int			sent_attnum = trigger_column(trigdata, 0);
	int			edition_attnum = trigger_column(trigdata, 1);
	KpiSettings *settings;
	HeapTuple	row;
	DateADT		sent_on,
				edited_on,
				today;
	Datum		edition;
	bool		edition_null;

	if ((column_unchanged(trigdata, sent_attnum) && column_unchanged(trigdata, edition_attnum)) ||
		(row = row_to_check(trigdata)) == NULL ||
		!row_date(trigdata, row, sent_attnum, &sent_on))
		return PointerGetDatum(NULL);

	settings = kpi_settings_load();
	today = kpi_today(settings);
	if (sent_on > today)
		reject_future_date(trigdata,
						   "la date d'envoi de la facture ne peut pas être postérieure à aujourd'hui",
						   sent_on, today);

	edition = heap_getattr(row, edition_attnum, tupdesc, &edition_null);
	if (edition_null)
		return PointerGetDatum(NULL);
	edited_on = edition_date(edition, TupleDescAttr(tupdesc, edition_attnum - 1)->atttypid,
							 trigdata->tg_trigger->tgargs[1], settings);
	if (sent_on < edited_on)
	{
		StringInfoData detail;

		initStringInfo(&detail);
		appendStringInfoString(&detail, "Date d'envoi : ");
		kpi_append_date(&detail, sent_on);
		appendStringInfoString(&detail, " ; date d'édition : ");
		kpi_append_date(&detail, edited_on);
		appendStringInfo(&detail, " (fuseau %s).", settings->timezone);
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("la date d'envoi de la facture ne peut pas précéder sa date d'édition"),
				 errdetail("%s", detail.data),
				 errhint("Vérifiez la date d'envoi saisie."),
				 errtableconstraint(trigdata->tg_relation, trigdata->tg_trigger->tgname)));
	}
	return PointerGetDatum(NULL);
}

/* Constraint trigger on a reminder table: the reminder date is not after today. */
Datum
reminder_date_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = check_row_trigger(fcinfo, "reminder_date_guard", false, 1);
	int			attnum = trigger_column(trigdata, 0);
	HeapTuple	row;
	DateADT		reminded_on,
				today;

	if (column_unchanged(trigdata, attnum) || (row = row_to_check(trigdata)) == NULL ||
		!row_date(trigdata, row, attnum, &reminded_on))
		return PointerGetDatum(NULL);
	today = kpi_today(kpi_settings_load());
	if (reminded_on > today)
		reject_future_date(trigdata,
						   "la date de relance ne peut pas être postérieure à aujourd'hui",
						   reminded_on, today);
	return PointerGetDatum(NULL);
}
