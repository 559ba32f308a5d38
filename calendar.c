/*-------------------------------------------------------------------------
 * calendar.c
 *	  French business days (jours ouvrés), SPEC §1: holiday calendars FR,
 *	  FR-ALSACE-MOSELLE and WEEKENDS-ONLY, company overrides, and the SQL
 *	  functions business_days_between, add_business_days, is_business_day,
 *	  public_holidays and easter_sunday.
 *
 * Everything rests on one monotone counting function
 *
 *		F(x) = number of business days d with origin < d <= x
 *			 = weekdays(x) - weekday_holidays(x) + override_delta(x)
 *
 * where each term takes constant time: weekdays by arithmetic on weeks,
 * holidays by per-year prefix counts (built once per backend) plus at most
 * 13 rules of the year of x, overrides by binary search in a sorted array
 * with cumulative deltas.  Then business_days_between(a, b) = F(b) - F(a),
 * and add_business_days(d, n) is the first day x with F(x) >= F(d) + n,
 * found from a weekday estimate corrected by a few jumps and a short
 * bisection: no loop ever walks day by day.
 *
 * Range: the holiday rules are applied to the proleptic Gregorian years
 * 1..9999 (the SPEC has no historical variants).  A date outside
 * 0001-01-01 .. 9999-12-31 (BC dates, year 10000 and later, -infinity,
 * infinity) raises SQLSTATE 22008 (datetime_field_overflow) with a French
 * message, as does a result of add_business_days that would fall outside:
 * an invoice date there is a data error, and silently counting "infinitely
 * many" business days would only hide it.  Internally the tables also cover
 * year 0 so that a search may look at 0000-12-31.
 *
 * Results depend only on DateADT arithmetic, never on TimeZone or DateStyle.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "calendar.h"
#include "settings.h"
#include "textfmt.h"

/* Calendar kinds; the first two index the holiday tables. */
#define CAL_FR				0
#define CAL_ALSACE_MOSELLE	1
#define CAL_WEEKENDS_ONLY	2
#define CAL_NKINDS			3

static const char *const calendar_names[CAL_NKINDS] = {
	"FR", "FR-ALSACE-MOSELLE", "WEEKENDS-ONLY"
};

#define CAL_FIRST_YEAR	1
#define CAL_LAST_YEAR	9999

/* One public holiday rule (names in UTF-8, converted on output). */
typedef struct HolidayRule
{
	const char *name;
	int			month;			/* 1..12 for a fixed date, 0 for Easter-based */
	int			day;			/* day of month, or days after Easter Sunday */
	bool		alsace_moselle_only;
} HolidayRule;

/*
 * SPEC §1.  Only Ascension (Easter + 39, 30 April .. 3 June) can fall on
 * another holiday (1 May or 8 May, e.g. 1 May 2008); such a day counts once
 * and public_holidays names it "Fête du Travail et Ascension".
 */
static const HolidayRule holiday_rules[] = {
	{"Jour de l'an", 1, 1, false},
	{"Vendredi saint", 0, -2, true},
	{"Lundi de Pâques", 0, 1, false},
	{"Fête du Travail", 5, 1, false},
	{"Victoire 1945", 5, 8, false},
	{"Ascension", 0, 39, false},
	{"Lundi de Pentecôte", 0, 50, false},
	{"Fête nationale", 7, 14, false},
	{"Assomption", 8, 15, false},
	{"Toussaint", 11, 1, false},
	{"Armistice 1918", 11, 11, false},
	{"Noël", 12, 25, false},
	{"Saint-Étienne", 12, 26, true},
};

#define NRULES	lengthof(holiday_rules)

/* Days before the first of each month in a common year. */
static const int days_before_month[12] = {
	0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334
};

/*
 * Per-year tables, built once per backend (about 200 kB): years 0..9999,
 * plus 1 January 10000 as a sentinel.  holiday_mask has bit i set when rule
 * i falls on a weekday that no earlier rule already took; holiday_prefix[y]
 * is the number of such weekday holidays in the years 0..y-1.
 */
