/*
 * bench_rest.c — the fleet driver through the real REST backend code
 * (numbers, not pass/fail; see bench/README.md, run by bench/run-rest.sh).
 *
 *   bench_rest --ca-cert F --ca-key F --cacert F -u URL -d DIR
 *              [-n devices] [-c concurrency] [-r rounds] [-m agent|fresh]
 *              [-p SERVER-PID ...]
 *
 * Loads `rest` through the module loader (laps_backend_load: rest.so from
 * LAPS_BACKEND_DIR), makes n device certificates (CN restNNNNN.bench.test,
 * clientAuth) signed by the given CA and writes them with their keys into
 * DIR (keys 0600: the backend reads them with the owner/mode checks), then
 * runs with c threads, each device's work on its own backend instance
 * opened from a parsed laps.conf text ([rest] auth = mtls), as one
 * laps-agent run does:
 *   create   open, read (404), write (If-None-Match: *), confirm, close;
 *   rotate   open, read (metadata + ETag), write (If-Match), confirm, close
 *            — r rounds over every device: rotations/s;
 *   noop     open, read, close (an agent run that finds nothing due), and
 *            the check: every device's record must be the rotation it wrote
 *            last, confirmed, with the ETag "vN", N = 2 x its rotations
 *            (each write and each confirm moves the version by one) — else
 *            it counts under lost.
 * -m fresh: a new backend instance (so a new TLS connection) for each
 * request instead of one per run: the difference to -m agent is what the
 * connection reuse inside one instance is worth.
 *
 * Besides rotations/s and p50/p99 it prints, per unit of work, the TCP
 * connections the servers accepted (Tcp PassiveOpens of the network
 * namespace: bench/run-rest.sh runs in its own), this process's CPU time
 * and the servers' (-p, /proc/PID/stat), and for rotations the median time
 * of each step.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backends/registry.h"
#include "bench/bench_common.h"
#include "escrow/backend.h"
#include "escrow/conf.h"
#include "escrow/err.h"
#include "escrow/record.h"
#include "agent/agent_conf.h"
#include "backends/backend_conf.h"
#include "escrow/escrow_conf.h"

/* Everything laps.conf holds for the agent. */
static const struct laps_conf_schema test_schema = {
    {laps_agent_sections, laps_escrow_sections, laps_backend_sections}, NULL, 0};

#define MAX_THREADS 256
#define ACCOUNT "lapsadmin"

enum phase { PH_CERTS, PH_CREATE, PH_ROTATE, PH_NOOP };
enum step { ST_OPEN, ST_READ, ST_WRITE, ST_CONFIRM, ST_CLOSE, ST_N };
static const char *const step_name[ST_N] = {"open", "read", "write", "confirm", "close"};

struct device {
	char name[48];
	char rotation_id[LAPS_ROTID_HEX + 1]; /* the last one it wrote and confirmed */
	unsigned rotations;		      /* confirmed rotations */
};

struct bench {
	const char *url, *cacert, *dir;
	struct bench_ca ca;
	const struct laps_backend_ops *ops;
	struct device *dev;
	size_t n;
	unsigned conc, rounds;
	bool fresh;
	pid_t pids[BENCH_MAX_PIDS];
	unsigned npids;
	enum phase phase;
	int64_t rotated_at; /* of this phase's records */
	atomic_size_t next, errors, lost;
	atomic_int reported;
	double *lat;	     /* per unit, ms */
	double *steps[ST_N]; /* per unit and step, ms (rotations) */
};

/* One instance of the backend for device d (what one agent run opens). */
struct inst {
	struct laps_conf cfg;
	struct laps_backend *b;
	bool cfg_init;
};

static void
report_error(struct bench *b, const struct device *d, const char *what, int rc)
{
	char buf[512];

	atomic_fetch_add(&b->errors, 1);
	if (atomic_fetch_add(&b->reported, 1) < 3)
		fprintf(stderr, "bench_rest: %s: %s: %s\n", d->name, what,
			laps_errstr(rc, buf, sizeof buf));
}

/* ------------------------------------------------------------------ */
/* Certificates and keys in files, as an agent's configuration names   */

