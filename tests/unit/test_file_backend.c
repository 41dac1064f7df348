/*
 * test_file_backend.c — the `file` escrow backend: compare-and-set, history
 * ordering and trimming, confirm, expiry, find, modes, corrupt files, and
 * concurrent writers in several processes (no lost update).
 *
 * Envelopes here are arbitrary bytes: the backend treats them as opaque.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <sodium.h>

#include "backends/file_backend.h"
#include "backends/registry.h"
#include "escrow/backend.h"
#include "escrow/conf.h"
#include "escrow/err.h"
#include "escrow/record.h"
#include "escrow/secret.h"
#include "tests/unit/testutil.h"
#include "backends/file_conf.h"
#include "escrow/escrow_conf.h"

static const struct laps_backend_ops *ops = &laps_backend_file;
static const struct laps_backend_env no_env;

/* [escrow] and [file]: what the file backend reads. */
static const struct laps_conf_section *const file_sections[] = {&laps_file_section, NULL};
static const struct laps_conf_schema file_schema = {{laps_escrow_sections, file_sections}, NULL, 0};

struct fixture {
	char dir[1024];
	struct laps_conf cfg;
	void *ctx;
};

static void
fx_open(struct fixture *f, unsigned history)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "%s/escrow", laps_test_tmpdir());
	CU_ASSERT_FATAL(laps_conf_init(&f->cfg, &file_schema) == 0);
	CU_ASSERT_FATAL(laps_conf_set_string(&laps_file_conf(&f->cfg)->dir, f->dir) == 0);
	laps_escrow_conf(&f->cfg)->history = history;
	CU_ASSERT_EQUAL_FATAL(ops->open(&f->cfg, LAPS_ROLE_AGENT, &no_env, &f->ctx), 0);
}

static void
fx_close(struct fixture *f)
{
	char parent[1024];
	char *slash;

	ops->close(f->ctx);
	laps_conf_free(&f->cfg);
	snprintf(parent, sizeof(parent), "%s", f->dir);
	if ((slash = strrchr(parent, '/')) != NULL)
		*slash = '\0';
	laps_test_rmrf(parent);
}

/* A record for dev/acct rotated at t; rotation id from n (distinct per n). */
static void
mkrec(struct laps_record *r, const char *dev, const char *acct, int64_t t, unsigned n)
{
	laps_record_init(r);
	snprintf(r->device, sizeof(r->device), "%s", dev);
	snprintf(r->account, sizeof(r->account), "%s", acct);
	r->uid = 1000;
	snprintf(r->rotation_id, sizeof(r->rotation_id), "%08x%024x", n, (unsigned)getpid());
	r->rotated_at = t;
	r->expires_at = t + 86400;
	r->state = LAPS_STATE_PENDING;
	r->envelope_len = 24;
	r->envelope = malloc(r->envelope_len);
	CU_ASSERT_FATAL(r->envelope != NULL);
	memset(r->envelope, (int)(n & 0xff), r->envelope_len);
	r->n_key_ids = 1;
	snprintf(r->key_ids[0], sizeof(r->key_ids[0]), "00112233aabbccdd");
}

