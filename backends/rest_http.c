/*
 * rest_http.c — HTTPS requests for the REST backend: verified TLS, no
 * redirects, capped bodies, bounded time, bounded retries (rest_http.h).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "backends/rest_http.h"
#include "backends/rest_json.h"
#include "backends/rest_keystore.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/log.h"
#include "escrow/secret.h"

#define BACKOFF_BASE_MS 500
#define BACKOFF_CAP_MS 30000

struct rest_http {
	CURL *curl;
	struct rest_http_opts o;
	int64_t deadline_ms; /* rest_now_ms() value when the budget is spent */
	char errbuf[CURL_ERROR_SIZE];
};

/* ------------------------------------------------------------------ */
/* libcurl's allocator: every block is wiped before it is freed (its    */
/* buffers hold the Authorization header, token requests and answers). */

int
rest_http_global_init(void)
{
	/* A program that initialised libcurl first (laps-get) keeps its own
	 * allocator; this call then only counts a reference. */
	if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, laps_wipe_free, laps_wipe_realloc,
				 strdup, calloc) != CURLE_OK)
		return laps_seterr(LAPS_ERR_INTERNAL, "cannot initialise libcurl");
	return 0;
}

void
rest_http_global_cleanup(void)
{
	curl_global_cleanup();
}

/* ------------------------------------------------------------------ */

int64_t
rest_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
rest_sleep_ms(int64_t ms)
{
	struct timespec ts, rem;

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &rem) != 0 && errno == EINTR)
		ts = rem;
}

int64_t
rest_http_budget_left(const struct rest_http *h)
{
	int64_t left = h->deadline_ms - rest_now_ms();

	return left > 0 ? left : 0;
}

void
rest_http_reset_budget(struct rest_http *h)
{
	h->deadline_ms = rest_now_ms() + h->o.budget_ms;
}

static int
encode(const char *s, char *buf, size_t len, const char *keep)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
		    strchr(keep, c) != NULL) {
			if (o + 1 >= len)
				return LAPS_ERR_TOOBIG;
			buf[o++] = (char)c;
		} else {
			if (o + 3 >= len)
				return LAPS_ERR_TOOBIG;
			buf[o++] = '%';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		}
	}
	if (o >= len)
		return LAPS_ERR_TOOBIG;
	buf[o] = '\0';
	return 0;
}

int
rest_urlencode(const char *s, char *buf, size_t len)
{
	return encode(s, buf, len, "");
}

int
rest_urlencode_query(const char *s, char *buf, size_t len)
{
	return encode(s, buf, len, "/");
}

int
rest_http_new(const struct rest_http_opts *o, struct rest_http **out)
{
	struct rest_http *h;

	*out = NULL;
	if ((h = calloc(1, sizeof *h)) == NULL)
		return laps_seterr(LAPS_ERR_NOMEM, "rest: out of memory");
	h->o = *o;
	if ((h->curl = curl_easy_init()) == NULL) {
		free(h);
		return laps_seterr(LAPS_ERR_INTERNAL, "rest: curl_easy_init failed");
	}
	/* the engine stays loaded on the handle across curl_easy_reset() */
	if (o->key_engine != NULL &&
	    curl_easy_setopt(h->curl, CURLOPT_SSLENGINE, o->key_engine) != CURLE_OK) {
		curl_easy_cleanup(h->curl);
		free(h);
		return laps_seterr(LAPS_ERR_UNSUPPORTED,
				   "[rest] key_engine: OpenSSL engine \"%s\" not available to libcurl",
				   o->key_engine);
	}
	h->deadline_ms = rest_now_ms() + o->budget_ms;
	*out = h;
	return 0;
}

void
rest_http_free(struct rest_http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->curl);
	free(h);
}

void
rest_resp_init(struct rest_resp *r)
{
	memset(r, 0, sizeof *r);
}

void
rest_resp_clear(struct rest_resp *r)
{
	if (r->body != NULL)
		laps_freezero(r->body, r->cap);
	rest_resp_init(r);
}

/* ------------------------------------------------------------------ */
/* Callbacks                                                            */

