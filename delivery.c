/*-------------------------------------------------------------------------
 * delivery.c
 *	  Delivery of kpi_mail.outbox by a dynamic background worker (SPEC §6).
 *
 * How mail leaves the database:
 *	- Code that wants a mail only INSERTs a row into kpi_mail.outbox.  An
 *	  AFTER INSERT ... FOR EACH STATEMENT trigger (kpi_outbox_queued) notes
 *	  that this transaction queued mail.  At commit, a transaction callback
 *	  starts a dynamic background worker for this database, running as the
 *	  extension owner; on abort (or PREPARE TRANSACTION) nothing starts, so a
 *	  rolled-back transaction sends nothing and committed mail leaves within
 *	  seconds, without waiting for pg_cron.  Dynamic workers need no
 *	  shared_preload_libraries, but each one needs a free
 *	  max_worker_processes slot for its few seconds of life: when none is
 *	  free, a WARNING says so and the mail stays pending for the next run.
 *	- The worker takes a per-database advisory lock, so only one worker
 *	  delivers at a time; it waits for it, so no committed mail is missed.
 *	  A worker started by a commit first tries a second "waiter" lock: when
 *	  another worker already waits, that one will see the new row (it reads
 *	  the outbox only after releasing the waiter lock), so this one leaves.
 *	- It then sends every due pending row (next_attempt_at <= now()) over
 *	  one SMTP connection, and commits each row's "sent" mark in its own
 *	  transaction as soon as the server accepted the message: a crash or a
 *	  cancel re-sends at most the message in flight.  A failure adds one to
 *	  attempts, records last_error and smtp_reply, and moves next_attempt_at
 *	  1, 2, 4, ... minutes ahead (at most one hour); the row stays pending.
 *	  A message the server refuses for good (5xx to every recipient or to
 *	  the data) becomes "failed".  A connection, TLS, AUTH or sender problem
 *	  puts the error on the rest of the batch and ends the run.  The run
 *	  repeats until nothing due remains.
 *	- kpi_mail.deliver_outbox() starts such a worker, waits for it and
 *	  returns the number of messages it sent, read from a small dynamic
 *	  shared memory segment.  A cancel or statement_timeout terminates the
 *	  worker first, then reports the caller's own error.  SIGTERM (die)
 *	  interrupts the worker's SMTP transfer through libcurl's progress
 *	  callback.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "delivery.h"
#include "message.h"
#include "settings.h"
#include "smtp.h"

/* Advisory lock keys (pg_advisory_lock(int4, int4)); locks are per database. */
#define LOCK_CLASS		0x6B706D6C	/* "kpml" */
#define LOCK_DELIVERY	1			/* held by the worker that delivers */
#define LOCK_WAITER		2			/* held by a commit-started worker waiting */

/* Rows read from the outbox at a time. */
#define BATCH_SIZE 100

#define WORKER_TYPE "kpi_mail delivery"

/* What a deliver_outbox() run reports back, in dynamic shared memory. */
typedef struct DeliveryReport
{
	int			sent;			/* messages the server accepted */
	int			unsent;			/* messages left pending or failed */
	bool		finished;		/* the worker went through to the end */
	char		last_error[1024];
} DeliveryReport;

/* bgw_extra of a delivery worker. */
typedef struct WorkerArgs
{
	Oid			owner;			/* role to run as: the extension owner */
	bool		after_commit;	/* started by a commit (else by deliver_outbox) */
	dsm_handle	report;			/* deliver_outbox's DeliveryReport */
} WorkerArgs;

/* The settings a run needs (password included: never logged). */
typedef struct DeliveryConfig
{
	KpiSmtpConfig smtp;
	char	   *timezone;
} DeliveryConfig;

/* One due outbox row, ready to send. */
typedef struct OutboxRow
{
	int64		id;
	int			nrecipients;
	char	  **recipients;
	char	  **names;			/* display names, one per recipient, or NULL */
	char	   *wire;			/* the message, or NULL when it could not be built */
	char	   *error;			/* why it could not be built */
} OutboxRow;

/* Transaction state of this backend: did it queue mail? */
static bool xact_callback_registered = false;
static bool mail_queued = false;
static Oid	queued_owner = InvalidOid;

