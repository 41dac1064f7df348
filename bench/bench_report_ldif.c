/*
 * bench_report_ldif.c — the directory of bench/run-report.sh: N device
 * entries under ou=devices,dc=example,dc=test as LDIF for slapadd, with
 * records whose times are set so that every status of laps-get report
 * occurs, in a fixed proportion per ten devices:
 *
 *   i % 10   0-5: ok        confirmed, rotated 10 days ago, expires in 20 days
 *            6:   due       confirmed, expired an hour ago
 *            7:   overdue   confirmed, expired 10 days ago
 *            8:   stuck     pending since 2 days
 *            9:   never     a device entry without a record
 *
 * (with the default grace of one day).  -s laps writes real records: each
 * lapsCurrent value is serialised by libescrow with its password sealed to
 * the keys of -k (as the agent writes them), plus lapsRotationId.  -s
 * mslaps writes msLAPS-PasswordExpirationTime (tag and pending bit encoded
 * as the backend does) and a msLAPS-Password value.
 *
 *   bench_report_ldif -n N -s laps|mslaps [-k PUBKEYFILE] [-a ACCOUNT]
 *                     [-o OU] [-t NOW]
 *
 * Entries cn=rNNNNNNN,ou=OU,dc=example,dc=test (OU: devices by default; any
 * other OU's entry is written first).  Prints the LDIF on standard output and the
 * expected counts on standard error ("ok=.. due=.. overdue=.. stuck=..
 * never=.."); exit 0, 1 on a usage error, 2 on any other failure.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backends/ldap_backend.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/keys.h"
#include "escrow/record.h"
#include "escrow/seal.h"
#include "escrow/secret.h"

#define DAY 86400

enum kind { K_OK, K_DUE, K_OVERDUE, K_STUCK, K_NEVER, K_COUNT };
static const char *const kind_names[K_COUNT] = {"ok", "due", "overdue", "stuck", "never"};

struct gen {
	const char *schema, *account, *ou;
	struct laps_pubkey keys[LAPS_MAX_RECIPIENTS];
	size_t nkeys;
	int64_t now;
	unsigned long count[K_COUNT];
};

static enum kind
kind_of(unsigned long i)
{
	static const enum kind k[10] = {K_OK, K_OK,  K_OK,	K_OK,	 K_OK,
					K_OK, K_DUE, K_OVERDUE, K_STUCK, K_NEVER};
	return k[i % 10];
}

/* rotated, expires, pending for kind k */
static void
times_of(const struct gen *g, enum kind k, int64_t *rot, int64_t *exp, int *pending)
{
	*pending = 0;
	switch (k) {
	case K_DUE:
		*rot = g->now - 31 * DAY;
		*exp = g->now - 3600;
		break;
	case K_OVERDUE:
		*rot = g->now - 40 * DAY;
		*exp = g->now - 10 * DAY;
		break;
	case K_STUCK:
		*rot = g->now - 2 * DAY;
		*exp = g->now - 2 * DAY; /* mslaps: a pending expiry is the rotation time */
		*pending = 1;
		break;
	default:
		*rot = g->now - 10 * DAY;
		*exp = g->now + 20 * DAY;
		break;
	}
}

/* The lapsCurrent and lapsRotationId values of one record. */
static int
laps_values(const struct gen *g, const char *dev, enum kind k)
{
	struct laps_record r;
	struct laps_seal_ad ad;
	char *json = NULL;
	int pending, rc;

	laps_record_init(&r);
	(void)snprintf(r.device, sizeof r.device, "%s", dev);
	(void)snprintf(r.account, sizeof r.account, "%s", g->account);
	r.uid = 1001;
	r.seq = 7;
	laps_record_new_rotation_id(r.rotation_id);
	times_of(g, k, &r.rotated_at, &r.expires_at, &pending);
	if (pending)
		r.expires_at = r.rotated_at + 30 * DAY;
	r.state = pending ? LAPS_STATE_PENDING : LAPS_STATE_CONFIRMED;
	laps_seal_ad_from_record(&ad, &r);
	if ((rc = laps_seal(g->keys, g->nkeys, &ad, "Bench-Password-1", 16, &r.envelope,
			    &r.envelope_len)) != 0)
		goto out;
	for (size_t i = 0; i < g->nkeys; i++)
		memcpy(r.key_ids[i], g->keys[i].id, sizeof r.key_ids[i]);
	r.n_key_ids = g->nkeys;
	if ((rc = laps_record_serialise(&r, &json)) != 0)
		goto out;
	printf("lapsCurrent: %s\nlapsRotationId: %s:%s\n", json, r.account, r.rotation_id);
out:
	free(json);
	laps_record_clear(&r);
	return rc;
}

