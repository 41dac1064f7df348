/*
 * rest_http.h — the HTTPS client under the REST backend (libcurl).
 *
 * One request at a time on one reused connection.  Every request is HTTPS
 * with the peer verified (ca_file, optional public-key pin), TLS 1.2 or
 * later, never redirected (a 3xx answer is an error naming its Location),
 * bounded in time (the per-request timeout and what is left of the run's
 * budget, whichever is smaller) and in size (the response body is capped per
 * request; more is LAPS_ERR_TOOBIG).  Response bodies may hold envelopes or
 * tokens: they are wiped when freed or grown.
 *
 * rest_http_send retries, bounded: connection failures, timeouts and 5xx
 * answers with exponential backoff and full jitter; 429 and 503 after their
 * Retry-After (seconds or HTTP-date) when it fits in the budget; at most
 * 1 + retries attempts and never past the run's deadline.
 */
#ifndef LAPS_BACKEND_REST_HTTP_H
#define LAPS_BACKEND_REST_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "escrow/backend.h"

struct rest_keystore_tls; /* backends/rest_keystore.h */

struct rest_http_opts {
	const char *ca_file;   /* NULL = the system's CA store */
	const char *pin;       /* CURLOPT_PINNEDPUBLICKEY ("sha256//...") or NULL */
	const char *cert_file; /* mTLS client certificate, or NULL */
	const char *key_file;  /* its key file (when key_pem is NULL) */
	const char *key_pem;   /* or the key itself (PEM, borrowed; read with the
				* owner/mode checks of escrow/fileio) */
	size_t key_len;
	const char *key_engine; /* or an OpenSSL engine id ("pkcs11") ... */
	const char *key_uri;    /* ... and the key it loads ("pkcs11:...") */
	const struct rest_keystore_tls *key_tls; /* or a provider (TPM) key with its
						  * chain (borrowed), set from the
						  * SSL_CTX callback: cert_file unused */
	int64_t timeout_ms;    /* each request, connect included */
	unsigned retries;      /* attempts after the first */
	int64_t budget_ms;     /* every request of this run together */
};

struct rest_http; /* opaque */

struct rest_req {
	const char *method;   /* GET, PUT, POST */
	const char *url;      /* https://... */
	const char *what;     /* "PUT /v1/devices/D/accounts/A/record" for messages */
	const char *auth;     /* a whole "Authorization: ..." header (secret) or NULL */
	const char *ctype;    /* request Content-Type, or NULL */
	const char *body;     /* request body (may be secret), or NULL */
	size_t body_len;
	const char *if_match; /* ETag, "*" for If-None-Match, or NULL */
	bool if_none_match;   /* send if_match as If-None-Match */
	size_t max;           /* response body cap */
	const char *extra;    /* one more whole header line, or NULL */
};

struct rest_resp {
	long status;		     /* HTTP status; 0 = none received */
	char *body;		     /* NUL-terminated, wiped on free; NULL when empty */
	size_t len;
	char etag[LAPS_VERSION_MAX]; /* "" when absent */
	char ctype[128];	     /* Content-Type without parameters, lower-case */
	char retry_after[80];
	char location[256];
	char rotate_by[24]; /* Laps-Rotate-By (rotate after read), "" when absent */
	unsigned attempts; /* how many attempts rest_http_send made */
	size_t cap;	   /* internal: body allocation */
	size_t max;	   /* internal: the request's cap */
	bool too_big;	   /* internal */
};

/* The wiping allocator for libcurl (curl_global_init_mem); reference
 * counted like curl_global_init.  0 or LAPS_ERR_INTERNAL. */
/*
 * For tests/fuzz/fuzz_rest_http.c: feed a response to r as libcurl would,
 * without a transfer: each line of headers through the header callback
 * (ETag, Content-Type, Retry-After, Location; "HTTP/" starts a new
 * response), then body in pieces of chunk bytes through the body callback
 * under the cap max.  r is cleared first (rest_resp_clear).  0,
 * LAPS_ERR_TOOBIG (over max) or LAPS_ERR_NOMEM.
 */
int rest_http_feed(struct rest_resp *r, size_t max, const char *headers, size_t hlen,
		   const char *body, size_t blen, size_t chunk) __attribute__((warn_unused_result));

int rest_http_global_init(void) __attribute__((warn_unused_result));
void rest_http_global_cleanup(void);

int rest_http_new(const struct rest_http_opts *o, struct rest_http **out)
    __attribute__((warn_unused_result));
void rest_http_free(struct rest_http *h);

void rest_resp_init(struct rest_resp *r);
void rest_resp_clear(struct rest_resp *r); /* wipes the body */

/*
 * One attempt.  0 when an HTTP answer arrived (any status: the caller
 * decides), else LAPS_ERR_TIMEOUT, LAPS_ERR_UNAVAILABLE (connection
 * failed or dropped), LAPS_ERR_TLS, LAPS_ERR_TOOBIG, LAPS_ERR_BACKEND (a
 * redirect) with a detail naming q->what.
 */
int rest_http_once(struct rest_http *h, const struct rest_req *q, struct rest_resp *r)
    __attribute__((warn_unused_result));

/*
 * With the bounded retries described above.  0 with the last answer in *r
 * (which may still be a 429/5xx when the retries or the budget ran out:
 * r->attempts says how many were made), or the last attempt's error.
 */
int rest_http_send(struct rest_http *h, const struct rest_req *q, struct rest_resp *r)
    __attribute__((warn_unused_result));

/* Milliseconds left of the run's budget (never negative). */
int64_t rest_http_budget_left(const struct rest_http *h);
/* Start the budget again (after waiting for a person to sign in). */
void rest_http_reset_budget(struct rest_http *h);

/* Percent-encode s (RFC 3986 unreserved kept) into buf.  0 or LAPS_ERR_TOOBIG. */
int rest_urlencode(const char *s, char *buf, size_t len) __attribute__((warn_unused_result));
/* The same for a query value, keeping '/' (RFC 3986 3.4 allows it there;
 * laps-escrowd's report page token is "device/account").  laps-escrowd decodes
 * %2F there too, but early builds left it encoded; '/' works with both. */
int rest_urlencode_query(const char *s, char *buf, size_t len)
    __attribute__((warn_unused_result));

/* Sleep ms milliseconds (interrupted sleeps resume). */
void rest_sleep_ms(int64_t ms);
/* CLOCK_MONOTONIC in milliseconds. */
int64_t rest_now_ms(void);

#endif
