/*
 * test_agent_tool.c — helper for the agent's shell tests (not a test by
 * itself).  It plays the administrator, independently of the agent's code
 * paths for setting passwords:
 *
 *   keygen DIR                      DIR/admin.key (unprotected) + DIR/admin.pub
 *   check CONF KEY ACCOUNT [PASSDB] the invariant: decrypt the escrow (current
 *                                   record; if pending, current or previous)
 *                                   and check it against the account: crypt_r
 *                                   on <root>/etc/shadow (the hash behind a
 *                                   '!' lock prefix), or the pam_matrix
 *                                   passdb file when PASSDB is given.
 *                                   Prints "ok current|previous STATE".
 *   expire CONF ACCOUNT             backend set_expiry(now - 60) (laps-get's "expire now")
 *   tamper CONF ACCOUNT             replace the record by one with another rotation id
 *   show CONF ACCOUNT               "STATE ROTATION_ID EXPIRES_AT" or "none"
 *   marker CONF ACCOUNT OPENED      write a usage marker (pam_laps' format)
 *
 * Exit: 0 ok, 1 check failed, 2 usage/setup error.
 */
#include "config.h"

#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/account.h"
#include "backends/registry.h"
#include "escrow/backend.h"
#include "escrow/conf.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/keys.h"
#include "escrow/marker.h"
#include "escrow/record.h"
#include "escrow/seal.h"
#include "escrow/secret.h"
#include "agent/agent_conf.h"
#include "escrow/escrow_conf.h"
#include "backends/backend_conf.h"

/* Everything laps.conf holds for the agent. */
static const char *const foreign[] = {"laps-get", NULL};
static const struct laps_conf_schema test_schema = {
    {laps_agent_sections, laps_escrow_sections, laps_backend_sections}, foreign, 0};

static int
die(const char *what, int rc)
{
	char buf[512];

	fprintf(stderr, "test_agent_tool: %s: %s\n", what, laps_errstr(rc, buf, sizeof buf));
	return 2;
}

static int
load(const char *path, struct laps_conf *cfg, struct laps_backend **b, char *device)
{
	const struct laps_backend_ops *ops;
	int rc;

	if ((rc = laps_conf_init(cfg, &test_schema)) != 0 ||
	    (rc = laps_conf_load(cfg, path, LAPS_CONFIG_NO_OWNER)) != 0)
		return die("config", rc);
	if ((ops = laps_backend_lookup(laps_escrow_conf(cfg)->backend)) == NULL)
		return die("backend", LAPS_ERR_CONFIG);
	if ((rc = laps_backend_open(ops, cfg, LAPS_ROLE_ADMIN, NULL, b)) != 0)
		return die("backend open", rc);
	if (laps_escrow_conf(cfg)->device != NULL)
		snprintf(device, LAPS_DEVICE_MAX + 1, "%s", laps_escrow_conf(cfg)->device);
	else if ((rc = laps_device_name(device, LAPS_DEVICE_MAX + 1)) != 0)
		return die("device", rc);
	laps_hostname_lower(device);
	return 0;
}

static int
cmd_keygen(const char *dir)
{
	struct laps_privkey k;
	struct laps_pubkey pub;
	char path[4096], line[LAPS_PUBKEY_LINE_MAX + 2];
	size_t n;
	int rc;

	if ((rc = laps_key_generate(&k, "test admin")) != 0)
		return die("keygen", rc);
	snprintf(path, sizeof path, "%s/admin.key", dir);
	if ((rc = laps_privkey_save(&k, path, NULL)) != 0)
		return die("save", rc);
	laps_pubkey_from_privkey(&pub, &k);
	if ((rc = laps_pubkey_format(&pub, line, sizeof line - 1)) != 0)
		return die("format", rc);
	n = strlen(line); /* fits: formatted into sizeof - 1 */
	line[n] = '\n';
	line[n + 1] = '\0';
	snprintf(path, sizeof path, "%s/admin.pub", dir);
	if ((rc = laps_file_write_atomic(path, line, strlen(line), 0644)) != 0)
		return die("write pub", rc);
	laps_privkey_clear(&k);
	return 0;
}

