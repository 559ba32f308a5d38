/*-------------------------------------------------------------------------
 * message.h
 *	  Builds the RFC 5322 + MIME text of an outgoing mail (SPEC §6).
 *-------------------------------------------------------------------------
 */
#ifndef KPI_MAIL_MESSAGE_H
#define KPI_MAIL_MESSAGE_H

#include "postgres.h"
#include "utils/timestamp.h"

/*
 * Everything a message is made of.  Strings are in the server encoding; the
 * message is UTF-8.  recipients are plain addresses (local@domain); names
 * are any text (control characters become spaces).
 */
typedef struct KpiMessage
{
	const char *mail_from;		/* From, and the domain of the Message-ID */
	const char *const *recipients;	/* To */
	int			nrecipients;
	const char *const *names;	/* display names in To: NULL, or one per
								 * recipient (NULL: none) */
	const char *subject;		/* any text: control characters become spaces */
	const char *body;			/* any text: LF or CRLF line ends */
	TimestampTz date;			/* Date */
	const char *timezone;		/* zone of the Date header (IANA name) */
	const char *message_id;		/* "<...@...>" */
} KpiMessage;

/* The elements of a text[] as C strings, NULL for NULL (palloc'd); *n their number. */
extern char **kpi_message_strings(Datum array, int *n);

/* True when address is a plain addr-spec that is safe in a header and in SMTP. */
extern bool kpi_message_address_ok(const char *address);

/* True when id is a "<left@right>" Message-ID made of safe characters. */
extern bool kpi_message_id_ok(const char *id);

/* A new unique Message-ID "<kpi-mail.ID.RANDOM@domain-of-mail_from>" (palloc'd). */
extern char *kpi_message_new_id(const char *mail_from, int64 outbox_id);

/*
 * The wire text of the message (palloc'd, UTF-8, CRLF line ends, body in
 * quoted-printable, so that no line comes near 998 octets).  Errors out
 * (22023) on an unsafe address or Message-ID.
 */
extern char *kpi_message_build(const KpiMessage *message);

#endif							/* KPI_MAIL_MESSAGE_H */