static size_t
write_cb(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct rest_resp *r = ctx;
	size_t n = size * nmemb, ncap;
	char *nb;

	if (n > r->max || r->len > r->max - n) {
		r->too_big = true;
		return 0; /* aborts the transfer */
	}
	if (r->len + n + 1 > r->cap) {
		ncap = r->cap ? r->cap : 4096;
		while (ncap < r->len + n + 1)
			ncap *= 2;
		if ((nb = malloc(ncap)) == NULL)
			return 0;
		if (r->body != NULL) {
			memcpy(nb, r->body, r->len);
			laps_freezero(r->body, r->cap); /* no stale copy in freed memory */
		}
		r->body = nb;
		r->cap = ncap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

/* Copy a header value (trimmed, control characters refused) into buf. */
static void
header_value(const char *v, size_t n, char *buf, size_t len)
{
	size_t i;

	while (n > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' ||
			 v[n - 1] == '\t'))
		n--;
	buf[0] = '\0';
	if (n >= len)
		return; /* too long: treated as absent */
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return;
	memcpy(buf, v, n);
	buf[n] = '\0';
}

static bool
header_is(const char *line, size_t n, const char *name, const char **val, size_t *vlen)
{
	size_t k = strlen(name);

	if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
		return false;
	*val = line + k + 1;
	*vlen = n - k - 1;
	return true;
}

static size_t
header_cb(char *line, size_t size, size_t nmemb, void *ctx)
{
	struct rest_resp *r = ctx;
	size_t n = size * nmemb, vlen, i;
	const char *v;

	if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		/* a new response (after 1xx): forget the previous headers */
		r->etag[0] = r->ctype[0] = r->retry_after[0] = r->location[0] = '\0';
		r->rotate_by[0] = '\0';
	} else if (header_is(line, n, "ETag", &v, &vlen)) {
		header_value(v, vlen, r->etag, sizeof r->etag);
	} else if (header_is(line, n, "Content-Type", &v, &vlen)) {
		header_value(v, vlen, r->ctype, sizeof r->ctype);
		r->ctype[strcspn(r->ctype, "; ")] = '\0';
		for (i = 0; r->ctype[i]; i++)
			r->ctype[i] = (char)tolower((unsigned char)r->ctype[i]);
	} else if (header_is(line, n, "Retry-After", &v, &vlen)) {
		header_value(v, vlen, r->retry_after, sizeof r->retry_after);
	} else if (header_is(line, n, "Location", &v, &vlen)) {
		header_value(v, vlen, r->location, sizeof r->location);
	} else if (header_is(line, n, "Laps-Rotate-By", &v, &vlen)) {
		header_value(v, vlen, r->rotate_by, sizeof r->rotate_by);
	}
	return n;
}

int
rest_http_feed(struct rest_resp *r, size_t max, const char *headers, size_t hlen, const char *body,
	       size_t blen, size_t chunk)
{
	const char *p = headers, *end = headers + hlen, *nl;
	size_t n;

	rest_resp_clear(r);
	r->max = max;
	for (; p < end; p = nl) {
		nl = memchr(p, '\n', (size_t)(end - p));
		nl = nl != NULL ? nl + 1 : end;
		(void)header_cb((char *)(uintptr_t)p, 1, (size_t)(nl - p), r);
	}
	if (chunk == 0)
		chunk = 1;
	for (p = body, end = body + blen; p < end; p += n) {
		n = (size_t)(end - p) < chunk ? (size_t)(end - p) : chunk;
		if (write_cb((char *)(uintptr_t)p, 1, n, r) != n)
			return r->too_big ? LAPS_ERR_TOOBIG : LAPS_ERR_NOMEM;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* One attempt                                                          */

static void
set_tls(struct rest_http *h)
{
	CURL *c = h->curl;

#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (h->o.ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->o.ca_file);
	if (h->o.pin != NULL)
		curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, h->o.pin);
	if (h->o.key_tls != NULL) {
		/* a failure leaves no client pair: the server refuses the handshake */
		if (rest_keystore_curl(c, h->o.key_tls) != 0)
			laps_clearerr();
	} else if (h->o.cert_file != NULL) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, h->o.cert_file);
		if (h->o.key_engine != NULL) {
			curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "ENG");
			curl_easy_setopt(c, CURLOPT_SSLKEY, h->o.key_uri);
		} else if (h->o.key_pem != NULL) {
			struct curl_blob b = {(void *)h->o.key_pem, h->o.key_len,
					      CURL_BLOB_NOCOPY};

			curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &b);
			curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
		} else {
			curl_easy_setopt(c, CURLOPT_SSLKEY, h->o.key_file);
		}
	}
}

