/*-------------------------------------------------------------------------
 * message.c
 *	  Builds the RFC 5322 + MIME text of an outgoing mail (SPEC §6).
 *
 * The message is UTF-8 text/plain.  Nothing taken from the data (client
 * names, invoice numbers, subject, body) can ever add a header line:
 *	- the subject has its control characters (CR, LF, ...) replaced by
 *	  spaces, and is written as RFC 2047 encoded words (each at most 75
 *	  characters, never cutting a UTF-8 character, on folded lines of at most
 *	  76 characters) whenever it is not plain short-worded ASCII;
 *	- the body is quoted-printable (RFC 2045): lines of at most 76 octets,
 *	  a leading '.' and a leading "From " encoded, so that dot lines and mbox
 *	  readers leave the text intact (libcurl dot-stuffs as well);
 *	- addresses and the Message-ID are checked character by character;
 *	- a recipient's display name goes into To as "Name <address>": as is
 *	  when made of atext words, else as a quoted-string when ASCII, else as
 *	  encoded words like the subject; its control characters become spaces.
 * Every line ends with CRLF.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "pgtime.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "message.h"
#include "settings.h"

/* RFC 2047 §2: a line holding encoded words is at most 76 characters. */
#define HEADER_LINE_MAX 76
/* RFC 5322 §2.1.1: lines SHOULD be at most 78 characters. */
#define FOLD_AT 78
/* RFC 2045 §6.7: quoted-printable lines are at most 76 characters, "=" included. */
#define QP_LINE_MAX 76

#define EW_PREFIX "=?UTF-8?Q?"
#define EW_SUFFIX "?="

static const char hexdigits[] = "0123456789ABCDEF";

/* True for the characters of an RFC 5322 atom (atext). */
static bool
is_atext(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		(c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* True when s[0..len) is a dot-atom: atoms separated by single dots. */
static bool
is_dot_atom(const char *s, size_t len)
{
	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (size_t i = 0; i < len; i++)
	{
		if (s[i] == '.')
		{
			if (s[i + 1] == '.')
				return false;
		}
		else if (!is_atext((unsigned char) s[i]))
			return false;
	}
	return true;
}

/*
 * True when s[0..len) is a host name: dot-separated labels of 1 to 63
 * letters, digits and '-', starting and ending with a letter or digit.
 */
static bool
is_domain(const char *s, size_t len)
{
	size_t		label = 0;		/* length of the current label */

	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i <= len; i++)
	{
		unsigned char c = i < len ? (unsigned char) s[i] : '.';

		if (c == '.')
		{
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
		}
		else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
				 (c == '-' && label > 0))
		{
			if (++label > 63)
				return false;
		}
		else
			return false;
	}
	return true;
}

/*
 * A plain local@domain with nothing to quote or fold: a local part of atext
 * and dots, a host name, at most 254 octets.  The one definition of a valid
 * address: kpi_mail.is_valid_email() (settings, recipients, responsible
 * persons) and the message builder both use it.
 */
bool
kpi_message_address_ok(const char *address)
{
	const char *at;
	size_t		len;

	if (address == NULL)
		return false;
	len = strlen(address);
	at = strchr(address, '@');
	if (len > 254 || at == NULL || strchr(at + 1, '@') != NULL)
		return false;
	for (const char *p = address; p < at; p++)
		if (!is_atext((unsigned char) *p) && *p != '.')
			return false;
	return at > address && is_domain(at + 1, strlen(at + 1));
}

PG_FUNCTION_INFO_V1(kpi_is_valid_email);

/* kpi_mail.is_valid_email(address text) → boolean; NULL is not an address. */
Datum
kpi_is_valid_email(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(!PG_ARGISNULL(0) &&
				   kpi_message_address_ok(text_to_cstring(PG_GETARG_TEXT_PP(0))));
}

