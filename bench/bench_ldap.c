/*
 * bench_ldap.c — rotation throughput of the LDAP backend against one slapd.
 *
 * Run through bench/run-ldap.sh, which starts a throw-away slapd with N
 * bulk device entries (tests/integration/lib/slapd.sh --devices N) and
 * exports its variables.  C worker processes each rotate random devices
 * through the backend code (read + compare-and-set write + confirm), with
 * their own connection; a lost compare-and-set is retried.  At the end
 * every device's chain of writes is checked: each successful write must
 * have replaced exactly the record before it (no two writes from the same
 * version = no lost update), and the directory must hold the last one.
 *
 *   bench_ldap [-n devices] [-c concurrency] [-r rotations per worker]
 *              [-m agent|pooled] [-s schema] [-R read cycles]
 *
 * -m pooled (default): one StartTLS connection per worker, bound as the
 *    rootdn (measures the directory path).  -m agent: every rotation
 *    connects, binds as the device itself and disconnects, like one
 *    laps-agent run.  -R: also time N no-op read cycles (connect + StartTLS
 *    + bind as a device + read + unbind), the cost of an agent run that
 *    finds nothing due.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backends/ldap_backend.h"
#include "escrow/backend.h"
#include "escrow/conf.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/record.h"
#include "escrow/secret.h"
#include "agent/agent_conf.h"
#include "backends/ldap_conf.h"
#include "escrow/escrow_conf.h"
#include "backends/backend_conf.h"

/* Everything laps.conf holds for the agent. */
static const struct laps_conf_schema test_schema = {
    {laps_agent_sections, laps_escrow_sections, laps_backend_sections}, NULL, 0};

/* The backend env of a test configuration ([agent] accounts, state_dir). */
static const struct laps_backend_env *
test_env(const struct laps_conf *c)
{
	static __thread struct laps_backend_env env;

	laps_agent_backend_env(c, &env);
	return &env;
}

struct opts {
	unsigned devices, workers, rotations, read_cycles;
	bool agent_mode;
	enum laps_ldap_schema schema;
};

static const char *
env(const char *n)
{
	const char *v = getenv(n);

	return v ? v : "";
}

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
mkcfg(struct laps_conf *cfg, const struct opts *o, const char *device)
{
	char dn[256];

	if (laps_conf_init(cfg, &test_schema) != 0)
		return -1;
	laps_ldap_conf(cfg)->uri[0] = strdup(env("LDAP_URI"));
	laps_ldap_conf(cfg)->n_uri = 1;
	laps_ldap_conf(cfg)->tls = LAPS_TLS_STARTTLS;
	laps_ldap_conf(cfg)->ca_file = strdup(env("LDAP_CA"));
	laps_ldap_conf(cfg)->bind = LAPS_BIND_SIMPLE;
	if (device != NULL) {
		(void)snprintf(dn, sizeof(dn), "cn=%s,%s", device, env("LDAP_DEVICES_BASE"));
		laps_ldap_conf(cfg)->bind_dn = strdup(dn);
		laps_ldap_conf(cfg)->bind_secret_file = strdup(env("LDAP_BULK_SECRET"));
	} else {
		laps_ldap_conf(cfg)->bind_dn = strdup(env("LDAP_ROOT_DN"));
		laps_ldap_conf(cfg)->bind_secret_file = strdup(env("LDAP_ROOT_SECRET"));
	}
	laps_ldap_conf(cfg)->base = strdup(env("LDAP_DEVICES_BASE"));
	laps_ldap_conf(cfg)->filter = strdup("(cn=%h)");
	laps_ldap_conf(cfg)->schema = o->schema;
	laps_escrow_conf(cfg)->history = 5;
	free(laps_agent_conf(cfg)->state_dir);
	laps_agent_conf(cfg)->state_dir = strdup(env("BENCH_STATE_DIR"));
	return 0;
}

