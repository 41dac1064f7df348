/*
 * conftest.h — assertions on the configuration parser's outcome, shared by
 * test_conf (the generic parser) and test_conf_sections (every component's
 * sections).  Each reports the calling test's line when it fails.
 */
#ifndef LAPS_CONFTEST_H
#define LAPS_CONFTEST_H

#include <stdbool.h>
#include <stddef.h>

#include "escrow/conf.h"

/* The file name the texts are parsed as ("t.conf"). */
#define LAPS_CONFTEST_NAME "t.conf"

/* laps_errdetail() contains needle; prints both when it does not. */
bool conftest_detail_has(const char *needle);

/* text (len bytes) parsed with schema fails with LAPS_ERR_CONFIG and a
 * detail containing each non-NULL needle. */
void conftest_err(unsigned srcline, const struct laps_conf_schema *schema, const char *text,
		  size_t len, const char *n1, const char *n2, const char *n3);

/* text parsed with schema succeeds. */
void conftest_ok(unsigned srcline, const struct laps_conf_schema *schema, const char *text);

#endif
