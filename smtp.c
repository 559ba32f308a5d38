/*-------------------------------------------------------------------------
 * smtp.c
 *	  Sends built messages to the SMTP server with libcurl (SPEC §6).
 *
 * libcurl in a PostgreSQL process, carefully:
 *	- curl_global_init once per process; libcurl keeps its own malloc (it is
 *	  never handed palloc, which can longjmp out of libcurl);
 *	- only the smtp and smtps protocols, no redirect, no proxy taken from the
 *	  environment, TLS peer and host verification on;
 *	- settings.smtp_tls none/try/require maps to CURLUSESSL_NONE/TRY/ALL:
 *	  with require, libcurl stops right after EHLO when the server offers no
 *	  STARTTLS, before AUTH, so no credential ever travels in clear text;
 *	- connect and total timeouts (and the QUIT at close) from
 *	  settings.smtp_timeout_ms; CURLOPT_NOSIGNAL;
 *	- a progress callback that only *returns* non-zero when a query cancel or
 *	  a termination is pending (CHECK_FOR_INTERRUPTS would longjmp through
 *	  libcurl); CHECK_FOR_INTERRUPTS() runs once libcurl has returned;
 *	- the server's replies are followed through the debug callback (fixed
 *	  buffers, no allocation), so that a refused recipient is recorded and
 *	  the final reply ("250 ... queued as ...") kept; the commands we send
 *	  are never recorded (AUTH carries the credentials), only the RCPT
 *	  addresses;
 *	- the password never reaches an error, a log line or the outbox: libcurl
 *	  errors do not contain it, and every text we hand back is masked anyway.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "message.h"
#include "smtp.h"

/* Renamed in libcurl 8.2.0; Debian bookworm ships 7.88 with the old spelling. */
#if LIBCURL_VERSION_NUM >= 0x080200
#define KPI_CURLOPT_RCPT_ALLOWFAILS CURLOPT_MAIL_RCPT_ALLOWFAILS
#else
#define KPI_CURLOPT_RCPT_ALLOWFAILS CURLOPT_MAIL_RCPT_ALLLOWFAILS
#endif

#define MASK "********"

/* Where the SMTP dialogue stands, seen from the commands libcurl sends. */
typedef enum SmtpStage
{
	STAGE_CONNECT,				/* greeting, EHLO, STARTTLS, AUTH */
	STAGE_MAIL,					/* MAIL FROM sent */
	STAGE_RCPT,					/* RCPT TO sent */
	STAGE_DATA,					/* DATA sent */
	STAGE_BODY,					/* 354 received: the message is on its way */
	STAGE_DONE					/* the reply to the end of the data arrived */
} SmtpStage;

/* One transfer: the data libcurl reads, and what the server answered. */
typedef struct SmtpTransfer
{
	const char *data;
	size_t		len;
	size_t		pos;
	SmtpStage	stage;
	bool		quitting;		/* libcurl said QUIT after a failure: keep what
								 * the server said before */
	int			last_code;		/* code of the last complete reply, 0 if none */
	char		last_reply[512];
	char		rcpt[300];		/* address of the RCPT TO in progress */
	char		refused[1024];	/* "a@b (550 ...), ..." */
	int			nrefused;
	char		errbuf[CURL_ERROR_SIZE];
} SmtpTransfer;

static bool curl_ready = false;

/* curl_global_init, once per process (it is not thread-safe, nor are we). */
static void
smtp_global_init(void)
{
	if (curl_ready)
		return;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("impossible d'initialiser libcurl")));
	curl_ready = true;
}

/* Reports a curl_easy_setopt failure; the caller frees the handle. */
static void
setopt_failed(const char *option, CURLcode rc)
{
	ereport(ERROR,
			(errcode(ERRCODE_SYSTEM_ERROR),
			 errmsg("impossible de configurer libcurl (%s)", option),
			 errdetail("%s", curl_easy_strerror(rc))));
}