/* "<dot-atom@dot-atom>" with nothing else. */
bool
kpi_message_id_ok(const char *id)
{
	size_t		len;
	const char *at;

	if (id == NULL)
		return false;
	len = strlen(id);
	if (len < 5 || len > 250 || id[0] != '<' || id[len - 1] != '>')
		return false;
	at = strchr(id, '@');
	if (at == NULL || strchr(at + 1, '@') != NULL)
		return false;
	return is_dot_atom(id + 1, at - id - 1) && is_dot_atom(at + 1, id + len - 1 - (at + 1));
}

/* A Message-ID that no other message shares: outbox id, 128 random bits, our domain. */
char *
kpi_message_new_id(const char *mail_from, int64 outbox_id)
{
	uint8		random[16];
	char		hex[sizeof(random) * 2 + 1];
	const char *at = mail_from ? strrchr(mail_from, '@') : NULL;
	const char *domain = (at && is_domain(at + 1, strlen(at + 1))) ? at + 1 : "localhost";

	if (!pg_strong_random(random, sizeof(random)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("impossible de générer un identifiant de message aléatoire")));
	for (size_t i = 0; i < sizeof(random); i++)
	{
		hex[2 * i] = hexdigits[random[i] >> 4];
		hex[2 * i + 1] = hexdigits[random[i] & 0xF];
	}
	hex[sizeof(hex) - 1] = '\0';
	return psprintf("<kpi-mail." INT64_FORMAT ".%s@%s>", outbox_id, hex, domain);
}

/* The elements of a text[] as C strings, NULL for NULL (palloc'd); *n their number. */
char **
kpi_message_strings(Datum array, int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	char	  **strings;

	deconstruct_array(DatumGetArrayTypePCopy(array), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, n);
	strings = palloc0(sizeof(char *) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
		strings[i] = nulls[i] ? NULL : TextDatumGetCString(elems[i]);
	return strings;
}

/* The text converted to UTF-8 (the database may use another encoding). */
static const char *
to_utf8(const char *s)
{
	return pg_server_to_any(s, strlen(s), PG_UTF8);
}

/* s as a JSON string ("a\\r\\nb": one line, control characters visible), or NULL. */
static const char *
json_or_null(const char *s)
{
	StringInfoData buf;

	if (s == NULL)
		return "NULL";
	initStringInfo(&buf);
	escape_json(&buf, s);
	return buf.data;
}

/* Errors out unless address is safe to write in a header and in SMTP. */
static void
check_address(const char *address, const char *what)
{
	if (!kpi_message_address_ok(address))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("adresse %s invalide : %s", what, json_or_null(address)),
				 errhint("Une adresse simple est attendue, par exemple nom@example.fr, sans espace ni retour à la ligne.")));
}

/* Appends the Date header in RFC 5322 format, on the wall clock of timezone. */
static void
append_date(StringInfo buf, TimestampTz date, const char *timezone)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	pg_tz	   *tz = timezone ? pg_tzset(timezone) : NULL;
	struct pg_tm tm;
	fsec_t		fsec;
	int			tzoff;
	int			east;

	if (tz == NULL)
		tz = pg_tzset("UTC");
	if (TIMESTAMP_NOT_FINITE(date) ||
		timestamp2tm(date, &tzoff, &tm, &fsec, NULL, tz) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("date du message hors limites")));
	/* PostgreSQL counts offsets in seconds west of Greenwich; RFC 5322 east */
	east = -tzoff;
	appendStringInfo(buf, "Date: %s, %02d %s %04d %02d:%02d:%02d %c%02d%02d\r\n",
					 days[j2day(date2j(tm.tm_year, tm.tm_mon, tm.tm_mday))],
					 tm.tm_mday, months[tm.tm_mon - 1], tm.tm_year,
					 tm.tm_hour, tm.tm_min, tm.tm_sec,
					 east < 0 ? '-' : '+', abs(east) / 3600, (abs(east) / 60) % 60);
}

/* True when the cleaned subject can be written as is: short-worded printable ASCII. */
static bool
subject_is_plain(const char *s)
{
	int			word = 0;
	size_t		len = strlen(s);

	/* unfolding and parsers eat leading and trailing blanks; "=?" would be decoded */
	if (len > 0 && (s[0] == ' ' || s[len - 1] == ' '))
		return false;
	if (strstr(s, "=?") != NULL)
		return false;
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		if (*p >= 0x80)
			return false;
		word = (*p == ' ') ? 0 : word + 1;
		if (word > FOLD_AT - 20)
			return false;
	}
	return true;
}

