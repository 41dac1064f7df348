/*
 * test_record.c — the escrow record: JSON round trips, the malformed-record
 * corpus (tests/data/records/bad with its INDEX of expected errors), in-memory
 * validation, copies and list sorting.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <sodium.h>

#include "escrow/err.h"
#include "escrow/record.h"
#include "escrow/secret.h"
#include "tests/unit/testutil.h"

#define CORPUS_MAX (256 * 1024)

/* Read a whole file (any bytes); *len excludes the added NUL.  NULL on error. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *f;
	char *buf;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if ((buf = malloc(CORPUS_MAX + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, CORPUS_MAX, f);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void
make_record(struct laps_record *r, size_t envlen)
{
	size_t i;

	laps_record_init(r);
	snprintf(r->device, sizeof(r->device), "ws01.example.com");
	snprintf(r->account, sizeof(r->account), "lapsadmin");
	r->uid = 1001;
	laps_record_new_rotation_id(r->rotation_id);
	r->rotated_at = 1700000000;
	r->expires_at = 1702592000;
	r->state = LAPS_STATE_PENDING;
	r->envelope = malloc(envlen);
	CU_ASSERT_FATAL(r->envelope != NULL);
	randombytes_buf(r->envelope, envlen);
	r->envelope_len = envlen;
	r->n_key_ids = 3;
	for (i = 0; i < r->n_key_ids; i++)
		snprintf(r->key_ids[i], sizeof(r->key_ids[i]), "%016zx", 0xabc0 + i);
}

static int
record_equal(const struct laps_record *a, const struct laps_record *b)
{
	size_t i;

	if (strcmp(a->device, b->device) != 0 || strcmp(a->account, b->account) != 0 ||
	    a->uid != b->uid || strcmp(a->rotation_id, b->rotation_id) != 0 || a->seq != b->seq ||
	    a->rotated_at != b->rotated_at || a->expires_at != b->expires_at ||
	    a->state != b->state || a->envelope_len != b->envelope_len ||
	    a->n_key_ids != b->n_key_ids)
		return 0;
	if (a->envelope_len > 0 && memcmp(a->envelope, b->envelope, a->envelope_len) != 0)
		return 0;
	for (i = 0; i < a->n_key_ids; i++) {
		if (strcmp(a->key_ids[i], b->key_ids[i]) != 0)
			return 0;
	}
	return 1;
}

/* ---------------------------------------------------------------------- */

static void
test_canonical_bytes(void)
{
	struct laps_record r;
	char *buf, *json = NULL, *doc;
	size_t len, dlen;

	laps_record_init(&r);
	buf = slurp(laps_test_srcpath("tests/data/records/good/canonical.json"), &len);
	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_EQUAL_FATAL(laps_record_parse(buf, len, &r), 0);
	CU_ASSERT_STRING_EQUAL(r.device, "ws01.example.com");
	CU_ASSERT_STRING_EQUAL(r.account, "lapsadmin");
	CU_ASSERT_EQUAL(r.uid, 1001);
	CU_ASSERT_STRING_EQUAL(r.rotation_id, "0123456789abcdef0123456789abcdef");
	CU_ASSERT_EQUAL(r.rotated_at, 1700000000);
	CU_ASSERT_EQUAL(r.expires_at, 1702592000);
	CU_ASSERT_EQUAL(r.state, LAPS_STATE_CONFIRMED);
	CU_ASSERT_EQUAL(r.envelope_len, 16);
	CU_ASSERT(r.envelope != NULL && r.envelope[0] == 1 && r.envelope[15] == 16);
	CU_ASSERT_EQUAL(r.n_key_ids, 2);
	CU_ASSERT_STRING_EQUAL(r.key_ids[1], "8899aabbccddeeff");
	CU_ASSERT_PTR_NULL(r.password);
	/* the writer's bytes are exactly the documented canonical form */
	CU_ASSERT_EQUAL_FATAL(laps_record_serialise(&r, &json), 0);
	CU_ASSERT_STRING_EQUAL(json, buf);
	free(json);
	/* docs/FORMAT.md shows exactly this example */
	doc = slurp(laps_test_srcpath("docs/FORMAT.md"), &dlen);
	CU_ASSERT_FATAL(doc != NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(doc, buf));
	free(doc);
	free(buf);
	laps_record_clear(&r);
}

/* Format version 2: the documented vector (docs/FORMAT.md 1.4), with the
 * real envelope of section 2.7; version 1 still reads and writes as v1. */
