/*
 * api.h — the REST v1 protocol of laps-escrowd (docs/REST-API.md), apart
 * from HTTP transport: a parsed request in, a response out.  http.c fills
 * struct api_request from libmicrohttpd; the fuzz target fills it directly.
 */
#ifndef LAPS_SERVER_API_H
#define LAPS_SERVER_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "escrow/conf.h"
#include "server/authz.h"
#include "server/metrics.h"
#include "server/ratelimit.h"
#include "server/store.h"

#define API_MAX_PARAMS 16
#define API_URL_MAX 2048	    /* request target, path and query, as sent */
#define API_HEADERS_MAX (16 * 1024) /* names + values + 4 per header line */
#define API_BODY_MAX_RECORD (LAPS_RECORD_MAX_JSON + 1024)
#define API_BODY_MAX_OTHER 4096
#define API_JSON_DEPTH 8
#define API_PAGE_DEFAULT 100
#define API_HISTORY_DEFAULT 10

struct est_ca;

struct api_param {
	const char *key, *value;
};

struct api_request {
	const char *method;
	const char *path; /* decoded path, without the query */
	struct api_param params[API_MAX_PARAMS];
	size_t n_params;
	bool too_many_params;
	const char *if_match, *if_none_match, *content_type;
	const char *authorization; /* the raw header (EST enrollment tokens), NULL: none */
	const char *break_glass; /* Laps-Break-Glass: REASON (server/api_approval.c) */
	const char *body;
	size_t body_len;
	bool body_too_big;
	const char *peer;          /* peer address */
	const struct identity *id; /* NULL: not authenticated */
	const char *auth_error;    /* why a presented credential was refused (NULL: none sent) */
	const char *auth_kind;     /* "token" | "certificate" for auth_error */
	char
	    bootstrap[256]; /* device name of a bootstrap certificate ([est] bootstrap_ca): no id */
	char bootstrap_serial[72]; /* its serial number, hex */
	int64_t now;
	int64_t now_ms;
};

struct api_response {
	int status;
	char *body; /* malloc'd */
	size_t body_len;
	const char *content_type;
	char etag[48];
	char location[600];
	char seq[24];
	char rotate_by[24];    /* Laps-Rotate-By (rotate after read); "" = none */
	unsigned retry_after;  /* 0: none */
	const char *allow;     /* 405 */
	bool www_authenticate; /* 401 */
	bool invalid_token;    /* 401 after a presented credential */
	enum metrics_route route;
};

struct api {
	struct store *store;
	const struct laps_conf *cfg;
	struct authz authz;
	struct ratelimit *rl; /* NULL: no rate limit */
	bool metrics;         /* serve /metrics */
	struct est_ca *est_ca; /* NULL: no EST service (server/est_api.c) */
	struct est_boot *est_boot; /* [est] bootstrap_ca, NULL: none (server/est_boot.h) */
};

/* Which route (and so which body cap) a method+path is; MR_UNKNOWN if none. */
enum metrics_route api_route_of(const char *path);
size_t api_body_cap(const char *method, const char *path);
enum metrics_method api_method_of(const char *method);

/* Answer one request.  Always fills resp (an error is a problem+json). */
void api_handle(struct api *api, const struct api_request *req, struct api_response *resp);
void api_response_clear(struct api_response *resp);

/* Parsers (server/api_parse.c; exported for tests and the fuzz target). */
/* A confirm body: {"rotation_id":"<32 hex>","expires_at":N}.  0 or LAPS_ERR_FORMAT. */
int api_parse_confirm(const char *body, size_t len, char rotid[LAPS_ROTID_HEX + 1],
		      int64_t *expires_at) __attribute__((warn_unused_result));
/* An expire body: {} or {"expires_at":N}; *has set when given. */
int api_parse_expire(const char *body, size_t len, bool *has, int64_t *expires_at)
    __attribute__((warn_unused_result));
/* If-Match value "\"v<N>\"" -> N; LAPS_ERR_FORMAT when malformed (lists, weak
 * tags, '*'); a well-formed tag that is not one of ours gives 0 (never
 * matches). */
int api_parse_etag(const char *v, int64_t *version) __attribute__((warn_unused_result));

#endif