static int
write_file(const char *path, const char *data, mode_t mode)
{
	size_t len = strlen(data), off = 0;
	ssize_t w;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0)
		return -1;
	while (off < len) {
		if ((w = write(fd, data + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	return close(fd);
}

static bool
make_device_files(struct bench *b, const struct device *d)
{
	char *cert = NULL, *key = NULL, path[512];
	bool ok = false;

	if (bench_make_cert(&b->ca, d->name, &cert, &key) != 0)
		goto out;
	snprintf(path, sizeof path, "%s/%s.crt", b->dir, d->name);
	if (write_file(path, cert, 0644) != 0)
		goto out;
	snprintf(path, sizeof path, "%s/%s.key", b->dir, d->name);
	ok = write_file(path, key, 0600) == 0;
out:
	free(cert);
	if (key != NULL)
		OPENSSL_cleanse(key, strlen(key));
	free(key);
	return ok;
}

/* ------------------------------------------------------------------ */
/* The backend, as the agent drives it                                  */

static int
inst_open(struct bench *b, const struct device *d, struct inst *in)
{
	char text[2048];
	int rc;

	memset(in, 0, sizeof *in);
	snprintf(text, sizeof text,
		 "[escrow]\nbackend = rest\ndevice = %s\n"
		 "[rest]\nurl = %s\nauth = mtls\nca_file = %s\n"
		 "cert_file = %s/%s.crt\nkey_file = %s/%s.key\n",
		 d->name, b->url, b->cacert, b->dir, d->name, b->dir, d->name);
	if ((rc = laps_conf_init(&in->cfg, &test_schema)) != 0)
		return rc;
	in->cfg_init = true;
	if ((rc = laps_conf_parse(&in->cfg, "bench_rest.conf", text, strlen(text))) != 0)
		return rc;
	return laps_backend_open(b->ops, &in->cfg, LAPS_ROLE_AGENT, NULL, &in->b);
}

static void
inst_close(struct inst *in)
{
	laps_backend_close(in->b);
	in->b = NULL;
	if (in->cfg_init)
		laps_conf_free(&in->cfg);
	in->cfg_init = false;
}

static void
make_record(struct laps_record *r, const struct device *d, int64_t t, uint8_t *env, size_t len)
{
	laps_record_init(r);
	snprintf(r->device, sizeof r->device, "%s", d->name);
	snprintf(r->account, sizeof r->account, ACCOUNT);
	r->uid = 1001;
	laps_record_new_rotation_id(r->rotation_id);
	r->rotated_at = t;
	r->expires_at = t + 30 * 86400;
	r->state = LAPS_STATE_PENDING;
	r->envelope = env; /* borrowed: detached before laps_record_clear */
	r->envelope_len = len;
	snprintf(r->key_ids[0], sizeof r->key_ids[0], "0123456789abcdef");
	r->n_key_ids = 1;
}

/* Step s of unit i: reopen first in -m fresh (a new connection). */
static int
step_begin(struct bench *b, const struct device *d, struct inst *in, double *t0)
{
	int rc = 0;

	if (b->fresh && in->b == NULL)
		rc = inst_open(b, d, in);
	*t0 = bench_now_ms();
	return rc;
}

static void
step_end(struct bench *b, size_t i, enum step s, struct inst *in, double t0)
{
	b->steps[s][i] += bench_now_ms() - t0;
	if (b->fresh)
		inst_close(in);
}

/* read + write + confirm on an open instance (reopened per step in -m fresh) */
static bool
rotate(struct bench *b, size_t i, struct inst *in)
{
	struct device *d = &b->dev[i];
	struct laps_record cur, rec;
	struct laps_version ver, nv;
	uint8_t envelope[96];
	const char *what = "read";
	double t0;
	int rc;

	memset(envelope, 0xa5, sizeof envelope);
	laps_record_init(&cur);
	make_record(&rec, d, b->rotated_at, envelope, sizeof envelope);
	if ((rc = step_begin(b, d, in, &t0)) == 0)
		rc = laps_backend_read(in->b, d->name, ACCOUNT, &cur, &ver);
	step_end(b, i, ST_READ, in, t0);
	if (rc == LAPS_ERR_NOTFOUND && b->phase == PH_CREATE)
		rc = 0; /* ver.tag is "": If-None-Match: * */
	if (rc == 0) {
		what = "write";
		if ((rc = step_begin(b, d, in, &t0)) == 0)
			rc = laps_backend_write(in->b, &rec, NULL, &ver, &nv);
		step_end(b, i, ST_WRITE, in, t0);
	}
	if (rc == 0) {
		what = "confirm";
		if ((rc = step_begin(b, d, in, &t0)) == 0)
			rc = laps_backend_confirm(in->b, d->name, ACCOUNT, rec.rotation_id,
						  rec.expires_at);
		step_end(b, i, ST_CONFIRM, in, t0);
	}
	if (rc == 0) {
		memcpy(d->rotation_id, rec.rotation_id, sizeof d->rotation_id);
		d->rotations++;
	} else {
		report_error(b, d, what, rc);
	}
	rec.envelope = NULL;
	laps_record_clear(&rec);
	laps_record_clear(&cur);
	return rc == 0;
}

/* The no-op read and the check of what it finds. */
static bool
noop(struct bench *b, size_t i, struct inst *in)
{
	const struct device *d = &b->dev[i];
	struct laps_record cur;
	struct laps_version ver;
	char want[32];
	int rc;

	laps_record_init(&cur);
	rc = laps_backend_read(in->b, d->name, ACCOUNT, &cur, &ver);
	snprintf(want, sizeof want, "\"v%u\"", 2 * d->rotations);
	if (rc != 0)
		report_error(b, d, "read", rc);
	else if (strcmp(cur.rotation_id, d->rotation_id) != 0 ||
		 cur.state != LAPS_STATE_CONFIRMED || strcmp(ver.tag, want) != 0)
		atomic_fetch_add(&b->lost, 1);
	laps_record_clear(&cur);
	return rc == 0;
}

static void
unit(struct bench *b, size_t i)
{
	struct device *d = &b->dev[i];
	struct inst in;
	double t0 = bench_now_ms();
	int rc = 0;

	memset(&in, 0, sizeof in);
	if (b->phase == PH_CERTS) {
		if (!make_device_files(b, d))
			report_error(b, d, "certificate", LAPS_ERR_IO);
		return;
	}
	if (!b->fresh || b->phase == PH_NOOP) {
		rc = inst_open(b, d, &in);
		b->steps[ST_OPEN][i] = bench_now_ms() - t0;
	}
	if (rc != 0)
		report_error(b, d, "open", rc);
	else if (b->phase == PH_NOOP)
		noop(b, i, &in);
	else
		rotate(b, i, &in);
	t0 = bench_now_ms();
	inst_close(&in);
	b->steps[ST_CLOSE][i] += bench_now_ms() - t0;
}

static void *
worker(void *arg)
{
	struct bench *b = arg;
	size_t i;
	double t0;

	while ((i = atomic_fetch_add(&b->next, 1)) < b->n) {
		t0 = bench_now_ms();
		unit(b, i);
		b->lat[i] = bench_now_ms() - t0;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Phases and the table                                                 */

static void
print_row(struct bench *b, const char *label, const struct bench_counters *c0,
	  const struct bench_counters *c1)
{
	double n = (double)b->n, secs = (c1->wall_ms - c0->wall_ms) / 1e3;
	char conns[16] = "?", srv[16] = "?";

	if (c0->tcp_accepted >= 0 && c1->tcp_accepted >= 0)
		snprintf(conns, sizeof conns, "%.2f",
			 (double)(c1->tcp_accepted - c0->tcp_accepted) / n);
	if (c0->server_cpu_ms >= 0 && c1->server_cpu_ms >= 0)
		snprintf(srv, sizeof srv, "%.2f", (c1->server_cpu_ms - c0->server_cpu_ms) / n);
	printf("| %-9s | %6zu | %7.1f | %7.1f | %7.1f | %6zu | %4zu | %5s | %6.2f | %6s |\n", label,
	       b->n, n / secs, bench_quantile(b->lat, b->n, 0.5),
	       bench_quantile(b->lat, b->n, 0.99), atomic_load(&b->errors), atomic_load(&b->lost),
	       conns, (c1->self_cpu_ms - c0->self_cpu_ms) / n, srv);
}

static int
run_phase(struct bench *b, enum phase phase, const char *label)
{
	pthread_t th[MAX_THREADS];
	struct bench_counters c0, c1;
	unsigned i, n = b->conc;
	long cpus;

	b->phase = phase;
	atomic_store(&b->next, 0);
	atomic_store(&b->errors, 0);
	atomic_store(&b->lost, 0);
	atomic_store(&b->reported, 0);
	for (i = 0; i < ST_N; i++)
		memset(b->steps[i], 0, b->n * sizeof *b->steps[i]);
	if (phase == PH_CERTS)
		n = (cpus = sysconf(_SC_NPROCESSORS_ONLN)) > 0 ? (unsigned)cpus : 1;
	bench_counters_take(&c0, b->pids, b->npids);
	for (i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, worker, b) != 0)
			return -1;
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	bench_counters_take(&c1, b->pids, b->npids);
	if (phase == PH_CERTS) {
		fprintf(stderr, "bench_rest: %zu device certificates and keys in %s, %.1f s\n",
			b->n, b->dir, (c1.wall_ms - c0.wall_ms) / 1e3);
		return atomic_load(&b->errors) == 0 ? 0 : -1;
	}
	print_row(b, label, &c0, &c1);
	if (phase == PH_ROTATE) {
		printf("|           | steps p50 ms:");
		for (i = 0; i < ST_N; i++)
			printf(" %s %.2f", step_name[i], bench_quantile(b->steps[i], b->n, 0.5));
		printf("\n");
	}
	return 0;
}

static int
usage(void)
{
	fprintf(stderr,
		"usage: bench_rest --ca-cert F --ca-key F --cacert F -u URL -d DIR "
		"[-n devices] [-c concurrency] [-r rounds] [-m agent|fresh] [-p PID ...]\n");
	return 2;
}

static int
parse_args(struct bench *b, int argc, char **argv, const char **cac, const char **cak)
{
	int i;

	for (i = 1; i + 1 < argc; i += 2) {
		const char *o = argv[i], *v = argv[i + 1];

		if (strcmp(o, "-u") == 0)
			b->url = v;
		else if (strcmp(o, "-d") == 0)
			b->dir = v;
		else if (strcmp(o, "-n") == 0)
			b->n = strtoul(v, NULL, 10);
		else if (strcmp(o, "-c") == 0)
			b->conc = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(o, "-r") == 0)
			b->rounds = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(o, "-m") == 0 &&
			 (strcmp(v, "agent") == 0 || strcmp(v, "fresh") == 0))
			b->fresh = strcmp(v, "fresh") == 0;
		else if (strcmp(o, "-p") == 0 && b->npids < BENCH_MAX_PIDS)
			b->pids[b->npids++] = (pid_t)strtol(v, NULL, 10);
		else if (strcmp(o, "--cacert") == 0)
			b->cacert = v;
		else if (strcmp(o, "--ca-cert") == 0)
			*cac = v;
		else if (strcmp(o, "--ca-key") == 0)
			*cak = v;
		else
			return -1;
	}
	if (i != argc || b->url == NULL || b->dir == NULL || b->cacert == NULL || *cac == NULL ||
	    *cak == NULL || b->n == 0 || b->conc == 0 || b->conc > MAX_THREADS || b->rounds == 0)
		return -1;
	return 0;
}

static int
run_all(struct bench *b)
{
	struct inst keep;
	char label[16];
	unsigned r;
	int rc;

	/* one instance open for the whole run keeps libcurl initialised (each
	 * agent run initialises it once; here the threads would race the
	 * global init and cleanup otherwise) */
	if ((rc = inst_open(b, &b->dev[0], &keep)) != 0) {
		char buf[512];

		fprintf(stderr, "bench_rest: open: %s\n", laps_errstr(rc, buf, sizeof buf));
		rc = -1;
		goto out;
	}
	rc = -1;
	printf("| phase     |      n |   per s |  p50 ms |  p99 ms | errors | lost | conns | cli "
	       "ms | srv ms |\n");
	printf("|-----------|--------|---------|---------|---------|--------|------|-------|-------"
	       "-|--------|\n");
	b->rotated_at = (int64_t)time(NULL) - 3600 * (int64_t)(b->rounds + 1);
	if (run_phase(b, PH_CREATE, "create") != 0)
		goto out;
	for (r = 1; r <= b->rounds; r++) {
		b->rotated_at += 3600;
		snprintf(label, sizeof label, b->rounds > 1 ? "rotate %u" : "rotate", r);
		if (run_phase(b, PH_ROTATE, label) != 0)
			goto out;
	}
	rc = run_phase(b, PH_NOOP, "noop");
out:
	inst_close(&keep);
	return rc;
}

int
main(int argc, char **argv)
{
	struct bench b = {.n = 10000, .conc = 16, .rounds = 1};
	const char *cac = NULL, *cak = NULL;
	size_t i;
	int rc = 1;

	if (parse_args(&b, argc, argv, &cac, &cak) != 0)
		return usage();
	if (bench_ca_load(&b.ca, cac, cak) != 0) {
		fprintf(stderr, "bench_rest: cannot load the CA\n");
		return 1;
	}
	if ((rc = laps_backend_load("rest", &b.ops)) != 0) {
		char buf[512];

		fprintf(stderr, "bench_rest: %s\n", laps_errstr(rc, buf, sizeof buf));
		rc = 1;
		goto out;
	}
	rc = 1;
	b.dev = calloc(b.n, sizeof *b.dev);
	b.lat = calloc(b.n, sizeof *b.lat);
	for (i = 0; i < ST_N; i++)
		if ((b.steps[i] = calloc(b.n, sizeof *b.steps[i])) == NULL)
			goto out;
	if (b.dev == NULL || b.lat == NULL)
		goto out;
	for (i = 0; i < b.n; i++)
		snprintf(b.dev[i].name, sizeof b.dev[i].name, "rest%05zu.bench.test", i);
	if (run_phase(&b, PH_CERTS, "certs") == 0 && run_all(&b) == 0)
		rc = 0;
out:
	for (i = 0; i < ST_N; i++)
		free(b.steps[i]);
	free(b.dev);
	free(b.lat);
	bench_ca_free(&b.ca);
	return rc;
}