static bool tables_built = false;
static DateADT year_jan1[CAL_LAST_YEAR + 2];
static DateADT year_easter[CAL_LAST_YEAR + 1];
static uint16 holiday_mask[2][CAL_LAST_YEAR + 1];
static int32 holiday_prefix[2][CAL_LAST_YEAR + 2];

/* The supported dates, 0001-01-01 .. 9999-12-31, as DateADT (checked in build_tables). */
#define DATE_MIN	((DateADT) -730119)
#define DATE_MAX	((DateADT) 2921939)

struct KpiCalendar
{
	int			kind;			/* CAL_FR, CAL_ALSACE_MOSELLE, CAL_WEEKENDS_ONLY */
	int			noverrides;		/* overrides that change the rules' answer */
	DateADT    *override_day;	/* sorted ascending */
	int32	   *override_cum;	/* sum of the deltas (+1 worked, -1 closed) up
								 * to and including each entry */
};

/* What kpi_calendar_for_call keeps in fn_extra. */
typedef struct CalendarCallCache
{
	MemoryContext cxt;			/* holds cal; child of fn_mcxt */
	KpiCalendar *cal;
	LocalTransactionId lxid;	/* when cal was read: transaction, */
	TransactionId xmin;			/* snapshot and command */
	TransactionId xmax;
	CommandId	curcid;
} CalendarCallCache;

/* Floor division for b > 0. */
static inline int64
floor_div(int64 a, int64 b)
{
	int64		q = a / b;

	if (a % b < 0)
		q--;
	return q;
}

/* Day of week of x, 0 = Sunday .. 6 = Saturday (DateADT 0 was a Saturday). */
static inline int
day_of_week(DateADT x)
{
	return (int) ((int64) x + 6 - 7 * floor_div((int64) x + 6, 7));
}

/*
 * Number of Mondays..Fridays in (origin, x], origin being Sunday 2000-01-02
 * (DateADT 1); negative before it.  Monotone, +1 on each weekday.
 */
static inline int64
weekdays_upto(int64 x)
{
	int64		q = floor_div(x - 1, 7);
	int64		r = x - 1 - 7 * q;	/* 0 = Sunday .. 6 = Saturday */

	return 5 * q + Min(r, 5);
}

/* The first day x with weekdays_upto(x) >= t (always a weekday). */
static inline int64
weekday_reaching(int64 t)
{
	int64		q = floor_div(t - 1, 5);

	return 2 + 7 * q + (t - 1 - 5 * q);
}

/* Gregorian Easter Sunday (Anonymous Gregorian algorithm) as a Julian day. */
static int
easter_julian(int year)
{
	int			a = year % 19;
	int			b = year / 100;
	int			c = year % 100;
	int			d = b / 4;
	int			e = b % 4;
	int			f = (b + 8) / 25;
	int			g = (b - f + 1) / 3;
	int			h = (19 * a + b - d - g + 15) % 30;
	int			i = c / 4;
	int			k = c % 4;
	int			l = (32 + 2 * e + 2 * i - h - k) % 7;
	int			m = (a + 11 * h + 22 * l) / 451;
	int			month = (h + l - 7 * m + 114) / 31;
	int			day = (h + l - 7 * m + 114) % 31 + 1;

	return date2j(year, month, day);
}

/* The date of holiday rule r in year y (0..9999); tables must be built. */
static inline DateADT
rule_date(const HolidayRule *r, int y)
{
	bool		leap;

	if (r->month == 0)
		return year_easter[y] + r->day;
	leap = year_jan1[y + 1] - year_jan1[y] == 366;
	return year_jan1[y] + days_before_month[r->month - 1] + r->day - 1 +
		((leap && r->month > 2) ? 1 : 0);
}

/* Does holiday rule r belong to calendar kind? */
static inline bool
rule_applies(const HolidayRule *r, int kind)
{
	return kind == CAL_ALSACE_MOSELLE || (kind == CAL_FR && !r->alsace_moselle_only);
}