/* Appends the plain subject, folding before a space when a line would pass 78. */
static void
append_plain_subject(StringInfo buf, const char *s)
{
	int			linelen = 8;	/* "Subject:" */
	const char *p = s;

	appendStringInfoString(buf, "Subject:");
	if (*p)
	{
		appendStringInfoChar(buf, ' ');
		linelen++;
	}
	while (*p)
	{
		/* a run of spaces then a word */
		const char *start = p;
		int			len;

		while (*p == ' ')
			p++;
		while (*p && *p != ' ')
			p++;
		len = p - start;
		if (start != s && start[0] == ' ' && linelen + len > FOLD_AT)
		{
			appendStringInfoString(buf, "\r\n");
			linelen = 0;
		}
		appendBinaryStringInfo(buf, start, len);
		linelen += len;
	}
	appendStringInfoString(buf, "\r\n");
}

/* Octets that RFC 2047 §5(3) lets a "Q" encoded word hold as is, even in a phrase. */
static bool
q_literal(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		c == '!' || c == '*' || c == '+' || c == '-' || c == '/';
}

/* Octets one character of a "Q" encoded word takes: 1 as is, 3 as "=XX". */
static int
q_length(const unsigned char *p, int clen)
{
	int			elen = 0;

	for (int i = 0; i < clen; i++)
		elen += (q_literal(p[i]) || p[i] == ' ') ? 1 : 3;
	return elen;
}

/* Length of s as ONE "Q" encoded word, delimiters included. */
static int
encoded_length(const char *s)
{
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *end = p + strlen(s);
	int			len = (int) strlen(EW_PREFIX EW_SUFFIX);

	while (p < end)
	{
		int			clen = Min(pg_utf_mblen(p), end - p);

		len += q_length(p, clen);
		p += clen;
	}
	return len;
}

/*
 * Appends the UTF-8 text s as "Q" encoded words, each preceded by a space or
 * a fold: *linelen is the length of the current line, in and out.  Only the
 * characters RFC 2047 §5(3) allows in a phrase are written as is, so the
 * words may stand in a Subject as in a display name.  A UTF-8 character is
 * never split between two words, and a line holding words stays within 76
 * characters, so each word within 75.
 */
static void
append_encoded_words(StringInfo buf, const char *s, int *linelen)
{
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *end = p + strlen(s);
	int			overhead = (int) strlen(EW_PREFIX) + (int) strlen(EW_SUFFIX);
	int			used = 0;

	/* room for at least one 4-octet character after the space */
	if (*linelen + 1 + overhead + 12 > HEADER_LINE_MAX)
	{
		appendStringInfoString(buf, "\r\n");
		*linelen = 0;
	}
	appendStringInfoString(buf, " " EW_PREFIX);
	*linelen += 1 + overhead;
	while (p < end)
	{
		int			clen = Min(pg_utf_mblen(p), end - p);
		int			elen = q_length(p, clen);

		if (used > 0 && *linelen + used + elen > HEADER_LINE_MAX)
		{
			appendStringInfoString(buf, EW_SUFFIX "\r\n " EW_PREFIX);
			*linelen = 1 + overhead;
			used = 0;
		}
		for (int i = 0; i < clen; i++)
		{
			if (p[i] == ' ')
				appendStringInfoChar(buf, '_');
			else if (q_literal(p[i]))
				appendStringInfoChar(buf, (char) p[i]);
			else
			{
				appendStringInfoChar(buf, '=');
				appendStringInfoChar(buf, hexdigits[p[i] >> 4]);
				appendStringInfoChar(buf, hexdigits[p[i] & 0xF]);
			}
		}
		used += elen;
		p += clen;
	}
	appendStringInfoString(buf, EW_SUFFIX);
	*linelen += used;
}