/* Memory contexts of the worker: for the run, and the one a step returns to. */
static MemoryContext worker_context = NULL;
static MemoryContext step_return_context = NULL;

/*
 * Asks the postmaster for a delivery worker for this database.  With a
 * handle, the worker reports to deliver_outbox(); returns false when no
 * worker slot is free.  Must not throw: it runs at commit.
 */
static bool
start_worker(Oid owner, bool after_commit, dsm_handle report,
			 BackgroundWorkerHandle **handle)
{
	BackgroundWorker worker;
	WorkerArgs	args;

	memset(&worker, 0, sizeof(worker));
	memset(&args, 0, sizeof(args));
	args.owner = owner;
	args.after_commit = after_commit;
	args.report = report;
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "kpi_mail", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "kpi_delivery_worker_main", BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, WORKER_TYPE " for database %u", MyDatabaseId);
	strlcpy(worker.bgw_type, WORKER_TYPE, BGW_MAXLEN);
	worker.bgw_main_arg = ObjectIdGetDatum(MyDatabaseId);
	StaticAssertStmt(sizeof(WorkerArgs) <= BGW_EXTRALEN, "WorkerArgs too large");
	memcpy(worker.bgw_extra, &args, sizeof(args));
	worker.bgw_notify_pid = handle ? MyProcPid : 0;
	return RegisterDynamicBackgroundWorker(&worker, handle);
}

/* Warns that no worker could start: the mail waits for the next run. */
static void
warn_no_worker(void)
{
	ereport(WARNING,
			(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
			 errmsg("aucun processus de fond disponible pour envoyer les mails"),
			 errdetail("Les mails restent en attente dans kpi_mail.outbox ; le prochain passage de kpi_mail.run_scheduled() ou de kpi_mail.deliver_outbox() les enverra."),
			 errhint("Augmentez max_worker_processes (redémarrage du serveur nécessaire).")));
}

/*
 * Transaction callback: after the commit of a transaction that queued mail,
 * starts a delivery worker; after an abort or a PREPARE, forgets it.
 */
static void
delivery_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
			if (mail_queued)
			{
				mail_queued = false;
				if (!start_worker(queued_owner, true, DSM_HANDLE_INVALID, NULL))
					warn_no_worker();
			}
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			mail_queued = false;
			break;
		default:
			break;
	}
}

PG_FUNCTION_INFO_V1(kpi_outbox_queued);

/*
 * Trigger AFTER INSERT ... FOR EACH STATEMENT on kpi_mail.outbox: notes that
 * this transaction queued mail, for the commit callback.
 */
Datum
kpi_outbox_queued(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("kpi_outbox_queued ne peut être appelée que comme trigger")));
	if (!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event) ||
		!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("kpi_outbox_queued doit être un trigger AFTER INSERT FOR EACH STATEMENT")));

	if (!xact_callback_registered)
	{
		RegisterXactCallback(delivery_xact_callback, NULL);
		xact_callback_registered = true;
	}
	/* look the owner up now: the commit callback must not touch catalogs */
	queued_owner = kpi_extension_owner();
	mail_queued = true;
	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(kpi_deliver_outbox);

/*
 * kpi_mail.deliver_outbox(): starts a delivery worker, waits for it and
 * returns the number of messages it sent; warns when some stayed unsent.
 */