static void
test_canonical_v2(void)
{
	struct laps_record r;
	char *buf, *json = NULL, *doc;
	size_t len, dlen;

	laps_record_init(&r);
	buf = slurp(laps_test_srcpath("tests/data/records/good/canonical-v2.json"), &len);
	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_EQUAL_FATAL(laps_record_parse(buf, len, &r), 0);
	CU_ASSERT_EQUAL(r.seq, 42);
	CU_ASSERT_STRING_EQUAL(r.device, "host1.example.org");
	CU_ASSERT_EQUAL(r.envelope_len, 480);
	CU_ASSERT_EQUAL_FATAL(laps_record_serialise(&r, &json), 0);
	CU_ASSERT_STRING_EQUAL(json, buf);
	free(json);
	doc = slurp(laps_test_srcpath("docs/FORMAT.md"), &dlen);
	CU_ASSERT_FATAL(doc != NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(doc, buf));
	free(doc);
	free(buf);

	/* a version 1 record has seq 0 and is written back as version 1 */
	buf = slurp(laps_test_srcpath("tests/data/records/good/canonical.json"), &len);
	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_EQUAL_FATAL(laps_record_parse(buf, len, &r), 0);
	CU_ASSERT_EQUAL(r.seq, 0);
	CU_ASSERT_EQUAL_FATAL(laps_record_serialise(&r, &json), 0);
	CU_ASSERT_STRING_EQUAL(json, buf);
	free(json);
	/* the largest seq every JSON reader holds exactly */
	r.seq = LAPS_RECORD_SEQ_MAX;
	CU_ASSERT_EQUAL_FATAL(laps_record_serialise(&r, &json), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"v\":2,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, ",\"seq\":9007199254740991,"));
	free(json);
	r.seq = LAPS_RECORD_SEQ_MAX + 1;
	CU_ASSERT_EQUAL(laps_record_validate(&r), LAPS_ERR_FORMAT);
	free(buf);
	laps_record_clear(&r);
}

/* FORMAT.md 1.1: the trailing '$' counts in an account name's 32 chars. */
static void
test_account_dollar_counts(void)
{
	char name[40];

	memset(name, 'a', 31);
	memcpy(name + 31, "$", 2);
	CU_ASSERT_TRUE(laps_record_account_ok(name)); /* 32 with the '$' */
	memset(name, 'a', 32);
	memcpy(name + 32, "$", 2);
	CU_ASSERT_FALSE(laps_record_account_ok(name)); /* 33 with the '$' */
	CU_ASSERT_FALSE(laps_record_account_ok("a$$"));
	CU_ASSERT_FALSE(laps_record_account_ok("$"));
}

/* History order (FORMAT.md 1.5): seq first, even against the clock. */
static void
test_list_sort_seq(void)
{
	struct laps_record_list l = {NULL, 0};
	struct laps_record r;
	/* seq, rotated_at: two rotations in one second, a clock stepped back,
	 * and version 1 records (seq 0) older than every v2 one */
	static const struct {
		uint64_t seq;
		int64_t t;
	} in[] = {{5, 1000}, {6, 1000}, {7, 900}, {0, 2000}, {0, 1500}, {1, 800}};
	static const size_t want[] = {2, 1, 0, 5, 3, 4};
	size_t i;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		make_record(&r, 4);
		r.seq = in[i].seq;
		r.rotated_at = in[i].t;
		r.uid = (uint32_t)i;
		CU_ASSERT_EQUAL_FATAL(laps_record_list_push(&l, &r), 0);
		laps_record_clear(&r);
	}
	laps_record_list_sort(&l);
	for (i = 0; i < l.n; i++)
		CU_ASSERT_EQUAL(l.v[i].uid, want[i]);
	laps_record_list_free(&l);
}