static int
set_request(struct rest_http *h, const struct rest_req *q, struct rest_resp *r,
	    struct curl_slist **hdrs, int64_t limit_ms)
{
	CURL *c = h->curl;
	struct curl_slist *l = NULL, *t;
	char line[LAPS_VERSION_MAX + 32];

	curl_easy_reset(c);
	set_tls(h);
	curl_easy_setopt(c, CURLOPT_URL, q->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "laps/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)limit_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)limit_ms);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)q->max);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	if (strcmp(q->method, "GET") != 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body != NULL ? q->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body_len);
		if (strcmp(q->method, "POST") != 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
	}
	l = curl_slist_append(l, "Accept: application/json, application/problem+json");
	l = l ? curl_slist_append(l, "Expect:") : NULL;
	if (l != NULL && q->ctype != NULL) {
		if (laps_snprintf(line, sizeof line, "Content-Type: %s", q->ctype) != 0)
			goto nomem;
		l = curl_slist_append(l, line);
	}
	if (l != NULL && q->if_match != NULL) {
		if (laps_snprintf(line, sizeof line, "%s: %s",
				  q->if_none_match ? "If-None-Match" : "If-Match", q->if_match) != 0)
			goto nomem;
		l = curl_slist_append(l, line);
	}
	if (l != NULL && q->extra != NULL)
		l = curl_slist_append(l, q->extra);
	if (l != NULL && q->auth != NULL && (t = curl_slist_append(l, q->auth)) != NULL)
		l = t;
	else if (q->auth != NULL)
		goto nomem;
	if (l == NULL)
		goto nomem;
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, l);
	*hdrs = l;
	return 0;
nomem:
	curl_slist_free_all(l);
	return laps_seterr(LAPS_ERR_NOMEM, "%s: out of memory", q->what);
}

static int
map_curl(struct rest_http *h, const struct rest_req *q, const struct rest_resp *r, CURLcode cc)
{
	const char *msg = h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc);

	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		return laps_seterr(LAPS_ERR_TIMEOUT, "%s: no complete answer within %lld ms (%s)",
				   q->what, (long long)h->o.timeout_ms, msg);
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
		return laps_seterr(LAPS_ERR_UNAVAILABLE, "%s: %s", q->what, msg);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
		if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE ||
		    strstr(msg, "certificate") != NULL)
			return laps_seterr(
			    LAPS_ERR_TLS,
			    "%s: TLS: %s (the server's certificate checked against %s%s)", q->what,
			    msg, h->o.ca_file ? "[rest] ca_file " : "",
			    h->o.ca_file ? h->o.ca_file
					 : "the system CAs ([rest] ca_file not set)");
		return laps_seterr(LAPS_ERR_TLS, "%s: TLS: %s", q->what, msg);
	case CURLE_FILESIZE_EXCEEDED:
	case CURLE_WRITE_ERROR:
		if (cc == CURLE_FILESIZE_EXCEEDED || r->too_big)
			return laps_seterr(LAPS_ERR_TOOBIG, "%s: answer larger than %zu bytes",
					   q->what, q->max);
		return laps_seterr(LAPS_ERR_NOMEM, "%s: out of memory", q->what);
	case CURLE_UNSUPPORTED_PROTOCOL:
		return laps_seterr(LAPS_ERR_CONFIG, "%s: only https:// is allowed (%s)", q->what,
				   msg);
	default:
		return laps_seterr(LAPS_ERR_UNAVAILABLE, "%s: %s", q->what, msg);
	}
}

