/*-------------------------------------------------------------------------
 * alerts.h
 *	  Text of the alert mail for an overdue payment reminder (SPEC §5).
 *-------------------------------------------------------------------------
 */
#ifndef KPI_MAIL_ALERTS_H
#define KPI_MAIL_ALERTS_H

#include "postgres.h"
#include "utils/timestamp.h"

/*
 * The largest k such that from plus k days on the wall clock of timezone is
 * not after to: the "days without result" of SPEC §3 and §4.
 */
extern int	kpi_whole_days_in_zone(TimestampTz from, TimestampTz to, const char *timezone);

#endif							/* KPI_MAIL_ALERTS_H */