static void
test_good_corpus(void)
{
	static const char *const names[] = {"canonical", "pretty",	"reordered",
					    "pending",	 "max-keys",	"escaped",
					    "canonical-v2", "account-dollar-32"};
	struct laps_record a, b, canon;
	char path[256], *buf, *j1 = NULL, *j2 = NULL, *cbuf;
	size_t i, len, clen;

	laps_record_init(&a);
	laps_record_init(&b);
	laps_record_init(&canon);
	cbuf = slurp(laps_test_srcpath("tests/data/records/good/canonical.json"), &clen);
	CU_ASSERT_FATAL(cbuf != NULL);
	CU_ASSERT_EQUAL_FATAL(laps_record_parse(cbuf, clen, &canon), 0);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "tests/data/records/good/%s.json", names[i]);
		buf = slurp(laps_test_srcpath(path), &len);
		CU_ASSERT_FATAL(buf != NULL);
		laps_clearerr();
		if (laps_record_parse(buf, len, &a) != 0) {
			fprintf(stderr, "%s: %s\n", names[i], laps_errdetail());
			CU_FAIL("good record rejected");
			free(buf);
			continue;
		}
		CU_ASSERT_EQUAL(laps_record_serialise(&a, &j1), 0);
		CU_ASSERT_EQUAL(laps_record_parse(j1, strlen(j1), &b), 0);
		CU_ASSERT(record_equal(&a, &b));
		CU_ASSERT_EQUAL(laps_record_serialise(&b, &j2), 0);
		CU_ASSERT(j1 != NULL && j2 != NULL && strcmp(j1, j2) == 0);
		/* formatting, member order and escapes do not change the content */
		if (i < 3 || strcmp(names[i], "escaped") == 0)
			CU_ASSERT(record_equal(&a, &canon));
		free(j1);
		free(j2);
		j1 = j2 = NULL;
		free(buf);
	}
	free(cbuf);
	laps_record_clear(&a);
	laps_record_clear(&b);
	laps_record_clear(&canon);
}

static int
code_of(const char *name)
{
	if (strcmp(name, "FORMAT") == 0)
		return LAPS_ERR_FORMAT;
	if (strcmp(name, "VERSION") == 0)
		return LAPS_ERR_VERSION;
	if (strcmp(name, "TOOBIG") == 0)
		return LAPS_ERR_TOOBIG;
	return 1; /* never returned by the parser */
}

static void
test_bad_corpus(void)
{
	char *index, *line, *next, *buf, path[512];
	size_t len, ilen, n = 0, files = 0;
	struct laps_record r;
	struct dirent *de;
	DIR *d;
	int rc;

	laps_record_init(&r);
	index = slurp(laps_test_srcpath("tests/data/records/bad/INDEX"), &ilen);
	CU_ASSERT_FATAL(index != NULL);
	for (line = index; line != NULL && *line != '\0'; line = next) {
		char *name, *code, *detail;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		name = line;
		code = strchr(name, '\t');
		CU_ASSERT_FATAL(code != NULL);
		*code++ = '\0';
		detail = strchr(code, '\t');
		CU_ASSERT_FATAL(detail != NULL);
		*detail++ = '\0';
		snprintf(path, sizeof(path), "tests/data/records/bad/%s", name);
		buf = slurp(laps_test_srcpath(path), &len);
		CU_ASSERT_FATAL(buf != NULL);
		/* a record left over from earlier must be cleared on failure */
		make_record(&r, 8);
		laps_clearerr();
		rc = laps_record_parse(buf, len, &r);
		if (rc != code_of(code) || strstr(laps_errdetail(), detail) == NULL) {
			fprintf(stderr, "\n%s: got %d '%s', want %s '%s'\n", name, rc,
				laps_errdetail(), code, detail);
			CU_FAIL("malformed record not rejected as expected");
		}
		CU_ASSERT_PTR_NULL(r.envelope);
		CU_ASSERT_EQUAL(r.device[0], '\0');
		free(buf);
		n++;
	}
	free(index);
	CU_ASSERT(n >= 25);
	/* every file of the corpus is listed in the INDEX */
	d = opendir(laps_test_srcpath("tests/data/records/bad"));
	CU_ASSERT_FATAL(d != NULL);
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len > 5 && strcmp(de->d_name + len - 5, ".json") == 0)
			files++;
	}
	closedir(d);
	CU_ASSERT_EQUAL(files, n);
	laps_record_clear(&r);
}

