/*
 * conftest.c — see conftest.h.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "escrow/err.h"
#include "tests/unit/conftest.h"

bool
conftest_detail_has(const char *needle)
{
	const char *d = laps_errdetail();

	if (strstr(d, needle) != NULL)
		return true;
	fprintf(stderr, "\n  detail \"%s\" lacks \"%s\"\n", d, needle);
	return false;
}

void
conftest_err(unsigned srcline, const struct laps_conf_schema *schema, const char *text, size_t len,
	     const char *n1, const char *n2, const char *n3)
{
	struct laps_conf c;
	int rc;

	CU_ASSERT_FATAL(laps_conf_init(&c, schema) == 0);
	laps_clearerr();
	rc = laps_conf_parse(&c, LAPS_CONFTEST_NAME, text, len);
	if (rc != LAPS_ERR_CONFIG)
		fprintf(stderr, "\n  test line %u: rc %d, detail \"%s\"\n", srcline, rc,
			laps_errdetail());
	CU_ASSERT_EQUAL(rc, LAPS_ERR_CONFIG);
	if (n1 != NULL)
		CU_ASSERT(conftest_detail_has(n1));
	if (n2 != NULL)
		CU_ASSERT(conftest_detail_has(n2));
	if (n3 != NULL)
		CU_ASSERT(conftest_detail_has(n3));
	laps_conf_free(&c);
}

void
conftest_ok(unsigned srcline, const struct laps_conf_schema *schema, const char *text)
{
	struct laps_conf c;
	int rc;

	CU_ASSERT_FATAL(laps_conf_init(&c, schema) == 0);
	rc = laps_conf_parse(&c, LAPS_CONFTEST_NAME, text, strlen(text));
	if (rc != 0)
		fprintf(stderr, "\n  test line %u: rc %d, detail \"%s\"\n", srcline, rc,
			laps_errdetail());
	CU_ASSERT_EQUAL(rc, 0);
	laps_conf_free(&c);
}
