/*
 * bench_common.c — device certificates, quantiles and counters for the
 * laps-escrowd benchmarks (bench_common.h).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "bench/bench_common.h"

int
bench_ca_load(struct bench_ca *ca, const char *cert, const char *key)
{
	FILE *f;

	memset(ca, 0, sizeof *ca);
	if ((f = fopen(cert, "r")) == NULL)
		return -1;
	ca->cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if ((f = fopen(key, "r")) == NULL)
		return -1;
	ca->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	return ca->cert != NULL && ca->key != NULL ? 0 : -1;
}

void
bench_ca_free(struct bench_ca *ca)
{
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	memset(ca, 0, sizeof *ca);
}

static char *
bio_string(BIO *b)
{
	char *data = NULL, *s;
	long len = BIO_get_mem_data(b, &data);

	if (len <= 0 || (s = malloc((size_t)len + 1)) == NULL)
		return NULL;
	memcpy(s, data, (size_t)len);
	s[len] = '\0';
	return s;
}

static void
set_serial(X509 *x)
{
	unsigned char s[8];
	uint64_t v = 0;

	RAND_bytes(s, sizeof s);
	s[0] &= 0x7f;
	for (size_t i = 0; i < sizeof s; i++)
		v = (v << 8) | s[i];
	ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), v);
}

int
bench_make_cert(const struct bench_ca *ca, const char *cn, char **cert_pem, char **key_pem)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509_EXTENSION *eku = NULL;
	BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
	int rc = -1;

	*cert_pem = *key_pem = NULL;
	if (key == NULL || x == NULL || name == NULL || cb == NULL || kb == NULL)
		goto out;
	set_serial(x);
	X509_set_version(x, 2);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, X509_get_subject_name(ca->cert));
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 2 * 86400);
	X509_set_pubkey(x, key);
	if ((eku = X509V3_EXT_conf_nid(NULL, NULL, NID_ext_key_usage, "clientAuth")) == NULL ||
	    !X509_add_ext(x, eku, -1) || X509_sign(x, ca->key, EVP_sha256()) <= 0 ||
	    !PEM_write_bio_X509(cb, x) ||
	    !PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL))
		goto out;
	*cert_pem = bio_string(cb);
	*key_pem = bio_string(kb);
	rc = *cert_pem != NULL && *key_pem != NULL ? 0 : -1;
out:
	X509_EXTENSION_free(eku);
	X509_NAME_free(name);
	X509_free(x);
	EVP_PKEY_free(key);
	BIO_free(cb);
	BIO_free(kb);
	return rc;
}

double
bench_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double
bench_quantile(double *v, size_t n, double q)
{
	size_t i;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof *v, cmp_double);
	i = (size_t)(q * (double)n);
	return v[i < n ? i : n - 1];
}

/* utime + stime of pid in ms, or -1 */
static double
proc_cpu_ms(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f;
	size_t n;
	int field;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* after the ")" closing the command name: field 3 is the state */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	for (field = 2; *p != '\0' && field < 14; p++)
		if (*p == ' ')
			field++;
	ut = strtoull(p, &p, 10);
	st = strtoull(p, &p, 10);
	return (double)(ut + st) * 1e3 / (double)sysconf(_SC_CLK_TCK);
}

/* The index of word w in the space-separated line, or -1. */
static int
word_index(const char *line, const char *w)
{
	size_t n = strlen(w);
	int i = 0;

	for (const char *p = line; *p != '\0'; i++) {
		if (strncmp(p, w, n) == 0 && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
			return i;
		if ((p = strchr(p, ' ')) == NULL)
			break;
		p++;
	}
	return -1;
}

/* Tcp: ... PassiveOpens of /proc/net/snmp (this network namespace), or -1 */
static long long
tcp_passive_opens(void)
{
	char head[1024], vals[1024];
	const char *v;
	long long out = -1;
	int i;
	FILE *f = fopen("/proc/net/snmp", "r");

	if (f == NULL)
		return -1;
	while (out < 0 && fgets(head, sizeof head, f) != NULL &&
	       fgets(vals, sizeof vals, f) != NULL) {
		if (strncmp(head, "Tcp:", 4) != 0 || (i = word_index(head, "PassiveOpens")) < 0)
			continue;
		for (v = vals; i > 0 && v != NULL; i--)
			if ((v = strchr(v, ' ')) != NULL)
				v++;
		if (v != NULL)
			out = strtoll(v, NULL, 10);
	}
	fclose(f);
	return out;
}

void
bench_counters_take(struct bench_counters *c, const pid_t *pids, unsigned npids)
{
	struct rusage ru;
	double t;
	unsigned i;

	c->wall_ms = bench_now_ms();
	getrusage(RUSAGE_SELF, &ru);
	c->self_cpu_ms = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
			 (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
	c->server_cpu_ms = npids > 0 ? 0 : -1;
	for (i = 0; i < npids; i++) {
		if ((t = proc_cpu_ms(pids[i])) < 0) {
			c->server_cpu_ms = -1;
			break;
		}
		c->server_cpu_ms += t;
	}
	c->tcp_accepted = tcp_passive_opens();
}