static void
test_serialise_identity(void)
{
	struct laps_record a, b;
	char *json = NULL, *json2 = NULL;
	size_t envlen[] = {1, 2, 3, 100, LAPS_ENVELOPE_MAX};
	size_t i;

	laps_record_init(&b);
	for (i = 0; i < sizeof(envlen) / sizeof(envlen[0]); i++) {
		make_record(&a, envlen[i]);
		a.state = i % 2 ? LAPS_STATE_CONFIRMED : LAPS_STATE_PENDING;
		a.uid = (uint32_t)(i * 1000000000u);
		a.password = laps_secret_strdup("S3cret-pass-not-serialised");
		CU_ASSERT_EQUAL_FATAL(laps_record_serialise(&a, &json), 0);
		CU_ASSERT_PTR_NULL(strstr(json, "S3cret"));
		CU_ASSERT_PTR_NULL(strstr(json, "password"));
		CU_ASSERT(strlen(json) <= LAPS_RECORD_MAX_JSON);
		CU_ASSERT_EQUAL_FATAL(laps_record_parse(json, strlen(json), &b), 0);
		CU_ASSERT(record_equal(&a, &b));
		CU_ASSERT_PTR_NULL(b.password);
		/* input need not be NUL-terminated: parse exactly len bytes */
		CU_ASSERT_EQUAL(laps_record_parse(json, strlen(json) - 1, &b), LAPS_ERR_FORMAT);
		CU_ASSERT_EQUAL_FATAL(laps_record_parse(json, strlen(json), &b), 0);
		CU_ASSERT_EQUAL(laps_record_serialise(&b, &json2), 0);
		CU_ASSERT(json2 != NULL && strcmp(json, json2) == 0);
		free(json);
		free(json2);
		json = json2 = NULL;
		laps_record_clear(&a);
	}
	laps_record_clear(&b);
}

static void
test_validate(void)
{
	struct laps_record r;
	char *json = (char *)"unchanged";
	uint8_t *env;

	make_record(&r, 16);
	CU_ASSERT_EQUAL(laps_record_validate(&r), 0);

	r.device[0] = 'W';
	CU_ASSERT_EQUAL(laps_record_validate(&r), LAPS_ERR_FORMAT);
	CU_ASSERT(strstr(laps_errdetail(), "device") != NULL);
	CU_ASSERT_EQUAL(laps_record_serialise(&r, &json), LAPS_ERR_FORMAT);
	CU_ASSERT_PTR_NULL(json);
	r.device[0] = 'w';

	snprintf(r.account, sizeof(r.account), "a/b");
	CU_ASSERT_EQUAL(laps_record_validate(&r), LAPS_ERR_FORMAT);
	CU_ASSERT(strstr(laps_errdetail(), "account") != NULL);
	snprintf(r.account, sizeof(r.account), "lapsadmin");

	r.rotation_id[5] = 'X';
	CU_ASSERT_EQUAL(laps_record_validate(&r), LAPS_ERR_FORMAT);
	CU_ASSERT(strstr(laps_errdetail(), "rotation_id") != NULL);
	r.rotation_id[5] = 'a';

	r.expires_at = -1;
	CU_ASSERT_EQUAL(laps_record_validate(&r), LAPS_ERR_FORMAT);
	CU_ASSERT(strstr(laps_errdetail(), "expires_at") != NULL);
	r.expires_at = 1;

	r.state = (enum laps_record_state)7;
	CU_ASSERT_EQUAL(laps_record_validate(&r), LAPS_ERR_FORMAT);
	CU_ASSERT(strstr(laps_errdetail(), "state") != NULL);
	r.state = LAPS_STATE_CONFIRMED;

	r.uid = UINT32_MAX;
	CU_ASSERT_EQUAL(laps_record_validate(&r), LAPS_ERR_FORMAT);
	r.uid = 0;

	memcpy(r.key_ids[2], r.key_ids[0], sizeof(r.key_ids[0]));
	CU_ASSERT_EQUAL(laps_record_validate(&r), LAPS_ERR_FORMAT);
	CU_ASSERT(strstr(laps_errdetail(), "duplicate") != NULL);
	r.key_ids[2][0] = 'f';
	r.n_key_ids = LAPS_MAX_RECIPIENTS + 1;
	CU_ASSERT_EQUAL(laps_record_validate(&r), LAPS_ERR_FORMAT);
	r.n_key_ids = 0;
	CU_ASSERT_EQUAL(laps_record_validate(&r), LAPS_ERR_FORMAT);
	r.n_key_ids = 3;

	r.envelope_len = LAPS_ENVELOPE_MAX + 1;
	CU_ASSERT_EQUAL(laps_record_validate(&r), LAPS_ERR_FORMAT);
	r.envelope_len = 16;
	CU_ASSERT_EQUAL(laps_record_validate(&r), 0);

	/* clear-text schema records: no envelope, no key ids, no JSON form */
	env = r.envelope;
	r.envelope = NULL;
	r.envelope_len = 0;
	CU_ASSERT_EQUAL(laps_record_validate(&r), LAPS_ERR_FORMAT); /* key ids without */
	r.n_key_ids = 0;
	CU_ASSERT_EQUAL(laps_record_validate(&r), 0);
	json = NULL;
	CU_ASSERT_EQUAL(laps_record_serialise(&r, &json), LAPS_ERR_INVALID);
	CU_ASSERT_PTR_NULL(json);
	r.envelope = env;
	r.envelope_len = 0;
	CU_ASSERT_EQUAL(laps_record_validate(&r), LAPS_ERR_FORMAT); /* pointer/length */
	laps_record_clear(&r);
	CU_ASSERT_EQUAL(laps_record_validate(NULL), LAPS_ERR_INVALID);
}

