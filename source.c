/*-------------------------------------------------------------------------
 * source.c
 *	  Reads the invoice and reminder sources (SPEC §8) with the right
 *	  identity: the built-in tables as the caller, an attached relation as
 *	  its owner.
 *
 * An attached relation is read with its owner's rights, like a view.  The
 * functions that queue mail are SECURITY DEFINER (they run as the extension
 * owner, normally a superuser) and pg_cron runs them as a superuser: if they
 * read an attached view as themselves, its owner could make it call a
 * function of theirs and run it with those rights.  So every query over an
 * attached relation runs as the relation's owner (pg_class.relowner, looked
 * up when the source is read), with SECURITY_LOCAL_USERID_CHANGE and
 * SECURITY_RESTRICTED_OPERATION, as PostgreSQL's referential-integrity
 * checks and REFRESH MATERIALIZED VIEW do; the previous identity is
 * restored on every path.  The caller still needs SELECT on the relation,
 * as on a view.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"

#include "source.h"

/* Rows fetched at a time by reminder_source_rows. */
#define SOURCE_BATCH 1000

/* What to do with SPI over a source, as its reader. */
typedef enum SourceAction
{
	SOURCE_EXECUTE,
	SOURCE_OPEN,
	SOURCE_FETCH,
	SOURCE_CLOSE
} SourceAction;

/* One SPI call over a source, with its arguments and result. */
typedef struct SourceCall
{
	SourceAction action;
	const char *sql;
	int			nargs;
	Oid		   *argtypes;
	Datum	   *values;
	Portal		portal;
	long		count;
} SourceCall;

/*
 * The reader of an attached relation: its owner.  Locks the relation (as
 * the query will), then checks that the current user may read it, as a
 * query on a view checks the view's privileges.
 */
static Oid
attached_reader(Oid relid, const char *kind)
{
	Oid			userid = GetUserId();
	HeapTuple	tuple;
	Oid			owner;
	char		relkind;

	LockRelationOid(relid, AccessShareLock);
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("la relation attachée (%s) n'existe plus", kind),
				 errhint("Attachez-la de nouveau, ou revenez à la table intégrée avec kpi_mail.detach().")));
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	relkind = ((Form_pg_class) GETSTRUCT(tuple))->relkind;
	ReleaseSysCache(tuple);

	if (pg_class_aclcheck(relid, userid, ACL_SELECT) != ACLCHECK_OK &&
		pg_attribute_aclcheck_all(relid, userid, ACL_SELECT, ACLMASK_ALL) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, get_relkind_objtype(relkind), get_rel_name(relid));
	return owner;
}

/*
 * Resolves the source of kind at read time: kpi_mail.source_query(kind) and
 * the relation named in kpi_mail.attachment, if any.
 */
KpiSource *
kpi_source_get(const char *kind)
{
	MemoryContext caller_context = CurrentMemoryContext;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	Datum		query;
	Datum		relation;
	bool		query_null;
	bool		relation_null;
	KpiSource  *source;

	values[0] = CStringGetTextDatum(kind);
	if (SPI_execute_with_args("SELECT kpi_mail.source_query($1),"
							  " (SELECT pg_catalog.to_regclass(kpi_mail.attach_qualified(a.schema_name, a.relation_name))"
							  " FROM kpi_mail.attachment a WHERE a.kind = $1)",
							  1, argtypes, values, NULL, true, 0) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "kpi_mail.source_query(%s) returned no row", kind);
	query = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &query_null);
	relation = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &relation_null);
	if (query_null)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("kpi_mail.source_query('%s') a renvoyé NULL", kind),
				 errhint("Rattachez de nouveau la source avec kpi_mail.detach() puis kpi_mail.attach_invoices() ou kpi_mail.attach_reminders().")));

	MemoryContextSwitchTo(caller_context);
	source = palloc0(sizeof(KpiSource));
	source->kind = pstrdup(kind);
	source->query = TextDatumGetCString(query);
	source->reader = relation_null ? InvalidOid :
		attached_reader(DatumGetObjectId(relation), kind);
	SPI_freetuptable(SPI_tuptable);
	return source;
}