/* Appends the subject as encoded words (see append_encoded_words). */
static void
append_encoded_subject(StringInfo buf, const char *s)
{
	int			linelen = (int) strlen("Subject:");

	appendStringInfoString(buf, "Subject:");
	append_encoded_words(buf, s, &linelen);
	appendStringInfoString(buf, "\r\n");
}

/* How a display name is written in the To header (RFC 5322 §3.4, RFC 2047 §5(3)). */
typedef enum NameForm
{
	NAME_NONE,					/* no name: the bare address */
	NAME_ATOMS,					/* atext words and single spaces, as is */
	NAME_QUOTED,				/* printable ASCII with specials: a quoted-string */
	NAME_ENCODED				/* anything else: RFC 2047 encoded words */
} NameForm;

/*
 * The display name as it goes into the header (palloc'd UTF-8: control
 * characters become spaces, runs of spaces one space, none at either end),
 * or NULL when nothing is left; *form says how to write it.
 */
static char *
clean_name(const char *name, NameForm *form)
{
	char	   *clean;
	char	   *out;
	bool		ascii = true;
	bool		atoms = true;

	*form = NAME_NONE;
	if (name == NULL)
		return NULL;
	clean = pstrdup(to_utf8(name));
	out = clean;
	for (const unsigned char *p = (const unsigned char *) clean; *p; p++)
	{
		char		c = (*p < 0x20 || *p == 0x7f) ? ' ' : (char) *p;

		if (c == ' ' && (out == clean || out[-1] == ' '))
			continue;
		*out++ = c;
	}
	if (out > clean && out[-1] == ' ')
		out--;
	*out = '\0';
	if (*clean == '\0')
		return NULL;
	for (const unsigned char *p = (const unsigned char *) clean; *p; p++)
	{
		if (*p >= 0x80)
			ascii = false;
		else if (*p != ' ' && !is_atext(*p))
			atoms = false;
	}
	/* "=?" would be decoded by readers, even inside a quoted-string */
	if (!ascii || strstr(clean, "=?") != NULL)
		*form = NAME_ENCODED;
	else
		*form = atoms ? NAME_ATOMS : NAME_QUOTED;
	return clean;
}

/* Length of the quoted-string of an ASCII name: quotes, and a backslash before \\ and ". */
static int
quoted_length(const char *name)
{
	int			len = 2;

	for (const char *p = name; *p; p++)
		len += (*p == '\\' || *p == '"') ? 2 : 1;
	return len;
}

/* Appends the quoted-string of an ASCII name. */
static void
append_quoted(StringInfo buf, const char *name)
{
	appendStringInfoChar(buf, '"');
	for (const char *p = name; *p; p++)
	{
		if (*p == '\\' || *p == '"')
			appendStringInfoChar(buf, '\\');
		appendStringInfoChar(buf, *p);
	}
	appendStringInfoChar(buf, '"');
}

/*
 * Appends "To: Name <a>, b" with each recipient's display name if any:
 * folded between addresses (and inside a long encoded name, and before
 * "<address>" when needed) so that lines stay within 78 characters, 76 when
 * they hold encoded words, unless a single address is longer.
 */
