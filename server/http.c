/*
 * http.c — libmicrohttpd glue for laps-escrowd (see http.h).
 *
 * One access-handler call per request phase: the first allocates the
 * request state and refuses an announced oversized body at once (413), the
 * upload calls append to a buffer capped for the route (a body past the
 * cap is dropped and answered 413), the last one authenticates and calls
 * api_handle().  Metrics are recorded when libmicrohttpd reports the
 * request completed; requests in flight are counted for a graceful stop.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "escrow/err.h"
#include "escrow/fileio.h"
#include "server/fmt.h"
#include "escrow/log.h"
#include "escrow/secret.h"
#include "server/api_impl.h"
#include "server/console.h"
#include "server/http.h"
#include "server/escrowd_conf.h"
#include "server/est.h"
#include "server/est_boot.h"

#define CONN_MEMORY (32 * 1024) /* request line + headers + buffers per connection */
#define PEM_MAX (256 * 1024)
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
/* An announced body over the route's cap but not over this is read and
 * dropped, then answered 413: answered before the body, the connection
 * closes with the client's bytes unread, the kernel resets it, and a
 * client still sending (curl: "Send failure: Broken pipe") loses the 413. */
#define DRAIN_MAX (1024 * 1024)

/* One accepted connection, for the request deadline (see watchdog()).
 * Linked into http_server.conns from libmicrohttpd's connection-started
 * notification to its connection-closed one, which comes before the
 * socket is closed, so fd is valid while the entry is in the list. */
struct hconn {
	struct hconn *prev, *next;
	int fd;
	bool busy;	       /* a request fully received, its answer not yet sent */
	struct timespec since; /* opened, or the previous answer completed */
};

struct http_server {
	struct MHD_Daemon *d;
	pthread_t watchdog;
	bool watchdog_started;
	bool stopping;	      /* under lock */
	pthread_mutex_t lock; /* conns, stopping */
	pthread_cond_t wake;  /* stopping set */
	struct hconn *conns;
	unsigned request_limit; /* seconds: 2 x [server] timeout */
	struct api *api;
	const struct laps_conf *cfg;
	http_token_fn token_fn;
	void *token_ctx;
	char *cert, *key, *ca;
	size_t key_len;
	int active; /* requests in flight (atomic) */
	struct sockaddr_storage addr;
	struct console *console; /* [console] enable = yes, else NULL */
};

struct hreq {
	struct http_server *srv;
	char *body;
	size_t len, max;
	bool too_big;
	bool draining; /* an announced oversized body, read and dropped (DRAIN_MAX) */
	bool answered;
	bool begun;	 /* the access handler has seen the request */
	bool bad_target; /* an encoded '/' or NUL where none may be (uri_seen) */
	bool long_target; /* request target over API_URL_MAX (uri_seen) */
	struct timespec start;
	enum metrics_route route;
	enum metrics_method method;
	int status;
};

static double
elapsed_between(const struct timespec *t0, const struct timespec *t1)
{
	return (double)(t1->tv_sec - t0->tv_sec) + (double)(t1->tv_nsec - t0->tv_nsec) / 1e9;
}

/* The connection's entry (NULL when it has none: allocation failed). */
static struct hconn *
hconn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci != NULL ? ci->socket_context : NULL;
}

/* busy: a request was received in full (or answered early) and the
 * deadline no longer applies; !busy: its answer is complete, the next
 * request's deadline starts now. */
static void
hconn_busy(struct http_server *srv, struct MHD_Connection *c, bool busy)
{
	struct hconn *hc = hconn_of(c);

	if (hc == NULL)
		return;
	pthread_mutex_lock(&srv->lock);
	hc->busy = busy;
	if (!busy)
		clock_gettime(CLOCK_MONOTONIC, &hc->since);
	pthread_mutex_unlock(&srv->lock);
}