Datum
kpi_deliver_outbox(PG_FUNCTION_ARGS)
{
	dsm_segment *seg;
	DeliveryReport *report;
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;
	int			sent;

	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("impossible d'envoyer les mails pendant la restauration d'un serveur en attente"),
				 errhint("Appelez kpi_mail.deliver_outbox() sur le serveur primaire.")));

	seg = dsm_create(sizeof(DeliveryReport), 0);
	report = (DeliveryReport *) dsm_segment_address(seg);
	memset(report, 0, sizeof(DeliveryReport));

	if (!start_worker(kpi_extension_owner(), false, dsm_segment_handle(seg), &handle))
	{
		dsm_detach(seg);
		warn_no_worker();
		PG_RETURN_INT32(0);
	}

	PG_TRY();
	{
		status = WaitForBackgroundWorkerShutdown(handle);
	}
	PG_CATCH();
	{
		/* cancel, statement_timeout, termination: stop the worker, then report ours */
		TerminateBackgroundWorker(handle);
		PG_RE_THROW();
	}
	PG_END_TRY();

	if (status == BGWH_POSTMASTER_DIED)
		ereport(FATAL,
				(errcode(ERRCODE_ADMIN_SHUTDOWN),
				 errmsg("le serveur s'est arrêté pendant l'envoi des mails")));

	pg_read_barrier();
	sent = report->sent;
	if (!report->finished)
		ereport(WARNING,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("le processus d'envoi des mails s'est arrêté avant la fin"),
				 report->last_error[0] ? errdetail("Dernière erreur : %s", report->last_error) : 0,
				 errhint("Les mails non envoyés restent en attente ; voir le journal du serveur.")));
	else if (report->unsent > 0)
		ereport(WARNING,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg_plural("%d mail n'a pas pu être envoyé",
							   "%d mails n'ont pas pu être envoyés",
							   report->unsent, report->unsent),
				 errdetail("Dernière erreur : %s", report->last_error),
				 errhint("Voir les colonnes last_error et next_attempt_at de kpi_mail.outbox ; une nouvelle tentative aura lieu automatiquement.")));
	dsm_detach(seg);
	PG_RETURN_INT32(sent);
}

/* ---------------------------------------------------------------------
 * The worker
 * ---------------------------------------------------------------------
 */

/* Starts one short transaction of the worker, with a snapshot and SPI. */
static void
step_begin(const char *activity)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, activity);
}

/* Commits the step's transaction and returns to the worker's memory context. */
static void
step_end(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	MemoryContextSwitchTo(step_return_context);
}

/* Takes (wait) or tries (!wait) one of our session-level advisory locks. */
static bool
advisory_lock(int key, bool wait)
{
	Oid			types[2] = {INT4OID, INT4OID};
	Datum		values[2] = {Int32GetDatum(LOCK_CLASS), Int32GetDatum(key)};
	bool		got = true;

	step_begin(wait ? "kpi_mail : attente du verrou d'envoi" : "kpi_mail : verrou d'attente");
	if (SPI_execute_with_args(wait ? "SELECT pg_catalog.pg_advisory_lock($1, $2)"
							  : "SELECT pg_catalog.pg_try_advisory_lock($1, $2)",
							  2, types, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "advisory lock query failed");
	if (!wait)
	{
		bool		isnull;

		got = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	step_end();
	return got;
}

/* Releases one of our session-level advisory locks. */
static void
advisory_unlock(int key)
{
	Oid			types[2] = {INT4OID, INT4OID};
	Datum		values[2] = {Int32GetDatum(LOCK_CLASS), Int32GetDatum(key)};

	step_begin("kpi_mail : verrou d'attente");
	if (SPI_execute_with_args("SELECT pg_catalog.pg_advisory_unlock($1, $2)",
							  2, types, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "advisory unlock query failed");
	step_end();
}

/* True when kpi_mail is (still) installed in this database. */
static bool
extension_present(void)
{
	bool		present;

	step_begin("kpi_mail : démarrage");
	present = OidIsValid(get_extension_oid("kpi_mail", true));
	step_end();
	return present;
}

/* Column col of SPI row i as a C string in the worker context (NULL if null). */
static char *
spi_string(int i, int col)
{
	char	   *value = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, col);

	return value ? MemoryContextStrdup(worker_context, value) : NULL;
}

/* Reads the SMTP settings into the worker context. */
static void
load_config(DeliveryConfig *config)
{
	step_begin("kpi_mail : lecture des paramètres");
	if (SPI_execute("SELECT smtp_url, smtp_username, smtp_password, smtp_tls,"
					" smtp_timeout_ms, mail_from, timezone FROM kpi_mail.settings",
					true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("la table kpi_mail.settings doit contenir exactement une ligne")));
	memset(config, 0, sizeof(*config));
	config->smtp.url = spi_string(0, 1);
	config->smtp.username = spi_string(0, 2);
	config->smtp.password = spi_string(0, 3);
	config->smtp.tls = kpi_smtp_tls_from_name(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4));
	config->smtp.timeout_ms = pg_strtoint32(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 5));
	config->smtp.mail_from = spi_string(0, 6);
	config->timezone = spi_string(0, 7);
	step_end();
}

