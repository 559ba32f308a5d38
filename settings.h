/*-------------------------------------------------------------------------
 * settings.h
 *	  The kpi_mail.settings row as a C struct, and the company's "today".
 *-------------------------------------------------------------------------
 */
#ifndef KPI_MAIL_SETTINGS_H
#define KPI_MAIL_SETTINGS_H

#include "postgres.h"
#include "utils/date.h"
#include "utils/timestamp.h"

/* Non-secret settings (the SMTP password is read only by the mail code). */
typedef struct KpiSettings
{
	char	   *timezone;		/* IANA name, e.g. Europe/Paris */
	char	   *holiday_calendar;	/* FR, FR-ALSACE-MOSELLE, WEEKENDS-ONLY */
	int			invoice_max_business_days;	/* N of SPEC §2 */
	int			reminder_result_days;	/* D of SPEC §3 */
	int			detail_limit;
	int			backlog_weeks;
	int			alert_repeat_days;
	int			report_weekday; /* ISO 1 = Monday */
	TimeADT		report_time;
	char	   *mail_from;
	char	   *smtp_url;
} KpiSettings;

/*
 * Reads the settings row into CurrentMemoryContext, with the extension
 * owner's rights (so callers need no privilege on kpi_mail.settings).  Uses
 * SPI (connects and disconnects itself, so it may be called connected or
 * not).  The one place that reads the non-secret settings.
 */
extern KpiSettings *kpi_settings_load(void);

/* The owner of schema kpi_mail, i.e. of the extension's tables. */
extern Oid	kpi_extension_owner(void);

/* The date of now() in the company time zone. */
extern DateADT kpi_today(const KpiSettings *settings);

/* The date of a timestamptz in the given time zone. */
extern DateADT kpi_date_in_zone(TimestampTz ts, const char *timezone);

/* Midnight starting date d in the given time zone. */
extern TimestampTz kpi_midnight_in_zone(DateADT d, const char *timezone);

/* ts plus days calendar days on the wall clock of the given time zone. */
extern TimestampTz kpi_add_days_in_zone(TimestampTz ts, int days, const char *timezone);

/* Whole days from ts_from to ts_to on the wall clock of timezone (0 if ts_to < ts_from). */
extern int	kpi_whole_days_in_zone(TimestampTz ts_from, TimestampTz ts_to, const char *timezone);

#endif							/* KPI_MAIL_SETTINGS_H */
