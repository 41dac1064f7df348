/*
 * rest_est.h — the agent's EST client (RFC 7030): simpleenroll with an
 * enrollment token, simplereenroll over mTLS, and the atomic replacement of
 * the [rest] cert_file/key_file pair.
 *
 * The code lives in the rest module (it needs libcurl and libssl, which
 * laps-agent maps only when its configuration names the rest backend); the
 * module exports this table as a second symbol, LAPS_EST_CLIENT_SYMBOL,
 * which agent/enroll.c looks up after laps_backend_load("rest").
 */
#ifndef LAPS_REST_EST_H
#define LAPS_REST_EST_H

#include <stddef.h>
#include <stdint.h>

#define LAPS_EST_CLIENT_SYMBOL "laps_est_client"
#define LAPS_EST_ABI PACKAGE_VERSION

struct laps_est_req {
	const char *base;      /* https://host[:port][/prefix] (before /.well-known) */
	const char *ca_file;   /* trust for the server; NULL: the system's */
	const char *cert_file; /* the pair that is replaced ([rest] cert_file) */
	const char *key_file;  /* ([rest] key_file) */
	const char *device;    /* the CSR's subject CN */
	const char *token;     /* simpleenroll: the Bearer token; NULL: simplereenroll
				* authenticated with cert_file/key_file */
	const char *boot_cert; /* simpleenroll with a bootstrap certificate (the TLS
				* client certificate, no Authorization); token NULL */
	const unsigned char *boot_key; /* its key, PEM (read as a secret file) */
	size_t boot_key_len;
	long timeout;	       /* seconds, whole request */
	int key_store;	       /* [rest] key_store (enum laps_rest_key_store): where
				* the new key is made and how key_file holds it */
	/* tests (--enable-fault-injection): called at each named step of the
	 * flow (the est_* steps of agent/fault.c); non-zero fails the step, or it
	 * does not return (kill).  NULL: none. */
	int (*fault)(const char *step);
};

/* What renew found (out parameter of renew). */
enum laps_est_renewal { LAPS_EST_NOT_DUE = 0, LAPS_EST_RENEWED = 1, LAPS_EST_EXPIRED = 2 };

struct laps_est_client {
	const char *abi; /* LAPS_EST_ABI */
	/* New key, CSR, POST, verify, then replace the pair (token or boot_cert:
	 * simpleenroll; neither: simplereenroll).  Nothing is replaced on error. */
	int (*enroll)(const struct laps_est_req *r);
	/* Finish or undo a replacement a crash interrupted (see rest_est.c);
	 * uses r's cert_file, key_file and fault only. */
	int (*recover)(const struct laps_est_req *r);
	/* simplereenroll when 2/3 of cert_file's lifetime has passed at now;
	 * LAPS_ERR_AUTH with a "re-enroll" detail when it has expired. */
	int (*renew)(const struct laps_est_req *r, int64_t now, enum laps_est_renewal *out);
	/* notBefore and notAfter of the PEM certificate at path (status). */
	int (*cert_times)(const char *path, int64_t *not_before, int64_t *not_after);
};

extern const struct laps_est_client laps_est_client;

/* The answer check of enroll (tests/fuzz/fuzz_est_answer.c): base64
 * certs-only PKCS#7 of len bytes holding a certificate for k's public key,
 * naming device, valid now.  0 or LAPS_ERR_FORMAT / LAPS_ERR_TOOBIG. */
struct evp_pkey_st; /* OpenSSL's EVP_PKEY */
int laps_est_parse_answer(const char *b64, size_t len, struct evp_pkey_st *k, const char *device);

#endif