static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
	      enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *srv = cls;
	const union MHD_ConnectionInfo *ci;
	struct hconn *hc;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci == NULL || (hc = calloc(1, sizeof *hc)) == NULL)
			return;
		hc->fd = ci->connect_fd;
		clock_gettime(CLOCK_MONOTONIC, &hc->since);
		pthread_mutex_lock(&srv->lock);
		hc->next = srv->conns;
		if (srv->conns != NULL)
			srv->conns->prev = hc;
		srv->conns = hc;
		pthread_mutex_unlock(&srv->lock);
		*socket_context = hc;
		return;
	}
	if ((hc = *socket_context) == NULL)
		return;
	pthread_mutex_lock(&srv->lock);
	if (hc->prev != NULL)
		hc->prev->next = hc->next;
	else
		srv->conns = hc->next;
	if (hc->next != NULL)
		hc->next->prev = hc->prev;
	pthread_mutex_unlock(&srv->lock);
	free(hc);
	*socket_context = NULL;
}

/* libmicrohttpd's [server] timeout is an idle timeout: every byte restarts
 * it, so a client trickling its headers one byte a second would hold its
 * connection for ever.  This thread closes (shutdown(2): libmicrohttpd then
 * reads end-of-file and releases the connection itself) every connection
 * whose request has not been received in full within request_limit of the
 * connection opening or of its previous answer completing: the TLS
 * handshake, the request line, the headers and the body together. */
static void *
watchdog(void *arg)
{
	struct http_server *srv = arg;
	struct timespec now, until;
	struct hconn *hc;
	double limit = srv->request_limit;

	pthread_mutex_lock(&srv->lock);
	while (!srv->stopping) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		for (hc = srv->conns; hc != NULL; hc = hc->next)
			if (!hc->busy && hc->fd >= 0 &&
			    elapsed_between(&hc->since, &now) >= limit) {
				shutdown(hc->fd, SHUT_RDWR);
				hc->fd = -1; /* once */
			}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 250 * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&srv->wake, &srv->lock, &until);
	}
	pthread_mutex_unlock(&srv->lock);
	return NULL;
}

static double
elapsed(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return elapsed_between(t0, &t);
}

/* Decode %XX once (RFC 3986 §2.1), for the path and for every query key
 * and value alike (libmicrohttpd cannot say which it hands us).  An
 * encoded NUL stays as it is; uri_seen() has already marked the request
 * for a 400, as it has for an encoded '/' in the path, where decoding it
 * would change the path's shape.  In a query value '/' is data. */
static size_t
unescape(void *cls, struct MHD_Connection *c, char *s)
{
	char *r = s, *w = s;
	unsigned v;

	(void)cls;
	(void)c;
	while (*r != '\0') {
		if (r[0] == '%' && isxdigit((unsigned char)r[1]) && isxdigit((unsigned char)r[2])) {
			v = (unsigned)(isdigit((unsigned char)r[1]) ? r[1] - '0' : (tolower(r[1]) - 'a' + 10)) * 16 +
			    (unsigned)(isdigit((unsigned char)r[2]) ? r[2] - '0' : (tolower(r[2]) - 'a' + 10));
			if (v != 0) {
				*w++ = (char)v;
				r += 3;
				continue;
			}
		}
		*w++ = *r++;
	}
	*w = '\0';
	return (size_t)(w - s);
}

/* Does s[0..len) hold %XX (case-insensitive) for the byte x? */
static bool
has_escape(const char *s, size_t len, unsigned x)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i + 2 < len; i++)
		if (s[i] == '%' && tolower((unsigned char)s[i + 1]) == hex[x >> 4] &&
		    tolower((unsigned char)s[i + 2]) == hex[x & 15])
			return true;
	return false;
}

/* The raw request target, before anything is decoded: the request state
 * starts here, with a note of an encoded '/' or NUL in the path or a NUL in
 * the query (both 400, docs/REST-API.md §1). */
static void *
uri_seen(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct hreq *h = calloc(1, sizeof *h);
	size_t plen = strcspn(uri, "?");

	(void)cls;
	(void)c;
	if (h != NULL) {
		h->bad_target = has_escape(uri, plen, '/') || has_escape(uri, plen, 0) ||
				has_escape(uri + plen, strlen(uri + plen), 0);
		h->long_target = strlen(uri) > API_URL_MAX;
	}
	return h;
}