static char *
slurp(const char *path)
{
	static char buf[70000];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static size_t
count_json(const char *dir)
{
	struct dirent *de;
	size_t n = 0, len;
	DIR *d = opendir(dir);

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len > 5 && strcmp(de->d_name + len - 5, ".json") == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* ---------------------------------------------------------------------- */

static void
test_registry(void)
{
	CU_ASSERT_PTR_EQUAL(laps_backend_lookup("file"), &laps_backend_file);
	CU_ASSERT_PTR_NULL(laps_backend_lookup("nope"));
	CU_ASSERT_PTR_NULL(laps_backend_lookup(NULL));
	CU_ASSERT_PTR_NULL(laps_backend_lookup("FILE"));
	CU_ASSERT(strstr(laps_backend_names(), "file") != NULL);
	CU_ASSERT_PTR_EQUAL(laps_backend_registry[0], &laps_backend_file);
	/* every slot is implemented */
	CU_ASSERT(ops->open && ops->close && ops->read && ops->write && ops->confirm &&
		  ops->history && ops->set_expiry && ops->find && ops->describe);
	CU_ASSERT_EQUAL(ops->caps &
			    (LAPS_BCAP_HISTORY | LAPS_BCAP_EXPIRY | LAPS_BCAP_CAS | LAPS_BCAP_FIND),
			LAPS_BCAP_HISTORY | LAPS_BCAP_EXPIRY | LAPS_BCAP_CAS | LAPS_BCAP_FIND);
}

static void
test_open(void)
{
	struct laps_conf cfg;
	void *ctx = (void *)&cfg;
	char dir[1024];
	struct stat st;

	CU_ASSERT_FATAL(laps_conf_init(&cfg, &file_schema) == 0);
	free(laps_file_conf(&cfg)->dir);
	laps_file_conf(&cfg)->dir = NULL;
	CU_ASSERT_EQUAL(ops->open(&cfg, LAPS_ROLE_AGENT, &no_env, &ctx), LAPS_ERR_CONFIG);
	CU_ASSERT_PTR_NULL(ctx);
	/* created with 0700, including missing parents */
	snprintf(dir, sizeof(dir), "%s/a/b", laps_test_tmpdir());
	CU_ASSERT_FATAL(laps_conf_set_string(&laps_file_conf(&cfg)->dir, dir) == 0);
	CU_ASSERT_EQUAL_FATAL(ops->open(&cfg, LAPS_ROLE_ADMIN, &no_env, &ctx), 0);
	CU_ASSERT_EQUAL(stat(dir, &st), 0);
	CU_ASSERT(S_ISDIR(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0700);
	CU_ASSERT(strstr(ops->describe(ctx), dir) != NULL);
	ops->close(ctx);
	ops->close(NULL);
	*strrchr(dir, '/') = '\0';
	*strrchr(dir, '/') = '\0';
	laps_test_rmrf(dir);
	laps_conf_free(&cfg);
}

static void
test_cas(void)
{
	struct fixture f;
	struct laps_record a, b, c, got;
	struct laps_version empty = {""}, v1, v2, v3, rv;
	struct laps_record_list h = {NULL, 0};
	char path[2048], before[70000];

	fx_open(&f, 5);
	laps_record_init(&got);
	mkrec(&a, "ws01", "lapsadmin", 1000, 1);
	mkrec(&b, "ws01", "lapsadmin", 2000, 2);
	mkrec(&c, "ws01", "lapsadmin", 3000, 3);

	/* empty: NOTFOUND and an empty tag */
	snprintf(rv.tag, sizeof(rv.tag), "garbage");
	CU_ASSERT_EQUAL(ops->read(f.ctx, "ws01", "lapsadmin", &got, &rv), LAPS_ERR_NOTFOUND);
	CU_ASSERT_STRING_EQUAL(rv.tag, "");
	CU_ASSERT_EQUAL(ops->history(f.ctx, "ws01", "lapsadmin", 10, &h), 0);
	CU_ASSERT_EQUAL(h.n, 0);

	/* a stale (non-empty) tag cannot create */
	snprintf(v3.tag, sizeof(v3.tag), "x");
	CU_ASSERT_EQUAL(ops->write(f.ctx, &a, NULL, &v3, &v1), LAPS_ERR_CONFLICT);
	/* "" creates */
	CU_ASSERT_EQUAL_FATAL(ops->write(f.ctx, &a, NULL, &empty, &v1), 0);
	CU_ASSERT(v1.tag[0] != '\0');
	CU_ASSERT_EQUAL_FATAL(ops->read(f.ctx, "ws01", "lapsadmin", &got, &rv), 0);
	CU_ASSERT_STRING_EQUAL(rv.tag, v1.tag);
	CU_ASSERT_STRING_EQUAL(got.rotation_id, a.rotation_id);
	CU_ASSERT_STRING_EQUAL(got.source, "file");
	CU_ASSERT_EQUAL(got.envelope_len, a.envelope_len);
	CU_ASSERT(memcmp(got.envelope, a.envelope, a.envelope_len) == 0);

	/* a second create conflicts */
	CU_ASSERT_EQUAL(ops->write(f.ctx, &b, NULL, &empty, &v2), LAPS_ERR_CONFLICT);
	/* correct tag: succeeds, pushes a into history */
	CU_ASSERT_EQUAL_FATAL(ops->write(f.ctx, &b, NULL, &v1, &v2), 0);
	CU_ASSERT(strcmp(v1.tag, v2.tag) != 0);

	/* a stale tag conflicts and leaves the stored record unchanged */
	snprintf(path, sizeof(path), "%s/ws01/lapsadmin.json", f.dir);
	snprintf(before, sizeof(before), "%s", slurp(path));
	CU_ASSERT_EQUAL(ops->write(f.ctx, &c, NULL, &v1, &v3), LAPS_ERR_CONFLICT);
	CU_ASSERT_STRING_EQUAL(slurp(path), before);
	CU_ASSERT_EQUAL_FATAL(ops->read(f.ctx, "ws01", "lapsadmin", &got, &rv), 0);
	CU_ASSERT_STRING_EQUAL(got.rotation_id, b.rotation_id);
	CU_ASSERT_STRING_EQUAL(rv.tag, v2.tag);

	CU_ASSERT_EQUAL_FATAL(ops->history(f.ctx, "ws01", "lapsadmin", 10, &h), 0);
	CU_ASSERT_EQUAL_FATAL(h.n, 1);
	CU_ASSERT_STRING_EQUAL(h.v[0].rotation_id, a.rotation_id);
	laps_record_list_free(&h);

	/* a change through another path (confirm) also invalidates the tag */
	CU_ASSERT_EQUAL(ops->confirm(f.ctx, "ws01", "lapsadmin", b.rotation_id, 9999), 0);
	CU_ASSERT_EQUAL(ops->write(f.ctx, &c, NULL, &v2, &v3), LAPS_ERR_CONFLICT);

	/* other accounts of the device are independent */
	laps_record_clear(&c);
	mkrec(&c, "ws01", "other", 3000, 3);
	CU_ASSERT_EQUAL(ops->write(f.ctx, &c, NULL, &empty, &v3), 0);
	CU_ASSERT_EQUAL(ops->read(f.ctx, "ws01", "lapsadmin", &got, &rv), 0);
	CU_ASSERT_STRING_EQUAL(got.rotation_id, b.rotation_id);

	/* device names are case-insensitive */
	CU_ASSERT_EQUAL(ops->read(f.ctx, "WS01", "other", &got, &rv), 0);
	CU_ASSERT_STRING_EQUAL(rv.tag, v3.tag);

	laps_record_clear(&a);
	laps_record_clear(&b);
	laps_record_clear(&c);
	laps_record_clear(&got);
	fx_close(&f);
}

static void
test_rewrite_same_rotation(void)
{
	struct fixture f;
	struct laps_record a;
	struct laps_version empty = {""}, v1, v2;
	struct laps_record_list h = {NULL, 0};

	fx_open(&f, 5);
	mkrec(&a, "ws01", "lapsadmin", 1000, 1);
	CU_ASSERT_EQUAL_FATAL(ops->write(f.ctx, &a, NULL, &empty, &v1), 0);
	a.expires_at = 5;
	CU_ASSERT_EQUAL_FATAL(ops->write(f.ctx, &a, NULL, &v1, &v2), 0);
	/* the same rotation written again replaces it: no history entry */
	CU_ASSERT_EQUAL(ops->history(f.ctx, "ws01", "lapsadmin", 10, &h), 0);
	CU_ASSERT_EQUAL(h.n, 0);
	laps_record_list_free(&h);
	laps_record_clear(&a);
	fx_close(&f);
}

static void
test_history_order_and_trim(void)
{
	struct fixture f;
	struct laps_record r, got;
	struct laps_version ver = {""}, nv;
	struct laps_record_list h = {NULL, 0};
	/* rotation times deliberately out of order */
	static const int64_t times[] = {5000, 1000, 9000, 3000, 7000, 2000, 8000, 4000};
	char dir[2048];
	size_t i;

	fx_open(&f, 4);
	laps_record_init(&got);
	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		mkrec(&r, "ws01", "lapsadmin", times[i], (unsigned)i + 1);
		CU_ASSERT_EQUAL_FATAL(ops->write(f.ctx, &r, NULL, &ver, &nv), 0);
		ver = nv;
		laps_record_clear(&r);
	}
	/* current = the last written (4000); history = the 4 newest of the
	 * previous ones by rotated_at: 9000 8000 7000 5000 */
	CU_ASSERT_EQUAL(ops->read(f.ctx, "ws01", "lapsadmin", &got, &nv), 0);
	CU_ASSERT_EQUAL(got.rotated_at, 4000);
	snprintf(dir, sizeof(dir), "%s/ws01/lapsadmin.history", f.dir);
	CU_ASSERT_EQUAL(count_json(dir), 4);
	CU_ASSERT_EQUAL_FATAL(ops->history(f.ctx, "ws01", "lapsadmin", 10, &h), 0);
	CU_ASSERT_EQUAL_FATAL(h.n, 4);
	CU_ASSERT_EQUAL(h.v[0].rotated_at, 9000);
	CU_ASSERT_EQUAL(h.v[1].rotated_at, 8000);
	CU_ASSERT_EQUAL(h.v[2].rotated_at, 7000);
	CU_ASSERT_EQUAL(h.v[3].rotated_at, 5000);
	CU_ASSERT_STRING_EQUAL(h.v[0].source, "file");
	laps_record_list_free(&h);
	/* n limits the answer, newest first */
	CU_ASSERT_EQUAL_FATAL(ops->history(f.ctx, "ws01", "lapsadmin", 2, &h), 0);
	CU_ASSERT_EQUAL_FATAL(h.n, 2);
	CU_ASSERT_EQUAL(h.v[0].rotated_at, 9000);
	CU_ASSERT_EQUAL(h.v[1].rotated_at, 8000);
	laps_record_list_free(&h);
	CU_ASSERT_EQUAL_FATAL(ops->history(f.ctx, "ws01", "lapsadmin", 0, &h), 0);
	CU_ASSERT_EQUAL(h.n, 0);
	laps_record_list_free(&h);
	laps_record_clear(&got);
	fx_close(&f);
}

/* History files whose names lie about their order: the content decides. */
static void
test_history_names_do_not_matter(void)
{
	struct fixture f;
	struct laps_record r;
	struct laps_record_list h = {NULL, 0};
	char dir[2048], path[2300], *json = NULL;
	static const int64_t times[] = {300, 100, 500, 200, 400};
	static const char *const names[] = {"a.json", "z.json", "m.json", "0.json", "q.json"};
	size_t i;

	fx_open(&f, 10);
	snprintf(dir, sizeof(dir), "%s/ws01", f.dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0700), 0);
	snprintf(dir, sizeof(dir), "%s/ws01/lapsadmin.history", f.dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0700), 0);
	for (i = 0; i < 5; i++) {
		mkrec(&r, "ws01", "lapsadmin", times[i], (unsigned)i + 1);
		CU_ASSERT_EQUAL_FATAL(laps_record_serialise(&r, &json), 0);
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		CU_ASSERT_EQUAL_FATAL(laps_test_write_file(path, json, 0600), 0);
		free(json);
		laps_record_clear(&r);
	}
	/* a leftover temp file is not a record */
	snprintf(path, sizeof(path), "%s/x.json.tmp.abcdef", dir);
	CU_ASSERT_EQUAL_FATAL(laps_test_write_file(path, "garbage", 0600), 0);
	CU_ASSERT_EQUAL_FATAL(ops->history(f.ctx, "ws01", "lapsadmin", 3, &h), 0);
	CU_ASSERT_EQUAL_FATAL(h.n, 3);
	CU_ASSERT_EQUAL(h.v[0].rotated_at, 500);
	CU_ASSERT_EQUAL(h.v[1].rotated_at, 400);
	CU_ASSERT_EQUAL(h.v[2].rotated_at, 300);
	laps_record_list_free(&h);
	fx_close(&f);
}

