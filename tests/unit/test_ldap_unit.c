/*
 * test_ldap_unit.c — LDAP backend helpers that need no server: FILETIME
 * conversions against known values, the expiration tag encoding, filter
 * template expansion with RFC 4515 escaping, error mapping, the history
 * trimming plan.
 */
#include "config.h"

#include <CUnit/CUnit.h>
#include <ldap.h>
#include <string.h>

#include "backends/ldap_backend.h"
#include "backends/ldap_int.h"
#include "escrow/err.h"
#include "escrow/log.h"
#include "escrow/secret.h"
#include "tests/unit/testutil.h"

static void
t_filetime_known(void)
{
	uint64_t ft = 0;
	char buf[LAPS_FILETIME_DEC_MAX], hbuf[LAPS_FILETIME_HEX_MAX];

	CU_ASSERT_EQUAL(laps_filetime_from_unix(0, &ft), 0);
	CU_ASSERT_EQUAL(ft, 116444736000000000ULL);
	CU_ASSERT_EQUAL(laps_filetime_from_unix(1704067200, &ft), 0); /* 2024-01-01T00:00:00Z */
	CU_ASSERT_EQUAL(ft, 133485408000000000ULL);
	CU_ASSERT_STRING_EQUAL(laps_filetime_format_dec(ft, buf), "133485408000000000");
	CU_ASSERT_STRING_EQUAL(laps_filetime_format_hex(ft, hbuf), "1da3c457689c000");
	CU_ASSERT_EQUAL(laps_filetime_to_unix(133485408000000000ULL), 1704067200);
	CU_ASSERT_EQUAL(laps_filetime_to_unix(133485408009999999ULL), 1704067200); /* floor */
	CU_ASSERT_EQUAL(laps_filetime_to_unix(116444736000000000ULL), 0);
	CU_ASSERT_EQUAL(laps_filetime_to_unix(0), -11644473600LL);
	CU_ASSERT_EQUAL(laps_filetime_from_unix(-11644473600LL, &ft), 0);
	CU_ASSERT_EQUAL(ft, 0);
	CU_ASSERT_EQUAL(laps_filetime_from_unix(-11644473601LL, &ft), LAPS_ERR_INVALID);
}