/* Builds the per-year tables once per backend (about a millisecond). */
static void
build_tables(void)
{
	if (tables_built)
		return;
	if (DATE_MIN != date2j(CAL_FIRST_YEAR, 1, 1) - POSTGRES_EPOCH_JDATE ||
		DATE_MAX != date2j(CAL_LAST_YEAR, 12, 31) - POSTGRES_EPOCH_JDATE)
		elog(ERROR, "kpi_mail calendar: wrong DATE_MIN or DATE_MAX");
	for (int y = 0; y <= CAL_LAST_YEAR + 1; y++)
		year_jan1[y] = date2j(y, 1, 1) - POSTGRES_EPOCH_JDATE;
	for (int y = 0; y <= CAL_LAST_YEAR; y++)
		year_easter[y] = easter_julian(y) - POSTGRES_EPOCH_JDATE;
	for (int kind = CAL_FR; kind <= CAL_ALSACE_MOSELLE; kind++)
	{
		holiday_prefix[kind][0] = 0;
		for (int y = 0; y <= CAL_LAST_YEAR; y++)
		{
			DateADT		dates[NRULES];
			uint16		mask = 0;
			int			count = 0;

			for (int i = 0; i < (int) NRULES; i++)
			{
				bool		duplicate = false;
				int			dow;

				if (!rule_applies(&holiday_rules[i], kind))
					continue;
				dates[i] = rule_date(&holiday_rules[i], y);
				for (int j = 0; j < i; j++)
					if (rule_applies(&holiday_rules[j], kind) && dates[j] == dates[i])
						duplicate = true;
				dow = day_of_week(dates[i]);
				if (!duplicate && dow != 0 && dow != 6)
				{
					mask |= (uint16) (1 << i);
					count++;
				}
			}
			holiday_mask[kind][y] = mask;
			holiday_prefix[kind][y + 1] = holiday_prefix[kind][y] + count;
		}
	}
	tables_built = true;
}

/* The year (0..9999) containing x, for x in [DATE_MIN - 1, DATE_MAX]. */
static inline int
year_of(DateADT x)
{
	int64		y = 2000 + floor_div((int64) x * 400, 146097);

	y = Max(0, Min(y, CAL_LAST_YEAR));
	while (y > 0 && year_jan1[y] > x)
		y--;
	while (y < CAL_LAST_YEAR && year_jan1[y + 1] <= x)
		y++;
	return (int) y;
}

/* Number of weekday holidays of calendar kind in (start of year 0, x]. */
static inline int64
weekday_holidays_upto(int kind, DateADT x)
{
	int			y = year_of(x);
	uint16		mask = holiday_mask[kind][y];
	int64		n = holiday_prefix[kind][y];

	for (int i = 0; mask != 0; i++, mask >>= 1)
		if ((mask & 1) && rule_date(&holiday_rules[i], y) <= x)
			n++;
	return n;
}