static void
test_history_zero(void)
{
	struct fixture f;
	struct laps_record r;
	struct laps_version ver = {""}, nv;
	struct laps_record_list h = {NULL, 0};
	unsigned i;

	fx_open(&f, 0);
	for (i = 0; i < 3; i++) {
		mkrec(&r, "ws01", "lapsadmin", 100 + i, i + 1);
		CU_ASSERT_EQUAL_FATAL(ops->write(f.ctx, &r, NULL, &ver, &nv), 0);
		ver = nv;
		laps_record_clear(&r);
	}
	CU_ASSERT_EQUAL(ops->history(f.ctx, "ws01", "lapsadmin", 10, &h), 0);
	CU_ASSERT_EQUAL(h.n, 0);
	laps_record_list_free(&h);
	fx_close(&f);
}

static void
test_confirm_and_expiry(void)
{
	struct fixture f;
	struct laps_record a, got;
	struct laps_version empty = {""}, v1, rv;
	char other[LAPS_ROTID_HEX + 1];

	fx_open(&f, 3);
	laps_record_init(&got);
	mkrec(&a, "ws01", "lapsadmin", 1000, 1);
	CU_ASSERT_EQUAL(ops->confirm(f.ctx, "ws01", "lapsadmin", a.rotation_id, 5),
			LAPS_ERR_NOTFOUND);
	CU_ASSERT_EQUAL(ops->set_expiry(f.ctx, "ws01", "lapsadmin", 5), LAPS_ERR_NOTFOUND);
	CU_ASSERT_EQUAL_FATAL(ops->write(f.ctx, &a, NULL, &empty, &v1), 0);
	CU_ASSERT_EQUAL(ops->set_expiry(f.ctx, "ws01", "nobody", 5), LAPS_ERR_NOTFOUND);

	snprintf(other, sizeof(other), "%s", a.rotation_id);
	other[0] = other[0] == 'f' ? '0' : 'f';
	CU_ASSERT_EQUAL(ops->confirm(f.ctx, "ws01", "lapsadmin", other, 5), LAPS_ERR_CONFLICT);
	CU_ASSERT_EQUAL(ops->read(f.ctx, "ws01", "lapsadmin", &got, &rv), 0);
	CU_ASSERT_EQUAL(got.state, LAPS_STATE_PENDING);
	CU_ASSERT_STRING_EQUAL(rv.tag, v1.tag);

	CU_ASSERT_EQUAL(ops->confirm(f.ctx, "WS01", "lapsadmin", a.rotation_id, 123456), 0);
	CU_ASSERT_EQUAL(ops->read(f.ctx, "ws01", "lapsadmin", &got, &rv), 0);
	CU_ASSERT_EQUAL(got.state, LAPS_STATE_CONFIRMED);
	CU_ASSERT_EQUAL(got.expires_at, 123456);
	CU_ASSERT(strcmp(rv.tag, v1.tag) != 0);

	CU_ASSERT_EQUAL(ops->set_expiry(f.ctx, "ws01", "lapsadmin", 42), 0);
	CU_ASSERT_EQUAL(ops->read(f.ctx, "ws01", "lapsadmin", &got, &rv), 0);
	CU_ASSERT_EQUAL(got.expires_at, 42);
	CU_ASSERT_EQUAL(got.state, LAPS_STATE_CONFIRMED);
	CU_ASSERT_STRING_EQUAL(got.rotation_id, a.rotation_id);
	CU_ASSERT_EQUAL(ops->set_expiry(f.ctx, "ws01", "lapsadmin", -1), LAPS_ERR_INVALID);

	laps_record_clear(&a);
	laps_record_clear(&got);
	fx_close(&f);
}

