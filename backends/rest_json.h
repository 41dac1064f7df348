/*
 * rest_json.h — parsers for what laps-escrowd and an OAuth 2.0
 * authorization server answer (docs/REST-API.md, RFC 6749, RFC 8628,
 * RFC 9457).  Everything here is untrusted input: sizes are capped, types
 * checked, and an error's detail names `what` (the endpoint, e.g.
 * "GET /v1/devices/ws01/accounts/lapsadmin") and the member that was
 * wrong — never a token or a secret.  Pure functions (no I/O), fuzzed by
 * tests/fuzz/fuzz_rest.c.
 *
 * Every function returns 0 or a negative LAPS_ERR_* (LAPS_ERR_FORMAT for a
 * malformed answer, LAPS_ERR_TOOBIG, LAPS_ERR_NOMEM) with a detail, and
 * sets its outputs only on success.
 */
#ifndef LAPS_BACKEND_REST_JSON_H
#define LAPS_BACKEND_REST_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "escrow/backend.h"
#include "escrow/record.h"

#define REST_TOKEN_MAX 16384	   /* longest access/refresh token accepted */
#define REST_PAGE_TOKEN_MAX 512	   /* longest next_page_token accepted */
#define REST_CODE_MAX 64	   /* problem "code" / OAuth "error" */
#define REST_DETAIL_MAX 256	   /* problem "detail" kept for messages */
#define REST_URI_MAX 2048	   /* verification_uri */
#define REST_USER_CODE_MAX 64	   /* RFC 8628 user_code */
#define REST_SMALL_BODY (64 * 1024) /* cap for every answer but records, history, pages */
#define REST_JSON_DEPTH 8

/* The metadata of a current record (REST-API.md 4.1) into out (envelope
 * NULL, password NULL); *seq the server's sequence number.  Unknown
 * members are ignored (the protocol may grow); the known ones must have
 * their types and pass the record's own name/id checks. */
int rest_parse_meta(const char *json, size_t len, const char *what, struct laps_record *out,
		    int64_t *seq) __attribute__((warn_unused_result));

/* An RFC 9457 problem: its "code" and "detail" (control characters
 * replaced).  LAPS_ERR_FORMAT when it is not a problem object with a
 * string code. */
int rest_parse_problem(const char *json, size_t len, char code[REST_CODE_MAX],
		       char detail[REST_DETAIL_MAX]) __attribute__((warn_unused_result));

/* {"devices":[...],"next_page_token":T|null}: appends to devs (at most max
 * in total, *n counts them; more is LAPS_ERR_TOOBIG), next[0] = '\0' on the
 * last page.  Every name must be a valid device name. */
int rest_parse_devices(const char *json, size_t len, const char *what,
		       char (*devs)[LAPS_DEVICE_MAX + 1], size_t max, size_t *n,
		       char next[REST_PAGE_TOKEN_MAX + 1]) __attribute__((warn_unused_result));

/* One page of GET /v1/report (REST-API.md 5.5):
 * {"entries":[{"device","account","state","rotated_at","expires_at","seq",
 * "overdue"},...],"next_page_token":T|null}.  Each entry is checked
 * (valid names, known state, times in range) and handed to cb as a row
 * with has_record true, in the server's order; cb's error stops the parse
 * and is returned as it is.  *n counts the rows handed over; next[0] =
 * '\0' on the last page.  A page that names a next page must hold at
 * least one entry (else a server could send the client round forever). */
int rest_parse_report(const char *json, size_t len, const char *what, laps_report_cb cb,
		      void *arg, size_t *n, char next[REST_PAGE_TOKEN_MAX + 1])
    __attribute__((warn_unused_result));

/* The answer of POST /v1/expire (REST-API.md 5.7): {"count":N,
 * "entries":[report entries],...}; each entry through cb, *count = N
 * (which must equal the entries' number). */
int rest_parse_expire_many(const char *json, size_t len, const char *what, laps_report_cb cb,
			   void *arg, size_t *count) __attribute__((warn_unused_result));

/* {"records":[REC,...]}: each REC parsed with laps_record_parse; at most
 * max records are kept (newest first as the server sends them). */
int rest_parse_history(const char *json, size_t len, const char *what, size_t max,
		       struct laps_record_list *out) __attribute__((warn_unused_result));

/* A token endpoint's success answer (RFC 6749 5.1): access_token (a
 * b64token, RFC 6750 2.1), token_type "Bearer" (any case), expires_in
 * (optional, 0 when absent), refresh_token (optional; *refresh NULL when
 * absent or refresh is NULL).  Tokens are returned in laps_secret memory;
 * the parser's copies are wiped. */
int rest_parse_token(const char *json, size_t len, const char *what, char **access,
		     int64_t *expires_in, char **refresh) __attribute__((warn_unused_result));

/* An OAuth error answer {"error":"..."} (RFC 6749 5.2): the error code. */
int rest_parse_oauth_error(const char *json, size_t len, char err[REST_CODE_MAX])
    __attribute__((warn_unused_result));

/* RFC 8628 3.2: the device authorization answer. */
struct rest_device_auth {
	char *device_code; /* laps_secret memory */
	char user_code[REST_USER_CODE_MAX + 1];
	char verification_uri[REST_URI_MAX + 1];
	char verification_uri_complete[REST_URI_MAX + 1]; /* "" when absent */
	int64_t expires_in;
	int64_t interval; /* 5 when absent */
};
int rest_parse_device_auth(const char *json, size_t len, const char *what,
			   struct rest_device_auth *out) __attribute__((warn_unused_result));
void rest_device_auth_clear(struct rest_device_auth *d);

/* Retry-After (RFC 9110 10.2.3): delay-seconds or an HTTP-date, as seconds
 * from now (a date in the past is 0).  LAPS_ERR_FORMAT otherwise. */
int rest_parse_retry_after(const char *value, int64_t now, int64_t *secs)
    __attribute__((warn_unused_result));

/* An ETag as REST-API.md 1 allows: a strong quoted tag of visible ASCII
 * (no '"' inside), shorter than LAPS_VERSION_MAX. */
bool rest_etag_ok(const char *tag);

/* A token that is safe in "Authorization: Bearer <t>" (RFC 6750 b64token). */
bool rest_token_ok(const char *t);

#endif