static void
t_filetime_parse(void)
{
	uint64_t ft = 1;

	CU_ASSERT_EQUAL(laps_filetime_parse_dec("133485408000000000", 18, &ft), 0);
	CU_ASSERT_EQUAL(ft, 133485408000000000ULL);
	CU_ASSERT_EQUAL(laps_filetime_parse_hex("1da3c457689c000", 15, &ft), 0);
	CU_ASSERT_EQUAL(ft, 133485408000000000ULL);
	CU_ASSERT_EQUAL(laps_filetime_parse_hex("1DA3C457689C000", 15, &ft), 0);
	CU_ASSERT_EQUAL(ft, 133485408000000000ULL);
	CU_ASSERT_EQUAL(laps_filetime_parse_dec("18446744073709551615", 20, &ft), 0);
	CU_ASSERT_EQUAL(ft, UINT64_MAX);
	CU_ASSERT_EQUAL(laps_filetime_parse_dec("18446744073709551616", 20, &ft), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(laps_filetime_parse_dec("-1", 2, &ft), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(laps_filetime_parse_dec("", 0, &ft), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(laps_filetime_parse_dec("12 ", 3, &ft), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(laps_filetime_parse_hex("0x12", 4, &ft), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(laps_filetime_parse_hex("11112222333344445", 17, &ft), LAPS_ERR_FORMAT);
	/* len is honoured: trailing bytes beyond len are not read */
	CU_ASSERT_EQUAL(laps_filetime_parse_dec("123xyz", 3, &ft), 0);
	CU_ASSERT_EQUAL(ft, 123);
}

static void
t_expiration_tag(void)
{
	const char *rid = "ffffffff00000000000000000000000a";
	uint32_t tag = laps_ms_rotation_tag(rid), t2 = 0;
	uint64_t v;
	int64_t exp = 0;
	int pending = 0;

	CU_ASSERT_EQUAL(tag, 0xffffffffU % LAPS_MS_TAG_MOD);
	v = laps_ms_expiration_encode(1704067200, tag, 1);
	CU_ASSERT_EQUAL(v, 133485408000000000ULL + 2ULL * tag + 1);
	laps_ms_expiration_decode(v, &exp, &t2, &pending);
	CU_ASSERT_EQUAL(exp, 1704067200);
	CU_ASSERT_EQUAL(t2, tag);
	CU_ASSERT_EQUAL(pending, 1);
	v = laps_ms_expiration_encode(1704067200, tag, 0);
	laps_ms_expiration_decode(v, &exp, &t2, &pending);
	CU_ASSERT_EQUAL(pending, 0);
	CU_ASSERT_EQUAL(t2, tag);
	/* the sub-second part never spills into the seconds */
	CU_ASSERT(2ULL * (LAPS_MS_TAG_MOD - 1) + 1 < LAPS_FILETIME_PER_SEC);
	CU_ASSERT_NOT_EQUAL(laps_ms_rotation_tag("00000001000000000000000000000000"),
			    laps_ms_rotation_tag("00000002000000000000000000000000"));
}

static void
t_filter_expand(void)
{
	char out[256];

	CU_ASSERT_EQUAL(laps_ldap_filter_expand("(&(objectClass=computer)(cn=%h))",
						"web1.example.test", out, sizeof(out)),
			0);
	CU_ASSERT_STRING_EQUAL(out, "(&(objectClass=computer)(cn=web1))");
	CU_ASSERT_EQUAL(
	    laps_ldap_filter_expand("(dNSHostName=%f)", "web1.example.test", out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "(dNSHostName=web1.example.test)");
	/* RFC 4515 escaping of the substituted value, not of the template */
	CU_ASSERT_EQUAL(laps_ldap_filter_expand("(cn=%f)", "a*b(c)\\d", out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "(cn=a\\2ab\\28c\\29\\5cd)");
	CU_ASSERT_EQUAL(laps_ldap_filter_expand("(cn=%h)100%%", "x", out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "(cn=x)100%");
	CU_ASSERT_EQUAL(laps_ldap_filter_expand("(cn=%x)", "x", out, sizeof(out)), LAPS_ERR_CONFIG);
	CU_ASSERT_EQUAL(laps_ldap_filter_expand("(cn=%f)", "abcdefgh", out, 8), LAPS_ERR_TOOBIG);
}

static void
t_error_map(void)
{
	CU_ASSERT_EQUAL(laps_ldap_map_error(LDAP_SERVER_DOWN), LAPS_ERR_UNAVAILABLE);
	CU_ASSERT_EQUAL(laps_ldap_map_error(LDAP_CONNECT_ERROR), LAPS_ERR_UNAVAILABLE);
	CU_ASSERT_EQUAL(laps_ldap_map_error(LDAP_TIMEOUT), LAPS_ERR_TIMEOUT);
	CU_ASSERT_EQUAL(laps_ldap_map_error(LDAP_BUSY), LAPS_ERR_BUSY);
	CU_ASSERT_EQUAL(laps_ldap_map_error(LDAP_INVALID_CREDENTIALS), LAPS_ERR_AUTH);
	CU_ASSERT_EQUAL(laps_ldap_map_error(LDAP_INSUFFICIENT_ACCESS), LAPS_ERR_ACCESS);
	CU_ASSERT_EQUAL(laps_ldap_map_error(LDAP_NO_SUCH_OBJECT), LAPS_ERR_NOTFOUND);
	CU_ASSERT_EQUAL(laps_ldap_map_error(LDAP_UNDEFINED_TYPE), LAPS_ERR_SCHEMA);
	CU_ASSERT_EQUAL(laps_ldap_map_error(LDAP_OBJECT_CLASS_VIOLATION), LAPS_ERR_SCHEMA);
	CU_ASSERT_EQUAL(laps_ldap_map_error(LDAP_NO_SUCH_ATTRIBUTE), LAPS_ERR_CONFLICT);
	CU_ASSERT_EQUAL(laps_ldap_map_error(LDAP_ASSERTION_FAILED), LAPS_ERR_CONFLICT);
	CU_ASSERT(laps_err_transient(laps_ldap_map_error(LDAP_SERVER_DOWN)));
	CU_ASSERT(!laps_err_transient(laps_ldap_map_error(LDAP_INVALID_CREDENTIALS)));
}

static int
mparse(const char *json, char acct[LAPS_ACCOUNT_MAX + 1], uint64_t *ft, char **pw)
{
	return laps_ldap_mslaps_parse(json, strlen(json), acct, ft, pw);
}

static void
t_mslaps_parse(void)
{
	char acct[LAPS_ACCOUNT_MAX + 1], big[5000];
	uint64_t ft = 0;
	char *pw = NULL;

	CU_ASSERT_EQUAL_FATAL(
	    mparse("{\"n\":\"Administrator\",\"t\":\"1da3c457689c000\",\"p\":\"a\\\"b\\\\c\"}",
		   acct, &ft, &pw),
	    0);
	CU_ASSERT_STRING_EQUAL(acct, "Administrator");
	CU_ASSERT_EQUAL(ft, 133485408000000000ULL);
	CU_ASSERT_STRING_EQUAL(pw, "a\"b\\c");
	laps_secret_free(pw);
	pw = NULL;
	/* not NUL-terminated input: len is honoured */
	CU_ASSERT_EQUAL(laps_ldap_mslaps_parse("{\"n\":\"x\",\"t\":\"1\",\"p\":\"y\"}garbage", 25,
					       acct, &ft, &pw),
			0);
	laps_secret_free(pw);
	pw = NULL;
	CU_ASSERT_EQUAL(mparse("{\"n\":\"x\",\"t\":\"1\",\"p\":\"y\"}garbage", acct, &ft, &pw),
			LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(mparse("{\"n\":\"x\",\"t\":\"1\"}", acct, &ft, &pw), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(mparse("{\"n\":\"x\",\"t\":1,\"p\":\"y\"}", acct, &ft, &pw),
			LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(mparse("{\"n\":\"x\",\"t\":\"zz\",\"p\":\"y\"}", acct, &ft, &pw),
			LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(mparse("{\"n\":\"x\",\"t\":\"1\",\"p\":\"\"}", acct, &ft, &pw),
			LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(mparse("{\"n\":\"x\",\"t\":\"1\",\"p\":\"a\\u0000b\"}", acct, &ft, &pw),
			LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(mparse("{\"n\":\"x\",\"t\":\"1\",\"p\":\"y\",\"extra\":1}", acct, &ft, &pw),
			LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(mparse("[\"n\",\"t\",\"p\"]", acct, &ft, &pw), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(mparse("{\"n\":\"x\",\"t\":\"1\",\"p\":\"y\"", acct, &ft, &pw),
			LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(
	    mparse("{\"n\":\"0123456789012345678901234567890123\",\"t\":\"1\",\"p\":\"y\"}", acct,
		   &ft, &pw),
	    LAPS_ERR_FORMAT);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CU_ASSERT_EQUAL(mparse(big, acct, &ft, &pw), LAPS_ERR_TOOBIG);
	CU_ASSERT_PTR_NULL(pw);
}

/* Every log line while a test runs (laps_log_set_sink). */
static char log_lines[8192];

static void
capture_sink(void *ctx, int level, const char *msg)
{
	size_t n = strlen(log_lines);

	(void)ctx;
	(void)level;
	(void)snprintf(log_lines + n, sizeof(log_lines) - n, "%s\n", msg);
}

/*
 * Long passwords with escapes (json-c's tokenizer buffer would have to
 * grow for them), and no password in any error detail or log line when the
 * value is malformed around it.
 */
static void
t_mslaps_parse_secret_hygiene(void)
{
	/* the secret goes between pre and post */
	static const struct {
		const char *pre, *post;
	} bad[] = {
	    {"{\"n\":\"x\",\"t\":\"zz\",\"p\":\"", "\"}"},	  /* bad FILETIME */
	    {"{\"n\":\"x\",\"t\":\"1\",\"p\":\"", "\",\"q\":1}"}, /* extra member */
	    {"{\"n\":\"x\",\"t\":\"1\",\"p\":\"", "\""},	  /* truncated */
	    {"{\"n\":\"x\",\"t\":\"1\",\"p\":[\"", "\"]}"},	  /* p not a string */
	    {"{\"n\":\"", "\",\"t\":\"zz\",\"p\":\"y\"}"},	  /* secret as account */
	    {"{\"n\":\"x\",\"t\":\"1\",\"p\":\"", "\"}trailing"}, /* trailing data */
	};
	char acct[LAPS_ACCOUNT_MAX + 1], json[2048], pwesc[1024], want[LAPS_PASSWORD_MAX + 1];
	const char *secret = "S3cr3t-Hyg1ene-Marker";
	uint64_t ft = 0;
	char *pw = NULL;
	size_t i, o = 0;

	/* 200 characters, every tenth one escaped */
	for (i = 0; i < 200; i++) {
		char ch = (char)('A' + (int)(i % 26));

		if (i % 10 == 0) {
			pwesc[o++] = '\\';
			pwesc[o++] = '"';
			want[i] = '"';
		} else {
			pwesc[o++] = ch;
			want[i] = ch;
		}
	}
	pwesc[o] = '\0';
	want[200] = '\0';
	(void)snprintf(json, sizeof(json),
		       "{\"n\":\"Administrator\",\"t\":\"1da3c457689c000\",\"p\":\"%s\"}", pwesc);
	CU_ASSERT_EQUAL_FATAL(mparse(json, acct, &ft, &pw), 0);
	CU_ASSERT_STRING_EQUAL(pw, want);
	laps_secret_free(pw);
	pw = NULL;
	/* longer than LAPS_PASSWORD_MAX: refused */
	memset(pwesc, 'x', 300);
	pwesc[300] = '\0';
	(void)snprintf(json, sizeof(json), "{\"n\":\"a\",\"t\":\"1\",\"p\":\"%s\"}", pwesc);
	CU_ASSERT_EQUAL(mparse(json, acct, &ft, &pw), LAPS_ERR_FORMAT);
	CU_ASSERT_PTR_NULL(pw);

	/* control characters (a terminal escape sequence) are refused */
	CU_ASSERT_EQUAL(mparse("{\"n\":\"a\",\"t\":\"1\",\"p\":\"x\\u001b[2Jy\"}", acct, &ft, &pw),
			LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(mparse("{\"n\":\"a\",\"t\":\"1\",\"p\":\"x\\ny\"}", acct, &ft, &pw),
			LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(mparse("{\"n\":\"a\",\"t\":\"1\",\"p\":\"x\x7fy\"}", acct, &ft, &pw),
			LAPS_ERR_FORMAT);
	CU_ASSERT_PTR_NULL(pw);
	CU_ASSERT_EQUAL(
	    mparse("{\"n\":\"a\",\"t\":\"1\",\"p\":\"caf\xc3\xa9 ok\"}", acct, &ft, &pw), 0);
	CU_ASSERT_STRING_EQUAL(pw, "caf\xc3\xa9 ok");
	laps_secret_free(pw);
	pw = NULL;

	log_lines[0] = '\0';
	laps_log_set_sink(capture_sink, NULL);
	laps_log_set_level(LAPS_LOG_DEBUG);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		(void)snprintf(json, sizeof(json), "%s%s%s", bad[i].pre, secret, bad[i].post);
		laps_clearerr();
		CU_ASSERT_EQUAL(mparse(json, acct, &ft, &pw), LAPS_ERR_FORMAT);
		CU_ASSERT_PTR_NULL(pw);
		CU_ASSERT_PTR_NULL(strstr(laps_errdetail(), secret));
		CU_ASSERT_PTR_NULL(strstr(laps_errdetail(), "Hyg1ene"));
	}
	laps_log_set_sink(NULL, NULL);
	laps_log_set_level(LAPS_LOG_NOTICE);
	CU_ASSERT_PTR_NULL(strstr(log_lines, "Hyg1ene"));
}

/* One history value: rotated_at t, rotation id of character ch, index idx. */
static struct laps_ldap_histval
hv(size_t idx, int64_t t, char ch)
{
	struct laps_ldap_histval v;

	memset(&v, 0, sizeof(v));
	v.idx = idx;
	v.rotated_at = t;
	memset(v.rotation_id, ch, LAPS_ROTID_HEX);
	v.keep = idx % 2 == 0; /* garbage the plan must overwrite */
	return v;
}

static bool
kept(const struct laps_ldap_histval *v, size_t n, size_t idx)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].idx == idx)
			return v[i].keep;
	CU_FAIL("index not in the plan");
	return false;
}

static void
t_history_plan(void)
{
	struct laps_ldap_histval v[8];
	size_t i;

	/* server order 100,500,200,400,300 + the pushed record at 600: the
	 * newest three by rotated_at survive, whatever the server order */
	v[0] = hv(0, 100, 'a'), v[1] = hv(1, 500, 'b'), v[2] = hv(2, 200, 'c');
	v[3] = hv(3, 400, 'd'), v[4] = hv(4, 300, 'e');
	v[5] = hv(LAPS_LDAP_HIST_PUSHED, 600, 'f');
	laps_ldap_history_plan(v, 6, 3);
	for (i = 1; i < 6; i++)
		CU_ASSERT(v[i - 1].rotated_at <= v[i].rotated_at); /* oldest first */
	CU_ASSERT(kept(v, 6, LAPS_LDAP_HIST_PUSHED));
	CU_ASSERT(kept(v, 6, 1));
	CU_ASSERT(kept(v, 6, 3));
	CU_ASSERT(!kept(v, 6, 0));
	CU_ASSERT(!kept(v, 6, 2));
	CU_ASSERT(!kept(v, 6, 4));

	/* a pushed record older than all kept ones is dropped */
	v[0] = hv(0, 500, 'a'), v[1] = hv(1, 600, 'b'), v[2] = hv(LAPS_LDAP_HIST_PUSHED, 50, 'c');
	laps_ldap_history_plan(v, 3, 2);
	CU_ASSERT(!kept(v, 3, LAPS_LDAP_HIST_PUSHED));
	CU_ASSERT(kept(v, 3, 0));
	CU_ASSERT(kept(v, 3, 1));

	/* equal times: the rotation id decides, deterministically */
	v[0] = hv(0, 700, 'b'), v[1] = hv(1, 700, 'a'), v[2] = hv(2, 700, 'c');
	laps_ldap_history_plan(v, 3, 1);
	CU_ASSERT(kept(v, 3, 2));
	CU_ASSERT(!kept(v, 3, 0));
	CU_ASSERT(!kept(v, 3, 1));

	/* keep = 0 drops everything; keep > n keeps everything */
	v[0] = hv(0, 1, 'a'), v[1] = hv(LAPS_LDAP_HIST_PUSHED, 2, 'b');
	laps_ldap_history_plan(v, 2, 0);
	CU_ASSERT(!v[0].keep && !v[1].keep);
	laps_ldap_history_plan(v, 2, 10);
	CU_ASSERT(v[0].keep && v[1].keep);
	laps_ldap_history_plan(v, 0, 3); /* nothing to plan */

	/* seq decides before rotated_at (a clock stepped back): keep seq 3, 2 */
	v[0] = hv(0, 900, 'a'), v[1] = hv(1, 800, 'b'), v[2] = hv(LAPS_LDAP_HIST_PUSHED, 700, 'c');
	v[0].seq = 1, v[1].seq = 2, v[2].seq = 3;
	laps_ldap_history_plan(v, 3, 2);
	CU_ASSERT(kept(v, 3, LAPS_LDAP_HIST_PUSHED));
	CU_ASSERT(kept(v, 3, 1));
	CU_ASSERT(!kept(v, 3, 0));
	/* any record with a seq is newer than every version 1 record (seq 0) */
	v[0] = hv(0, 5000, 'a'), v[1] = hv(1, 10, 'b'), v[2] = hv(2, 4000, 'c');
	v[1].seq = 1;
	laps_ldap_history_plan(v, 3, 1);
	CU_ASSERT(kept(v, 3, 1));
	CU_ASSERT(!kept(v, 3, 0));
	CU_ASSERT(!kept(v, 3, 2));
}

static CU_TestInfo unit_tests[] = {
    {"FILETIME known values", t_filetime_known},
    {"FILETIME parsing", t_filetime_parse},
    {"expiration tag and pending bit", t_expiration_tag},
    {"filter templates and RFC 4515 escaping", t_filter_expand},
    {"LDAP error mapping", t_error_map},
    {"msLAPS-Password parsing", t_mslaps_parse},
    {"msLAPS-Password: long escaped values, no secret in errors", t_mslaps_parse_secret_hygiene},
    {"history trimming plan", t_history_plan},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"ldap_unit", NULL, NULL, NULL, NULL, unit_tests},
    CU_SUITE_INFO_NULL,
};

int
main(int argc, char **argv)
{
	if (laps_crypto_init() != 0)
		return 99;
	return laps_test_main(argc, argv, suites);
}