static void
mslaps_values(const struct gen *g, enum kind k)
{
	char rid[LAPS_ROTID_HEX + 1];
	int64_t rot, exp;
	int pending;

	times_of(g, k, &rot, &exp, &pending);
	laps_record_new_rotation_id(rid);
	printf("msLAPS-PasswordExpirationTime: %" PRIu64 "\n",
	       laps_ms_expiration_encode(exp, laps_ms_rotation_tag(rid), pending));
	printf("msLAPS-Password: {\"n\":\"%s\",\"t\":\"%" PRIx64 "\",\"p\":\"Bench-Password-1\"}\n",
	       g->account, ((uint64_t)rot + UINT64_C(11644473600)) * UINT64_C(10000000));
}

static int
entry(struct gen *g, unsigned long i)
{
	char dev[32];
	enum kind k = kind_of(i);
	bool laps = strcmp(g->schema, "laps") == 0;
	int rc = 0;

	(void)snprintf(dev, sizeof dev, "r%07lu", i);
	printf("dn: cn=%s,ou=%s,dc=example,dc=test\nobjectClass: device\n"
	       "objectClass: %s\ncn: %s\n",
	       dev, g->ou, laps ? "lapsDevice" : "lapsMsCompat", dev);
	if (!laps)
		printf("dNSHostName: %s.example.test\n", dev);
	if (k != K_NEVER) {
		if (laps)
			rc = laps_values(g, dev, k);
		else
			mslaps_values(g, k);
	}
	putchar('\n');
	g->count[k]++;
	return rc;
}

static int
usage(void)
{
	fprintf(stderr, "usage: bench_report_ldif -n N -s laps|mslaps [-k PUBKEYFILE] "
			"[-a ACCOUNT] [-o OU] [-t NOW]\n");
	return 1;
}

int
main(int argc, char **argv)
{
	struct gen g = {
	    .schema = NULL, .account = "lapsadmin", .ou = "devices", .now = (int64_t)time(NULL)};
	const char *keyfile = NULL;
	long long n = -1, t;
	int c, rc;

	while ((c = getopt(argc, argv, "n:s:k:a:o:t:")) != -1) {
		switch (c) {
		case 'n':
			if (laps_parse_int64(optarg, 1, 10000000, &n) != 0)
				return usage();
			break;
		case 's':
			g.schema = optarg;
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'a':
			g.account = optarg;
			break;
		case 'o':
			g.ou = optarg;
			break;
		case 't':
			if (laps_parse_int64(optarg, DAY * 100, INT64_MAX / 4, &t) != 0)
				return usage();
			g.now = t;
			break;
		default:
			return usage();
		}
	}
	if (n < 0 || g.schema == NULL ||
	    (strcmp(g.schema, "laps") != 0 && strcmp(g.schema, "mslaps") != 0) ||
	    (strcmp(g.schema, "laps") == 0 && keyfile == NULL))
		return usage();
	if (laps_crypto_init() != 0)
		return 2;
	if (keyfile != NULL &&
	    (rc = laps_pubkey_load_file(keyfile, g.keys, LAPS_MAX_RECIPIENTS, &g.nkeys)) != 0) {
		fprintf(stderr, "bench_report_ldif: %s: %s\n", keyfile, laps_errdetail());
		return 2;
	}
	if (strcmp(g.ou, "devices") != 0)
		printf("dn: ou=%s,dc=example,dc=test\nobjectClass: organizationalUnit\nou: %s\n\n",
		       g.ou, g.ou);
	for (long long i = 1; i <= n; i++) {
		if (entry(&g, (unsigned long)i) != 0) {
			fprintf(stderr, "bench_report_ldif: %s\n", laps_errdetail());
			return 2;
		}
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		return 2;
	for (c = 0; c < K_COUNT; c++)
		fprintf(stderr, "%s%s=%lu", c ? " " : "", kind_names[c], g.count[c]);
	fputc('\n', stderr);
	return 0;
}