int
rest_http_once(struct rest_http *h, const struct rest_req *q, struct rest_resp *r)
{
	struct curl_slist *hdrs = NULL;
	int64_t left = rest_http_budget_left(h), limit;
	CURLcode cc;
	long status = 0;
	int rc;

	rest_resp_clear(r);
	r->max = q->max;
	if (left <= 0)
		return laps_seterr(LAPS_ERR_TIMEOUT, "%s: the run's time budget (%lld s) is spent",
				   q->what, (long long)(h->o.budget_ms / 1000));
	limit = h->o.timeout_ms < left ? h->o.timeout_ms : left;
	h->errbuf[0] = '\0';
	if ((rc = set_request(h, q, r, &hdrs, limit)) != 0)
		return rc;
	cc = curl_easy_perform(h->curl);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	if (cc != CURLE_OK) {
		rc = map_curl(h, q, r, cc);
		goto fail;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	r->status = status;
	if (status >= 300 && status < 400) {
		rc = laps_seterr(LAPS_ERR_BACKEND,
				 "%s: the server redirects (HTTP %ld to '%s'); redirects are never "
				 "followed: fix [rest] url",
				 q->what, status, r->location[0] ? r->location : "?");
		goto fail;
	}
	if (status < 100) {
		rc = laps_seterr(LAPS_ERR_UNAVAILABLE, "%s: no HTTP status", q->what);
		goto fail;
	}
	return 0;
fail:
	/* keep status and headers for the caller, drop the body */
	if (r->body != NULL)
		laps_freezero(r->body, r->cap);
	r->body = NULL;
	r->len = r->cap = 0;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Retries                                                              */

static bool
status_transient(long s)
{
	return s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

/* Full jitter: uniform in [0, min(cap, base * 2^attempt)]. */
static int64_t
backoff_ms(unsigned attempt)
{
	int64_t ceil = BACKOFF_BASE_MS;
	unsigned i;

	for (i = 0; i < attempt && ceil < BACKOFF_CAP_MS; i++)
		ceil *= 2;
	if (ceil > BACKOFF_CAP_MS)
		ceil = BACKOFF_CAP_MS;
	return (int64_t)randombytes_uniform((uint32_t)ceil + 1);
}

/* How long to wait before the next attempt, or -1 to give up now. */
static int64_t
next_delay(struct rest_http *h, const struct rest_resp *r, int rc, unsigned attempt)
{
	int64_t wait, secs;

	if (rc != 0 ? !(rc == LAPS_ERR_TIMEOUT || rc == LAPS_ERR_UNAVAILABLE)
		    : !status_transient(r->status))
		return -1;
	if (attempt >= h->o.retries)
		return -1;
	wait = backoff_ms(attempt);
	if (rc == 0 && (r->status == 429 || r->status == 503) && r->retry_after[0] != '\0' &&
	    rest_parse_retry_after(r->retry_after, (int64_t)time(NULL), &secs) == 0)
		wait = secs * 1000;
	if (wait >= rest_http_budget_left(h))
		return -1; /* the answer would come after the deadline */
	return wait;
}

int
rest_http_send(struct rest_http *h, const struct rest_req *q, struct rest_resp *r)
{
	unsigned attempt;
	int64_t wait;
	int rc;

	for (attempt = 0;; attempt++) {
		rc = rest_http_once(h, q, r);
		r->attempts = attempt + 1;
		if ((wait = next_delay(h, r, rc, attempt)) < 0)
			break;
		if (rc != 0)
			log_info("%s: attempt %u failed (%s); retrying in %lld ms", q->what,
				 attempt + 1, laps_strerror(rc), (long long)wait);
		else
			log_info("%s: HTTP %ld on attempt %u; retrying in %lld ms", q->what,
				 r->status, attempt + 1, (long long)wait);
		rest_sleep_ms(wait);
	}
	if (rc != 0 && attempt > 0) /* laps_seterr formats before it overwrites */
		rc = laps_seterr(rc, "%s (gave up after %u attempts)", laps_errdetail(),
				 attempt + 1);
	return rc;
}
