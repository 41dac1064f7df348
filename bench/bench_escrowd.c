/*
 * bench_escrowd.c — load driver for laps-escrowd over HTTPS with mTLS
 * device certificates (numbers, not pass/fail; see bench/README.md).
 *
 *   bench_escrowd --ca-cert F --ca-key F --cacert F -u URL [-u URL2]
 *                 [-n devices] [-c concurrency] [-p SERVER-PID ...]
 *
 * Makes n device certificates (CN = benchNNNNN.bench.test, clientAuth)
 * signed by the given CA in memory, then runs three phases with c threads,
 * each request on a new TLS connection with the device's own certificate
 * (as an agent run does):
 *   create  — PUT If-None-Match: * (the first record of every device);
 *   rotate  — PUT If-Match (a new rotation) + POST confirm, timed as one;
 *   poll    — GET metadata; also the check: every device must show the
 *             rotation it wrote, confirmed, seq 2 (else a lost update).
 * Request k of a device goes to URL[(device + k) % nurls], so with two
 * instances a rotation's PUT and its confirm hit different servers.
 */
#include "config.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_common.h"

#define MAX_URLS 4
#define BODY_MAX 4096

struct device {
	char name[48];
	char *cert_pem, *key_pem;
	char etag[64];
	bool ok; /* its last step succeeded */
};

struct bench {
	const char *urls[MAX_URLS];
	unsigned nurls;
	const char *cacert;
	struct device *dev;
	size_t n;
	unsigned conc;
	struct bench_ca ca;
	pid_t pids[BENCH_MAX_PIDS];
	unsigned npids;
	atomic_size_t next;
	double *lat; /* per device, ms */
	atomic_size_t errors, lost;
	int phase;
};

enum { PH_CERTS, PH_CREATE, PH_ROTATE, PH_POLL };

/* ------------------------------------------------------------------ */
/* HTTP                                                                */

struct resp {
	char body[BODY_MAX];
	size_t len;
	char etag[64];
};

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct resp *r = arg;
	size_t len = size * n, room = sizeof r->body - 1 - r->len;

	memcpy(r->body + r->len, p, len < room ? len : room);
	r->len += len < room ? len : room;
	r->body[r->len] = '\0';
	return size * n;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct resp *r = arg;
	size_t len = size * n, v;

	if (len > 6 && strncasecmp(p, "etag:", 5) == 0) {
		for (v = 5; v < len && p[v] == ' '; v++)
			;
		len -= v;
		while (len > 0 && (p[v + len - 1] == '\r' || p[v + len - 1] == '\n'))
			len--;
		if (len < sizeof r->etag) {
			memcpy(r->etag, p + v, len);
			r->etag[len] = '\0';
		}
	}
	return size * n;
}

/* One request on a fresh TLS connection as device d; HTTP status or -1. */
static long
request(struct bench *b, CURL *c, struct device *d, size_t idx, unsigned k, const char *method,
	const char *suffix, const char *precond, const char *body, struct resp *r)
{
	struct curl_blob cert = {d->cert_pem, strlen(d->cert_pem), CURL_BLOB_NOCOPY};
	struct curl_blob key = {d->key_pem, strlen(d->key_pem), CURL_BLOB_NOCOPY};
	struct curl_slist *h = NULL;
	char url[512];
	long status = -1;

	memset(r, 0, sizeof *r);
	snprintf(url, sizeof url, "%s/v1/devices/%s/accounts/lapsadmin%s",
		 b->urls[(idx + k) % b->nurls], d->name, suffix);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, b->cacert);
	curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &cert);
	curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
	curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &key);
	curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
	curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_SESSIONID_CACHE, 0L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	if (precond != NULL)
		h = curl_slist_append(h, precond);
	if (body != NULL) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	return status;
}

static void
record_json(char *buf, size_t size, const struct device *d, unsigned n)
{
	snprintf(buf, size,
		 "{\"v\":1,\"device\":\"%s\",\"account\":\"lapsadmin\",\"uid\":1001,"
		 "\"rotation_id\":\"%032x\",\"rotated_at\":%u,\"expires_at\":%u,"
		 "\"state\":\"pending\",\"envelope\":\"AQIDBAUGBwgJCgsMDQ4PEA==\","
		 "\"key_ids\":[\"0011223344556677\"]}",
		 d->name, n, 1700000000u + n, 1800000000u + n);
}

/* One unit of work of the current phase for device i. */
static bool
work(struct bench *b, CURL *c, size_t i)
{
	struct device *d = &b->dev[i];
	char body[1024], pre[128], want[64];
	struct resp r;
	long s;

	switch (b->phase) {
	case PH_CERTS:
		return bench_make_cert(&b->ca, d->name, &d->cert_pem, &d->key_pem) == 0;
	case PH_CREATE:
		record_json(body, sizeof body, d, 1);
		s = request(b, c, d, i, 0, "PUT", "/record", "If-None-Match: *", body, &r);
		snprintf(d->etag, sizeof d->etag, "%s", r.etag);
		return s == 201 || s == 200;
	case PH_ROTATE:
		record_json(body, sizeof body, d, 2);
		snprintf(pre, sizeof pre, "If-Match: %s", d->etag);
		if (request(b, c, d, i, 0, "PUT", "/record", pre, body, &r) != 200)
			return false;
		snprintf(body, sizeof body, "{\"rotation_id\":\"%032x\",\"expires_at\":1900000000}",
			 2u);
		return request(b, c, d, i, 1, "POST", "/confirm", NULL, body, &r) == 200;
	default:
		s = request(b, c, d, i, 1, "GET", "", NULL, NULL, &r);
		snprintf(want, sizeof want, "\"rotation_id\":\"%032x\"", 2u);
		if (s == 200 &&
		    (strstr(r.body, want) == NULL || strstr(r.body, "\"seq\":2") == NULL ||
		     strstr(r.body, "\"state\":\"confirmed\"") == NULL))
			atomic_fetch_add(&b->lost, 1);
		return s == 200;
	}
}

