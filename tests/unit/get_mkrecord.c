/*
 * get_mkrecord.c — test helper for the laps-get integration tests: escrows a
 * password through the backend API the way the agent does (seal to the
 * configured recipients, write with compare-and-set, optionally confirm).
 *
 *   get_mkrecord -c CONF -d DEVICE -a ACCOUNT [-s pending|confirmed]
 *                [-r ROTATED] [-e EXPIRES] [--tamper] < password
 *   get_mkrecord -c CONF -d DEVICE -a ACCOUNT --show-expiry
 *
 * Exit 0 on success, 1 on usage errors, 2 on any failure (message on stderr).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backends/registry.h"
#include "escrow/backend.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/keys.h"
#include "escrow/seal.h"
#include "escrow/secret.h"
#include "escrow/escrow_conf.h"
#include "agent/agent_conf.h"
#include "backends/backend_conf.h"

/* Everything laps.conf holds for the agent; [laps-get] is laps-get's. */
static const char *const foreign[] = {"laps-get", NULL};
static const struct laps_conf_schema test_schema = {
    {laps_agent_sections, laps_escrow_sections, laps_backend_sections}, foreign, 0};

static int
die(int rc, const char *what)
{
	char buf[1024];

	fprintf(stderr, "get_mkrecord: %s: %s\n", what, laps_errstr(rc, buf, sizeof buf));
	return 2;
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"tamper", no_argument, NULL, 'T'},
	    {"show-expiry", no_argument, NULL, 'X'},
	    {NULL, 0, NULL, 0},
	};
	const char *conf = NULL, *device = NULL, *account = NULL, *state = "confirmed";
	long long rotated = (long long)time(NULL), expires = -1;
	bool tamper = false, show = false;
	struct laps_conf cfg;
	struct laps_pubkey keys[LAPS_MAX_RECIPIENTS];
	struct laps_record rec, cur;
	struct laps_version ver, nv;
	struct laps_seal_ad ad;
	struct laps_backend *b = NULL;
	const struct laps_backend_ops *ops;
	char pw[LAPS_PASSWORD_MAX + 2];
	size_t nkeys = 0, i;
	ssize_t n;
	int c, rc, ret = 2;

	while ((c = getopt_long(argc, argv, "c:d:a:s:r:e:", lopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			conf = optarg;
			break;
		case 'd':
			device = optarg;
			break;
		case 'a':
			account = optarg;
			break;
		case 's':
			state = optarg;
			break;
		case 'r':
			if (laps_parse_int64(optarg, 1, INT64_MAX / 2, &rotated) != 0)
				return 1;
			break;
		case 'e':
			if (laps_parse_int64(optarg, 0, INT64_MAX / 2, &expires) != 0)
				return 1;
			break;
		case 'T':
			tamper = true;
			break;
		case 'X':
			show = true;
			break;
		default:
			return 1;
		}
	}
	if (conf == NULL || device == NULL || account == NULL)
		return 1;
	if (laps_crypto_init() != 0 || laps_conf_init(&cfg, &test_schema) != 0)
		return 2;
	laps_record_init(&rec);
	laps_record_init(&cur);
	if ((rc = laps_conf_load(&cfg, conf, LAPS_CONFIG_NO_OWNER)) != 0) {
		ret = die(rc, conf);
		goto out;
	}
	if ((ops = laps_backend_lookup(laps_escrow_conf(&cfg)->backend)) == NULL) {
		fprintf(stderr, "get_mkrecord: unknown backend %s\n",
			laps_escrow_conf(&cfg)->backend);
		goto out;
	}
	if ((rc = laps_backend_open(ops, &cfg, LAPS_ROLE_AGENT, NULL, &b)) != 0) {
		ret = die(rc, "open");
		goto out;
	}
	rc = laps_backend_read(b, device, account, &cur, &ver);
	if (rc == LAPS_ERR_NOTFOUND) {
		ver.tag[0] = '\0';
	} else if (rc != 0) {
		ret = die(rc, "read");
		goto out;
	}
	if (show) {
		if (rc != 0) {
			ret = die(rc, "read");
			goto out;
		}
		printf("%lld\n", (long long)cur.expires_at);
		ret = 0;
		goto out;
	}
	for (i = 0; i < laps_escrow_conf(&cfg)->n_recipients; i++) {
		if ((rc = laps_pubkey_load_file(laps_escrow_conf(&cfg)->recipients[i], keys,
						LAPS_MAX_RECIPIENTS, &nkeys)) != 0) {
			ret = die(rc, "recipients");
			goto out;
		}
	}
	n = read(0, pw, sizeof pw - 1);
	if (n <= 0) {
		fprintf(stderr, "get_mkrecord: no password on stdin\n");
		goto out;
	}
	pw[n] = '\0';
	pw[strcspn(pw, "\n")] = '\0';

	(void)snprintf(rec.device, sizeof rec.device, "%s", device);
	laps_hostname_lower(rec.device);
	(void)snprintf(rec.account, sizeof rec.account, "%s", account);
	rec.uid = 1000;
	laps_record_new_rotation_id(rec.rotation_id);
	rec.rotated_at = rotated;
	rec.expires_at = expires >= 0 ? expires : rotated + 30 * 86400;
	rec.state = LAPS_STATE_PENDING;
	if (nkeys > 0) {
		laps_seal_ad_from_record(&ad, &rec);
		if (tamper)
			ad.device = "some-other-host";
		if ((rc = laps_seal(keys, nkeys, &ad, pw, strlen(pw), &rec.envelope,
				    &rec.envelope_len)) != 0) {
			ret = die(rc, "seal");
			goto out;
		}
		for (i = 0; i < nkeys; i++)
			memcpy(rec.key_ids[i], keys[i].id, sizeof rec.key_ids[i]);
		rec.n_key_ids = nkeys;
	}
	if ((rc = laps_backend_write(b, &rec, pw, &ver, &nv)) != 0) {
		ret = die(rc, "write");
		goto out;
	}
	if (strcmp(state, "confirmed") == 0 &&
	    (rc = laps_backend_confirm(b, rec.device, account, rec.rotation_id, rec.expires_at)) !=
		0) {
		ret = die(rc, "confirm");
		goto out;
	}
	ret = 0;
out:
	laps_wipe(pw, sizeof pw);
	laps_record_clear(&rec);
	laps_record_clear(&cur);
	laps_backend_close(b);
	laps_conf_free(&cfg);
	return ret;
}
