/*-------------------------------------------------------------------------
 * smtp.h
 *	  Sends built messages to the SMTP server with libcurl (SPEC §6).
 *
 * One CURL easy handle serves a whole batch, so that libcurl keeps the SMTP
 * connection open between messages.  The caller keeps the handle in a
 * volatile local and frees it with kpi_smtp_close() in PG_FINALLY.
 *-------------------------------------------------------------------------
 */
#ifndef KPI_MAIL_SMTP_H
#define KPI_MAIL_SMTP_H

#include "postgres.h"

#include <curl/curl.h>

/* settings.smtp_tls */
typedef enum KpiSmtpTls
{
	KPI_SMTP_TLS_NONE,			/* never STARTTLS */
	KPI_SMTP_TLS_TRY,			/* STARTTLS when the server offers it */
	KPI_SMTP_TLS_REQUIRE		/* STARTTLS or fail, before any credential */
} KpiSmtpTls;

/* What the connection needs; the strings must outlive the handle. */
typedef struct KpiSmtpConfig
{
	const char *url;			/* smtp://host:port or smtps://host:port */
	const char *username;		/* NULL or "": no AUTH */
	const char *password;		/* never copied into any message */
	KpiSmtpTls	tls;
	int			timeout_ms;		/* connect timeout and total timeout */
	const char *mail_from;		/* envelope sender, a checked plain address */
} KpiSmtpConfig;

/* How one message went. */
typedef enum KpiSmtpOutcome
{
	KPI_SMTP_SENT,				/* accepted (maybe not by every recipient) */
	KPI_SMTP_RETRY,				/* this message failed for now (4xx): retry later */
	KPI_SMTP_REJECTED,			/* this message was refused for good (5xx) */
	KPI_SMTP_SERVER_ERROR,		/* connection, TLS, AUTH or sender problem: retry
								 * every message later */
	KPI_SMTP_INTERRUPTED		/* query cancel or termination */
} KpiSmtpOutcome;

typedef struct KpiSmtpResult
{
	KpiSmtpOutcome outcome;
	char	   *reply;			/* the server's last reply (palloc'd), or NULL */
	char	   *error;			/* French description (palloc'd), or NULL; for
								 * SENT, the recipients the server refused */
} KpiSmtpResult;

/* settings.smtp_tls as the enum (errors out on an unknown value). */
extern KpiSmtpTls kpi_smtp_tls_from_name(const char *name);

/* A new easy handle with every connection-wide option set (errors out on failure). */
extern CURL *kpi_smtp_open(const KpiSmtpConfig *config);

/* Sends one message (wire text, CRLF) to the recipients over the handle. */
extern void kpi_smtp_send(CURL *curl, const KpiSmtpConfig *config,
						  const char *const *recipients, int nrecipients,
						  const char *message, KpiSmtpResult *result);

/* Closes the connection (QUIT) and frees the handle; NULL is fine. */
extern void kpi_smtp_close(CURL *curl);

/* Text with every occurrence of the password masked (palloc'd). */
extern char *kpi_smtp_mask_secret(const char *text, const char *password);

#endif							/* KPI_MAIL_SMTP_H */