static void
test_find(void)
{
	struct fixture f;
	struct laps_record r;
	struct laps_version empty = {""}, nv;
	char devs[8][LAPS_DEVICE_MAX + 1], path[2048];
	static const char *const names[] = {
	    "ws01.example.com", "ws01", "ws01.other.org", "ws011", "srv1.ws01.example.com", "ws02"};
	size_t i, n = 99;

	fx_open(&f, 3);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		mkrec(&r, names[i], "lapsadmin", 100, (unsigned)i + 1);
		CU_ASSERT_EQUAL_FATAL(ops->write(f.ctx, &r, NULL, &empty, &nv), 0);
		laps_record_clear(&r);
	}
	/* neither a file nor a hidden directory is a device */
	snprintf(path, sizeof(path), "%s/ws01.junk", f.dir);
	CU_ASSERT_EQUAL(laps_test_write_file(path, "x", 0600), 0);
	snprintf(path, sizeof(path), "%s/.ws01", f.dir);
	CU_ASSERT_EQUAL(mkdir(path, 0700), 0);

	CU_ASSERT_EQUAL(ops->find(f.ctx, "WS01", devs, 8, &n), 0);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_STRING_EQUAL(devs[0], "ws01");
	CU_ASSERT_STRING_EQUAL(devs[1], "ws01.example.com");
	CU_ASSERT_STRING_EQUAL(devs[2], "ws01.other.org");
	/* an FQDN matches only itself */
	CU_ASSERT_EQUAL(ops->find(f.ctx, "WS01.Example.COM", devs, 8, &n), 0);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_STRING_EQUAL(devs[0], "ws01.example.com");
	/* max caps the answer (alphabetically first) */
	CU_ASSERT_EQUAL(ops->find(f.ctx, "ws01", devs, 2, &n), 0);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_STRING_EQUAL(devs[0], "ws01");
	CU_ASSERT_STRING_EQUAL(devs[1], "ws01.example.com");
	CU_ASSERT_EQUAL(ops->find(f.ctx, "nothere", devs, 8, &n), 0);
	CU_ASSERT_EQUAL(n, 0);
	fx_close(&f);
}

