# Makefile for kpi_mail, a PostgreSQL extension that computes invoice and
# payment-reminder KPIs with French business days and mails them (libcurl SMTP).
#
# Build and install:   make && make install
# Regression tests:    make installcheck   (see test/run for the whole suite)

EXTENSION = kpi_mail
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = kpi_mail
OBJS = \
	kpi_mail.o \
	settings.o \
	calendar.o \
	guard.o \
	indicators.o \
	report.o

DATA = kpi_mail--1.0.sql
PGFILEDESC = "kpi_mail - weekly KPI mail and alerts"

REGRESS = setup

PG_CPPFLAGS += -DKPI_MAIL_VERSION=\"$(EXTVERSION)\" $(shell pkg-config --cflags libcurl)
PG_CFLAGS += -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Werror
SHLIB_LINK += $(shell pkg-config --libs libcurl)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