static void
test_names(void)
{
	char longname[LAPS_DEVICE_MAX + 2];

	CU_ASSERT(laps_record_device_ok("ws01"));
	CU_ASSERT(laps_record_device_ok("ws-01.example.com"));
	CU_ASSERT(laps_record_device_ok("under_score"));
	CU_ASSERT(!laps_record_device_ok(""));
	CU_ASSERT(!laps_record_device_ok("."));
	CU_ASSERT(!laps_record_device_ok(".."));
	CU_ASSERT(!laps_record_device_ok(".hidden"));
	CU_ASSERT(!laps_record_device_ok("a..b"));
	CU_ASSERT(!laps_record_device_ok("a."));
	CU_ASSERT(!laps_record_device_ok("a/b"));
	CU_ASSERT(!laps_record_device_ok("Upper"));
	CU_ASSERT(!laps_record_device_ok(NULL));
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CU_ASSERT(!laps_record_device_ok(longname)); /* 254 chars, also label > 63 */

	CU_ASSERT(laps_record_account_ok("lapsadmin"));
	CU_ASSERT(laps_record_account_ok("Admin.1_x-y"));
	CU_ASSERT(laps_record_account_ok("machine$"));
	CU_ASSERT(!laps_record_account_ok("a$b"));
	CU_ASSERT(!laps_record_account_ok("$"));
	CU_ASSERT(!laps_record_account_ok(".x"));
	CU_ASSERT(!laps_record_account_ok("-x"));
	CU_ASSERT(!laps_record_account_ok("a/b"));
	CU_ASSERT(!laps_record_account_ok(""));
	CU_ASSERT(!laps_record_account_ok("abcdefghijklmnopqrstuvwxyz0123456")); /* 33 */
	CU_ASSERT(laps_record_account_ok("abcdefghijklmnopqrstuvwxyz012345"));	 /* 32 */
}

static void
test_copy(void)
{
	struct laps_record a, b;

	make_record(&a, 40);
	a.password = laps_secret_strdup("pw-1");
	snprintf(a.source, sizeof(a.source), "file");
	laps_record_init(&b);
	make_record(&b, 3); /* dst is cleared first: no leak */
	CU_ASSERT_EQUAL_FATAL(laps_record_copy(&b, &a), 0);
	CU_ASSERT(record_equal(&a, &b));
	CU_ASSERT(b.envelope != a.envelope);
	CU_ASSERT(b.password != NULL && b.password != a.password);
	CU_ASSERT_STRING_EQUAL(b.password, "pw-1");
	CU_ASSERT_STRING_EQUAL(b.source, "file");
	laps_record_clear(&a);
	CU_ASSERT_PTR_NULL(a.envelope);
	CU_ASSERT_PTR_NULL(a.password);
	CU_ASSERT_EQUAL(b.envelope_len, 40);
	CU_ASSERT_STRING_EQUAL(b.password, "pw-1");
	laps_record_clear(&b);
	CU_ASSERT_STRING_EQUAL(laps_record_state_name(LAPS_STATE_PENDING), "pending");
	CU_ASSERT_STRING_EQUAL(laps_record_state_name(LAPS_STATE_CONFIRMED), "confirmed");
}

static void
test_rotation_id(void)
{
	char a[LAPS_ROTID_HEX + 1], b[LAPS_ROTID_HEX + 1], c[LAPS_ROTID_HEX + 1];
	size_t i;

	laps_test_random_reseed(7);
	laps_record_new_rotation_id(a);
	laps_record_new_rotation_id(b);
	laps_test_random_reseed(7);
	laps_record_new_rotation_id(c);
	CU_ASSERT_EQUAL(strlen(a), LAPS_ROTID_HEX);
	for (i = 0; i < LAPS_ROTID_HEX; i++)
		CU_ASSERT(strchr("0123456789abcdef", a[i]) != NULL);
	CU_ASSERT(strcmp(a, b) != 0);
	CU_ASSERT_STRING_EQUAL(a, c); /* drawn from randombytes */
}

