/*-------------------------------------------------------------------------
 * kpi_mail.c
 *	  Entry point of the kpi_mail extension: module magic and start-up.
 *
 * The work is split by concern: settings.c (the settings row), calendar.c
 * (business days), guard.c (result guard and date validations),
 * source.c (reading invoices and reminders, an attached table as its
 * owner), indicators.c (the KPIs), report.c (weekly report text and
 * figures), and the mail files (message building, SMTP delivery).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Module load: nothing to register yet. */
void
_PG_init(void)
{
}

PG_FUNCTION_INFO_V1(kpi_mail_version);

/* The version of the loaded library, to compare with the SQL objects. */
Datum
kpi_mail_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(KPI_MAIL_VERSION));
}