static void
test_modes(void)
{
	struct fixture f;
	struct laps_record a, b;
	struct laps_version empty = {""}, v1, v2;
	char path[2048];
	struct stat st;
	mode_t old = umask(0);

	fx_open(&f, 3);
	mkrec(&a, "ws01", "lapsadmin", 1000, 1);
	mkrec(&b, "ws01", "lapsadmin", 2000, 2);
	CU_ASSERT_EQUAL_FATAL(ops->write(f.ctx, &a, NULL, &empty, &v1), 0);
	CU_ASSERT_EQUAL_FATAL(ops->write(f.ctx, &b, NULL, &v1, &v2), 0);
	umask(old);
	CU_ASSERT_EQUAL(stat(f.dir, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0700);
	snprintf(path, sizeof(path), "%s/ws01", f.dir);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0700);
	snprintf(path, sizeof(path), "%s/ws01/lapsadmin.json", f.dir);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	snprintf(path, sizeof(path), "%s/ws01/.lock", f.dir);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	snprintf(path, sizeof(path), "%s/ws01/lapsadmin.history", f.dir);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0700);
	snprintf(path, sizeof(path), "%s/ws01/lapsadmin.history/%020lld-%s.json", f.dir,
		 (long long)a.rotated_at, a.rotation_id);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	laps_record_clear(&a);
	laps_record_clear(&b);
	fx_close(&f);
}