/* Runs one SPI call (the caller chose the identity). */
static void
source_call_run(const KpiSource *source, SourceCall *call)
{
	switch (call->action)
	{
		case SOURCE_EXECUTE:
			if (SPI_execute_with_args(call->sql, call->nargs, call->argtypes, call->values,
									  NULL, true, 0) != SPI_OK_SELECT)
				elog(ERROR, "SPI_execute_with_args failed on the %s source", source->kind);
			break;
		case SOURCE_OPEN:
			call->portal = SPI_cursor_open_with_args(NULL, call->sql, call->nargs, call->argtypes,
													 call->values, NULL, true, 0);
			break;
		case SOURCE_FETCH:
			SPI_cursor_fetch(call->portal, true, call->count);
			break;
		case SOURCE_CLOSE:
			SPI_cursor_close(call->portal);
			break;
	}
}

/*
 * Runs one SPI call as the source's reader: the caller for a built-in
 * table, else the attached relation's owner in a restricted security
 * context, restored afterwards even on error.
 */
static void
source_call(const KpiSource *source, SourceCall *call)
{
	Oid			save_userid;
	int			save_sec_context;

	if (!OidIsValid(source->reader))
	{
		source_call_run(source, call);
		return;
	}
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(source->reader,
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		source_call_run(source, call);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec_context);
	}
	PG_END_TRY();
}

/* A read-only query over the source, as its reader; rows in SPI_tuptable. */
void
kpi_source_execute(const KpiSource *source, const char *sql,
				   int nargs, Oid *argtypes, Datum *values)
{
	SourceCall	call = {SOURCE_EXECUTE, sql, nargs, argtypes, values};

	source_call(source, &call);
}

/* Opens a read-only cursor over the source, as its reader. */
Portal
kpi_source_cursor_open(const KpiSource *source, const char *sql,
					   int nargs, Oid *argtypes, Datum *values)
{
	SourceCall	call = {SOURCE_OPEN, sql, nargs, argtypes, values};

	source_call(source, &call);
	return call.portal;
}

/* Fetches the next count rows of a source cursor into SPI_tuptable, as its reader. */
void
kpi_source_cursor_fetch(const KpiSource *source, Portal portal, long count)
{
	SourceCall	call = {SOURCE_FETCH};

	call.portal = portal;
	call.count = count;
	source_call(source, &call);
}

/* Closes a source cursor, as its reader (closing may still run its functions). */
void
kpi_source_cursor_close(const KpiSource *source, Portal portal)
{
	SourceCall	call = {SOURCE_CLOSE};

	call.portal = portal;
	source_call(source, &call);
}

PG_FUNCTION_INFO_V1(kpi_reminder_source_rows);

/*
 * kpi_mail.reminder_source_rows(): every row of the reminder source with its
 * normalized columns, read as kpi_source_get says; for SQL code such as
 * legacy_results() that must not read an attached relation itself.
 */
Datum
kpi_reminder_source_rows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext call_context = CurrentMemoryContext;
	KpiSource  *source;
	Portal		portal;
	char	   *sql;

	InitMaterializedSRF(fcinfo, 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	MemoryContextSwitchTo(call_context);
	source = kpi_source_get("reminders");
	sql = psprintf("SELECT src.reminder_id::pg_catalog.int8, src.client_name::pg_catalog.text,"
				   " src.invoice_number::pg_catalog.text, src.reminded_on::pg_catalog.date,"
				   " src.recorded_at::pg_catalog.timestamptz, src.result::pg_catalog.text,"
				   " src.result_recorded_at::pg_catalog.timestamptz,"
				   " src.responsible_email::pg_catalog.text"
				   " FROM (%s) AS src", source->query);
	portal = kpi_source_cursor_open(source, sql, 0, NULL, NULL);
	for (;;)
	{
		Datum		values[8];
		bool		nulls[8];

		kpi_source_cursor_fetch(source, portal, SOURCE_BATCH);
		if (SPI_processed == 0)
			break;
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			CHECK_FOR_INTERRUPTS();
			heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, values, nulls);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	kpi_source_cursor_close(source, portal);
	SPI_finish();
	return (Datum) 0;
}