#define SMTP_SETOPT(curl, option, value) \
	do { \
		CURLcode	rc_ = curl_easy_setopt((curl), (option), (value)); \
		if (rc_ != CURLE_OK) \
			setopt_failed(#option, rc_); \
	} while (0)

/* Copies at most size bytes of a line into dst: no line end, controls as spaces, non-ASCII as '?'. */
static void
copy_line(char *dst, size_t dstsize, const char *src, size_t size)
{
	size_t		n = 0;

	while (n < size && n + 1 < dstsize && src[n] != '\r' && src[n] != '\n')
	{
		unsigned char c = (unsigned char) src[n];

		/* ASCII only: the text goes into the database whatever its encoding */
		dst[n] = (c < 0x20 || c == 0x7f) ? ' ' : (c >= 0x80 ? '?' : (char) c);
		n++;
	}
	dst[n] = '\0';
}

/* Appends "addr (reply)" to the refused list, truncating quietly when full. */
static void
note_refused(SmtpTransfer *t)
{
	size_t		used = strlen(t->refused);

	if (used + 1 < sizeof(t->refused))
		snprintf(t->refused + used, sizeof(t->refused) - used, "%s%s (%s)",
				 t->nrefused > 0 ? ", " : "", t->rcpt, t->last_reply);
	t->nrefused++;
}

/*
 * libcurl's debug callback: follows the dialogue.  No allocation, no
 * ereport; only server replies and RCPT addresses are copied.
 */
static int
smtp_debug(CURL *handle, curl_infotype type, char *data, size_t size, void *userp)
{
	SmtpTransfer *t = (SmtpTransfer *) userp;

	if (t == NULL)
		return 0;
	if (type == CURLINFO_HEADER_OUT)
	{
		if (size >= 10 && pg_strncasecmp(data, "MAIL FROM:", 10) == 0)
			t->stage = STAGE_MAIL;
		else if (size >= 8 && pg_strncasecmp(data, "RCPT TO:", 8) == 0)
		{
			const char *addr = data + 8;
			size_t		len = size - 8;

			/* "<a@b>": keep a@b */
			if (len > 0 && addr[0] == '<')
			{
				addr++;
				len--;
			}
			copy_line(t->rcpt, sizeof(t->rcpt), addr, len);
			if (strchr(t->rcpt, '>'))
				*strchr(t->rcpt, '>') = '\0';
			t->stage = STAGE_RCPT;
		}
		else if (size >= 4 && pg_strncasecmp(data, "DATA", 4) == 0)
			t->stage = STAGE_DATA;
		else if (size >= 4 && pg_strncasecmp(data, "QUIT", 4) == 0)
			t->quitting = true;
	}
	else if (type == CURLINFO_HEADER_IN && !t->quitting)
	{
		int			code = 0;

		copy_line(t->last_reply, sizeof(t->last_reply), data, size);
		/* only the last line of a reply ("250 x", not "250-x") is final */
		if (size >= 3 && isdigit((unsigned char) data[0]) &&
			isdigit((unsigned char) data[1]) && isdigit((unsigned char) data[2]) &&
			(size == 3 || data[3] != '-'))
			code = (data[0] - '0') * 100 + (data[1] - '0') * 10 + (data[2] - '0');
		if (code == 0)
			return 0;
		t->last_code = code;
		if (t->stage == STAGE_RCPT && code >= 400)
			note_refused(t);
		else if (t->stage == STAGE_DATA && code == 354)
			t->stage = STAGE_BODY;
		else if (t->stage == STAGE_BODY)
			t->stage = STAGE_DONE;
	}
	return 0;
}

/*
 * libcurl's progress callback: asks libcurl to stop when a query cancel or
 * a termination is pending.  It must not ereport (no longjmp through libcurl).
 */
static int
smtp_progress(void *userp, curl_off_t dltotal, curl_off_t dlnow,
			  curl_off_t ultotal, curl_off_t ulnow)
{
	return (QueryCancelPending || ProcDiePending) ? 1 : 0;
}

/* libcurl's read callback: hands out the message. */
static size_t
smtp_read(char *buffer, size_t size, size_t nitems, void *userp)
{
	SmtpTransfer *t = (SmtpTransfer *) userp;
	size_t		n;

	if (t == NULL)
		return 0;
	n = Min(size * nitems, t->len - t->pos);
	memcpy(buffer, t->data + t->pos, n);
	t->pos += n;
	return n;
}

/* settings.smtp_tls as the enum. */
KpiSmtpTls
kpi_smtp_tls_from_name(const char *name)
{
	if (name && strcmp(name, "none") == 0)
		return KPI_SMTP_TLS_NONE;
	if (name && strcmp(name, "try") == 0)
		return KPI_SMTP_TLS_TRY;
	if (name && strcmp(name, "require") == 0)
		return KPI_SMTP_TLS_REQUIRE;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("mode TLS SMTP invalide : %s", name ? quote_literal_cstr(name) : "NULL"),
			 errhint("Valeurs possibles : none, try, require.")));
	return KPI_SMTP_TLS_TRY;	/* keep the compiler quiet */
}

/*
 * The server URL with the sender's domain as path: libcurl says EHLO with
 * it (instead of "localhost", which some servers refuse).
 */
static char *
smtp_url_with_domain(const char *url, const char *mail_from)
{
	const char *at = strrchr(mail_from, '@');
	size_t		len = strlen(url);

	while (len > 0 && url[len - 1] == '/')
		len--;
	return psprintf("%.*s/%s", (int) len, url, at ? at + 1 : "localhost");
}