/* Does password work for the account right now? */
static int
password_matches(const struct laps_conf *cfg, const char *account, const char *pw,
		 const char *passdb)
{
	struct laps_shadow_entry e;
	struct crypt_data *cd;
	char path[4200], *buf = NULL, *res, want[512];
	size_t len = 0;
	int ok = 0;

	if (passdb != NULL) {
		/* pam_matrix: "user:password:service" lines */
		if (laps_file_read(passdb, 1 << 16, 0, &buf, &len) != 0)
			return 0;
		snprintf(want, sizeof want, "%s:%s:", account, pw);
		ok = strncmp(buf, want, strlen(want)) == 0 ||
		     (strstr(buf, want) != NULL && strstr(buf, want)[-1] == '\n');
		laps_freezero(buf, len);
		return ok;
	}
	if (laps_root_path(laps_agent_conf(cfg)->root, "/etc/shadow", path, sizeof path) != 0 ||
	    laps_file_read(path, 1 << 24, 0, &buf, &len) != 0)
		return 0;
	if (laps_shadow_find(buf, len, account, &e) == 0 && (cd = calloc(1, sizeof *cd)) != NULL) {
		/* the hash behind any lock prefix ('!' of usermod -L) */
		const char *h = e.hash + strspn(e.hash, "!");

		res = crypt_r(pw, h, cd);
		ok = res != NULL && strcmp(res, h) == 0;
		laps_freezero(cd, sizeof *cd);
	}
	free(buf);
	return ok;
}

static int
open_record(const struct laps_privkey *k, const struct laps_record *r, char **pw)
{
	struct laps_seal_ad ad;
	size_t n;

	if (r->password != NULL) /* clear-text and encrypted Windows LAPS modes */
		return (*pw = laps_secret_strdup(r->password)) != NULL ? 0 : LAPS_ERR_NOMEM;
	laps_seal_ad_from_record(&ad, r);
	return laps_seal_open(k, &ad, r->envelope, r->envelope_len, pw, &n);
}

static int
cmd_check(const char *conf, const char *keyfile, const char *account, const char *passdb)
{
	struct laps_conf cfg;
	struct laps_backend *b = NULL;
	struct laps_privkey k;
	struct laps_record cur;
	struct laps_record_list hist = {NULL, 0};
	struct laps_version ver;
	char device[LAPS_DEVICE_MAX + 1], *pw = NULL;
	size_t i;
	int rc, ret = 1;

	if ((rc = load(conf, &cfg, &b, device)) != 0)
		return rc;
	if ((rc = laps_privkey_load(keyfile, NULL, &k)) != 0)
		return die("key", rc);
	laps_record_init(&cur);
	if ((rc = laps_backend_read(b, device, account, &cur, &ver)) != 0) {
		printf("FAIL no record: %s\n", laps_strerror(rc));
		goto out;
	}
	if ((rc = open_record(&k, &cur, &pw)) == 0 && password_matches(&cfg, account, pw, passdb)) {
		printf("ok current %s\n", laps_record_state_name(cur.state));
		ret = 0;
		goto out;
	}
	laps_secret_free(pw);
	pw = NULL;
	if (cur.state != LAPS_STATE_PENDING) {
		printf("FAIL current confirmed record does not match the account (%s)\n",
		       rc == 0 ? "mismatch" : laps_strerror(rc));
		goto out;
	}
	if ((rc = laps_backend_history(b, device, account, 10, &hist)) != 0 || hist.n == 0) {
		printf("FAIL pending record does not match and no history\n");
		goto out;
	}
	/* "previous" = the newest history entry; rotations within the same
	 * second tie on rotated_at, so accept any entry of that second */
	for (i = 0; i < hist.n && hist.v[i].rotated_at == hist.v[0].rotated_at; i++) {
		if ((rc = open_record(&k, &hist.v[i], &pw)) == 0 &&
		    password_matches(&cfg, account, pw, passdb)) {
			printf("ok previous pending\n");
			ret = 0;
			goto out;
		}
		laps_secret_free(pw);
		pw = NULL;
	}
	printf("FAIL neither the pending record nor the previous one matches\n");
out:
	laps_secret_free(pw);
	laps_record_list_free(&hist);
	laps_record_clear(&cur);
	laps_privkey_clear(&k);
	laps_backend_close(b);
	laps_conf_free(&cfg);
	return ret;
}