/* MHD_KeyValueIterator: the size of the request's header lines. */
static enum MHD_Result
count_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	size_t *n = cls;

	(void)kind;
	*n += strlen(key) + (value != NULL ? strlen(value) : 0) + 4; /* ": " CRLF */
	return MHD_YES;
}

static enum MHD_Result
collect_param(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct api_request *req = cls;

	(void)kind;
	if (req->n_params == API_MAX_PARAMS) {
		req->too_many_params = true;
		return MHD_NO;
	}
	req->params[req->n_params].key = key;
	req->params[req->n_params].value = value;
	req->n_params++;
	return MHD_YES;
}

/* The token of an "Authorization: Bearer TOKEN" value; NULL for any
 * other scheme or an empty token. */
static const char *
bearer_of(const char *authz)
{
	return strncasecmp(authz, "Bearer ", 7) == 0 && authz[7] != '\0' ? authz + 7 : NULL;
}

bool
http_decode_target(char *target, struct api_request *req)
{
	struct hreq *h = uri_seen(NULL, target, NULL);
	char *q = strchr(target, '?'), *p, *amp, *eq;
	bool bad = h == NULL || h->bad_target;

	free(h);
	if (q != NULL)
		*q++ = '\0';
	(void)unescape(NULL, NULL, target);
	req->path = target;
	/* libmicrohttpd's split of the query: '&' between arguments, the first
	 * '=' between key and value (no '=': no value) */
	for (p = q; p != NULL && *p != '\0'; p = amp) {
		if ((amp = strchr(p, '&')) != NULL)
			*amp++ = '\0';
		if ((eq = strchr(p, '=')) != NULL)
			*eq++ = '\0';
		(void)unescape(NULL, NULL, p);
		if (eq != NULL)
			(void)unescape(NULL, NULL, eq);
		if (collect_param(req, MHD_GET_ARGUMENT_KIND, p, eq) == MHD_NO)
			break;
	}
	return !bad;
}

const char *
http_bearer(const char *authz)
{
	return bearer_of(authz);
}

static void
peer_of(struct MHD_Connection *c, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	socklen_t sl;

	fmt_trunc(buf, len, "-");
	if (ci == NULL || ci->client_addr == NULL)
		return;
	sl = ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						    : sizeof(struct sockaddr_in);
	if (getnameinfo(ci->client_addr, sl, buf, (socklen_t)len, NULL, 0, NI_NUMERICHOST) != 0)
		fmt_trunc(buf, len, "-");
}

/* Was the client certificate issued by our EST CA?  Such a certificate
 * names a device, never an admin, even when [authz] cert_admins later
 * lists its name. */
static bool
est_admin(const struct http_server *srv, void *tls_session)
{
	const void *der;
	size_t len;

	return srv->api->est_ca != NULL && http_tls_peer_der(tls_session, &der, &len) &&
	       est_ca_issued(srv->api->est_ca, der, len);
}

/* A certificate chained to [est] bootstrap_ca is a bootstrap credential:
 * no identity, only req->bootstrap for EST simpleenroll (est_api.c), and
 * refused everywhere else (401, LAPS-3033).  True when it is one. */
static bool
bootstrap_peer(struct http_server *srv, void *tls_session, struct api_request *req, char *why,
	       size_t whylen)
{
	const void *der[EST_BOOT_CHAIN_MAX];
	size_t len[EST_BOOT_CHAIN_MAX], n;
	struct est_boot_peer p;

	if (srv->api->est_boot == NULL ||
	    (n = http_tls_peer_chain(tls_session, der, len, EST_BOOT_CHAIN_MAX)) == 0 ||
	    !est_boot_verify(srv->api->est_boot, der, len, n, &p))
		return false;
	fmt_trunc(req->bootstrap, sizeof req->bootstrap, "%s", p.name);
	fmt_trunc(req->bootstrap_serial, sizeof req->bootstrap_serial, "%s", p.serial);
	fmt_trunc(why, whylen,
		  "a bootstrap certificate ([est] bootstrap_ca, %s) only enrolls its device "
		  "(EST simpleenroll)",
		  p.name);
	req->auth_kind = "bootstrap certificate";
	req->auth_error = why;
	return true;
}

