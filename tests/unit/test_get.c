/*
 * test_get.c — laps-get's testable parts: --expire WHEN and ISO 8601
 * parsing, the Microsoft Graph response parsers and password decoding, the
 * OData filter, and the JSON output (with a pending record and history).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <json-c/json.h>
#include <sodium.h>

#include "escrow/err.h"
#include "escrow/keys.h"
#include "escrow/log.h"
#include "escrow/secret.h"
#include "backends/graph_backend.h"
#include "laps-get/lapsget.h"
#include "tests/unit/testutil.h"

/* ---------------- times ---------------- */

static void
test_when_now_and_durations(void)
{
	int64_t t = 0;

	CU_ASSERT_EQUAL(lg_parse_when("now", 1000, &t), 0);
	CU_ASSERT_EQUAL(t, 1000);
	CU_ASSERT_EQUAL(lg_parse_when("+2h", 1000, &t), 0);
	CU_ASSERT_EQUAL(t, 1000 + 7200);
	CU_ASSERT_EQUAL(lg_parse_when("+30m", 0, &t), 0);
	CU_ASSERT_EQUAL(t, 1800);
	CU_ASSERT_EQUAL(lg_parse_when("+7d", 0, &t), 0);
	CU_ASSERT_EQUAL(t, 7 * 86400);
	CU_ASSERT_EQUAL(lg_parse_when("+", 0, &t), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(lg_parse_when("+2x", 0, &t), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(lg_parse_when("+-5h", 0, &t), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(lg_parse_when("tomorrow", 0, &t), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(lg_parse_when("", 0, &t), LAPS_ERR_INVALID);
}

static void
test_when_iso(void)
{
	int64_t t = 0;

	CU_ASSERT_EQUAL(lg_parse_when("2026-01-31T12:00:00Z", 0, &t), 0);
	CU_ASSERT_EQUAL(t, 1769860800);
	CU_ASSERT_EQUAL(lg_parse_when("2026-01-31", 0, &t), 0);
	CU_ASSERT_EQUAL(t, 1769817600);
	CU_ASSERT_EQUAL(lg_parse_when("2026-01-31T13:00:00+01:00", 0, &t), 0);
	CU_ASSERT_EQUAL(t, 1769860800);
	CU_ASSERT_EQUAL(lg_parse_when("2026-01-31T11:30-0030", 0, &t), 0);
	CU_ASSERT_EQUAL(t, 1769860800);
	CU_ASSERT_EQUAL(lg_parse_when("2024-02-29T00:00:00Z", 0, &t), 0);
	/* no zone, bad dates, trailing junk */
	CU_ASSERT_EQUAL(lg_parse_when("2026-01-31T12:00:00", 0, &t), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(lg_parse_when("2025-02-29", 0, &t), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(lg_parse_when("2026-13-01", 0, &t), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(lg_parse_when("2026-01-31T24:00:00Z", 0, &t), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(lg_parse_when("2026-01-31T12:00:00Zx", 0, &t), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(lg_parse_when("2026-1-31", 0, &t), LAPS_ERR_INVALID);
	/* server timestamps: fractions, and a time is required */
	CU_ASSERT_EQUAL(lg_parse_iso8601("2023-04-07T21:16:06.1234567Z", &t), 0);
	CU_ASSERT_EQUAL(t, 1680902166);
	CU_ASSERT_EQUAL(lg_parse_iso8601("2023-04-07", &t), LAPS_ERR_INVALID);
}

static void
test_format_time(void)
{
	char buf[32];

	CU_ASSERT_STRING_EQUAL(lg_format_time(1769860800, buf, sizeof buf), "2026-01-31T12:00:00Z");
	CU_ASSERT_STRING_EQUAL(lg_format_time(0, buf, sizeof buf), "1970-01-01T00:00:00Z");
}

/* ---------------- Graph ---------------- */

static void
test_graph_decode(void)
{
	char *pw = NULL;

	/* "Secret-1" UTF-8 */
	CU_ASSERT_EQUAL(laps_graph_decode_password("U2VjcmV0LTE=", &pw), 0);
	CU_ASSERT_STRING_EQUAL(pw, "Secret-1");
	laps_secret_free(pw);
	pw = NULL;
	/* "Ab1!" UTF-16LE */
	CU_ASSERT_EQUAL(laps_graph_decode_password("QQBiADEAIQA=", &pw), 0);
	CU_ASSERT_STRING_EQUAL(pw, "Ab1!");
	laps_secret_free(pw);
	pw = NULL;
	/* "é" (U+00E9) in UTF-16LE becomes UTF-8 c3 a9 */
	CU_ASSERT_EQUAL(laps_graph_decode_password("6QA=", &pw), 0);
	CU_ASSERT_STRING_EQUAL(pw, "\xc3\xa9");
	laps_secret_free(pw);
	pw = NULL;
	/* UTF-8 "pässwörd" stays as is */
	CU_ASSERT_EQUAL(laps_graph_decode_password("cMOkc3N3w7ZyZA==", &pw), 0);
	CU_ASSERT_EQUAL(strcmp(pw, "p\xc3\xa4ssw\xc3\xb6rd"), 0);
	laps_secret_free(pw);
	pw = NULL;
	/* not base64, empty, invalid UTF-8 (ff fe 41), NUL inside (41 00 42) */
	CU_ASSERT_EQUAL(laps_graph_decode_password("not base64!", &pw), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(laps_graph_decode_password("", &pw), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(laps_graph_decode_password("//5B", &pw), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(laps_graph_decode_password("QQBC", &pw), LAPS_ERR_FORMAT);
	CU_ASSERT_PTR_NULL(pw);
}

static void
test_graph_filter(void)
{
	char buf[1024];

	CU_ASSERT_EQUAL(laps_graph_filter_query("PC-1", buf, sizeof buf), 0);
	CU_ASSERT_STRING_EQUAL(buf, "deviceName%20eq%20%27PC-1%27");
	/* a quote is doubled (OData) and then percent-encoded; & cannot escape */
	CU_ASSERT_EQUAL(laps_graph_filter_query("o'b&x=1", buf, sizeof buf), 0);
	CU_ASSERT_STRING_EQUAL(buf, "deviceName%20eq%20%27o%27%27b%26x%3D1%27");
	CU_ASSERT_EQUAL(laps_graph_filter_query("a\nb", buf, sizeof buf), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(laps_graph_filter_query("PC-1", buf, 10), LAPS_ERR_TOOBIG);
}

static void
test_graph_lookup(void)
{
	char id[64], name[64];
	const char *one = "{\"value\":[{\"id\":\"b465e4e8-e4e8-b465-e8e4-65b4e8e465b4\","
			  "\"deviceName\":\"PC-1\"}]}";
	const char *two = "{\"value\":[{\"id\":\"1\",\"deviceName\":\"PC-1\"},"
			  "{\"id\":\"2\",\"deviceName\":\"pc-1\"}]}";

	CU_ASSERT_EQUAL(laps_graph_parse_lookup(one, strlen(one), id, sizeof id, name, sizeof name),
			0);
	CU_ASSERT_STRING_EQUAL(id, "b465e4e8-e4e8-b465-e8e4-65b4e8e465b4");
	CU_ASSERT_STRING_EQUAL(name, "PC-1");
	CU_ASSERT_EQUAL(
	    laps_graph_parse_lookup("{\"value\":[]}", 12, id, sizeof id, name, sizeof name),
	    LAPS_ERR_NOTFOUND);
	CU_ASSERT_EQUAL(laps_graph_parse_lookup(two, strlen(two), id, sizeof id, name, sizeof name),
			LAPS_ERR_AMBIGUOUS);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "pc-1 (2)"));
	/* malformed: not JSON, wrong types, id with URL characters, trailing data */
	CU_ASSERT_EQUAL(laps_graph_parse_lookup("{\"value\":[", 10, id, sizeof id, name, sizeof name),
			LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(
	    laps_graph_parse_lookup("{\"value\":{}}", 12, id, sizeof id, name, sizeof name),
	    LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(laps_graph_parse_lookup("{\"value\":[{\"id\":5,\"deviceName\":\"x\"}]}", 37,
					      id, sizeof id, name, sizeof name),
			LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(
	    laps_graph_parse_lookup("{\"value\":[{\"id\":\"../x\",\"deviceName\":\"x\"}]}", 42, id,
				  sizeof id, name, sizeof name),
	    LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(
	    laps_graph_parse_lookup("{\"value\":[]} x", 14, id, sizeof id, name, sizeof name),
	    LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(laps_graph_parse_lookup("[]", 2, id, sizeof id, name, sizeof name),
			LAPS_ERR_FORMAT);
}

#define CRED(acct, when, b64)                                                                      \
	"{\"accountName\":\"" acct "\",\"accountSid\":\"S-1-5-21\",\"backupDateTime\":\"" when     \
	"\",\"passwordBase64\":\"" b64 "\"}"

static void
test_graph_credentials(void)
{
	struct laps_record_list l = {NULL, 0};
	/* unordered on purpose: the newest must come first */
	const char *wrapped =
	    "{\"value\":{\"id\":\"1\",\"deviceName\":\"PC-1\","
	    "\"refreshDateTime\":\"2026-02-01T00:00:00Z\",\"credentials\":[" CRED(
		"Administrator", "2026-01-01T00:00:00Z",
		"b2xkLTE=") "," CRED("Administrator", "2026-01-15T00:00:00.5Z",
				     "U2VjcmV0LTE=") "," CRED("Other", "2026-01-20T00:00:00Z",
							      "b3RoZXI=") "]}}";
	const char *flat = "{\"id\":\"1\",\"credentials\":[" CRED(
	    "Administrator", "2026-01-15T00:00:00Z", "U2VjcmV0LTE=") "]}";

	CU_ASSERT_EQUAL_FATAL(
	    laps_graph_parse_credentials(wrapped, strlen(wrapped), "administrator", &l), 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 2);
	CU_ASSERT_STRING_EQUAL(l.v[0].password, "Secret-1");
	CU_ASSERT_STRING_EQUAL(l.v[0].device, "PC-1");
	CU_ASSERT_STRING_EQUAL(l.v[0].account, "Administrator");
	CU_ASSERT_EQUAL(l.v[0].rotated_at, 1768435200);
	CU_ASSERT_EQUAL(l.v[0].expires_at, 1769904000);
	CU_ASSERT_EQUAL(l.v[0].state, LAPS_STATE_CONFIRMED);
	CU_ASSERT_PTR_NULL(l.v[0].envelope);
	CU_ASSERT_STRING_EQUAL(l.v[1].password, "old-1");
	CU_ASSERT_EQUAL(l.v[1].expires_at, 1768435200); /* replaced by the newer one */
	laps_record_list_free(&l);

	/* no account filter: the newest of all */
	CU_ASSERT_EQUAL(laps_graph_parse_credentials(wrapped, strlen(wrapped), NULL, &l), 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 3);
	CU_ASSERT_STRING_EQUAL(l.v[0].password, "other");
	laps_record_list_free(&l);

	CU_ASSERT_EQUAL(laps_graph_parse_credentials(flat, strlen(flat), NULL, &l), 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 1);
	CU_ASSERT_STRING_EQUAL(l.v[0].password, "Secret-1");
	CU_ASSERT_STRING_EQUAL(l.v[0].device, ""); /* filled by the backend from the lookup */
	CU_ASSERT_EQUAL(l.v[0].expires_at, 0);
	laps_record_list_free(&l);

	CU_ASSERT_EQUAL(laps_graph_parse_credentials(flat, strlen(flat), "nobody", &l),
			LAPS_ERR_NOTFOUND);
	CU_ASSERT_EQUAL(l.n, 0);

	/* an older password that does not decode stays in the list without
	 * its password (laps-get reports it in that history entry) */
	{
		const char *oldbad = "{\"credentials\":[" CRED(
		    "A", "2026-01-01T00:00:00Z", "%%%") "," CRED("A", "2026-01-15T00:00:00Z",
								 "U2VjcmV0LTE=") "]}";

		CU_ASSERT_EQUAL(laps_graph_parse_credentials(oldbad, strlen(oldbad), NULL, &l), 0);
		CU_ASSERT_EQUAL_FATAL(l.n, 2);
		CU_ASSERT_STRING_EQUAL(l.v[0].password, "Secret-1");
		CU_ASSERT_PTR_NULL(l.v[1].password);
		laps_record_list_free(&l);
	}
}

static void
test_graph_credentials_malformed(void)
{
	static const char *bad[] = {
	    "{}",
	    "{\"credentials\":{}}",
	    "{\"value\":[],\"credentials\":[]}",
	    "{\"credentials\":[5]}",
	    "{\"credentials\":[{\"accountName\":\"a\",\"backupDateTime\":\"x\","
	    "\"passwordBase64\":\"QQ==\"}]}",
	    "{\"credentials\":[{\"accountName\":1,\"backupDateTime\":\"2026-01-01T00:00:00Z\","
	    "\"passwordBase64\":\"QQ==\"}]}",
	    "{\"credentials\":[{\"accountName\":\"a\",\"backupDateTime\":\"2026-01-01T00:00:00Z\"}]"
	    "}",
	    "{\"credentials\":[{\"accountName\":\"a\",\"backupDateTime\":\"2026-01-01T00:00:00Z\","
	    "\"passwordBase64\":\"%%%\"}]}",
	    "{\"deviceName\":[],\"credentials\":[]}",
	    "{\"credentials\":[",
	    "null",
	    "",
	};
	struct laps_record_list l = {NULL, 0};
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = laps_graph_parse_credentials(bad[i], strlen(bad[i]), NULL, &l);

		if (rc != LAPS_ERR_FORMAT)
			fprintf(stderr, "case %zu: rc %d\n", i, rc);
		CU_ASSERT_EQUAL(rc, LAPS_ERR_FORMAT);
		CU_ASSERT_EQUAL(l.n, 0);
		laps_record_list_free(&l);
	}
}

/* ---------------- JSON output ---------------- */

static void
set_entry(struct lg_entry *e, const char *pw, int64_t rotated, bool pending)
{
	memset(e, 0, sizeof *e);
	snprintf(e->host, sizeof e->host, "web1");
	snprintf(e->account, sizeof e->account, "lapsadmin");
	snprintf(e->source, sizeof e->source, "file");
	snprintf(e->key_id, sizeof e->key_id, "0123456789abcdef");
	e->password = pw ? laps_secret_strdup(pw) : NULL;
	e->rotated = rotated;
	e->expires = rotated + 86400;
	e->pending = pending;
}

static const char *
jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static void
test_json_output(void)
{
	struct lg_result r;
	struct json_object *root, *prev, *hist, *h1, *v;
	char *s = NULL;

	lg_result_init(&r);
	set_entry(&r.cur, "new\"pw\\1", 1769860800, true);
	r.has_prev = true;
	set_entry(&r.prev, "old-pw", 1769000000, false);
	r.want_history = true;
	r.n_hist = 2;
	r.hist = calloc(2, sizeof *r.hist);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.hist);
	set_entry(&r.hist[0], "old-pw", 1769000000, false);
	set_entry(&r.hist[1], NULL, 1768000000, false);
	snprintf(r.hist[1].error, sizeof r.hist[1].error, "this key is not a recipient");

	CU_ASSERT_EQUAL_FATAL(lg_json_string(&r, &s), 0);
	root = json_tokener_parse(s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	CU_ASSERT_STRING_EQUAL(jstr(root, "password"), "new\"pw\\1");
	CU_ASSERT_STRING_EQUAL(jstr(root, "state"), "pending");
	CU_ASSERT_STRING_EQUAL(jstr(root, "rotated"), "2026-01-31T12:00:00Z");
	CU_ASSERT_STRING_EQUAL(jstr(root, "expires"), "2026-02-01T12:00:00Z");
	CU_ASSERT_STRING_EQUAL(jstr(root, "host"), "web1");
	CU_ASSERT_STRING_EQUAL(jstr(root, "account"), "lapsadmin");
	CU_ASSERT_STRING_EQUAL(jstr(root, "source"), "file");
	CU_ASSERT_STRING_EQUAL(jstr(root, "key_id"), "0123456789abcdef");
	CU_ASSERT_TRUE(json_object_object_get_ex(root, "previous", &prev));
	CU_ASSERT_STRING_EQUAL(jstr(prev, "password"), "old-pw");
	CU_ASSERT_STRING_EQUAL(jstr(prev, "state"), "confirmed");
	CU_ASSERT_TRUE_FATAL(json_object_object_get_ex(root, "history", &hist));
	CU_ASSERT_EQUAL_FATAL(json_object_array_length(hist), 2);
	h1 = json_object_array_get_idx(hist, 1);
	CU_ASSERT_TRUE(json_object_object_get_ex(h1, "password", &v));
	CU_ASSERT_PTR_NULL(v); /* JSON null */
	CU_ASSERT_STRING_EQUAL(jstr(h1, "error"), "this key is not a recipient");
	json_object_put(root);
	laps_freezero(s, strlen(s) + 1);
	s = NULL;

	/* confirmed, clear text (no key id), no history requested */
	lg_result_clear(&r);
	set_entry(&r.cur, "pw", 1769860800, false);
	r.cur.key_id[0] = '\0';
	CU_ASSERT_EQUAL_FATAL(lg_json_string(&r, &s), 0);
	root = json_tokener_parse(s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	CU_ASSERT_FALSE(json_object_object_get_ex(root, "previous", &v));
	CU_ASSERT_FALSE(json_object_object_get_ex(root, "history", &v));
	CU_ASSERT_TRUE(json_object_object_get_ex(root, "key_id", &v));
	CU_ASSERT_PTR_NULL(v);
	json_object_put(root);
	laps_freezero(s, strlen(s) + 1);
	lg_result_clear(&r);
}

/*
 * Passwords reach the JSON text only through laps-get's own escaping (never
 * through json-c's realloc'ed serialisation buffer): every byte value a
 * password may hold, the longest password, a password that looks like the
 * internal placeholder, and a full history must round-trip exactly.
 */
static void
test_json_output_secrets(void)
{
	struct lg_result r;
	struct json_object *root, *hist, *prev, *h;
	char *s = NULL, tricky[64], longest[LAPS_PASSWORD_MAX + 1], pw[64];
	size_t i;

	(void)snprintf(tricky, sizeof tricky, "%s",
		       "\x01\b\f\t\n\r\"\\/\x7f caf\xc3\xa9 \xe2\x82\xac!");
	memset(longest, 'Z', LAPS_PASSWORD_MAX);
	longest[LAPS_PASSWORD_MAX] = '\0';
	lg_result_init(&r);
	set_entry(&r.cur, tricky, 1769860800, true);
	r.has_prev = true;
	set_entry(&r.prev, longest, 1769000000, false);
	r.want_history = true;
	r.n_hist = LG_HISTORY_MAX;
	r.hist = calloc(r.n_hist, sizeof *r.hist);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.hist);
	for (i = 0; i < r.n_hist; i++) {
		if (i == 7)
			(void)snprintf(pw, sizeof pw, "0123456789abcdef0123456789abcdef-000");
		else
			(void)snprintf(pw, sizeof pw, "hist-%03zu-\"q\"", i);
		set_entry(&r.hist[i], i == 3 ? NULL : pw, 1768000000 - (int64_t)i, false);
	}
	(void)snprintf(r.hist[3].error, sizeof r.hist[3].error,
		       "error with \"quotes\" \\ and -000\"");

	CU_ASSERT_EQUAL_FATAL(lg_json_string(&r, &s), 0);
	root = json_tokener_parse(s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	CU_ASSERT_STRING_EQUAL(jstr(root, "password"), tricky);
	CU_ASSERT_TRUE_FATAL(json_object_object_get_ex(root, "previous", &prev));
	CU_ASSERT_STRING_EQUAL(jstr(prev, "password"), longest);
	CU_ASSERT_TRUE_FATAL(json_object_object_get_ex(root, "history", &hist));
	CU_ASSERT_EQUAL_FATAL(json_object_array_length(hist), LG_HISTORY_MAX);
	for (i = 0; i < LG_HISTORY_MAX; i++) {
		h = json_object_array_get_idx(hist, i);
		if (i == 3) {
			CU_ASSERT_PTR_NULL(jstr(h, "password"));
			CU_ASSERT_STRING_EQUAL(jstr(h, "error"),
					       "error with \"quotes\" \\ and -000\"");
			continue;
		}
		CU_ASSERT_STRING_EQUAL(jstr(h, "password"), r.hist[i].password);
	}
	json_object_put(root);
	laps_freezero(s, strlen(s) + 1);
	lg_result_clear(&r);
}

/* Every log line of a test (laps_log_set_sink). */
static char get_log[16384];

static void
get_log_sink(void *ctx, int level, const char *msg)
{
	size_t n = strlen(get_log);

	(void)ctx;
	(void)level;
	(void)snprintf(get_log + n, sizeof get_log - n, "%s\n", msg);
}

/* Graph responses: long passwords decode (the tokenizer buffer is sized up
 * front), and a password or token never shows in an error text or log. */
static void
test_graph_secret_hygiene(void)
{
	char pw[201], b64[400], json[2048], bad[64];
	struct laps_record_list l = {NULL, 0};
	size_t i;
	int rc;

	for (i = 0; i < 200; i++)
		pw[i] = (char)('a' + (int)(i % 26));
	memcpy(pw, "Hyg1ene", 7);
	pw[200] = '\0';
	sodium_bin2base64(b64, sizeof b64, (const unsigned char *)pw, 200,
			  sodium_base64_VARIANT_ORIGINAL);
	(void)snprintf(json, sizeof json,
		       "{\"credentials\":[{\"accountName\":\"Administrator\","
		       "\"backupDateTime\":\"2026-01-01T00:00:00Z\",\"passwordBase64\":\"%s\"}]}",
		       b64);
	get_log[0] = '\0';
	laps_log_set_sink(get_log_sink, NULL);
	laps_log_set_level(LAPS_LOG_DEBUG);
	CU_ASSERT_EQUAL_FATAL(laps_graph_parse_credentials(json, strlen(json), NULL, &l), 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 1);
	CU_ASSERT_STRING_EQUAL(l.v[0].password, pw);
	laps_record_list_free(&l);

	/* a decoded password with a control character: refused, not echoed */
	sodium_bin2base64(bad, sizeof bad, (const unsigned char *)"Hyg1ene\x01x", 9,
			  sodium_base64_VARIANT_ORIGINAL);
	(void)snprintf(json, sizeof json,
		       "{\"credentials\":[{\"accountName\":\"Administrator\","
		       "\"backupDateTime\":\"2026-01-01T00:00:00Z\",\"passwordBase64\":\"%s\"}]}",
		       bad);
	laps_clearerr();
	rc = laps_graph_parse_credentials(json, strlen(json), NULL, &l);
	CU_ASSERT_EQUAL(rc, LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(l.n, 0);
	CU_ASSERT_PTR_NULL(strstr(laps_errdetail(), "Hyg1ene"));
	CU_ASSERT_PTR_NULL(strstr(laps_errdetail(), bad));
	laps_record_list_free(&l);

	/* malformed JSON right after the password: no trace in the error */
	(void)snprintf(json, sizeof json,
		       "{\"credentials\":[{\"accountName\":\"Administrator\","
		       "\"backupDateTime\":\"2026-01-01T00:00:00Z\",\"passwordBase64\":\"%s\"]}",
		       b64);
	laps_clearerr();
	CU_ASSERT_EQUAL(laps_graph_parse_credentials(json, strlen(json), NULL, &l),
			LAPS_ERR_FORMAT);
	CU_ASSERT_PTR_NULL(strstr(laps_errdetail(), b64));
	laps_record_list_free(&l);
	laps_log_set_sink(NULL, NULL);
	laps_log_set_level(LAPS_LOG_NOTICE);
	CU_ASSERT_PTR_NULL(strstr(get_log, "Hyg1ene"));
	CU_ASSERT_PTR_NULL(strstr(get_log, b64));
}

/* ---------------- report status ---------------- */

static struct laps_report_row
row(bool has, enum laps_record_state st, int64_t rotated, int64_t expires)
{
	struct laps_report_row r;

	memset(&r, 0, sizeof r);
	snprintf(r.device, sizeof r.device, "web1");
	if (has)
		snprintf(r.account, sizeof r.account, "lapsadmin");
	r.has_record = has;
	r.state = st;
	r.rotated_at = rotated;
	r.expires_at = expires;
	return r;
}

static void
test_report_status(void)
{
	const int64_t now = 1800000000, g = 86400;
	struct laps_report_row r;
	unsigned m;

	r = row(false, LAPS_STATE_CONFIRMED, 0, 0);
	CU_ASSERT_EQUAL(lg_report_status(&r, now, g), LG_STATUS_NEVER);
	r = row(true, LAPS_STATE_CONFIRMED, now - 100, now + 1);
	CU_ASSERT_EQUAL(lg_report_status(&r, now, g), LG_STATUS_OK);
	r = row(true, LAPS_STATE_CONFIRMED, now - 100, 0); /* no expiry */
	CU_ASSERT_EQUAL(lg_report_status(&r, now, g), LG_STATUS_OK);
	r = row(true, LAPS_STATE_CONFIRMED, now - 100, now); /* expires now: due */
	CU_ASSERT_EQUAL(lg_report_status(&r, now, g), LG_STATUS_DUE);
	r = row(true, LAPS_STATE_CONFIRMED, now - 100, now - g); /* exactly the grace */
	CU_ASSERT_EQUAL(lg_report_status(&r, now, g), LG_STATUS_DUE);
	r = row(true, LAPS_STATE_CONFIRMED, now - 100, now - g - 1);
	CU_ASSERT_EQUAL(lg_report_status(&r, now, g), LG_STATUS_OVERDUE);
	CU_ASSERT_EQUAL(lg_report_status(&r, now, 10 * g), LG_STATUS_DUE); /* --grace */
	r = row(true, LAPS_STATE_PENDING, now - g, now + 5); /* rotating: not a problem yet */
	CU_ASSERT_EQUAL(lg_report_status(&r, now, g), LG_STATUS_OK);
	r = row(true, LAPS_STATE_PENDING, now - g - 1, now + 5);
	CU_ASSERT_EQUAL(lg_report_status(&r, now, g), LG_STATUS_STUCK);
	r = row(true, LAPS_STATE_PENDING, now - g - 1, now - 3 * g); /* stuck wins over overdue */
	CU_ASSERT_EQUAL(lg_report_status(&r, now, g), LG_STATUS_STUCK);

	CU_ASSERT_EQUAL(lg_status_parse_list("overdue,stuck", &m), 0);
	CU_ASSERT_EQUAL(m, (1u << LG_STATUS_OVERDUE) | (1u << LG_STATUS_STUCK));
	CU_ASSERT_EQUAL(lg_status_parse_list("never", &m), 0);
	CU_ASSERT_EQUAL(m, 1u << LG_STATUS_NEVER);
	CU_ASSERT_EQUAL(lg_status_parse_list("ok,late", &m), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(lg_status_parse_list("", &m), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(lg_status_parse_list("ok,", &m), LAPS_ERR_INVALID);
	CU_ASSERT_STRING_EQUAL(lg_status_name(LG_STATUS_OVERDUE), "overdue");
}

/* ---------------- opening records ---------------- */

static void
mkrec(struct laps_record *r, const char *device)
{
	laps_record_init(r);
	snprintf(r->device, sizeof r->device, "%s", device);
	snprintf(r->account, sizeof r->account, "lapsadmin");
	r->uid = 1000;
	laps_record_new_rotation_id(r->rotation_id);
	r->rotated_at = 1769860800;
	r->expires_at = 1769860800 + 86400;
	r->state = LAPS_STATE_CONFIRMED;
}

static void
test_open_record(void)
{
	struct laps_privkey a, b;
	struct laps_pubkey pa;
	struct laps_record r;
	struct laps_seal_ad ad;
	struct lg_keysrc ks;
	struct lg_entry e;
	char path_a[4096], path_b[4096];
	const char *dir = laps_test_tmpdir();

	memset(&e, 0, sizeof e);
	CU_ASSERT_EQUAL_FATAL(laps_key_generate(&a, "a"), 0);
	CU_ASSERT_EQUAL_FATAL(laps_key_generate(&b, "b"), 0);
	laps_pubkey_from_privkey(&pa, &a);
	snprintf(path_a, sizeof path_a, "%s/a.key", dir);
	snprintf(path_b, sizeof path_b, "%s/b.key", dir);
	CU_ASSERT_EQUAL_FATAL(laps_privkey_save(&a, path_a, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(laps_privkey_save(&b, path_b, NULL), 0);

	/* sealed to a: a opens it, b is named as not a recipient */
	mkrec(&r, "web1");
	laps_seal_ad_from_record(&ad, &r);
	CU_ASSERT_EQUAL_FATAL(laps_seal(&pa, 1, &ad, "s3cret", 6, &r.envelope, &r.envelope_len), 0);
	memcpy(r.key_ids[0], pa.id, sizeof r.key_ids[0]);
	r.n_key_ids = 1;

	lg_keysrc_init(&ks, path_a, -1);
	CU_ASSERT_EQUAL(lg_open_record(&r, &ks, "file", &e), 0);
	CU_ASSERT_STRING_EQUAL(e.password, "s3cret");
	CU_ASSERT_STRING_EQUAL(e.key_id, a.id);
	CU_ASSERT_STRING_EQUAL(e.host, "web1");
	CU_ASSERT_STRING_EQUAL(e.source, "file");
	CU_ASSERT_FALSE(e.pending);
	lg_entry_clear(&e);
	lg_keysrc_clear(&ks);

	lg_keysrc_init(&ks, path_b, -1);
	CU_ASSERT_EQUAL(lg_open_record(&r, &ks, "file", &e), LAPS_ERR_NOTRECIPIENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), a.id));
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), b.id));
	CU_ASSERT_PTR_NULL(e.password);
	CU_ASSERT_EQUAL(e.open_rc, LAPS_ERR_NOTRECIPIENT);
	lg_entry_clear(&e);
	lg_keysrc_clear(&ks);

	/* the same envelope under another device name does not open */
	snprintf(r.device, sizeof r.device, "web2");
	lg_keysrc_init(&ks, path_a, -1);
	CU_ASSERT_EQUAL(lg_open_record(&r, &ks, "file", &e), LAPS_ERR_CRYPTO);
	CU_ASSERT_PTR_NULL(e.password);
	lg_entry_clear(&e);

	/* neither sealed nor clear text */
	free(r.envelope);
	r.envelope = NULL;
	r.envelope_len = 0;
	CU_ASSERT_EQUAL(lg_open_record(&r, &ks, "file", &e), LAPS_ERR_FORMAT);
	lg_entry_clear(&e);

	/* clear text (Microsoft schema modes): no key needed, no key id */
	r.password = laps_secret_strdup("clear-pw");
	r.state = LAPS_STATE_PENDING;
	lg_keysrc_clear(&ks);
	lg_keysrc_init(&ks, NULL, -1);
	CU_ASSERT_EQUAL(lg_open_record(&r, &ks, "ldap (schema mslaps)", &e), 0);
	CU_ASSERT_STRING_EQUAL(e.password, "clear-pw");
	CU_ASSERT_STRING_EQUAL(e.key_id, "");
	CU_ASSERT_TRUE(e.pending);
	lg_entry_clear(&e);

	/* a missing key file is a setup problem, asked only once */
	laps_record_clear(&r); /* wipes and frees the clear-text password */
	mkrec(&r, "web1");
	laps_seal_ad_from_record(&ad, &r);
	CU_ASSERT_EQUAL_FATAL(laps_seal(&pa, 1, &ad, "x", 1, &r.envelope, &r.envelope_len), 0);
	lg_keysrc_init(&ks, "/nonexistent/key", -1);
	CU_ASSERT_EQUAL(lg_open_record(&r, &ks, "file", &e), LAPS_ERR_CONFIG);
	lg_entry_clear(&e);
	CU_ASSERT_EQUAL(lg_keysrc_load(&ks), LAPS_ERR_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "/nonexistent/key"));
	lg_keysrc_clear(&ks);

	laps_record_clear(&r);
	laps_privkey_clear(&a);
	laps_privkey_clear(&b);
	laps_test_rmrf(dir);
}

static CU_TestInfo time_tests[] = {
    {"when: now and durations", test_when_now_and_durations},
    {"when: ISO 8601", test_when_iso},
    {"format time", test_format_time},
    CU_TEST_INFO_NULL,
};
static CU_TestInfo graph_tests[] = {
    {"decode passwordBase64", test_graph_decode},
    {"OData filter", test_graph_filter},
    {"device lookup", test_graph_lookup},
    {"credentials", test_graph_credentials},
    {"malformed credentials", test_graph_credentials_malformed},
    {"no password or token in errors and logs", test_graph_secret_hygiene},
    CU_TEST_INFO_NULL,
};
static CU_TestInfo output_tests[] = {
    {"report status", test_report_status},
    {"JSON", test_json_output},
    {"JSON: passwords escaped outside json-c", test_json_output_secrets},
    {"open records", test_open_record},
    CU_TEST_INFO_NULL,
};

static int
init(void)
{
	return laps_crypto_init() == 0 ? 0 : -1;
}

static CU_SuiteInfo suites[] = {
    {"get_time", init, NULL, NULL, NULL, time_tests},
    {"get_graph", init, NULL, NULL, NULL, graph_tests},
    {"get_output", init, NULL, NULL, NULL, output_tests},
    CU_SUITE_INFO_NULL,
};

int
main(int argc, char **argv)
{
	return laps_test_main(argc, argv, suites);
}