/* Index of the first override after x (binary search). */
static int
overrides_upto(const KpiCalendar *cal, DateADT x)
{
	int			lo = 0,
				hi = cal->noverrides;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (cal->override_day[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* F(x): business days in (origin, x]; x in [DATE_MIN - 1, DATE_MAX]. */
static int64
business_days_upto(const KpiCalendar *cal, DateADT x)
{
	int64		n = weekdays_upto(x);

	if (cal->kind != CAL_WEEKENDS_ONLY)
		n -= weekday_holidays_upto(cal->kind, x);
	if (cal->noverrides > 0)
	{
		int			k = overrides_upto(cal, x);

		if (k > 0)
			n += cal->override_cum[k - 1];
	}
	return n;
}

/* Index of the holiday rule of calendar kind falling on x, or -1. */
static int
holiday_rule_on(int kind, DateADT x)
{
	int			y;

	if (kind == CAL_WEEKENDS_ONLY)
		return -1;
	y = year_of(x);
	for (int i = 0; i < (int) NRULES; i++)
		if (rule_applies(&holiday_rules[i], kind) && rule_date(&holiday_rules[i], y) == x)
			return i;
	return -1;
}

/* Is x a business day by the rules alone (ignoring overrides)? */
static bool
rule_business_day(int kind, DateADT x)
{
	int			dow = day_of_week(x);

	return dow != 0 && dow != 6 && holiday_rule_on(kind, x) < 0;
}

/* Appends d for a French message: DD/MM/YYYY, or infinity / -infinity. */
static void
append_date_for_message(StringInfo buf, DateADT d)
{
	int			year,
				month,
				day;

	if (DATE_IS_NOBEGIN(d))
		appendStringInfoString(buf, "-infinity");
	else if (DATE_IS_NOEND(d))
		appendStringInfoString(buf, "infinity");
	else
	{
		j2date(d + POSTGRES_EPOCH_JDATE, &year, &month, &day);
		if (year >= 1)
			kpi_append_date(buf, d);
		else
			appendStringInfo(buf, "%02d/%02d/%04d av. J.-C.", day, month, 1 - year);
	}
}

/* Raises 22008 unless d lies in 0001-01-01 .. 9999-12-31. */
static void
check_date(DateADT d)
{
	StringInfoData buf;

	if (!DATE_NOT_FINITE(d) && d >= DATE_MIN && d <= DATE_MAX)
		return;
	initStringInfo(&buf);
	append_date_for_message(&buf, d);
	ereport(ERROR,
			(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
			 errmsg("date hors de la plage du calendrier des jours ouvrés : %s", buf.data),
			 errhint("Les jours ouvrés sont définis du 01/01/0001 au 31/12/9999.")));
}

/* Raises 22008 unless year lies in 1..9999. */
static void
check_year(int32 year)
{
	if (year < CAL_FIRST_YEAR || year > CAL_LAST_YEAR)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("année hors de la plage du calendrier des jours fériés : %d", year),
				 errhint("Les jours fériés sont définis pour les années 1 à 9999.")));
}

/* Raises 22008 for add_business_days(d, n) leaving the supported range. */
static void
report_add_out_of_range(DateADT d, int n)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "Décaler le ");
	append_date_for_message(&buf, d);
	appendStringInfoString(&buf, " de ");
	kpi_append_count(&buf, n, "jour ouvré", "jours ouvrés");
	ereport(ERROR,
			(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
			 errmsg("le résultat sort de la plage du calendrier des jours ouvrés"),
			 errdetail("%s dépasse la plage du 01/01/0001 au 31/12/9999.", buf.data)));
}

/* The kind of a calendar name, or -1 when unknown. */
static int
calendar_kind(const char *calendar_name)
{
	for (int kind = 0; kind < CAL_NKINDS; kind++)
		if (strcmp(calendar_name, calendar_names[kind]) == 0)
			return kind;
	return -1;
}

/* The kind of a calendar name; 22023 with the list of names when unknown. */
static int
calendar_kind_or_error(const char *calendar_name)
{
	int			kind = calendar_kind(calendar_name);

	if (kind < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("calendrier de jours fériés inconnu : %s", quote_literal_cstr(calendar_name)),
				 errhint("Valeurs possibles : FR, FR-ALSACE-MOSELLE, WEEKENDS-ONLY.")));
	return kind;
}

/* Is calendar_name one of the three calendars (used by the settings trigger)? */
bool
kpi_calendar_name_is_known(const char *calendar_name)
{
	return calendar_kind(calendar_name) >= 0;
}

/* The name of a loaded calendar, e.g. for a report. */
const char *
kpi_calendar_name(const KpiCalendar *cal)
{
	return calendar_names[cal->kind];
}

/* One override that flips the rules' answer, while loading. */
typedef struct OverrideEntry
{
	DateADT		day;
	bool		business;
} OverrideEntry;

/* Orders OverrideEntry by day, for qsort. */
static int
override_cmp(const void *a, const void *b)
{
	DateADT		x = ((const OverrideEntry *) a)->day;
	DateADT		y = ((const OverrideEntry *) b)->day;

	return (x > y) - (x < y);
}

