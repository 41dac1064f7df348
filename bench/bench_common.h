/*
 * bench_common.h — what bench/bench_escrowd.c and bench/bench_rest.c share:
 * device certificates made in memory from a test CA, latency statistics and
 * the "where does the time go" counters (client CPU, the servers' CPU from
 * /proc/PID/stat, TCP connections accepted from /proc/net/snmp).
 * Benchmarks only (numbers, not pass/fail).
 */
#ifndef LAPS_BENCH_COMMON_H
#define LAPS_BENCH_COMMON_H

#include <stddef.h>
#include <sys/types.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define BENCH_MAX_PIDS 4

struct bench_ca {
	X509 *cert;
	EVP_PKEY *key;
};

/* Load the CA certificate and key (PEM files).  0 or -1. */
int bench_ca_load(struct bench_ca *ca, const char *cert, const char *key);
void bench_ca_free(struct bench_ca *ca);

/* A P-256 key and a clientAuth certificate for CN cn, signed by ca, both as
 * malloc'd PEM strings.  0 or -1. */
int bench_make_cert(const struct bench_ca *ca, const char *cn, char **cert_pem, char **key_pem);

double bench_now_ms(void);
/* Sort v[0..n) and return the q-quantile (0.5 = median). */
double bench_quantile(double *v, size_t n, double q);

/* A snapshot of the counters, and the per-unit differences of two. */
struct bench_counters {
	double wall_ms;
	double self_cpu_ms;	/* this process, user + system */
	double server_cpu_ms;	/* the given servers together; < 0 when unknown */
	long long tcp_accepted; /* Tcp PassiveOpens of this network namespace; < 0 unknown */
};
void bench_counters_take(struct bench_counters *c, const pid_t *pids, unsigned npids);

#endif