/* Bearer token or client certificate -> req->id / req->auth_error. */
static void
authenticate(struct http_server *srv, struct MHD_Connection *c, struct api_request *req,
	     struct identity *id, char *why, size_t whylen)
{
	const char *authz = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	const union MHD_ConnectionInfo *ci;
	const char *tok;
	int rc;

	memset(id, 0, sizeof *id);
	if (authz != NULL) {
		req->auth_kind = "token";
		req->auth_error = why;
		if ((tok = bearer_of(authz)) == NULL) {
			fmt_trunc(why, whylen, "only Bearer tokens are accepted");
			return;
		}
		if (srv->token_fn == NULL) {
			fmt_trunc(why, whylen, "token authentication is not configured");
			return;
		}
		rc = srv->token_fn(srv->token_ctx, tok, strlen(tok), req->now, id, why, whylen);
	} else {
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
		if (ci != NULL && bootstrap_peer(srv, ci->tls_session, req, why, whylen))
			return;
		rc = http_tls_peer(&srv->api->authz, ci != NULL ? ci->tls_session : NULL, id, why,
				   whylen);
		if (rc == 1)
			return; /* no credential at all */
		if (rc == 0 && id->kind == ID_ADMIN && est_admin(srv, ci->tls_session)) {
			fmt_trunc(why, whylen,
				  "a certificate laps-escrowd issued (EST) is never an "
				  "administrator's");
			rc = LAPS_ERR_AUTH;
		}
		req->auth_kind = "certificate";
		req->auth_error = why;
	}
	if (rc == 0) {
		req->id = id;
		req->auth_error = NULL;
	}
}

static void
add_headers(struct MHD_Response *r, const struct api_response *resp)
{
	char num[24];

	MHD_add_response_header(r, "Content-Type", resp->content_type != NULL
							   ? resp->content_type
							   : "application/json");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (resp->etag[0] != '\0')
		MHD_add_response_header(r, "ETag", resp->etag);
	if (resp->location[0] != '\0')
		MHD_add_response_header(r, "Location", resp->location);
	if (resp->seq[0] != '\0')
		MHD_add_response_header(r, "Laps-Seq", resp->seq);
	if (resp->rotate_by[0] != '\0')
		MHD_add_response_header(r, "Laps-Rotate-By", resp->rotate_by);
	if (resp->allow != NULL)
		MHD_add_response_header(r, "Allow", resp->allow);
	if (resp->retry_after > 0) {
		fmt_trunc(num, sizeof num, "%u", resp->retry_after);
		MHD_add_response_header(r, "Retry-After", num);
	}
	if (resp->www_authenticate)
		MHD_add_response_header(r, "WWW-Authenticate",
					resp->invalid_token
					    ? "Bearer realm=\"laps\", error=\"invalid_token\""
					    : "Bearer realm=\"laps\"");
}