/*
 * Reads the configured calendar name (when calendar_name is NULL, through
 * kpi_settings_load) and the overrides.  The queries run as the extension
 * owner in a restricted security context, like the referential-integrity
 * checks: kpi_mail.settings and calendar_override are not readable by
 * PUBLIC, yet every role must get the same business days.  They name only qualified tables and columns
 * (no operator, cast or function that a search_path could redirect), and
 * sort in C.
 */
KpiCalendar *
kpi_calendar_load(MemoryContext mcxt, const char *calendar_name)
{
	KpiCalendar *cal;
	Oid			save_userid;
	int			save_sec_context;
	char	   *configured = NULL;
	OverrideEntry *entries;
	int			nrows;
	int			n = 0;
	int32		cum = 0;

	build_tables();
	if (calendar_name != NULL)
		(void) calendar_kind_or_error(calendar_name);

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(kpi_extension_owner(),
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	if (calendar_name == NULL)
	{
		configured = kpi_settings_load()->holiday_calendar;
		calendar_name = configured ? configured : "";
	}

	cal = MemoryContextAllocZero(mcxt, sizeof(KpiCalendar));
	cal->kind = calendar_kind_or_error(calendar_name);

	if (SPI_execute("SELECT day, is_business_day FROM kpi_mail.calendar_override", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "cannot read kpi_mail.calendar_override");
	nrows = (int) SPI_processed;
	entries = palloc(sizeof(OverrideEntry) * Max(nrows, 1));

	/* Keep the overrides that change the rules' answer. */
	for (int i = 0; i < nrows; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	tupdesc = SPI_tuptable->tupdesc;
		bool		isnull1,
					isnull2;
		DateADT		day = DatumGetDateADT(SPI_getbinval(tuple, tupdesc, 1, &isnull1));
		bool		business = DatumGetBool(SPI_getbinval(tuple, tupdesc, 2, &isnull2));

		/* Days outside the supported range can never be asked about. */
		if (isnull1 || isnull2 || DATE_NOT_FINITE(day) || day < DATE_MIN || day > DATE_MAX)
			continue;
		if (business == rule_business_day(cal->kind, day))
			continue;
		entries[n].day = day;
		entries[n].business = business;
		n++;
	}

	/* Sorted days (unique: primary key) with cumulative +1/-1 deltas. */
	if (n > 0)
	{
		qsort(entries, n, sizeof(OverrideEntry), override_cmp);
		cal->override_day = MemoryContextAlloc(mcxt, sizeof(DateADT) * n);
		cal->override_cum = MemoryContextAlloc(mcxt, sizeof(int32) * n);
		for (int i = 0; i < n; i++)
		{
			cum += entries[i].business ? 1 : -1;
			cal->override_day[i] = entries[i].day;
			cal->override_cum[i] = cum;
		}
	}
	cal->noverrides = n;

	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec_context);
	return cal;
}

/*
 * The configured calendar cached in fn_extra: read once per query, and again
 * only when the transaction, the snapshot or the command counter changed
 * (PL/pgSQL keeps a simple expression's state for the whole transaction).
 */
const KpiCalendar *
kpi_calendar_for_call(FunctionCallInfo fcinfo)
{
	CalendarCallCache *cache = (CalendarCallCache *) fcinfo->flinfo->fn_extra;
	Snapshot	snapshot = ActiveSnapshotSet() ? GetActiveSnapshot() : NULL;
	TransactionId xmin = snapshot ? snapshot->xmin : InvalidTransactionId;
	TransactionId xmax = snapshot ? snapshot->xmax : InvalidTransactionId;
	CommandId	curcid = snapshot ? snapshot->curcid : GetCurrentCommandId(false);

	if (cache == NULL)
	{
		cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(CalendarCallCache));
		fcinfo->flinfo->fn_extra = cache;
	}
	if (cache->cal != NULL && cache->lxid == MyProc->lxid && cache->xmin == xmin &&
		cache->xmax == xmax && cache->curcid == curcid)
		return cache->cal;

	if (cache->cxt == NULL)
		cache->cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "kpi_mail calendar",
										   ALLOCSET_SMALL_SIZES);
	else
		MemoryContextReset(cache->cxt);
	cache->cal = NULL;
	cache->cal = kpi_calendar_load(cache->cxt, NULL);
	cache->lxid = MyProc->lxid;
	cache->xmin = xmin;
	cache->xmax = xmax;
	cache->curcid = curcid;
	return cache->cal;
}