static void
test_corrupt(void)
{
	struct fixture f;
	struct laps_record a, got;
	struct laps_version empty = {""}, v1, rv;
	struct laps_record_list h = {NULL, 0};
	char path[2048], hist[2300];

	fx_open(&f, 3);
	laps_record_init(&got);
	mkrec(&a, "ws01", "lapsadmin", 1000, 1);
	CU_ASSERT_EQUAL_FATAL(ops->write(f.ctx, &a, NULL, &empty, &v1), 0);
	snprintf(path, sizeof(path), "%s/ws01/lapsadmin.json", f.dir);
	CU_ASSERT_EQUAL_FATAL(laps_test_write_file(path, "{\"v\":1,\"device\":", 0600), 0);
	laps_clearerr();
	CU_ASSERT_EQUAL(ops->read(f.ctx, "ws01", "lapsadmin", &got, &rv), LAPS_ERR_FORMAT);
	CU_ASSERT(strstr(laps_errdetail(), path) != NULL);
	CU_ASSERT_STRING_EQUAL(rv.tag, "");
	/* a corrupt current record blocks writes: nobody can hold its tag */
	CU_ASSERT_EQUAL(ops->write(f.ctx, &a, NULL, &v1, &rv), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(ops->write(f.ctx, &a, NULL, &empty, &rv), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(ops->confirm(f.ctx, "ws01", "lapsadmin", a.rotation_id, 1),
			LAPS_ERR_FORMAT);

	/* a valid record filed under the wrong account */
	mkrec(&got, "ws01", "someoneelse", 1000, 1);
	{
		char *json = NULL;

		CU_ASSERT_EQUAL_FATAL(laps_record_serialise(&got, &json), 0);
		CU_ASSERT_EQUAL_FATAL(laps_test_write_file(path, json, 0600), 0);
		free(json);
	}
	laps_record_clear(&got);
	CU_ASSERT_EQUAL(ops->read(f.ctx, "ws01", "lapsadmin", &got, &rv), LAPS_ERR_FORMAT);
	CU_ASSERT(strstr(laps_errdetail(), "someoneelse") != NULL);

	/* a corrupt history file is reported by history(), naming it */
	snprintf(hist, sizeof(hist), "%s/ws01/lapsadmin.history", f.dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(hist, 0700), 0);
	snprintf(hist, sizeof(hist), "%s/ws01/lapsadmin.history/bad.json", f.dir);
	CU_ASSERT_EQUAL_FATAL(laps_test_write_file(hist, "[]", 0600), 0);
	CU_ASSERT_EQUAL(ops->history(f.ctx, "ws01", "lapsadmin", 5, &h), LAPS_ERR_FORMAT);
	CU_ASSERT(strstr(laps_errdetail(), "bad.json") != NULL);
	CU_ASSERT_EQUAL(h.n, 0);

	laps_record_clear(&a);
	laps_record_clear(&got);
	fx_close(&f);
}

/* Issue 16.3: host2's record file copied into host1's place is refused by
 * laps_backend_read/history (as laps-get and the agent call them), with an
 * error naming what was found — never returned as host1's. */
static void
test_moved_record(void)
{
	struct fixture f;
	struct laps_backend *b = NULL;
	struct laps_record a, got;
	struct laps_version empty = {""}, v1, rv;
	struct laps_record_list h = {NULL, 0};
	char src[2048], dst[2048], hist[2300];
	char *bytes;

	fx_open(&f, 3);
	laps_record_init(&got);
	CU_ASSERT_EQUAL_FATAL(laps_backend_open(ops, &f.cfg, LAPS_ROLE_ADMIN, NULL, &b), 0);
	mkrec(&a, "host1", "lapsadmin", 1000, 1);
	CU_ASSERT_EQUAL_FATAL(laps_backend_write(b, &a, NULL, &empty, &v1), 0);
	laps_record_clear(&a);
	mkrec(&a, "host2", "lapsadmin", 2000, 2);
	CU_ASSERT_EQUAL_FATAL(laps_backend_write(b, &a, NULL, &empty, &v1), 0);

	snprintf(src, sizeof(src), "%s/host2/lapsadmin.json", f.dir);
	snprintf(dst, sizeof(dst), "%s/host1/lapsadmin.json", f.dir);
	CU_ASSERT_FATAL((bytes = slurp(src)) != NULL);
	CU_ASSERT_EQUAL_FATAL(laps_test_write_file(dst, bytes, 0600), 0);
	laps_clearerr();
	CU_ASSERT_EQUAL(laps_backend_read(b, "HOST1", "lapsadmin", &got, &rv), LAPS_ERR_FORMAT);
	CU_ASSERT(strstr(laps_errdetail(), "host2/lapsadmin") != NULL);
	CU_ASSERT_STRING_EQUAL(got.device, "");
	CU_ASSERT_PTR_NULL(got.envelope);
	CU_ASSERT_STRING_EQUAL(rv.tag, "");
	/* host2 itself still reads */
	CU_ASSERT_EQUAL(laps_backend_read(b, "host2", "lapsadmin", &got, &rv), 0);
	CU_ASSERT_STRING_EQUAL(got.device, "host2");

	/* the same record as a history file of host1 */
	snprintf(hist, sizeof(hist), "%s/host1/lapsadmin.history", f.dir);
	(void)mkdir(hist, 0700);
	snprintf(hist, sizeof(hist), "%s/host1/lapsadmin.history/00000000000000002000-x.json",
		 f.dir);
	CU_ASSERT_EQUAL_FATAL(laps_test_write_file(hist, bytes, 0600), 0);
	CU_ASSERT_EQUAL(laps_backend_history(b, "host1", "lapsadmin", 5, &h), LAPS_ERR_FORMAT);
	CU_ASSERT(strstr(laps_errdetail(), "host2/lapsadmin") != NULL);
	CU_ASSERT_EQUAL(h.n, 0);

	laps_backend_close(b);
	laps_record_clear(&a);
	laps_record_clear(&got);
	fx_close(&f);
}

/* docs/FORMAT.md 1.6: seq strictly increases; history and trimming go by
 * seq, not by the clock (two rotations in one second, a clock stepped back). */
static void
test_seq_order(void)
{
	struct fixture f;
	struct laps_record r;
	struct laps_version v = {""}, nv;
	struct laps_record_list h = {NULL, 0};
	static const int64_t t[] = {5000, 5000, 4000, 4000}; /* clock goes back */
	size_t i;

	fx_open(&f, 2);
	for (i = 0; i < 4; i++) {
		mkrec(&r, "ws01", "lapsadmin", t[i], (unsigned)i + 1);
		r.seq = i + 1;
		CU_ASSERT_EQUAL_FATAL(ops->write(f.ctx, &r, NULL, &v, &nv), 0);
		v = nv;
		laps_record_clear(&r);
	}
	/* current seq 4; history keeps the 2 newest by seq: 3 then 2 */
	CU_ASSERT_EQUAL(ops->history(f.ctx, "ws01", "lapsadmin", 10, &h), 0);
	laps_record_list_sort(&h);
	CU_ASSERT_EQUAL_FATAL(h.n, 2);
	CU_ASSERT_EQUAL(h.v[0].seq, 3);
	CU_ASSERT_EQUAL(h.v[1].seq, 2);
	laps_record_list_free(&h);
	/* a seq not above the current one is refused, even with the right tag */
	mkrec(&r, "ws01", "lapsadmin", 9000, 9);
	r.seq = 4;
	CU_ASSERT_EQUAL(ops->write(f.ctx, &r, NULL, &v, &nv), LAPS_ERR_CONFLICT);
	CU_ASSERT(strstr(laps_errdetail(), "seq 4") != NULL);
	r.seq = 0; /* going back to format 1 */
	CU_ASSERT_EQUAL(ops->write(f.ctx, &r, NULL, &v, &nv), LAPS_ERR_CONFLICT);
	r.seq = 5;
	CU_ASSERT_EQUAL(ops->write(f.ctx, &r, NULL, &v, &nv), 0);
	laps_record_clear(&r);
	fx_close(&f);
}

static void
test_bad_names(void)
{
	struct fixture f;
	struct laps_record got, r;
	struct laps_version rv, empty = {""};
	struct laps_record_list h = {NULL, 0};

	fx_open(&f, 3);
	laps_record_init(&got);
	CU_ASSERT_EQUAL(ops->read(f.ctx, "..", "lapsadmin", &got, &rv), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(ops->read(f.ctx, "a/b", "lapsadmin", &got, &rv), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(ops->read(f.ctx, ".hidden", "lapsadmin", &got, &rv), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(ops->read(f.ctx, "ws01", "../x", &got, &rv), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(ops->read(f.ctx, "ws01", ".lock", &got, &rv), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(ops->history(f.ctx, "ws01", "a/b", 1, &h), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(ops->set_expiry(f.ctx, "../ws01", "lapsadmin", 1), LAPS_ERR_INVALID);
	/* the record's own names are validated too */
	mkrec(&r, "ws01", "lapsadmin", 1, 1);
	snprintf(r.device, sizeof(r.device), "../../etc");
	CU_ASSERT_EQUAL(ops->write(f.ctx, &r, NULL, &empty, &rv), LAPS_ERR_FORMAT);
	laps_record_clear(&r);
	fx_close(&f);
}

/* Through the generic wrappers of escrow/backend.h. */
static void
test_via_wrappers(void)
{
	struct laps_conf cfg;
	struct laps_backend *b = NULL;
	struct laps_record r, got;
	struct laps_version empty = {""}, v1, rv;
	char dir[1024];

	CU_ASSERT_FATAL(laps_conf_init(&cfg, &file_schema) == 0);
	snprintf(dir, sizeof(dir), "%s/escrow", laps_test_tmpdir());
	CU_ASSERT_FATAL(laps_conf_set_string(&laps_file_conf(&cfg)->dir, dir) == 0);
	laps_escrow_conf(&cfg)->history = 2;
	CU_ASSERT_EQUAL_FATAL(
	    laps_backend_open(laps_backend_lookup("file"), &cfg, LAPS_ROLE_AGENT, NULL, &b), 0);
	laps_record_init(&got);
	mkrec(&r, "host", "lapsadmin", 10, 1);
	CU_ASSERT_EQUAL(laps_backend_write(b, &r, NULL, &empty, &v1), 0);
	CU_ASSERT_EQUAL(laps_backend_read(b, "HOST", "lapsadmin", &got, &rv), 0);
	CU_ASSERT_STRING_EQUAL(rv.tag, v1.tag);
	CU_ASSERT_EQUAL(laps_backend_confirm(b, "Host", "lapsadmin", r.rotation_id, 99), 0);
	laps_backend_close(b);
	laps_record_clear(&r);
	laps_record_clear(&got);
	*strrchr(dir, '/') = '\0';
	laps_test_rmrf(dir);
	laps_conf_free(&cfg);
}

/* The report slot: one row per account, a "never" row per empty device
 * entry, metadata only; the callback's error stops the walk. */
struct report_seen {
	int rows, never, stop_after;
	int64_t rotated_web1;
	uint64_t seq_web1;
	enum laps_record_state state_web1;
};

static int
report_cb(void *arg, const struct laps_report_row *row)
{
	struct report_seen *s = arg;

	s->rows++;
	if (!row->has_record) {
		s->never++;
		CU_ASSERT_STRING_EQUAL(row->account, "");
	}
	if (strcmp(row->device, "web1") == 0 && strcmp(row->account, "lapsadmin") == 0) {
		s->rotated_web1 = row->rotated_at;
		s->state_web1 = row->state;
		s->seq_web1 = row->seq;
	} else {
		CU_ASSERT_EQUAL(row->seq, 0); /* version 1 records have none */
	}
	return s->stop_after > 0 && s->rows == s->stop_after ? LAPS_ERR_IO : 0;
}

static void
test_report(void)
{
	struct laps_conf cfg;
	struct laps_backend *b = NULL;
	struct laps_record r;
	struct laps_version empty = {""}, v;
	struct report_seen seen;
	char dir[1024], path[1100];

	CU_ASSERT_FATAL(laps_conf_init(&cfg, &file_schema) == 0);
	snprintf(dir, sizeof(dir), "%s/escrow", laps_test_tmpdir());
	CU_ASSERT_FATAL(laps_conf_set_string(&laps_file_conf(&cfg)->dir, dir) == 0);
	laps_escrow_conf(&cfg)->history = 2;
	CU_ASSERT_EQUAL_FATAL(
	    laps_backend_open(laps_backend_lookup("file"), &cfg, LAPS_ROLE_ADMIN, NULL, &b), 0);
	CU_ASSERT(laps_backend_caps(b) & LAPS_BCAP_REPORT);
	mkrec(&r, "web1", "lapsadmin", 1000, 1);
	r.seq = 7;
	CU_ASSERT_EQUAL(laps_backend_write(b, &r, NULL, &empty, &v), 0);
	laps_record_clear(&r);
	mkrec(&r, "web1", "root", 2000, 1);
	CU_ASSERT_EQUAL(laps_backend_write(b, &r, NULL, &empty, &v), 0);
	laps_record_clear(&r);
	mkrec(&r, "db1", "lapsadmin", 3000, 1);
	CU_ASSERT_EQUAL(laps_backend_write(b, &r, NULL, &empty, &v), 0);
	laps_record_clear(&r);
	snprintf(path, sizeof(path), "%s/empty1", dir);
	CU_ASSERT_EQUAL(mkdir(path, 0700), 0);

	memset(&seen, 0, sizeof(seen));
	CU_ASSERT_EQUAL(laps_backend_report(b, report_cb, &seen), 0);
	CU_ASSERT_EQUAL(seen.rows, 4);
	CU_ASSERT_EQUAL(seen.never, 1);
	CU_ASSERT_EQUAL(seen.rotated_web1, 1000);
	CU_ASSERT_EQUAL(seen.state_web1, LAPS_STATE_PENDING);
	CU_ASSERT_EQUAL(seen.seq_web1, 7);

	memset(&seen, 0, sizeof(seen));
	seen.stop_after = 2;
	CU_ASSERT_EQUAL(laps_backend_report(b, report_cb, &seen), LAPS_ERR_IO);
	CU_ASSERT_EQUAL(seen.rows, 2);
	CU_ASSERT_EQUAL(laps_backend_report(b, NULL, &seen), LAPS_ERR_INVALID);
	laps_backend_close(b);
	*strrchr(dir, '/') = '\0';
	laps_test_rmrf(dir);
	laps_conf_free(&cfg);
}

/*
 * N processes each loop: read, then write a new record with the tag they
 * read.  Every success is recorded; afterwards history + current must hold
 * exactly the successful rotations (no lost update, no duplicate).
 */
#define WRITERS 4
#define ROUNDS 25

static int
writer_child(struct fixture *f, unsigned id, const char *logpath)
{
	struct laps_record r, cur;
	struct laps_version ver, nv;
	FILE *log;
	unsigned i;
	int rc, ok = 0;

	if ((log = fopen(logpath, "w")) == NULL)
		return 99;
	laps_record_init(&cur);
	for (i = 0; i < ROUNDS; i++) {
		rc = ops->read(f->ctx, "ws01", "lapsadmin", &cur, &ver);
		if (rc != 0 && rc != LAPS_ERR_NOTFOUND) {
			fclose(log);
			return 98;
		}
		laps_record_clear(&cur);
		mkrec(&r, "ws01", "lapsadmin", 1000 + (int64_t)(id * ROUNDS + i), id * ROUNDS + i);
		rc = ops->write(f->ctx, &r, NULL, &ver, &nv);
		if (rc == 0) {
			fprintf(log, "%s\n", r.rotation_id);
			ok++;
		} else if (rc != LAPS_ERR_CONFLICT) {
			fclose(log);
			laps_record_clear(&r);
			return 97;
		}
		laps_record_clear(&r);
	}
	fclose(log);
	return 0;
}

static void
test_concurrent_writers(void)
{
	struct fixture f;
	struct laps_record cur;
	struct laps_version ver;
	struct laps_record_list h = {NULL, 0};
	char logs[WRITERS][2048], ids[WRITERS * ROUNDS][LAPS_ROTID_HEX + 1], line[128];
	pid_t pids[WRITERS];
	size_t nids = 0, i, j, found;
	int status;
	unsigned w;
	FILE *fp;

	fx_open(&f, 100);
	laps_record_init(&cur);
	fflush(NULL);
	for (w = 0; w < WRITERS; w++) {
		snprintf(logs[w], sizeof(logs[w]), "%s/writer%u.log", f.dir, w);
		pids[w] = fork();
		CU_ASSERT_FATAL(pids[w] >= 0);
		if (pids[w] == 0)
			_exit(writer_child(&f, w, logs[w]));
	}
	for (w = 0; w < WRITERS; w++) {
		CU_ASSERT_EQUAL(waitpid(pids[w], &status, 0), pids[w]);
		CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	for (w = 0; w < WRITERS; w++) {
		fp = fopen(logs[w], "r");
		CU_ASSERT_FATAL(fp != NULL);
		while (fgets(line, sizeof(line), fp) != NULL && nids < WRITERS * ROUNDS) {
			line[strcspn(line, "\n")] = '\0';
			CU_ASSERT_EQUAL_FATAL(strlen(line), LAPS_ROTID_HEX);
			memcpy(ids[nids++], line, LAPS_ROTID_HEX + 1);
		}
		fclose(fp);
	}
	CU_ASSERT(nids >= 1);
	CU_ASSERT_EQUAL_FATAL(ops->read(f.ctx, "ws01", "lapsadmin", &cur, &ver), 0);
	CU_ASSERT_EQUAL_FATAL(ops->history(f.ctx, "ws01", "lapsadmin", 1000, &h), 0);
	/* successes == history entries + 1 (the first write created) */
	CU_ASSERT_EQUAL(nids, h.n + 1);
	/* and they are the same rotations, each exactly once */
	for (i = 0; i < nids; i++) {
		found = strcmp(cur.rotation_id, ids[i]) == 0;
		for (j = 0; j < h.n; j++)
			found += strcmp(h.v[j].rotation_id, ids[i]) == 0;
		CU_ASSERT_EQUAL(found, 1);
	}
	fprintf(stderr, "[%zu of %d concurrent writes succeeded] ", nids, WRITERS * ROUNDS);
	laps_record_list_free(&h);
	laps_record_clear(&cur);
	fx_close(&f);
}

static CU_TestInfo file_tests[] = {
    {"registry", test_registry},
    {"open", test_open},
    {"compare-and-set", test_cas},
    {"rewrite of the same rotation", test_rewrite_same_rotation},
    {"history order and trimming", test_history_order_and_trim},
    {"history ordered by content", test_history_names_do_not_matter},
    {"history 0", test_history_zero},
    {"confirm and set_expiry", test_confirm_and_expiry},
    {"find", test_find},
    {"file and directory modes", test_modes},
    {"corrupt files", test_corrupt},
    {"a record moved from another device is refused", test_moved_record},
    {"seq increases; history ordered by seq", test_seq_order},
    {"invalid names", test_bad_names},
    {"generic wrappers", test_via_wrappers},
    {"report", test_report},
    {"concurrent writers", test_concurrent_writers},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"file backend", NULL, NULL, NULL, NULL, file_tests},
    CU_SUITE_INFO_NULL,
};

int
main(int argc, char **argv)
{
	laps_test_random_deterministic(2);
	if (laps_crypto_init() != 0)
		return 99;
	return laps_test_main(argc, argv, suites);
}