static enum MHD_Result
queue(struct MHD_Connection *c, struct hreq *h, struct api_response *resp)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(resp->body_len, resp->body, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		api_response_clear(resp);
		return MHD_NO;
	}
	resp->body = NULL; /* owned by r */
	add_headers(r, resp);
	h->status = resp->status;
	h->answered = true;
	hconn_busy(h->srv, c, true);
	ret = MHD_queue_response(c, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

/* A console file (console.c): public, before any authentication. */
static enum MHD_Result
queue_console(struct http_server *srv, struct MHD_Connection *c, const char *url,
	      const char *method, struct hreq *h)
{
	const char *const *hd = console_headers(srv->console);
	struct console_answer a;
	struct MHD_Response *r;
	enum MHD_Result ret;

	console_answer(srv->console, method, url, &a);
	r = MHD_create_response_from_buffer(a.len, (void *)a.body, MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	for (; *hd != NULL; hd += 2)
		MHD_add_response_header(r, hd[0], hd[1]);
	MHD_add_response_header(r, "Content-Type", a.content_type);
	if (a.location != NULL)
		MHD_add_response_header(r, "Location", a.location);
	if (a.allow != NULL)
		MHD_add_response_header(r, "Allow", a.allow);
	h->status = (int)a.status;
	h->answered = true;
	hconn_busy(srv, c, true);
	ret = MHD_queue_response(c, a.status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
respond(struct http_server *srv, struct MHD_Connection *c, const char *url, const char *method,
	struct hreq *h)
{
	struct api_request req;
	struct api_response resp;
	struct identity id;
	struct timespec now;
	char peer[64], why[512];

	if (srv->console != NULL && console_path(url))
		return queue_console(srv, c, url, method, h);
	memset(&req, 0, sizeof req);
	clock_gettime(CLOCK_REALTIME, &now);
	req.now = now.tv_sec;
	req.now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	req.method = method;
	req.path = url;
	peer_of(c, peer, sizeof peer);
	req.peer = peer;
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_param, &req);
	req.if_match = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-Match");
	req.if_none_match = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
	req.break_glass = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Laps-Break-Glass");
	req.content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	req.authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	req.body = h->body != NULL ? h->body : "";
	req.body_len = h->len;
	req.body_too_big = h->too_big;
	why[0] = '\0';
	authenticate(srv, c, &req, &id, why, sizeof why);
	api_handle(srv->api, &req, &resp);
	laps_wipe(&id, sizeof id);
	return queue(c, h, &resp);
}

/* The first call: state (from uri_seen(), or here if that failed), and a
 * bad request target refused at once; an announced oversized body is
 * refused at once when over DRAIN_MAX, else read, dropped and refused. */
static enum MHD_Result
begin(struct http_server *srv, struct MHD_Connection *c, const char *url, const char *method,
      void **con_cls)
{
	struct hreq *h = *con_cls != NULL ? *con_cls : calloc(1, sizeof *h);
	struct api_response resp;
	const char *cl;
	long long n;
	size_t hsize = 0;

	if (h == NULL)
		return MHD_NO;
	h->begun = true;
	h->srv = srv;
	clock_gettime(CLOCK_MONOTONIC, &h->start);
	h->route = api_route_of(url);
	h->method = api_method_of(method);
	h->max = api_body_cap(method, url);
	__atomic_add_fetch(&srv->active, 1, __ATOMIC_SEQ_CST);
	*con_cls = h;
	memset(&resp, 0, sizeof resp);
	resp.route = h->route;
	if (h->long_target) {
		api_problem(&resp, 414, "uri_too_long",
			    "the request target (path and query) is over 2048 bytes");
		return queue(c, h, &resp);
	}
	(void)MHD_get_connection_values(c, MHD_HEADER_KIND, count_header, &hsize);
	if (hsize > API_HEADERS_MAX) {
		api_problem(&resp, 431, "headers_too_large",
			    "the request headers are over 16 KiB in total");
		return queue(c, h, &resp);
	}
	if (h->bad_target) {
		api_problem(&resp, 400, "invalid_parameter",
			    "an encoded '/' in the path, or an encoded NUL");
		return queue(c, h, &resp);
	}
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
	if (cl != NULL && laps_parse_int64(cl, 0, INT64_MAX, &n) == 0 && (size_t)n > h->max) {
		if (n <= DRAIN_MAX) {
			h->draining = true;
			return MHD_YES;
		}
		api_problem(&resp, 413, "body_too_large", "the request body is too large");
		return queue(c, h, &resp);
	}
	return MHD_YES;
}

/* A body (chunked, or longer than announced) passed the route's cap: 413
 * at once, never reading on to the client's end.  libmicrohttpd 0.9.75
 * accepts a response only before the body is read or after all of it, so
 * while the body is arriving the 413 is attempted and, refused, the
 * connection is closed (MHD_NO); either way nothing more is read. */
static enum MHD_Result
too_big(struct MHD_Connection *c, struct hreq *h)
{
	struct api_response resp;

	h->too_big = true;
	free(h->body);
	h->body = NULL;
	h->len = 0;
	memset(&resp, 0, sizeof resp);
	resp.route = h->route;
	api_problem(&resp, 413, "body_too_large", "the request body is too large");
	return queue(c, h, &resp) == MHD_YES ? MHD_YES : MHD_NO;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
	   const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct hreq *h = *con_cls;
	char *nb;

	(void)version;
	if (h == NULL || !h->begun)
		return begin(srv, c, url, method, con_cls);
	if (h->answered) {
		*upload_size = 0; /* answered early (413): drop the rest */
		return MHD_YES;
	}
	if (h->draining) { /* the announced length bounds what is read */
		if (*upload_size != 0) {
			*upload_size = 0;
			return MHD_YES;
		}
		return too_big(c, h);
	}
	if (*upload_size != 0) {
		if (h->len + *upload_size > h->max) {
			*upload_size = 0;
			return too_big(c, h);
		}
		if ((nb = realloc(h->body, h->len + *upload_size + 1)) == NULL)
			return MHD_NO;
		h->body = nb;
		memcpy(h->body + h->len, upload, *upload_size);
		h->len += *upload_size;
		h->body[h->len] = '\0';
		*upload_size = 0;
		return MHD_YES;
	}
	return respond(srv, c, url, method, h);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
	     enum MHD_RequestTerminationCode toe)
{
	struct http_server *srv = cls;
	struct hreq *h = *con_cls;

	if (h == NULL)
		return;
	if (!h->begun) { /* refused by libmicrohttpd before the handler saw it */
		free(h);
		*con_cls = NULL;
		return;
	}
	if (h->answered)
		hconn_busy(srv, c, false);
	metrics_request(h->route, h->method,
			h->answered ? h->status : (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? 408 : 0),
			elapsed(&h->start));
	free(h->body);
	free(h);
	*con_cls = NULL;
	__atomic_sub_fetch(&srv->active, 1, __ATOMIC_SEQ_CST);
}

static void __attribute__((format(printf, 2, 0)))
mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	laps_log_vmsg(LAPS_LOG_INFO, "libmicrohttpd", fmt, ap);
}

/* "ADDR:PORT" or "[V6]:PORT" into srv->addr; *v6 set for IPv6. */
static int
parse_listen(const char *s, struct sockaddr_storage *ss, bool *v6)
{
	char host[64];
	const char *colon, *h = s;
	size_t hl;
	long long port;

	memset(ss, 0, sizeof *ss);
	colon = strrchr(s, ':');
	if (colon == NULL || laps_parse_int64(colon + 1, 0, 65535, &port) != 0)
		goto bad;
	hl = (size_t)(colon - s);
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
		h = s + 1;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof host)
		goto bad;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*v6 = strchr(host, ':') != NULL;
	if (*v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) == 1)
			return 0;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &a->sin_addr) == 1)
			return 0;
	}