/* Is d a business day: the override if any, else Monday-Friday and no holiday? */
bool
kpi_is_business_day(const KpiCalendar *cal, DateADT d)
{
	check_date(d);
	if (cal->noverrides > 0)
	{
		int			k = overrides_upto(cal, d);

		/* An override is kept only when it flips the rules' answer. */
		if (k > 0 && cal->override_day[k - 1] == d)
			return !rule_business_day(cal->kind, d);
	}
	return rule_business_day(cal->kind, d);
}

/* Business days in (from, to], negated when to < from: F(to) - F(from). */
int
kpi_business_days_between(const KpiCalendar *cal, DateADT from, DateADT to)
{
	check_date(from);
	check_date(to);
	return (int) (business_days_upto(cal, to) - business_days_upto(cal, from));
}

/*
 * The first day x (a business day) with F(x) >= target, searched from a
 * guess: jumps by the missing (or excess) count of business days, converted
 * to weekdays, until target is bracketed, then bisects.  The jumps double
 * after a few rounds, so even years of closure overrides take few steps.
 * Errors when the day would fall outside the supported range.
 */
static DateADT
first_day_reaching(const KpiCalendar *cal, int64 target, int64 guess, DateADT d, int n)
{
	const int64 low_limit = (int64) DATE_MIN - 1;
	const int64 high_limit = (int64) DATE_MAX;
	int64		x = Max(low_limit, Min(guess, high_limit));
	int64		lo = 0,
				hi = 0;
	bool		have_lo = false,
				have_hi = false;
	int64		scale = 1;

	for (int round = 0;; round++)
	{
		int64		count = business_days_upto(cal, (DateADT) x);

		if (count >= target)
		{
			/* x reaches target; it is the answer if x - 1 does not. */
			if (x == low_limit)
				report_add_out_of_range(d, n);
			if (count == target && business_days_upto(cal, (DateADT) (x - 1)) < target)
				return (DateADT) x;
			hi = x;
			have_hi = true;
			if (have_lo)
				break;
			x = weekday_reaching(weekdays_upto(x) - Max(count - target, 1) * scale);
			x = Max(x, low_limit);
		}
		else
		{
			lo = x;
			have_lo = true;
			if (have_hi)
				break;
			if (x == high_limit)
				report_add_out_of_range(d, n);
			x = weekday_reaching(weekdays_upto(x) + (target - count) * scale);
			x = Min(x, high_limit);
		}
		if (round >= 3)
			scale *= 2;
	}

	/* F(lo) < target <= F(hi): bisect. */
	while (hi - lo > 1)
	{
		int64		mid = lo + (hi - lo) / 2;

		if (business_days_upto(cal, (DateADT) mid) >= target)
			hi = mid;
		else
			lo = mid;
	}
	return (DateADT) hi;
}

/* add_business_days of SPEC §1 (see first_day_reaching). */
DateADT
kpi_add_business_days(const KpiCalendar *cal, DateADT d, int n)
{
	check_date(d);
	if (n == 0)
		return d;

	/*
	 * n > 0: the n-th business day after d.  n < 0: the latest business day
	 * e < d with business_days_between(e, d) = -n.  Both are the first day x
	 * with F(x) >= F(d) + n; the guess is the answer for weekdays only.
	 */
	return first_day_reaching(cal, business_days_upto(cal, d) + n,
							  weekday_reaching(weekdays_upto(d) + n), d, n);
}

/* Gregorian Easter Sunday of year; 22008 outside 1..9999. */
DateADT
kpi_easter_sunday(int year)
{
	check_year(year);
	return easter_julian(year) - POSTGRES_EPOCH_JDATE;
}

