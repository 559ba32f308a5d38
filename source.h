/*-------------------------------------------------------------------------
 * source.h
 *	  Reading the invoice and reminder sources (SPEC §8) with the right
 *	  identity.
 *
 * The built-in tables are read with the caller's rights.  An attached
 * relation (kpi_mail.attachment) is read with its owner's rights, like a
 * view: the caller needs SELECT on it, and the query over it runs as the
 * relation's owner in a restricted security context, so that whatever the
 * relation calls (a view's functions, casts, policies) never runs as the
 * caller, e.g. as a superuser or as the SECURITY DEFINER mail functions.
 *-------------------------------------------------------------------------
 */
#ifndef KPI_MAIL_SOURCE_H
#define KPI_MAIL_SOURCE_H

#include "postgres.h"
#include "executor/spi.h"

/* One source, resolved at read time. */
typedef struct KpiSource
{
	const char *kind;			/* "invoices" or "reminders" */
	char	   *query;			/* the text of kpi_mail.source_query(kind) */
	Oid			reader;			/* owner of the attached relation, or
								 * InvalidOid: the built-in table, read as
								 * the caller */
} KpiSource;

/*
 * Resolves the source of kind: its normalized query and, when a relation is
 * attached, its owner (after checking that the current user may SELECT it,
 * error 42501 otherwise, and locking it).  The caller is connected to SPI;
 * the result is allocated in, and the call returns in, the memory context
 * current at the call.
 */
extern KpiSource *kpi_source_get(const char *kind);

/*
 * SPI_execute_with_args(sql, ...) read-only, as the source's reader; sql
 * embeds source->query and must name nothing else a search_path could
 * redirect.  The rows are in SPI_tuptable.
 */
extern void kpi_source_execute(const KpiSource *source, const char *sql,
							   int nargs, Oid *argtypes, Datum *values);

/* The same through a read-only cursor: open, fetch forward, close. */
extern Portal kpi_source_cursor_open(const KpiSource *source, const char *sql,
									 int nargs, Oid *argtypes, Datum *values);
extern void kpi_source_cursor_fetch(const KpiSource *source, Portal portal, long count);
extern void kpi_source_cursor_close(const KpiSource *source, Portal portal);

#endif							/* KPI_MAIL_SOURCE_H */