/*
 * Builds the message of one row inside a subtransaction, so that a row
 * that cannot become a message (a bad address...) only fails itself.
 */
static void
build_row(OutboxRow *row, const DeliveryConfig *config, const char *subject,
		  const char *body, const char *message_id, MemoryContext cxt)
{
	MemoryContext caller = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		KpiMessage	message = {0};

		message.mail_from = config->smtp.mail_from;
		message.recipients = (const char *const *) row->recipients;
		message.nrecipients = row->nrecipients;
		message.names = (const char *const *) row->names;
		message.subject = subject;
		message.body = body;
		message.date = GetCurrentTimestamp();
		message.timezone = config->timezone;
		message.message_id = message_id;
		row->wire = kpi_message_build(&message);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		row->wire = NULL;
		row->error = edata->message;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(caller);
	CurrentResourceOwner = owner;
}

/*
 * Reads up to BATCH_SIZE due pending rows (locking them, skipping rows
 * another transaction holds) with the display names of their recipients
 * (kpi_mail.recipient_display_names, in the same query), gives each its
 * lasting Message-ID on its first attempt, and builds the messages.
 * Returns the number of rows.
 */
static int
fetch_due(const DeliveryConfig *config, MemoryContext cxt, OutboxRow **rows_out)
{
	OutboxRow  *rows;
	int			n;
	SPITupleTable *tuptable;

	step_begin("kpi_mail : lecture de kpi_mail.outbox");
	/*
	 * The query reads kpi_mail.recipient (display names) after locking the
	 * outbox; DROP EXTENSION locks recipient first: lock it first too, so
	 * that a worker and a DROP EXTENSION wait for one another, never
	 * deadlock.
	 */
	if (SPI_execute("LOCK TABLE kpi_mail.recipient IN ACCESS SHARE MODE", false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "recipient lock failed");
	if (SPI_execute("SELECT o.message_id, o.recipients, o.subject, o.body, o.mail_message_id,"
					" kpi_mail.recipient_display_names(o.recipients)"
					" FROM kpi_mail.outbox o"
					" WHERE o.status = 'pending' AND o.next_attempt_at <= pg_catalog.now()"
					" ORDER BY o.next_attempt_at, o.message_id"
					" LIMIT " CppAsString2(BATCH_SIZE)
					" FOR UPDATE SKIP LOCKED", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "outbox query failed");
	n = (int) SPI_processed;
	tuptable = SPI_tuptable;
	rows = MemoryContextAllocZero(cxt, sizeof(OutboxRow) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		HeapTuple	tuple = tuptable->vals[i];
		TupleDesc	desc = tuptable->tupdesc;
		bool		isnull;
		char	   *subject;
		char	   *body;
		char	   *message_id;
		MemoryContext spi_cxt = MemoryContextSwitchTo(cxt);
		Datum		names;
		int			nnames;

		rows[i].id = DatumGetInt64(SPI_getbinval(tuple, desc, 1, &isnull));
		rows[i].recipients = kpi_message_strings(SPI_getbinval(tuple, desc, 2, &isnull),
												 &rows[i].nrecipients);
		names = SPI_getbinval(tuple, desc, 6, &isnull);
		if (!isnull)
		{
			rows[i].names = kpi_message_strings(names, &nnames);
			if (nnames != rows[i].nrecipients)
				rows[i].names = NULL;
		}
		subject = SPI_getvalue(tuple, desc, 3);
		body = SPI_getvalue(tuple, desc, 4);
		message_id = SPI_getvalue(tuple, desc, 5);
		MemoryContextSwitchTo(spi_cxt);

		if (message_id == NULL)
		{
			Oid			types[2] = {INT8OID, TEXTOID};
			Datum		values[2];

			message_id = kpi_message_new_id(config->smtp.mail_from, rows[i].id);
			values[0] = Int64GetDatum(rows[i].id);
			values[1] = CStringGetTextDatum(message_id);
			if (SPI_execute_with_args("UPDATE kpi_mail.outbox SET mail_message_id = $2 WHERE message_id = $1",
									  2, types, values, NULL, false, 0) != SPI_OK_UPDATE)
				elog(ERROR, "outbox update failed");
		}
		build_row(&rows[i], config, subject, body, message_id, cxt);
	}
	step_end();
	*rows_out = rows;
	return n;
}

/* Text converted from UTF-8 (our messages, libcurl's) to the database encoding. */
static Datum
db_text(const char *s)
{
	return CStringGetTextDatum(pg_any_to_server(s, strlen(s), PG_UTF8));
}

/* Commits the "sent" mark of one row: its server reply, and refused recipients if any. */
static void
mark_sent(int64 id, const KpiSmtpResult *result)
{
	Oid			types[3] = {INT8OID, TEXTOID, TEXTOID};
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};

	step_begin("kpi_mail : envoi accepté");
	values[0] = Int64GetDatum(id);
	values[1] = result->reply ? db_text(result->reply) : (Datum) 0;
	nulls[1] = result->reply ? ' ' : 'n';
	values[2] = result->error ? db_text(result->error) : (Datum) 0;
	nulls[2] = result->error ? ' ' : 'n';
	if (SPI_execute_with_args("UPDATE kpi_mail.outbox SET status = 'sent',"
							  " sent_at = pg_catalog.clock_timestamp(), attempts = attempts + 1,"
							  " smtp_reply = $2, last_error = $3"
							  " WHERE message_id = $1 AND status = 'pending'",
							  3, types, values, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "outbox update failed");
	step_end();
}

/*
 * Commits a failed attempt for the given rows: attempts + 1, the error, and
 * either a later attempt (1, 2, 4... minutes, at most one hour) or, for a
 * permanent refusal, status "failed".
 */
static void
mark_unsent(const int64 *ids, int n, const char *error, const char *reply, bool permanent)
{
	Oid			types[4] = {INT8ARRAYOID, TEXTOID, TEXTOID, BOOLOID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	Datum	   *elems;

	step_begin("kpi_mail : échec d'envoi");
	elems = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
		elems[i] = Int64GetDatum(ids[i]);
	values[0] = PointerGetDatum(construct_array(elems, n, INT8OID, sizeof(int64),
												FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[1] = db_text(error);
	values[2] = reply ? db_text(reply) : (Datum) 0;
	nulls[2] = reply ? ' ' : 'n';
	values[3] = BoolGetDatum(permanent);
	if (SPI_execute_with_args("UPDATE kpi_mail.outbox SET attempts = attempts + 1,"
							  " last_error = $2, smtp_reply = $3,"
							  " status = CASE WHEN $4 THEN 'failed' ELSE 'pending' END,"
							  " next_attempt_at = CASE WHEN $4 THEN next_attempt_at"
							  "  ELSE pg_catalog.clock_timestamp() + least("
							  "   interval '1 minute' * (2 ^ least(attempts, 6)),"
							  "   interval '1 hour') END"
							  " WHERE message_id = ANY ($1) AND status = 'pending'",
							  4, types, values, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "outbox update failed");
	step_end();
}

/* Notes an unsent message in the log and in deliver_outbox's report. */
static void
note_unsent(DeliveryReport *report, int64 id, int count, const char *error)
{
	ereport(LOG,
			(errmsg("kpi_mail : message " INT64_FORMAT " non envoyé : %s", id, error)));
	if (report)
	{
		report->unsent += count;
		strlcpy(report->last_error, error,
				pg_mbcliplen(error, strlen(error), sizeof(report->last_error) - 1) + 1);
	}
}

/*
 * Sends every due pending row over one SMTP connection, committing each
 * result at once; see the file header.
 */
static void
deliver_due(DeliveryReport *report)
{
	MemoryContext round_cxt = AllocSetContextCreate(worker_context, "kpi_mail delivery round",
													ALLOCSET_DEFAULT_SIZES);
	DeliveryConfig config;
	CURL	   *volatile curl = NULL;

	load_config(&config);
	step_return_context = round_cxt;
	PG_TRY();
	{
		bool		stop = false;

		while (!stop)
		{
			OutboxRow  *rows;
			int			n;

			MemoryContextReset(round_cxt);
			n = fetch_due(&config, round_cxt, &rows);
			if (n == 0)
				break;
			if (curl == NULL)
				curl = kpi_smtp_open(&config.smtp);
			for (int i = 0; i < n && !stop; i++)
			{
				KpiSmtpResult result;
				int64	   *rest;

				CHECK_FOR_INTERRUPTS();
				if (rows[i].wire == NULL)
				{
					char	   *error = psprintf("message impossible à construire : %s", rows[i].error);

					mark_unsent(&rows[i].id, 1, error, NULL, true);
					note_unsent(report, rows[i].id, 1, error);
					continue;
				}
				kpi_smtp_send(curl, &config.smtp, (const char *const *) rows[i].recipients,
							  rows[i].nrecipients, rows[i].wire, &result);
				switch (result.outcome)
				{
					case KPI_SMTP_SENT:
						mark_sent(rows[i].id, &result);
						if (report)
							report->sent++;
						break;
					case KPI_SMTP_RETRY:
					case KPI_SMTP_REJECTED:
						mark_unsent(&rows[i].id, 1, result.error, result.reply,
									result.outcome == KPI_SMTP_REJECTED);
						note_unsent(report, rows[i].id, 1, result.error);
						break;
					case KPI_SMTP_SERVER_ERROR:
						/* the server is out of reach: the rest of the batch waits too */
						rest = palloc(sizeof(int64) * (n - i));
						for (int j = i; j < n; j++)
							rest[j - i] = rows[j].id;
						mark_unsent(rest, n - i, result.error, result.reply, false);
						note_unsent(report, rows[i].id, n - i, result.error);
						stop = true;
						break;
					case KPI_SMTP_INTERRUPTED:
						/* the message in flight stays pending, untouched */
						stop = true;
						break;
				}
			}
		}
		if (curl)
		{
			CURL	   *done = curl;

			curl = NULL;
			kpi_smtp_close(done);
		}
	}
	PG_FINALLY();
	{
		kpi_smtp_close(curl);
	}
	PG_END_TRY();
	step_return_context = worker_context;
	MemoryContextSwitchTo(worker_context);
	if (config.smtp.password)
		explicit_bzero((char *) config.smtp.password, strlen(config.smtp.password));
	CHECK_FOR_INTERRUPTS();
}

/*
 * Main of the delivery worker: connects as the extension owner, takes the
 * delivery lock and delivers; see the file header.
 */
void
kpi_delivery_worker_main(Datum main_arg)
{
	Oid			database = DatumGetObjectId(main_arg);
	WorkerArgs	args;
	DeliveryReport *report = NULL;

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	if (!args.after_commit)
	{
		dsm_segment *seg = dsm_attach(args.report);

		if (seg == NULL)
			return;				/* deliver_outbox() gave up already */
		report = (DeliveryReport *) dsm_segment_address(seg);
	}

	BackgroundWorkerInitializeConnectionByOid(database, args.owner, 0);
	worker_context = AllocSetContextCreate(TopMemoryContext, "kpi_mail delivery",
										   ALLOCSET_DEFAULT_SIZES);
	step_return_context = worker_context;
	MemoryContextSwitchTo(worker_context);
	/* our SQL is qualified, and nothing in another schema may capture an operator */
	SetConfigOption("search_path", "pg_catalog, kpi_mail, pg_temp", PGC_USERSET, PGC_S_SESSION);
	/* waiting for the delivery lock and sending may take a while */
	SetConfigOption("statement_timeout", "0", PGC_USERSET, PGC_S_SESSION);
	SetConfigOption("lock_timeout", "0", PGC_USERSET, PGC_S_SESSION);
	SetConfigOption("idle_in_transaction_session_timeout", "0", PGC_USERSET, PGC_S_SESSION);
	SetConfigOption("application_name", WORKER_TYPE, PGC_USERSET, PGC_S_SESSION);

	if (extension_present())
	{
		bool		deliver = true;

		if (args.after_commit)
		{
			/* a worker already waiting will read the outbox after our commit */
			deliver = advisory_lock(LOCK_WAITER, false);
			if (deliver)
			{
				advisory_lock(LOCK_DELIVERY, true);
				advisory_unlock(LOCK_WAITER);
			}
		}
		else
			advisory_lock(LOCK_DELIVERY, true);
		if (deliver)
			deliver_due(report);
	}
	if (report)
	{
		pg_write_barrier();
		report->finished = true;
	}
}
