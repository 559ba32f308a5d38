# Makefile for kpi_mail, a PostgreSQL extension that computes invoice and
# payment-reminder KPIs with French business days and mails them (libcurl SMTP).
#
# Build and install:   make && make install
# Regression tests:    make installcheck   (see test/run for the whole suite)

EXTENSION = kpi_mail
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = kpi_mail
# foundation
OBJS = kpi_mail.o settings.o textfmt.o
# calendar (§1)
OBJS += calendar.o
# result guard and validations (§3, §9)
OBJS += guard.o
# indicators and weekly report (§2, §4)
OBJS += indicators.o report.o
# mail delivery (§5, §6)
OBJS += message.o smtp.o delivery.o
# alerts and scheduling (§5, §6)
OBJS += alerts.o

# attach (§8)
# sources read with the right identity (§7, §8)
OBJS += source.o

DATA = kpi_mail--1.0.sql
PGFILEDESC = "kpi_mail - weekly KPI mail and alerts"

REGRESS = setup
# guard, validations, settings
REGRESS += guard bookkeeping validation settings
# calendar
REGRESS += calendar_holidays calendar_range calendar_vectors calendar_overrides calendar_timezone
# indicators and report
REGRESS += weekly_report_cases weekly_report_timezone weekly_report_period invoice_kpi report_source \
	weekly_report_example weekly_figures weekly_report_calendar
# delivery
REGRESS += delivery
REGRESS += alerts weekly_send scheduling security recipients
# attach
REGRESS += attach attach_errors attach_security attach_entry_time

PG_CPPFLAGS += -DKPI_MAIL_VERSION=\"$(EXTVERSION)\" $(shell pkg-config --cflags libcurl)
# PostgreSQL's own headers (fmgr.h, ilist.h) trip -Wunused-parameter under -Wextra.
PG_CFLAGS += -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Werror
SHLIB_LINK += $(shell pkg-config --libs libcurl)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