static void
append_to(StringInfo buf, const char *const *recipients, const char *const *names, int n)
{
	int			linelen = 3;	/* "To:" */

	appendStringInfoString(buf, "To:");
	for (int i = 0; i < n; i++)
	{
		NameForm	form;
		char	   *name = clean_name(names ? names[i] : NULL, &form);
		int			addrlen = strlen(recipients[i]);
		int			comma = (i < n - 1) ? 1 : 0;
		int			limit = FOLD_AT;
		int			namelen = 0;
		int			itemlen;

		if (form == NAME_ATOMS)
			namelen = strlen(name);
		else if (form == NAME_QUOTED)
			namelen = quoted_length(name);
		/* a plain name too long for a line of its own is encoded, so that it can be folded */
		if ((form == NAME_ATOMS || form == NAME_QUOTED) &&
			(i == 0 ? linelen : 0) + 1 + namelen + 1 + addrlen + 2 + comma > FOLD_AT)
			form = NAME_ENCODED;
		if (form == NAME_ENCODED)
		{
			namelen = encoded_length(name);
			limit = HEADER_LINE_MAX;
		}
		itemlen = (form == NAME_NONE) ? addrlen : namelen + 1 + addrlen + 2;
		if (i > 0 && linelen + 1 + itemlen + comma > limit)
		{
			appendStringInfoString(buf, "\r\n");
			linelen = 0;
		}
		switch (form)
		{
			case NAME_NONE:
				break;
			case NAME_ATOMS:
				appendStringInfoChar(buf, ' ');
				appendStringInfoString(buf, name);
				linelen += 1 + namelen;
				break;
			case NAME_QUOTED:
				appendStringInfoChar(buf, ' ');
				append_quoted(buf, name);
				linelen += 1 + namelen;
				break;
			case NAME_ENCODED:
				append_encoded_words(buf, name, &linelen);
				break;
		}
		if (form == NAME_NONE)
		{
			appendStringInfoChar(buf, ' ');
			appendBinaryStringInfo(buf, recipients[i], addrlen);
			linelen += 1 + addrlen;
		}
		else
		{
			if (linelen + 3 + addrlen + comma > limit)
			{
				appendStringInfoString(buf, "\r\n");
				linelen = 0;
			}
			appendStringInfo(buf, " <%s>", recipients[i]);
			linelen += 3 + addrlen;
		}
		if (comma)
		{
			appendStringInfoChar(buf, ',');
			linelen++;
		}
	}
	appendStringInfoString(buf, "\r\n");
}

/* Appends the Subject header: control characters become spaces, then plain or encoded. */
static void
append_subject(StringInfo buf, const char *subject)
{
	char	   *clean = pstrdup(subject);

	for (unsigned char *p = (unsigned char *) clean; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = ' ';
	if (subject_is_plain(clean))
		append_plain_subject(buf, clean);
	else
		append_encoded_subject(buf, clean);
	pfree(clean);
}

/* True at a line end of the body: LF, CRLF, or the end of the text. */
static bool
at_line_end(const char *p)
{
	return *p == '\0' || *p == '\n' || (p[0] == '\r' && p[1] == '\n');
}

/* Appends one octet as "=XX". */
static void
append_qp_escape(StringInfo buf, unsigned char c)
{
	appendStringInfoChar(buf, '=');
	appendStringInfoChar(buf, hexdigits[c >> 4]);
	appendStringInfoChar(buf, hexdigits[c & 0xF]);
}

/*
 * Appends the body in quoted-printable.  LF and CRLF become CRLF line
 * breaks; a lone CR is encoded.  Long lines get soft breaks ("=" CRLF),
 * never inside a UTF-8 character.  A '.' or "From " starting a wire line is
 * encoded, as are blanks ending one.  A body without a final line feed ends
 * with a soft break, so that the CRLF the SMTP data needs adds nothing to
 * the text.
 */
static void
append_qp_body(StringInfo buf, const char *body)
{
	const unsigned char *p = (const unsigned char *) body;
	const unsigned char *end = p + strlen(body);
	int			linelen = 0;

	while (p < end)
	{
		unsigned char c = *p;
		int			clen;
		bool		literal;
		int			toklen;

		if (c == '\n' || (c == '\r' && p[1] == '\n'))
		{
			appendStringInfoString(buf, "\r\n");
			linelen = 0;
			p += (c == '\r') ? 2 : 1;
			continue;
		}
		/* a UTF-8 character is one unit: all its octets on the same line */
		clen = (c >= 0xC0) ? Min(pg_utf_mblen(p), end - p) : 1;
		for (;;)
		{
			if (clen > 1)
				literal = false;
			else if (c == ' ' || c == '\t')
				literal = !at_line_end((const char *) p + 1);
			else
				literal = c >= 33 && c <= 126 && c != '=';
			if (linelen == 0 && (c == '.' || strncmp((const char *) p, "From ", 5) == 0))
				literal = false;
			toklen = literal ? 1 : 3 * clen;
			/* keep room for the "=" of a soft break, unless the line ends here */
			if (linelen == 0 || linelen + toklen <= QP_LINE_MAX - 1 ||
				(linelen + toklen <= QP_LINE_MAX && at_line_end((const char *) p + clen)))
				break;
			appendStringInfoString(buf, "=\r\n");
			linelen = 0;
		}
		if (literal)
			appendStringInfoChar(buf, (char) c);
		else
			for (int i = 0; i < clen; i++)
				append_qp_escape(buf, p[i]);
		linelen += toklen;
		p += clen;
	}
	if (linelen > 0)
		appendStringInfoString(buf, "=\r\n");
}

/* The whole message; see the file header for what keeps it safe. */
char *
kpi_message_build(const KpiMessage *message)
{
	StringInfoData buf;
	const char **to;

	check_address(message->mail_from, "d'expédition");
	if (message->nrecipients <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("le message n'a aucun destinataire")));
	to = palloc(sizeof(char *) * message->nrecipients);
	for (int i = 0; i < message->nrecipients; i++)
	{
		check_address(message->recipients[i], "de destinataire");
		to[i] = message->recipients[i];
	}
	if (!kpi_message_id_ok(message->message_id))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("identifiant de message invalide : %s", json_or_null(message->message_id)),
				 errhint("La forme attendue est <partie-gauche@domaine>.")));

	initStringInfo(&buf);
	append_date(&buf, message->date, message->timezone);
	appendStringInfo(&buf, "From: %s\r\n", message->mail_from);
	append_to(&buf, to, message->names, message->nrecipients);
	append_subject(&buf, to_utf8(message->subject ? message->subject : ""));
	appendStringInfo(&buf, "Message-ID: %s\r\n", message->message_id);
	appendStringInfoString(&buf,
						   "MIME-Version: 1.0\r\n"
						   "Content-Type: text/plain; charset=UTF-8\r\n"
						   "Content-Transfer-Encoding: quoted-printable\r\n"
						   "Auto-Submitted: auto-generated\r\n"
						   "\r\n");
	append_qp_body(&buf, to_utf8(message->body ? message->body : ""));
	pfree(to);
	return buf.data;
}