/* ----------------------------------------------------------------------
 * SQL entry points
 * ---------------------------------------------------------------------- */

PG_FUNCTION_INFO_V1(kpi_calendar_is_known);

/* calendar_is_known(text): used by the settings trigger. */
Datum
kpi_calendar_is_known(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(kpi_calendar_name_is_known(text_to_cstring(PG_GETARG_TEXT_PP(0))));
}

PG_FUNCTION_INFO_V1(kpi_mail_business_days_between);

/* business_days_between(date, date) with the calendar cached per call site. */
Datum
kpi_mail_business_days_between(PG_FUNCTION_ARGS)
{
	const KpiCalendar *cal = kpi_calendar_for_call(fcinfo);

	PG_RETURN_INT32(kpi_business_days_between(cal, PG_GETARG_DATEADT(0), PG_GETARG_DATEADT(1)));
}

PG_FUNCTION_INFO_V1(kpi_mail_add_business_days);

/* add_business_days(date, integer) with the calendar cached per call site. */
Datum
kpi_mail_add_business_days(PG_FUNCTION_ARGS)
{
	const KpiCalendar *cal = kpi_calendar_for_call(fcinfo);

	PG_RETURN_DATEADT(kpi_add_business_days(cal, PG_GETARG_DATEADT(0), PG_GETARG_INT32(1)));
}

PG_FUNCTION_INFO_V1(kpi_mail_is_business_day);

/* is_business_day(date) with the calendar cached per call site. */
Datum
kpi_mail_is_business_day(PG_FUNCTION_ARGS)
{
	const KpiCalendar *cal = kpi_calendar_for_call(fcinfo);

	PG_RETURN_BOOL(kpi_is_business_day(cal, PG_GETARG_DATEADT(0)));
}

PG_FUNCTION_INFO_V1(kpi_mail_easter_sunday);

/* easter_sunday(integer): the Gregorian Easter Sunday of a year. */
Datum
kpi_mail_easter_sunday(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATEADT(kpi_easter_sunday(PG_GETARG_INT32(0)));
}

PG_FUNCTION_INFO_V1(kpi_mail_public_holidays);

/*
 * public_holidays(year [, calendar]): the holidays of a year by date, one
 * row per day (names joined with " et " when two holidays coincide).
 * Overrides are company decisions, not public holidays: not shown.
 */
Datum
kpi_mail_public_holidays(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int32		year = PG_GETARG_INT32(0);
	int			kind;
	DateADT		dates[NRULES];
	int			order[NRULES];
	int			n = 0;

	check_year(year);
	build_tables();
	if (PG_NARGS() > 1)
		kind = calendar_kind_or_error(text_to_cstring(PG_GETARG_TEXT_PP(1)));
	else
		kind = kpi_calendar_load(CurrentMemoryContext, NULL)->kind;

	InitMaterializedSRF(fcinfo, 0);

	/* Rules of the calendar, sorted by date (stable: insertion sort). */
	for (int i = 0; i < (int) NRULES; i++)
	{
		int			j;

		if (!rule_applies(&holiday_rules[i], kind))
			continue;
		dates[i] = rule_date(&holiday_rules[i], year);
		for (j = n; j > 0 && dates[order[j - 1]] > dates[i]; j--)
			order[j] = order[j - 1];
		order[j] = i;
		n++;
	}

	for (int i = 0; i < n;)
	{
		StringInfoData name;
		Datum		values[2];
		bool		nulls[2] = {false, false};
		DateADT		day = dates[order[i]];
		char	   *converted;

		initStringInfo(&name);
		appendStringInfoString(&name, holiday_rules[order[i]].name);
		for (i++; i < n && dates[order[i]] == day; i++)
			appendStringInfo(&name, " et %s", holiday_rules[order[i]].name);
		converted = pg_any_to_server(name.data, name.len, PG_UTF8);
		values[0] = DateADTGetDatum(day);
		values[1] = PointerGetDatum(cstring_to_text(converted));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