static void
mkrec(struct laps_record *r, const char *device, int64_t t, uint8_t *env_buf, size_t env_len)
{
	laps_record_init(r);
	(void)snprintf(r->device, sizeof(r->device), "%s", device);
	(void)snprintf(r->account, sizeof(r->account), "lapsadmin");
	r->uid = 1000;
	laps_record_new_rotation_id(r->rotation_id);
	r->rotated_at = t;
	r->expires_at = t + 30 * 86400;
	r->state = LAPS_STATE_PENDING;
	r->envelope = env_buf; /* borrowed: detach before laps_record_clear */
	r->envelope_len = env_len;
	(void)snprintf(r->key_ids[0], sizeof(r->key_ids[0]), "0123456789abcdef");
	r->n_key_ids = 1;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One worker: rotations, each logged as "device expected new latency_us\n". */
static int
worker(const struct opts *o, unsigned id, FILE *log)
{
	struct laps_conf cfg;
	struct laps_backend *b = NULL;
	uint8_t envelope[96];
	unsigned i, errors = 0;
	int rc;

	memset(envelope, 0xa5, sizeof(envelope));
	srandom(id * 2654435761u + (unsigned)getpid());
	if (!o->agent_mode) {
		if (mkcfg(&cfg, o, NULL) != 0)
			return 2;
		if ((rc = laps_backend_open(&laps_backend_ldap, &cfg, LAPS_ROLE_AGENT,
					    test_env(&cfg), &b)) != 0) {
			char buf[512];

			fprintf(stderr, "worker %u: open: %s\n", id,
				laps_errstr(rc, buf, sizeof(buf)));
			return 2;
		}
	}
	for (i = 0; i < o->rotations; i++) {
		char dev[32];
		struct laps_record cur, rec;
		struct laps_version ver, nv;
		double t0 = now_us();
		int tries;

		(void)snprintf(dev, sizeof(dev), "dev%05u", 1 + (unsigned)random() % o->devices);
		laps_record_init(&cur);
		if (o->agent_mode) {
			if (mkcfg(&cfg, o, dev) != 0)
				return 2;
			if ((rc = laps_backend_open(&laps_backend_ldap, &cfg, LAPS_ROLE_AGENT,
						    test_env(&cfg), &b)) != 0) {
				errors++;
				laps_conf_free(&cfg);
				continue;
			}
		}
		for (tries = 0; tries < 50; tries++) {
			rc = laps_backend_read(b, dev, "lapsadmin", &cur, &ver);
			if (rc != 0 && rc != LAPS_ERR_NOTFOUND)
				break;
			mkrec(&rec, dev, (int64_t)time(NULL) + i, envelope, sizeof(envelope));
			rc = laps_backend_write(b, &rec, "Bench-Pa55word", &ver, &nv);
			if (rc == LAPS_ERR_CONFLICT) {
				fprintf(log, "conflict\n");
				rec.envelope = NULL, rec.envelope_len = 0;
				laps_record_clear(&rec);
				continue;
			}
			if (rc == 0) {
				rc = laps_backend_confirm(b, dev, "lapsadmin", rec.rotation_id,
							  rec.expires_at);
				/* "device expected new confirmed latency": in the
				 * Microsoft modes confirm changes the version */
				fprintf(log, "%s %s %s ", dev, ver.tag[0] ? ver.tag : "-", nv.tag);
				if (rc == 0 && o->schema != LAPS_SCHEMA_LAPS)
					fprintf(log, "ft:%" PRIu64,
						laps_ms_expiration_encode(
						    rec.expires_at,
						    laps_ms_rotation_tag(rec.rotation_id), 0));
				else
					fprintf(log, "%s", rc == 0 ? nv.tag : "-");
				fprintf(log, " %.0f\n", now_us() - t0);
				if (rc == LAPS_ERR_CONFLICT) {
					/* another worker already rotated this device
					 * again: our record is history now, not lost */
					fprintf(log, "superseded\n");
					rc = 0;
				}
			}
			rec.envelope = NULL, rec.envelope_len = 0;
			laps_record_clear(&rec);
			break;
		}
		if (rc != 0) {
			char buf[512];

			errors++;
			if (errors < 5)
				fprintf(stderr, "worker %u: %s: %s\n", id, dev,
					laps_errstr(rc, buf, sizeof(buf)));
		}
		laps_record_clear(&cur);
		if (o->agent_mode) {
			laps_backend_close(b);
			b = NULL;
			laps_conf_free(&cfg);
		}
	}
	fprintf(log, "errors %u\n", errors);
	if (b != NULL)
		laps_backend_close(b);
	if (!o->agent_mode)
		laps_conf_free(&cfg);
	return 0;
}

struct wr {
	char dev[16];
	char exp[LAPS_VERSION_MAX];
	char nv[LAPS_VERSION_MAX];
	char conf[LAPS_VERSION_MAX]; /* version after confirm ("" if it lost) */
};

static int
cmp_wr(const void *a, const void *b)
{
	const struct wr *x = a, *y = b;
	int c = strcmp(x->dev, y->dev);

	return c ? c : strcmp(x->exp, y->exp);
}

/* Check every device's chain of writes and its final record. */
static int
verify(const struct opts *o, struct wr *w, size_t n, unsigned *lost, unsigned *mismatch)
{
	struct laps_conf cfg;
	struct laps_backend *b = NULL;
	size_t i = 0, j, k;
	int rc;

	*lost = *mismatch = 0;
	qsort(w, n, sizeof(*w), cmp_wr);
	if (mkcfg(&cfg, o, NULL) != 0 ||
	    laps_backend_open(&laps_backend_ldap, &cfg, LAPS_ROLE_ADMIN, test_env(&cfg), &b) != 0)
		return -1;
	while (i < n) {
		char cur[LAPS_VERSION_MAX], cur2[LAPS_VERSION_MAX];
		struct laps_record r;
		struct laps_version ver;
		size_t steps = 0;

		for (j = i; j < n && strcmp(w[j].dev, w[i].dev) == 0; j++)
			if (j > i && strcmp(w[j].exp, w[j - 1].exp) == 0)
				(*lost)++; /* two writes succeeded from the same version */
		/* follow the chain from the first write (whose expected version is
		 * no write's new or confirmed version) */
		(void)snprintf(cur, sizeof(cur), "%s", w[i].exp);
		cur2[0] = '\0';
		for (k = i; k < j; k++) {
			size_t m;
			bool is_new = false;

			for (m = i; m < j && !is_new; m++)
				is_new = strcmp(w[m].nv, w[k].exp) == 0 ||
					 (w[m].conf[0] && strcmp(w[m].conf, w[k].exp) == 0);
			if (!is_new) {
				(void)snprintf(cur, sizeof(cur), "%s", w[k].exp);
				break;
			}
		}
		for (;;) {
			size_t m;
			bool found = false;

			for (m = i; m < j; m++)
				if (strcmp(w[m].exp, cur) == 0 ||
				    (cur2[0] && strcmp(w[m].exp, cur2) == 0)) {
					(void)snprintf(cur, sizeof(cur), "%s", w[m].nv);
					(void)snprintf(cur2, sizeof(cur2), "%s", w[m].conf);
					found = true;
					steps++;
					break;
				}
			if (!found || steps > j - i)
				break;
		}
		if (steps != j - i)
			(*lost)++;
		laps_record_init(&r);
		rc = laps_backend_read(b, w[i].dev, "lapsadmin", &r, &ver);
		if (rc != 0 || (strcmp(ver.tag, cur) != 0 && strcmp(ver.tag, cur2) != 0))
			(*mismatch)++;
		laps_record_clear(&r);
		i = j;
	}
	laps_backend_close(b);
	laps_conf_free(&cfg);
	return 0;
}

static void
read_cycles(const struct opts *o)
{
	double *lat = calloc(o->read_cycles, sizeof(double)), total = 0;
	unsigned i, ok = 0;

	if (lat == NULL)
		return;
	for (i = 0; i < o->read_cycles; i++) {
		struct laps_conf cfg;
		struct laps_backend *b = NULL;
		struct laps_record r;
		struct laps_version v;
		char dev[32];
		double t0 = now_us();

		(void)snprintf(dev, sizeof(dev), "dev%05u", 1 + i % o->devices);
		laps_record_init(&r);
		if (mkcfg(&cfg, o, dev) == 0 &&
		    laps_backend_open(&laps_backend_ldap, &cfg, LAPS_ROLE_AGENT, test_env(&cfg),
				      &b) == 0) {
			int rc = laps_backend_read(b, dev, "lapsadmin", &r, &v);

			if (rc == 0 || rc == LAPS_ERR_NOTFOUND)
				ok++;
			laps_backend_close(b);
		}
		laps_conf_free(&cfg);
		laps_record_clear(&r);
		lat[i] = now_us() - t0;
		total += lat[i];
	}
	qsort(lat, o->read_cycles, sizeof(double), cmp_double);
	printf("no-op read cycle (connect+StartTLS+bind+read+unbind): %u cycles, %u ok, "
	       "mean %.2f ms, p50 %.2f ms, p99 %.2f ms\n",
	       o->read_cycles, ok, total / o->read_cycles / 1000, lat[o->read_cycles / 2] / 1000,
	       lat[(size_t)(o->read_cycles * 0.99)] / 1000);
	free(lat);
}

static int
usage(void)
{
	fprintf(stderr, "usage: bench_ldap [-n devices] [-c workers] [-r rotations/worker] "
			"[-m pooled|agent] [-s laps|mslaps|legacy] [-R read-cycles]\n");
	return 2;
}

int
main(int argc, char **argv)
{
	struct opts o = {10000, 8, 500, 0, false, LAPS_SCHEMA_LAPS};
	char tmpl[] = "/tmp/bench-ldap.XXXXXX", path[64];
	struct wr *w = NULL;
	size_t nw = 0, cap = 0;
	unsigned i, conflicts = 0, superseded = 0, errors = 0, lost = 0, mismatch = 0;
	double *lat = NULL, t0, elapsed;
	size_t nlat = 0;
	long long v;
	pid_t *pids;
	int ch;

	while ((ch = getopt(argc, argv, "n:c:r:m:s:R:")) != -1) {
		switch (ch) {
		case 'n':
		case 'c':
		case 'r':
		case 'R':
			if (laps_parse_int64(optarg, 0, 10000000, &v) != 0)
				return usage();
			if (ch == 'n')
				o.devices = (unsigned)v;
			else if (ch == 'c')
				o.workers = (unsigned)v;
			else if (ch == 'r')
				o.rotations = (unsigned)v;
			else
				o.read_cycles = (unsigned)v;
			break;
		case 'm':
			o.agent_mode = strcmp(optarg, "agent") == 0;
			break;
		case 's':
			o.schema = strcmp(optarg, "mslaps") == 0   ? LAPS_SCHEMA_MSLAPS
				   : strcmp(optarg, "legacy") == 0 ? LAPS_SCHEMA_LEGACY
								   : LAPS_SCHEMA_LAPS;
			break;
		default:
			return usage();
		}
	}
	if (env("LDAP_URI")[0] == '\0' || o.devices == 0 || o.workers == 0) {
		fprintf(stderr, "bench_ldap: run it through bench/run-ldap.sh\n");
		return 2;
	}
	if (laps_crypto_init() != 0 || mkdtemp(tmpl) == NULL)
		return 1;
	if (getenv("BENCH_STATE_DIR") == NULL)
		(void)setenv("BENCH_STATE_DIR", tmpl, 1);
	if (o.read_cycles > 0)
		read_cycles(&o);
	if (o.rotations == 0)
		return 0;
	pids = calloc(o.workers, sizeof(*pids));
	if (pids == NULL)
		return 1;
	fflush(stdout);
	t0 = now_us();
	for (i = 0; i < o.workers; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			FILE *log;

			(void)snprintf(path, sizeof(path), "%s/w%u", tmpl, i);
			log = fopen(path, "w");
			if (log == NULL)
				_exit(2);
			ch = worker(&o, i, log);
			fclose(log);
			_exit(ch);
		}
	}
	for (i = 0; i < o.workers; i++) {
		int st = 0;

		(void)waitpid(pids[i], &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			errors++;
	}
	elapsed = (now_us() - t0) / 1e6;
	free(pids);
	for (i = 0; i < o.workers; i++) {
		FILE *log;
		char line[2048];

		(void)snprintf(path, sizeof(path), "%s/w%u", tmpl, i);
		if ((log = fopen(path, "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), log) != NULL) {
			char *f[5], *p = line;
			size_t k;

			if (strncmp(line, "conflict", 8) == 0) {
				conflicts++;
				continue;
			}
			if (strncmp(line, "superseded", 10) == 0) {
				superseded++;
				continue;
			}
			if (strncmp(line, "errors ", 7) == 0) {
				line[strcspn(line, "\n")] = '\0';
				if (laps_parse_int64(line + 7, 0, 1 << 30, &v) == 0)
					errors += (unsigned)v;
				continue;
			}
			for (k = 0; k < 5; k++) {
				f[k] = p;
				p = strpbrk(p, " \n");
				if (p == NULL)
					break;
				*p++ = '\0';
			}
			if (k < 4)
				continue;
			if (nw == cap) {
				cap = cap ? 2 * cap : 1024;
				w = realloc(w, cap * sizeof(*w));
				lat = realloc(lat, cap * sizeof(*lat));
				if (w == NULL || lat == NULL)
					return 1;
			}
			(void)snprintf(w[nw].dev, sizeof(w[nw].dev), "%s", f[0]);
			(void)snprintf(w[nw].exp, sizeof(w[nw].exp), "%s",
				       strcmp(f[1], "-") ? f[1] : "");
			(void)snprintf(w[nw].nv, sizeof(w[nw].nv), "%s", f[2]);
			(void)snprintf(w[nw].conf, sizeof(w[nw].conf), "%s",
				       strcmp(f[3], "-") ? f[3] : "");
			lat[nlat++] = strtod(f[4], NULL);
			nw++;
		}
		fclose(log);
		(void)unlink(path);
	}
	(void)rmdir(tmpl);
	if (nlat > 0)
		qsort(lat, nlat, sizeof(double), cmp_double);
	if (verify(&o, w, nw, &lost, &mismatch) != 0)
		fprintf(stderr, "bench_ldap: verification could not connect\n");
	printf("schema %s, mode %s: %u devices, %u workers x %u rotations\n",
	       o.schema == LAPS_SCHEMA_LAPS	? "laps"
	       : o.schema == LAPS_SCHEMA_MSLAPS ? "mslaps"
						: "legacy",
	       o.agent_mode ? "agent (connect+bind per rotation)" : "pooled (rootdn connection)",
	       o.devices, o.workers, o.rotations);
	printf("rotations: %zu in %.2f s = %.0f rotations/s\n", nw, elapsed, (double)nw / elapsed);
	if (nlat > 0)
		printf("latency (read+CAS write+confirm%s): p50 %.2f ms, p99 %.2f ms\n",
		       o.agent_mode ? " incl. connect" : "", lat[nlat / 2] / 1000,
		       lat[(size_t)((double)nlat * 0.99)] / 1000);
	printf(
	    "CAS conflicts retried: %u, confirms superseded by a newer rotation: %u, errors: %u\n",
	    conflicts, superseded, errors);
	printf("lost updates: %u, final record mismatches: %u -> %s\n", lost, mismatch,
	       lost == 0 && mismatch == 0 ? "OK" : "FAILED");
	free(w);
	free(lat);
	return lost == 0 && mismatch == 0 && errors == 0 ? 0 : 1;
}