static int
cmd_simple(const char *what, const char *conf, const char *account, const char *arg)
{
	struct laps_conf cfg;
	struct laps_backend *b = NULL;
	struct laps_record cur;
	struct laps_version ver, nv;
	struct laps_marker m;
	char device[LAPS_DEVICE_MAX + 1], path[4200];
	long long opened;
	int rc, ret = 2;

	if ((rc = load(conf, &cfg, &b, device)) != 0)
		return rc;
	laps_record_init(&cur);
	if (strcmp(what, "expire") == 0) {
		if ((rc = laps_backend_set_expiry(b, device, account, (int64_t)time(NULL) - 60)) !=
		    0)
			die("set_expiry", rc);
		else
			ret = 0;
	} else if (strcmp(what, "show") == 0) {
		rc = laps_backend_read(b, device, account, &cur, &ver);
		if (rc == LAPS_ERR_NOTFOUND) {
			printf("none\n");
			ret = 0;
		} else if (rc != 0) {
			die("read", rc);
		} else {
			printf("%s %s %lld\n", laps_record_state_name(cur.state), cur.rotation_id,
			       (long long)cur.expires_at);
			ret = 0;
		}
	} else if (strcmp(what, "tamper") == 0) {
		if ((rc = laps_backend_read(b, device, account, &cur, &ver)) != 0) {
			die("read", rc);
		} else {
			laps_record_new_rotation_id(cur.rotation_id);
			cur.rotated_at += 1;
			cur.seq += 1; /* a writer of format 2 (docs/FORMAT.md 1.6) */
			if ((rc = laps_backend_write(b, &cur, NULL, &ver, &nv)) != 0)
				die("write", rc);
			else if ((rc = laps_backend_confirm(b, device, account, cur.rotation_id,
							    cur.expires_at)) != 0)
				die("confirm", rc);
			else
				ret = 0;
		}
	} else if (strcmp(what, "marker") == 0 && arg != NULL &&
		   laps_parse_int64(arg, 1, 1LL << 40, &opened) == 0) {
		memset(&m, 0, sizeof m);
		snprintf(m.account, sizeof m.account, "%s", account);
		m.uid = 1001;
		m.opened = opened;
		m.closed = opened + 1;
		snprintf(m.service, sizeof m.service, "sshd");
		snprintf(m.ruser, sizeof m.ruser, "alice");
		snprintf(m.rhost, sizeof m.rhost, "192.0.2.7");
		snprintf(m.tty, sizeof m.tty, "pts/0");
		snprintf(path, sizeof path, "%s/used", laps_agent_conf(&cfg)->state_dir);
		if ((rc = laps_mkdir_p(path, 0700)) != 0 ||
		    (rc = laps_marker_path(laps_agent_conf(&cfg)->state_dir, account, path,
					   sizeof path)) != 0 ||
		    (rc = laps_marker_store(path, &m)) != 0)
			die("marker", rc);
		else
			ret = 0;
	} else {
		fprintf(stderr, "test_agent_tool: bad command\n");
	}
	laps_record_clear(&cur);
	laps_backend_close(b);
	laps_conf_free(&cfg);
	return ret;
}

int
main(int argc, char **argv)
{
	if (laps_crypto_init() != 0)
		return 2;
	if (argc == 3 && strcmp(argv[1], "keygen") == 0)
		return cmd_keygen(argv[2]);
	if ((argc == 5 || argc == 6) && strcmp(argv[1], "check") == 0)
		return cmd_check(argv[2], argv[3], argv[4], argc == 6 ? argv[5] : NULL);
	if (argc == 4 || argc == 5)
		return cmd_simple(argv[1], argv[2], argv[3], argc == 5 ? argv[4] : NULL);
	fprintf(stderr, "usage: test_agent_tool keygen DIR | check CONF KEY ACCOUNT [PASSDB] | "
			"expire|show|tamper CONF ACCOUNT | marker CONF ACCOUNT OPENED\n");
	return 2;
}