bad:
	return laps_seterr(LAPS_ERR_CONFIG,
			   "[server] listen: '%.64s' is not ADDRESS:PORT (numeric address)", s);
}

/* The EST issuing CA joins the client certificate trust list: the
 * certificates laps-escrowd issues authenticate their devices; so does
 * [est] bootstrap_ca, for simpleenroll only (bootstrap_peer()). */
static int
trust_pem(struct http_server *srv, const char *pem)
{
	size_t have = srv->ca != NULL ? strlen(srv->ca) : 0, add = strlen(pem);
	char *ca;

	if (have + add + 2 > 3 * PEM_MAX || (ca = realloc(srv->ca, have + add + 2)) == NULL)
		return laps_seterr(LAPS_ERR_NOMEM, "client CA list too large");
	ca[have] = '\n';
	memcpy(ca + have + 1, pem, add + 1);
	srv->ca = ca;
	return 0;
}

static int
load_pems(struct http_server *srv, const struct laps_conf *cfg)
{
	size_t len;
	int rc;

	if ((rc = laps_file_read(laps_server_conf(cfg)->cert_file, PEM_MAX, 0, &srv->cert, &len)) !=
		0 ||
	    (rc = laps_file_read(laps_server_conf(cfg)->key_file, PEM_MAX,
				 LAPS_FILE_SECRET | LAPS_FILE_OWNER_ROOT, &srv->key,
				 &srv->key_len)) != 0)
		return rc;
	if (laps_server_conf(cfg)->client_ca != NULL &&
	    (rc = laps_file_read(laps_server_conf(cfg)->client_ca, PEM_MAX, 0, &srv->ca, &len)) !=
		0)
		return rc;
	if (srv->api->est_ca != NULL && (rc = trust_pem(srv, est_ca_pem(srv->api->est_ca))) != 0)
		return rc;
	return srv->api->est_boot != NULL ? trust_pem(srv, est_boot_pem(srv->api->est_boot)) : 0;
}