PG_FUNCTION_INFO_V1(kpi_build_message);

/*
 * kpi_mail.build_message(recipients, subject, body, date, message_id): the
 * message delivery would send, with From and the Date zone from the
 * settings and the display names of kpi_mail.recipient_display_names();
 * for tests and for checking what recipients will get.
 */
Datum
kpi_build_message(PG_FUNCTION_ARGS)
{
	KpiSettings *settings;
	MemoryContext caller = CurrentMemoryContext;
	Oid			types[1] = {TEXTARRAYOID};
	Datum		values[1];
	bool		isnull;
	int			nnames;
	KpiMessage	message = {0};
	char	   *wire;

	for (int i = 0; i < 4; i++)
		if (PG_ARGISNULL(i))
			PG_RETURN_NULL();
	values[0] = PG_GETARG_DATUM(0);
	message.recipients = (const char *const *) kpi_message_strings(values[0], &message.nrecipients);

	/* the same look-up as delivery */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT kpi_mail.recipient_display_names($1)",
							  1, types, values, NULL, true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "display name query failed");
	values[0] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
	{
		MemoryContext spi = MemoryContextSwitchTo(caller);

		message.names = (const char *const *) kpi_message_strings(values[0], &nnames);
		if (nnames != message.nrecipients)
			message.names = NULL;
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();

	settings = kpi_settings_load();
	message.mail_from = settings->mail_from;
	message.timezone = settings->timezone;

	message.subject = text_to_cstring(PG_GETARG_TEXT_PP(1));
	message.body = text_to_cstring(PG_GETARG_TEXT_PP(2));
	message.date = PG_GETARG_TIMESTAMPTZ(3);
	message.message_id = PG_ARGISNULL(4) ? kpi_message_new_id(message.mail_from, 0)
		: text_to_cstring(PG_GETARG_TEXT_PP(4));

	wire = kpi_message_build(&message);
	/* the wire text is UTF-8: give it back in the database encoding */
	PG_RETURN_TEXT_P(cstring_to_text(pg_any_to_server(wire, strlen(wire), PG_UTF8)));
}
