/*-------------------------------------------------------------------------
 * delivery.h
 *	  Delivery of the outbox by a dynamic background worker (SPEC §6).
 *-------------------------------------------------------------------------
 */
#ifndef KPI_MAIL_DELIVERY_H
#define KPI_MAIL_DELIVERY_H

#include "postgres.h"

/* Entry point of the delivery worker (bgw_function_name). */
extern PGDLLEXPORT void kpi_delivery_worker_main(Datum main_arg);

#endif							/* KPI_MAIL_DELIVERY_H */