static void
test_list_sort(void)
{
	struct laps_record_list l = {NULL, 0};
	struct laps_record r, tmp;
	enum { N = 60 };
	int64_t times[N];
	size_t i, j;
	int seen[N] = {0};

	laps_record_init(&tmp);
	/* 60 records, 20 distinct times (ties broken by rotation id) */
	for (i = 0; i < N; i++)
		times[i] = 1700000000 + (int64_t)(i / 3) * 3600;
	/* shuffle */
	for (i = N - 1; i > 0; i--) {
		int64_t t;

		j = randombytes_uniform((uint32_t)(i + 1));
		t = times[i];
		times[i] = times[j];
		times[j] = t;
	}
	for (i = 0; i < N; i++) {
		make_record(&r, 4);
		r.rotated_at = times[i];
		r.uid = (uint32_t)i; /* remembers the input position */
		CU_ASSERT_EQUAL_FATAL(laps_record_list_push(&l, &r), 0);
		laps_record_clear(&r);
	}
	CU_ASSERT_EQUAL_FATAL(l.n, N);
	laps_record_list_sort(&l);
	for (i = 0; i < N; i++) {
		CU_ASSERT(l.v[i].uid < N);
		seen[l.v[i].uid]++;
		if (i == 0)
			continue;
		CU_ASSERT(l.v[i - 1].rotated_at >= l.v[i].rotated_at);
		if (l.v[i - 1].rotated_at == l.v[i].rotated_at)
			CU_ASSERT(strcmp(l.v[i - 1].rotation_id, l.v[i].rotation_id) > 0);
	}
	for (i = 0; i < N; i++)
		CU_ASSERT_EQUAL(seen[i], 1);
	CU_ASSERT_EQUAL(l.v[0].rotated_at, 1700000000 + 19 * 3600);
	CU_ASSERT_EQUAL(l.v[N - 1].rotated_at, 1700000000);
	laps_record_list_free(&l);
	CU_ASSERT_PTR_NULL(l.v);
	CU_ASSERT_EQUAL(l.n, 0);
	laps_record_list_sort(&l); /* empty list: no-op */
	laps_record_clear(&tmp);
}

static void
test_parse_limits(void)
{
	struct laps_record r;
	char *big;

	laps_record_init(&r);
	CU_ASSERT_EQUAL(laps_record_parse(NULL, 0, &r), LAPS_ERR_INVALID);
	big = calloc(1, LAPS_RECORD_MAX_JSON + 1);
	CU_ASSERT_FATAL(big != NULL);
	memset(big, ' ', LAPS_RECORD_MAX_JSON + 1);
	CU_ASSERT_EQUAL(laps_record_parse(big, LAPS_RECORD_MAX_JSON + 1, &r), LAPS_ERR_TOOBIG);
	/* exactly the limit is parsed (white space only: not JSON) */
	CU_ASSERT_EQUAL(laps_record_parse(big, LAPS_RECORD_MAX_JSON, &r), LAPS_ERR_FORMAT);
	free(big);
}

static CU_TestInfo record_tests[] = {
    {"canonical bytes", test_canonical_bytes},
    {"format version 2 vector, v1 still read", test_canonical_v2},
    {"trailing $ counts in the account length", test_account_dollar_counts},
    {"history ordered by seq", test_list_sort_seq},
    {"good corpus round trip", test_good_corpus},
    {"malformed corpus", test_bad_corpus},
    {"serialise/parse identity", test_serialise_identity},
    {"validate in-memory records", test_validate},
    {"device and account names", test_names},
    {"deep copy", test_copy},
    {"rotation ids", test_rotation_id},
    {"list sort newest first", test_list_sort},
    {"parse limits", test_parse_limits},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"record", NULL, NULL, NULL, NULL, record_tests},
    CU_SUITE_INFO_NULL,
};

int
main(int argc, char **argv)
{
	laps_test_random_deterministic(1);
	if (laps_crypto_init() != 0)
		return 99;
	return laps_test_main(argc, argv, suites);
}