static void *
worker(void *arg)
{
	struct bench *b = arg;
	CURL *c = b->phase == PH_CERTS ? NULL : curl_easy_init();
	size_t i;
	double t0;

	while ((i = atomic_fetch_add(&b->next, 1)) < b->n) {
		t0 = bench_now_ms();
		if (!work(b, c, i))
			atomic_fetch_add(&b->errors, 1);
		b->lat[i] = bench_now_ms() - t0;
	}
	if (c != NULL)
		curl_easy_cleanup(c);
	return NULL;
}

static int
run_phase(struct bench *b, int phase, const char *label)
{
	pthread_t th[256];
	struct bench_counters c0, c1;
	unsigned i, n = b->conc;
	double units = (double)b->n;
	char conns[16] = "?", srv[16] = "?";

	b->phase = phase;
	atomic_store(&b->next, 0);
	atomic_store(&b->errors, 0);
	atomic_store(&b->lost, 0);
	if (phase == PH_CERTS)
		n = (unsigned)sysconf(_SC_NPROCESSORS_ONLN) > 0
			? (unsigned)sysconf(_SC_NPROCESSORS_ONLN)
			: 1;
	bench_counters_take(&c0, b->pids, b->npids);
	for (i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, worker, b) != 0)
			return -1;
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	bench_counters_take(&c1, b->pids, b->npids);
	if (phase == PH_CERTS) {
		fprintf(stderr, "bench_escrowd: %zu device certificates in %.1f s\n", b->n,
			(c1.wall_ms - c0.wall_ms) / 1e3);
		return atomic_load(&b->errors) == 0 ? 0 : -1;
	}
	if (c0.tcp_accepted >= 0 && c1.tcp_accepted >= 0)
		snprintf(conns, sizeof conns, "%.2f",
			 (double)(c1.tcp_accepted - c0.tcp_accepted) / units);
	if (c0.server_cpu_ms >= 0 && c1.server_cpu_ms >= 0)
		snprintf(srv, sizeof srv, "%.2f", (c1.server_cpu_ms - c0.server_cpu_ms) / units);
	printf("| %-9s | %6zu | %7.1f | %7.1f | %7.1f | %6zu | %4zu | %5s | %6.2f | %6s |\n", label,
	       b->n, units / ((c1.wall_ms - c0.wall_ms) / 1e3), bench_quantile(b->lat, b->n, 0.5),
	       bench_quantile(b->lat, b->n, 0.99), atomic_load(&b->errors), atomic_load(&b->lost),
	       conns, (c1.self_cpu_ms - c0.self_cpu_ms) / units, srv);
	return 0;
}

static int
usage(void)
{
	fprintf(stderr, "usage: bench_escrowd --ca-cert F --ca-key F --cacert F -u URL [-u URL] "
			"[-n devices] [-c concurrency] [-p SERVER-PID ...]\n");
	return 1;
}

static int
parse_args(struct bench *b, int argc, char **argv, const char **cac, const char **cak)
{
	int i;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "-u") == 0 && b->nurls < MAX_URLS)
			b->urls[b->nurls++] = argv[i + 1];
		else if (strcmp(argv[i], "-n") == 0)
			b->n = strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "-c") == 0)
			b->conc = (unsigned)strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "-p") == 0 && b->npids < BENCH_MAX_PIDS)
			b->pids[b->npids++] = (pid_t)strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--cacert") == 0)
			b->cacert = argv[i + 1];
		else if (strcmp(argv[i], "--ca-cert") == 0)
			*cac = argv[i + 1];
		else if (strcmp(argv[i], "--ca-key") == 0)
			*cak = argv[i + 1];
		else
			return -1;
	}
	if (i != argc || b->nurls == 0 || b->cacert == NULL || *cac == NULL || *cak == NULL ||
	    b->n == 0 || b->conc == 0 || b->conc > 256)
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct bench b = {.n = 10000, .conc = 16};
	const char *cac = NULL, *cak = NULL;
	size_t i;
	int rc = 1;

	if (parse_args(&b, argc, argv, &cac, &cak) != 0)
		return usage();
	if (bench_ca_load(&b.ca, cac, cak) != 0) {
		fprintf(stderr, "bench_escrowd: cannot load the CA\n");
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	b.dev = calloc(b.n, sizeof *b.dev);
	b.lat = calloc(b.n, sizeof *b.lat);
	if (b.dev == NULL || b.lat == NULL)
		goto out;
	for (i = 0; i < b.n; i++)
		snprintf(b.dev[i].name, sizeof b.dev[i].name, "bench%05zu.bench.test", i);
	if (run_phase(&b, PH_CERTS, "certs") != 0)
		goto out;
	printf("| phase     |      n |   per s |  p50 ms |  p99 ms | errors | lost | conns | cli "
	       "ms | srv ms |\n");
	printf("|-----------|--------|---------|---------|---------|--------|------|-------|-------"
	       "-|--------|\n");
	if (run_phase(&b, PH_CREATE, "create") != 0 || run_phase(&b, PH_ROTATE, "rotate") != 0 ||
	    run_phase(&b, PH_POLL, "poll") != 0)
		goto out;
	rc = 0;
out:
	for (i = 0; b.dev != NULL && i < b.n; i++) {
		free(b.dev[i].cert_pem);
		free(b.dev[i].key_pem);
	}
	free(b.dev);
	free(b.lat);
	bench_ca_free(&b.ca);
	curl_global_cleanup();
	return rc;
}