/* A new easy handle with every option that holds for the whole batch. */
CURL *
kpi_smtp_open(const KpiSmtpConfig *config)
{
	CURL	   *volatile curl = NULL;

	smtp_global_init();
	PG_TRY();
	{
		long		timeout_ms = Max(config->timeout_ms, 1);
		static const long use_ssl[] = {CURLUSESSL_NONE, CURLUSESSL_TRY, CURLUSESSL_ALL};

		curl = curl_easy_init();
		if (curl == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("impossible de créer une session libcurl")));
		SMTP_SETOPT(curl, CURLOPT_URL, smtp_url_with_domain(config->url, config->mail_from));
		SMTP_SETOPT(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
		/* libcurl refuses an empty redirect list; SMTP never redirects anyway */
		SMTP_SETOPT(curl, CURLOPT_FOLLOWLOCATION, 0L);
		SMTP_SETOPT(curl, CURLOPT_MAXREDIRS, 0L);
		/* an empty proxy: ignore smtp_proxy/all_proxy from the server's environment */
		SMTP_SETOPT(curl, CURLOPT_PROXY, "");
		SMTP_SETOPT(curl, CURLOPT_USE_SSL, use_ssl[config->tls]);
		SMTP_SETOPT(curl, CURLOPT_SSL_VERIFYPEER, 1L);
		SMTP_SETOPT(curl, CURLOPT_SSL_VERIFYHOST, 2L);
		if (config->username && config->username[0])
		{
			SMTP_SETOPT(curl, CURLOPT_USERNAME, config->username);
			SMTP_SETOPT(curl, CURLOPT_PASSWORD, config->password ? config->password : "");
		}
		SMTP_SETOPT(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
		SMTP_SETOPT(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
		/* bounds the wait for each reply, the QUIT at close included */
		SMTP_SETOPT(curl, CURLOPT_SERVER_RESPONSE_TIMEOUT, (timeout_ms + 999) / 1000);
		SMTP_SETOPT(curl, CURLOPT_NOSIGNAL, 1L);
		SMTP_SETOPT(curl, CURLOPT_NOPROGRESS, 0L);
		SMTP_SETOPT(curl, CURLOPT_XFERINFOFUNCTION, smtp_progress);
		SMTP_SETOPT(curl, CURLOPT_XFERINFODATA, NULL);
		SMTP_SETOPT(curl, CURLOPT_VERBOSE, 1L);
		SMTP_SETOPT(curl, CURLOPT_DEBUGFUNCTION, smtp_debug);
		SMTP_SETOPT(curl, CURLOPT_DEBUGDATA, NULL);
		SMTP_SETOPT(curl, CURLOPT_READFUNCTION, smtp_read);
		SMTP_SETOPT(curl, CURLOPT_READDATA, NULL);
		SMTP_SETOPT(curl, CURLOPT_UPLOAD, 1L);
		SMTP_SETOPT(curl, CURLOPT_MAIL_FROM, psprintf("<%s>", config->mail_from));
		SMTP_SETOPT(curl, KPI_CURLOPT_RCPT_ALLOWFAILS, 1L);
	}
	PG_CATCH();
	{
		if (curl)
			curl_easy_cleanup(curl);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return curl;
}

/* Closes the connection (QUIT, bounded by the timeouts) and frees the handle. */
void
kpi_smtp_close(CURL *curl)
{
	if (curl)
		curl_easy_cleanup(curl);
}

/* text with every occurrence of password replaced by MASK. */
char *
kpi_smtp_mask_secret(const char *text, const char *password)
{
	StringInfoData buf;
	size_t		plen = password ? strlen(password) : 0;
	const char *p = text;
	const char *hit;

	if (text == NULL)
		return NULL;
	initStringInfo(&buf);
	while (plen > 0 && (hit = strstr(p, password)) != NULL)
	{
		appendBinaryStringInfo(&buf, p, hit - p);
		appendStringInfoString(&buf, MASK);
		p = hit + plen;
	}
	appendStringInfoString(&buf, p);
	return buf.data;
}

/* A French phrase for the libcurl errors an administrator meets. */
static const char *
french_reason(CURLcode rc)
{
	switch (rc)
	{
		case CURLE_UNSUPPORTED_PROTOCOL:
		case CURLE_URL_MALFORMAT:
			return "adresse de serveur SMTP inutilisable";
		case CURLE_COULDNT_RESOLVE_HOST:
			return "serveur SMTP introuvable";
		case CURLE_COULDNT_CONNECT:
			return "connexion au serveur SMTP impossible";
		case CURLE_OPERATION_TIMEDOUT:
			return "délai dépassé (smtp_timeout_ms)";
		case CURLE_USE_SSL_FAILED:
			return "le serveur SMTP ne propose pas STARTTLS, exigé par smtp_tls = require";
		case CURLE_LOGIN_DENIED:
			return "authentification SMTP refusée";
		case CURLE_PEER_FAILED_VERIFICATION:
			return "certificat TLS du serveur SMTP non vérifié";
		case CURLE_SSL_CONNECT_ERROR:
			return "échec de la négociation TLS avec le serveur SMTP";
		case CURLE_GOT_NOTHING:
		case CURLE_RECV_ERROR:
		case CURLE_SEND_ERROR:
		case CURLE_WEIRD_SERVER_REPLY:
			return "échange SMTP interrompu";
		default:
			return "échec de l'envoi SMTP";
	}
}

/* Fills result from what the transfer returned and what the server said. */
static void
classify(CURLcode rc, const SmtpTransfer *t, KpiSmtpResult *result)
{
	const char *curl_text = t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc);
	char		detail[CURL_ERROR_SIZE];
	bool		permanent = t->last_code >= 500;

	copy_line(detail, sizeof(detail), curl_text, strlen(curl_text));

	result->reply = t->last_reply[0] ? pstrdup(t->last_reply) : NULL;
	if (rc == CURLE_OK)
	{
		result->outcome = KPI_SMTP_SENT;
		if (t->nrefused > 0)
			result->error = psprintf("destinataires refusés par le serveur : %s", t->refused);
	}
	else if (rc == CURLE_ABORTED_BY_CALLBACK)
	{
		result->outcome = KPI_SMTP_INTERRUPTED;
		result->error = pstrdup("envoi SMTP interrompu (annulation ou arrêt)");
	}
	else if (t->stage == STAGE_RCPT && t->last_code >= 400)
	{
		result->outcome = permanent ? KPI_SMTP_REJECTED : KPI_SMTP_RETRY;
		result->error = psprintf("tous les destinataires ont été refusés par le serveur : %s", t->refused);
	}
	else if ((t->stage == STAGE_DATA || t->stage == STAGE_DONE) && t->last_code >= 400)
	{
		result->outcome = permanent ? KPI_SMTP_REJECTED : KPI_SMTP_RETRY;
		result->error = psprintf("message refusé par le serveur : %s", t->last_reply);
	}
	else
	{
		result->outcome = KPI_SMTP_SERVER_ERROR;
		if (t->last_code >= 400)
			result->error = psprintf("%s : %s ; réponse du serveur : %s",
									 french_reason(rc), detail, t->last_reply);
		else
			result->error = psprintf("%s : %s", french_reason(rc), detail);
	}
}

/* Sends one message over the handle; see smtp.h. */
void
kpi_smtp_send(CURL *curl, const KpiSmtpConfig *config,
			  const char *const *recipients, int nrecipients,
			  const char *message, KpiSmtpResult *result)
{
	struct curl_slist *volatile rcpts = NULL;
	SmtpTransfer *t = palloc0(sizeof(SmtpTransfer));

	memset(result, 0, sizeof(*result));
	t->data = message;
	t->len = strlen(message);
	t->stage = STAGE_CONNECT;
	PG_TRY();
	{
		CURLcode	rc;

		for (int i = 0; i < nrecipients; i++)
		{
			char	   *line;
			struct curl_slist *next;

			if (!kpi_message_address_ok(recipients[i]))
				elog(ERROR, "unchecked recipient address");
			line = psprintf("<%s>", recipients[i]);
			next = curl_slist_append(rcpts, line);
			pfree(line);
			if (next == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_OUT_OF_MEMORY),
						 errmsg("mémoire insuffisante pour la liste des destinataires")));
			rcpts = next;
		}
		SMTP_SETOPT(curl, CURLOPT_MAIL_RCPT, rcpts);
		SMTP_SETOPT(curl, CURLOPT_READDATA, t);
		SMTP_SETOPT(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t) t->len);
		SMTP_SETOPT(curl, CURLOPT_DEBUGDATA, t);
		SMTP_SETOPT(curl, CURLOPT_ERRORBUFFER, t->errbuf);

		rc = curl_easy_perform(curl);

		/* from here on the handle must not point to this transfer */
		curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, NULL);
		curl_easy_setopt(curl, CURLOPT_READDATA, NULL);
		curl_easy_setopt(curl, CURLOPT_DEBUGDATA, NULL);
		curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
		classify(rc, t, result);
		result->reply = kpi_smtp_mask_secret(result->reply, config->password);
		result->error = kpi_smtp_mask_secret(result->error, config->password);
	}
	PG_FINALLY();
	{
		curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, NULL);
		curl_easy_setopt(curl, CURLOPT_READDATA, NULL);
		curl_easy_setopt(curl, CURLOPT_DEBUGDATA, NULL);
		curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
		curl_slist_free_all(rcpts);
		pfree(t);
	}
	PG_END_TRY();

	/* libcurl has let go: now a pending cancel or termination may throw */
	CHECK_FOR_INTERRUPTS();
}