static void
server_free(struct http_server *srv)
{
	if (srv == NULL)
		return;
	if (srv->watchdog_started) {
		pthread_mutex_lock(&srv->lock);
		srv->stopping = true;
		pthread_cond_signal(&srv->wake);
		pthread_mutex_unlock(&srv->lock);
		pthread_join(srv->watchdog, NULL);
	}
	pthread_cond_destroy(&srv->wake);
	pthread_mutex_destroy(&srv->lock);
	console_free(srv->console);
	free(srv->cert);
	free(srv->ca);
	if (srv->key != NULL)
		laps_file_free(srv->key, srv->key_len, LAPS_FILE_SECRET);
	free(srv);
}

int
http_start(const struct laps_conf *cfg, struct api *api, http_token_fn token_fn, void *token_ctx,
	   struct http_server **out)
{
	struct http_server *srv;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS | MHD_USE_ITC |
			 MHD_USE_ERROR_LOG | MHD_USE_POLL;
	bool v6 = false;
	int rc;

	*out = NULL;
	if ((srv = calloc(1, sizeof *srv)) == NULL)
		return LAPS_ERR_NOMEM;
	srv->api = api;
	srv->cfg = cfg;
	srv->token_fn = token_fn;
	srv->token_ctx = token_ctx;
	srv->request_limit = 2 * (unsigned)laps_server_conf(cfg)->timeout;
	pthread_mutex_init(&srv->lock, NULL);
	pthread_cond_init(&srv->wake, NULL);
	if ((rc = parse_listen(laps_server_conf(cfg)->listen, &srv->addr, &v6)) != 0 ||
	    (rc = load_pems(srv, cfg)) != 0 || (rc = console_load(cfg, &srv->console)) != 0)
		goto fail;
	if (v6)
		flags |= MHD_USE_IPv6;
	srv->d = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, &srv->addr,
	    MHD_OPTION_HTTPS_MEM_CERT, srv->cert, MHD_OPTION_HTTPS_MEM_KEY, srv->key,
	    MHD_OPTION_HTTPS_PRIORITIES, TLS_PRIORITIES, MHD_OPTION_THREAD_POOL_SIZE,
	    (unsigned)laps_server_conf(cfg)->threads, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)laps_server_conf(cfg)->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned)laps_server_conf(cfg)->max_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)laps_server_conf(cfg)->timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)CONN_MEMORY, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_UNESCAPE_CALLBACK,
	    unescape, NULL, MHD_OPTION_URI_LOG_CALLBACK, uri_seen, NULL, MHD_OPTION_EXTERNAL_LOGGER,
	    mhd_log, NULL, srv->ca != NULL ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, srv->ca,
	    MHD_OPTION_END);
	if (srv->d == NULL) {
		rc = laps_seterr(LAPS_ERR_IO,
				 "cannot listen on %s (address in use, or a bad "
				 "certificate/key)",
				 laps_server_conf(cfg)->listen);
		goto fail;
	}
	if (pthread_create(&srv->watchdog, NULL, watchdog, srv) != 0) {
		MHD_stop_daemon(srv->d);
		rc = laps_seterr(LAPS_ERR_NOMEM, "cannot start the request deadline thread");
		goto fail;
	}
	srv->watchdog_started = true;
	*out = srv; /* success */
	return 0;
fail:
	server_free(srv);
	return rc;
}

unsigned
http_port(const struct http_server *s)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);

	return i != NULL ? i->port : 0;
}

void
http_stop(struct http_server *s, unsigned grace_ms)
{
	MHD_socket fd;
	unsigned waited = 0;

	if (s == NULL)
		return;
	fd = MHD_quiesce_daemon(s->d);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	while (__atomic_load_n(&s->active, __ATOMIC_SEQ_CST) > 0 && waited < grace_ms) {
		usleep(10000);
		waited += 10;
	}
	MHD_stop_daemon(s->d); /* every connection closed: the list is empty */
	server_free(s);
}
