/*
 * graph.c — the `graph` backend: Windows LAPS passwords that devices back
 * up to Microsoft Entra ID, read through Microsoft Graph.  Read-only
 * (LAPS_BCAP_READONLY): laps-get reads it (--source graph or `[escrow]
 * backend = graph`); the agent refuses it.  read() and history() answer
 * from one fetch of the device's credentials, kept until the next device.
 *
 *   POST token_url   grant_type=client_credentials (client id + secret in the form)
 *   GET  {url}/directory/deviceLocalCredentials?$filter=deviceName eq '<name>'
 *   GET  {url}/directory/deviceLocalCredentials/{id}?$select=credentials
 *
 * Every response is untrusted: size-capped, parsed with json-c, each field
 * type-checked; anything unexpected is LAPS_ERR_FORMAT naming the field.
 * TLS verification is always on; only https URLs are followed (no redirects).
 */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <json-c/printbuf.h>
#include <sodium.h>

#include "backends/graph_backend.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/isotime.h"
#include "escrow/json_secret.h"
#include "escrow/log.h"
#include "escrow/secret.h"
#include "backends/graph_conf.h"

#define GR_BODY_MAX (256 * 1024) /* largest response accepted */
#define GR_SECRET_FILE_MAX 4096	 /* client secret file */
#define GR_TOKEN_MAX (16 * 1024) /* access token */
#define GR_URL_MAX 4096
#define GR_ID_MAX 128	/* device object id (a GUID) */
#define GR_B64_MAX 1024 /* passwordBase64 */
#define GR_CRED_MAX 64	/* credentials considered */
#define GR_JSON_DEPTH 16
#define GR_SOURCE "graph (Entra ID)"

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

/* Percent-encode src (RFC 3986 unreserved kept) into dst.  LAPS_ERR_TOOBIG. */
static int
pct_encode(const char *src, size_t srclen, char *dst, size_t dstlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, o = 0;

	for (i = 0; i < srclen; i++) {
		unsigned char c = (unsigned char)src[i];

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
			if (o + 1 >= dstlen)
				return LAPS_ERR_TOOBIG;
			dst[o++] = (char)c;
		} else {
			if (o + 3 >= dstlen)
				return LAPS_ERR_TOOBIG;
			dst[o++] = '%';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	if (o >= dstlen)
		return LAPS_ERR_TOOBIG;
	dst[o] = '\0';
	return 0;
}

/* A server-provided text reduced to printable ASCII for a message. */
static void
sanitize(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (; in != NULL && *in != '\0' && o + 1 < len; in++)
		out[o++] = (*in >= 0x20 && *in < 0x7f) ? *in : '?';
	out[o] = '\0';
}

/* An ISO 8601 timestamp from the server (a time and a zone required). */
static int
parse_time(const char *s, int64_t *out)
{
	return laps_isotime_parse(s, true, out);
}

int
laps_graph_filter_query(const char *device, char *buf, size_t len)
{
	char lit[2 * LAPS_DEVICE_MAX + 32];
	size_t i, o = 0, n;
	const char pre[] = "deviceName eq '";

	if (device == NULL || (n = strlen(device)) == 0 || n > LAPS_DEVICE_MAX)
		return laps_seterr(LAPS_ERR_INVALID, "bad device name");
	memcpy(lit, pre, sizeof pre - 1);
	o = sizeof pre - 1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)device[i];

		if (c < 0x20 || c == 0x7f)
			return laps_seterr(LAPS_ERR_INVALID, "control character in device name");
		if (c == '\'') /* OData: a quote inside a string literal is doubled */
			lit[o++] = '\'';
		lit[o++] = (char)c;
	}
	lit[o++] = '\'';
	lit[o] = '\0';
	if (pct_encode(lit, o, buf, len) != 0)
		return laps_seterr(LAPS_ERR_TOOBIG, "device name too long for a query");
	return 0;
}

/* Well-formed UTF-8 without NUL or control characters? */
static bool
utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t k;
		uint32_t cp;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			k = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + k >= n) /* truncated sequence */
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

int
laps_graph_decode_password(const char *b64, char **out)
{
	unsigned char *bin = NULL;
	char *pw = NULL;
	size_t b64len, binlen = 0, i, o = 0;
	bool utf16;
	int rc;

	*out = NULL;
	if (b64 == NULL || (b64len = strlen(b64)) == 0)
		return laps_seterr(LAPS_ERR_FORMAT, "passwordBase64 is empty");
	if (b64len > GR_B64_MAX)
		return laps_seterr(LAPS_ERR_FORMAT, "passwordBase64 is too long");
	if ((bin = laps_secret_alloc(b64len)) == NULL)
		return LAPS_ERR_NOMEM;
	if (sodium_base642bin(bin, b64len, b64, b64len, NULL, &binlen, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    binlen == 0) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "passwordBase64 is not valid base64");
		goto out;
	}
	utf16 = binlen % 2 == 0;
	for (i = 1; utf16 && i < binlen; i += 2)
		if (bin[i] != 0)
			utf16 = false;
	if ((pw = laps_secret_alloc(2 * binlen + 1)) == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	if (utf16) {
		/* every code unit is < 0x100: Latin-1 range, 1 or 2 bytes of UTF-8 */
		for (i = 0; i < binlen; i += 2) {
			unsigned char c = bin[i];

			if (c < 0x20 || c == 0x7f) {
				rc = laps_seterr(LAPS_ERR_FORMAT,
						 "password contains a control character");
				goto out;
			}
			if (c < 0x80) {
				pw[o++] = (char)c;
			} else {
				pw[o++] = (char)(0xc0 | (c >> 6));
				pw[o++] = (char)(0x80 | (c & 0x3f));
			}
		}
	} else {
		if (!utf8_ok(bin, binlen)) {
			rc = laps_seterr(LAPS_ERR_FORMAT,
					 "password is neither UTF-8 nor UTF-16LE text");
			goto out;
		}
		memcpy(pw, bin, binlen);
		o = binlen;
	}
	pw[o] = '\0';
	if (o > LAPS_PASSWORD_MAX) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "password longer than %d bytes",
				 LAPS_PASSWORD_MAX);
		goto out;
	}
	*out = pw; /* success */
	pw = NULL;
	rc = 0;
out:
	laps_secret_free(bin);
	laps_secret_free(pw);
	return rc;
}

/* Parse a whole JSON document strictly (size cap, depth, no trailing data). */
static int
parse_json(const char *json, size_t len, const char *what, struct json_object **out)
{
	*out = NULL;
	if (json == NULL)
		return laps_seterr(LAPS_ERR_FORMAT, "%s: empty response", what);
	if (len > GR_BODY_MAX)
		return laps_seterr(LAPS_ERR_FORMAT, "%s: response too large", what);
	return laps_json_parse_secret(json, len, GR_BODY_MAX, GR_JSON_DEPTH, what, out);
}

/* The string member key of o, or NULL; LAPS_ERR_FORMAT when present with
 * another type or required and missing. */
static int
get_str(struct json_object *o, const char *key, bool required, size_t max, const char *what,
	const char **out)
{
	struct json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || v == NULL) {
		if (required)
			return laps_seterr(LAPS_ERR_FORMAT, "%s: '%s' is missing", what, key);
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return laps_seterr(LAPS_ERR_FORMAT, "%s: '%s' is not a string", what, key);
	if ((size_t)json_object_get_string_len(v) > max)
		return laps_seterr(LAPS_ERR_FORMAT, "%s: '%s' is too long", what, key);
	if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
		return laps_seterr(LAPS_ERR_FORMAT, "%s: '%s' contains a NUL byte", what, key);
	*out = json_object_get_string(v);
	return 0;
}

int
laps_graph_parse_lookup(const char *json, size_t len, char *id, size_t idlen, char *name,
		      size_t namelen)
{
	struct json_object *root = NULL, *arr, *dev;
	const char *s, *nm;
	char list[1024], clean[LAPS_DEVICE_MAX + 1];
	size_t n, i, off = 0;
	int rc;

	if ((rc = parse_json(json, len, "device lookup", &root)) != 0)
		return rc;
	if (!json_object_object_get_ex(root, "value", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "device lookup: 'value' is not an array");
		goto out;
	}
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		dev = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(dev, json_type_object)) {
			rc = laps_seterr(LAPS_ERR_FORMAT,
					 "device lookup: value[%zu] is not an "
					 "object",
					 i);
			goto out;
		}
		if ((rc = get_str(dev, "id", true, GR_ID_MAX, "device lookup", &s)) != 0 ||
		    (rc = get_str(dev, "deviceName", true, LAPS_DEVICE_MAX, "device lookup",
				  &nm)) != 0)
			goto out;
		if (s[0] == '\0' || strspn(s, "0123456789abcdefABCDEF-") != strlen(s)) {
			rc = laps_seterr(LAPS_ERR_FORMAT, "device lookup: 'id' is not a device id");
			goto out;
		}
	}
	if (n == 0) {
		rc = laps_seterr(LAPS_ERR_NOTFOUND, "no device of that name in Entra ID");
		goto out;
	}
	if (n > 1) {
		list[0] = '\0';
		for (i = 0; i < n && i < 16 && off < sizeof list; i++) {
			int w;

			dev = json_object_array_get_idx(arr, i);
			(void)get_str(dev, "deviceName", true, LAPS_DEVICE_MAX, "", &nm);
			(void)get_str(dev, "id", true, GR_ID_MAX, "", &s);
			sanitize(nm, clean, sizeof clean);
			w = snprintf(list + off, sizeof list - off, "%s%s (%s)", i ? ", " : "",
				     clean, s);
			if (w < 0)
				break;
			off += (size_t)w;
		}
		rc = laps_seterr(LAPS_ERR_AMBIGUOUS, "several hosts match: %s%s", list,
				 n > 16 ? ", ..." : "");
		goto out;
	}
	dev = json_object_array_get_idx(arr, 0);
	(void)get_str(dev, "id", true, GR_ID_MAX, "", &s);
	(void)get_str(dev, "deviceName", true, LAPS_DEVICE_MAX, "", &nm);
	if (laps_snprintf(id, idlen, "%s", s) != 0 || laps_snprintf(name, namelen, "%s", nm) != 0) {
		rc = LAPS_ERR_TOOBIG;
		goto out;
	}
	sanitize(nm, name, namelen);
	rc = 0;
out:
	json_object_put(root);
	return rc;
}

/* One credential of the response, borrowed from the parsed JSON. */
struct gr_cred {
	const char *account;
	int64_t backup;
	const char *b64;
};

static int
cred_cmp(const void *a, const void *b)
{
	const struct gr_cred *x = a, *y = b;

	if (x->backup != y->backup)
		return x->backup > y->backup ? -1 : 1; /* newest first */
	return 0;
}

/* A record from credential c: clear-text password, never pending.  A password
 * that does not decode is fatal only for the newest (newest); older ones keep
 * password NULL, which laps-get reports in the history entry. */
static int
push_cred(struct laps_record_list *out, const char *device, const struct gr_cred *c,
	  int64_t expires, bool newest)
{
	struct laps_record r;
	int rc;

	laps_record_init(&r);
	sanitize(device, r.device, sizeof r.device);
	sanitize(c->account, r.account, sizeof r.account);
	(void)snprintf(r.source, sizeof r.source, "%s", GR_SOURCE);
	r.rotated_at = c->backup;
	r.expires_at = expires;
	r.state = LAPS_STATE_CONFIRMED;
	rc = laps_graph_decode_password(c->b64, &r.password);
	if (rc == 0 || (rc != LAPS_ERR_NOMEM && !newest))
		rc = laps_record_list_push(out, &r);
	laps_record_clear(&r);
	return rc;
}

/* The "credentials" array of info into creds (those of account, or all). */
static int
collect_creds(struct json_object *info, const char *account, struct gr_cred *creds, size_t *m)
{
	struct json_object *arr, *c;
	const char *s;
	size_t n, i;
	int rc;

	*m = 0;
	if (!json_object_object_get_ex(info, "credentials", &arr) || arr == NULL)
		return laps_seterr(LAPS_ERR_FORMAT, "credentials: 'credentials' is missing");
	if (!json_object_is_type(arr, json_type_array))
		return laps_seterr(LAPS_ERR_FORMAT, "credentials: 'credentials' is not an array");
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		struct gr_cred cr;

		c = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(c, json_type_object))
			return laps_seterr(LAPS_ERR_FORMAT, "credentials[%zu] is not an object", i);
		if ((rc = get_str(c, "accountName", true, LAPS_ACCOUNT_MAX * 4, "credentials",
				  &cr.account)) != 0 ||
		    (rc = get_str(c, "backupDateTime", true, 64, "credentials", &s)) != 0 ||
		    (rc = get_str(c, "passwordBase64", true, GR_B64_MAX, "credentials", &cr.b64)) !=
			0)
			return rc;
		if (parse_time(s, &cr.backup) != 0)
			return laps_seterr(LAPS_ERR_FORMAT,
					   "credentials[%zu]: 'backupDateTime' is not a time", i);
		if (account != NULL && strcasecmp(account, cr.account) != 0)
			continue;
		if (*m < GR_CRED_MAX)
			creds[(*m)++] = cr;
	}
	if (*m == 0 && account != NULL)
		return laps_seterr(LAPS_ERR_NOTFOUND,
				   "no password of account %s is backed up in Entra ID", account);
	if (*m == 0)
		return laps_seterr(LAPS_ERR_NOTFOUND, "no password is backed up in Entra ID");
	return 0;
}

/* The object holding deviceName/credentials: {"value": {...}} or the root. */
static int
credentials_info(struct json_object *root, struct json_object **info)
{
	struct json_object *v;

	*info = root;
	if (json_object_object_get_ex(root, "value", &v)) {
		if (!json_object_is_type(v, json_type_object))
			return laps_seterr(LAPS_ERR_FORMAT, "credentials: 'value' is not an object");
		*info = v;
	}
	return 0;
}

int
laps_graph_parse_credentials(const char *json, size_t len, const char *account,
			     struct laps_record_list *out)
{
	struct json_object *root = NULL, *info;
	struct gr_cred creds[GR_CRED_MAX];
	const char *devname = NULL, *refresh = NULL;
	int64_t refresh_t = 0;
	size_t m = 0, i;
	int rc;

	out->v = NULL;
	out->n = 0;
	if ((rc = parse_json(json, len, "credentials", &root)) != 0)
		return rc;
	if ((rc = credentials_info(root, &info)) != 0 ||
	    (rc = get_str(info, "deviceName", false, LAPS_DEVICE_MAX, "credentials", &devname)) !=
		0 ||
	    (rc = get_str(info, "refreshDateTime", false, 64, "credentials", &refresh)) != 0)
		goto out;
	if (refresh != NULL && parse_time(refresh, &refresh_t) != 0) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "credentials: 'refreshDateTime' is not a time");
		goto out;
	}
	if ((rc = collect_creds(info, account, creds, &m)) != 0)
		goto out;
	qsort(creds, m, sizeof creds[0], cred_cmp);
	/* the newest expires at the next refresh; an older one stopped being
	 * valid when the next was backed up */
	for (i = 0; i < m && rc == 0; i++)
		rc = push_cred(out, devname ? devname : "", &creds[i],
			       i == 0 ? refresh_t : creds[i - 1].backup, i == 0);
out:
	laps_json_wipe(root);
	json_object_put(root);
	if (rc != 0)
		laps_record_list_free(out);
	return rc;
}

/* ------------------------------------------------------------------ */
/* HTTP                                                                */

struct gr_buf {
	char *p; /* malloc'd; wiped before free (may hold secrets) */
	size_t len, cap;
	bool overflow;
};

static void
buf_free(struct gr_buf *b)
{
	if (b->p != NULL)
		laps_freezero(b->p, b->cap);
	memset(b, 0, sizeof *b);
}

static size_t
write_cb(char *data, size_t size, size_t nmemb, void *ud)
{
	struct gr_buf *b = ud;
	size_t n = size * nmemb;

	if (n > GR_BODY_MAX || b->len + n > GR_BODY_MAX) {
		b->overflow = true;
		return 0;
	}
	if (b->len + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 4096;
		char *np;

		while (ncap < b->len + n + 1)
			ncap *= 2;
		if ((np = malloc(ncap)) == NULL)
			return 0;
		if (b->p != NULL) {
			memcpy(np, b->p, b->len);
			laps_freezero(b->p, b->cap);
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

struct gr_ctx {
	const struct laps_conf *cfg;
	CURL *curl;
	char *token; /* laps_secret memory */
};

static int
map_curl(CURLcode cc, const char *url, const struct gr_buf *b, const char *errbuf)
{
	const char *msg = errbuf[0] ? errbuf : curl_easy_strerror(cc);

	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		return laps_seterr(LAPS_ERR_TIMEOUT, "%s: %s", url, msg);
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		return laps_seterr(LAPS_ERR_UNAVAILABLE, "%s: %s", url, msg);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CIPHER:
		return laps_seterr(LAPS_ERR_TLS, "%s: %s", url, msg);
	case CURLE_UNSUPPORTED_PROTOCOL:
		return laps_seterr(LAPS_ERR_CONFIG, "%s: only https:// URLs are used", url);
	case CURLE_FILESIZE_EXCEEDED:
		return laps_seterr(LAPS_ERR_FORMAT, "%s: response larger than %d bytes", url,
				   GR_BODY_MAX);
	case CURLE_WRITE_ERROR:
		if (b->overflow)
			return laps_seterr(LAPS_ERR_FORMAT, "%s: response larger than %d bytes",
					   url, GR_BODY_MAX);
		return laps_seterr(LAPS_ERR_NOMEM, "%s: out of memory", url);
	default:
		return laps_seterr(LAPS_ERR_BACKEND, "%s: %s", url, msg);
	}
}

/* Best-effort error text from a Graph or OAuth2 error body. */
static void
error_text(const struct gr_buf *b, char *out, size_t len)
{
	struct json_object *root = NULL, *e;
	const char *s = NULL;

	out[0] = '\0';
	if (b->p == NULL || b->len == 0 || parse_json(b->p, b->len, "error", &root) != 0) {
		laps_clearerr();
		return;
	}
	if (json_object_object_get_ex(root, "error", &e) &&
	    json_object_is_type(e, json_type_object))
		(void)get_str(e, "message", false, 512, "", &s);
	if (s == NULL)
		(void)get_str(root, "error_description", false, 512, "", &s);
	if (s == NULL)
		(void)get_str(root, "error", false, 512, "", &s);
	if (s != NULL)
		sanitize(s, out, len);
	json_object_put(root);
}

static int
map_status(long status, const char *url, const struct gr_buf *b, bool token)
{
	char text[256];
	const char *sep;

	error_text(b, text, sizeof text);
	sep = text[0] ? ": " : "";
	if (status == 401 || (token && (status == 400 || status == 403)))
		return laps_seterr(LAPS_ERR_AUTH, "%s: HTTP %ld: authentication failed%s%s", url,
				   status, sep, text);
	if (status == 403)
		return laps_seterr(LAPS_ERR_ACCESS,
				   "%s: HTTP 403: not authorised (the application "
				   "needs DeviceLocalCredential.Read.All)%s%s",
				   url, sep, text);
	if (status == 404)
		return laps_seterr(LAPS_ERR_NOTFOUND, "%s: HTTP 404%s%s", url, sep, text);
	if (status == 429)
		return laps_seterr(LAPS_ERR_BUSY, "%s: HTTP 429: rate limited%s%s", url, sep, text);
	if (status >= 500)
		return laps_seterr(LAPS_ERR_UNAVAILABLE, "%s: HTTP %ld%s%s", url, status, sep,
				   text);
	return laps_seterr(LAPS_ERR_BACKEND, "%s: HTTP %ld%s%s", url, status, sep, text);
}

static void
slist_free_wiped(struct curl_slist *l)
{
	for (struct curl_slist *p = l; p != NULL; p = p->next)
		if (p->data != NULL)
			laps_wipe(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

/* The options every request shares (TLS always verified, https only). */
static void
set_common(struct gr_ctx *g, const char *url, char *errbuf, struct gr_buf *b)
{
	curl_easy_reset(g->curl);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(g->curl, CURLOPT_PROTOCOLS_STR, "https");
#else
	curl_easy_setopt(g->curl, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	curl_easy_setopt(g->curl, CURLOPT_URL, url);
	curl_easy_setopt(g->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(g->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(g->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(g->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (laps_graph_conf(g->cfg)->ca_file != NULL)
		curl_easy_setopt(g->curl, CURLOPT_CAINFO, laps_graph_conf(g->cfg)->ca_file);
	curl_easy_setopt(g->curl, CURLOPT_TIMEOUT, (long)laps_graph_conf(g->cfg)->timeout);
	curl_easy_setopt(g->curl, CURLOPT_CONNECTTIMEOUT, (long)laps_graph_conf(g->cfg)->timeout);
	curl_easy_setopt(g->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)GR_BODY_MAX);
	curl_easy_setopt(g->curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(g->curl, CURLOPT_USERAGENT, "laps-get");
	curl_easy_setopt(g->curl, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(g->curl, CURLOPT_WRITEDATA, b);
}

/* Append line to *hdr.  LAPS_ERR_NOMEM (the list is kept for freeing). */
static int
add_header(struct curl_slist **hdr, const char *line)
{
	struct curl_slist *h = curl_slist_append(*hdr, line);

	if (h == NULL)
		return LAPS_ERR_NOMEM;
	*hdr = h;
	return 0;
}

/* The request headers: a form POST, or a GET with the bearer token.  *auth
 * (laps_secret memory) holds the Authorization line until the caller frees it. */
static int
set_headers(struct gr_ctx *g, const char *post, struct curl_slist **hdr, char **auth)
{
	size_t alen;
	int rc;

	if ((rc = add_header(hdr, "Accept: application/json")) != 0)
		return rc;
	if (post != NULL) {
		if ((rc = add_header(hdr, "Content-Type: application/x-www-form-urlencoded")) != 0)
			return rc;
		curl_easy_setopt(g->curl, CURLOPT_POSTFIELDS, post);
		curl_easy_setopt(g->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(post));
	} else {
		if ((rc = add_header(hdr, "ocp-client-name: laps-get")) != 0)
			return rc;
		alen = strlen(g->token) + sizeof "Authorization: Bearer ";
		if ((*auth = laps_secret_alloc(alen)) == NULL ||
		    laps_snprintf(*auth, alen, "Authorization: Bearer %s", g->token) != 0 ||
		    (rc = add_header(hdr, *auth)) != 0)
			return LAPS_ERR_NOMEM;
	}
	curl_easy_setopt(g->curl, CURLOPT_HTTPHEADER, *hdr);
	return 0;
}

/* One request.  post: form body (x-www-form-urlencoded) or NULL for GET. */
static int
http(struct gr_ctx *g, const char *url, const char *post, bool token_req, struct gr_buf *b)
{
	struct curl_slist *hdr = NULL;
	char errbuf[CURL_ERROR_SIZE], *auth = NULL;
	long status = 0;
	CURLcode cc;
	int rc;

	memset(b, 0, sizeof *b);
	errbuf[0] = '\0';
	set_common(g, url, errbuf, b);
	if ((rc = set_headers(g, post, &hdr, &auth)) != 0)
		goto out;
	cc = curl_easy_perform(g->curl);
	if (cc != CURLE_OK) {
		rc = map_curl(cc, url, b, errbuf);
		goto out;
	}
	curl_easy_getinfo(g->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		rc = map_status(status, url, b, token_req);
	else if (b->p == NULL)
		rc = laps_seterr(LAPS_ERR_FORMAT, "%s: empty response", url);
	else
		rc = 0;
out:
	curl_easy_setopt(g->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(g->curl, CURLOPT_POSTFIELDS, NULL);
	slist_free_wiped(hdr);
	laps_secret_free(auth);
	if (rc != 0)
		buf_free(b);
	return rc;
}

/* Client secret from its file (owner-only), trailing white space removed. */
static int
read_client_secret(const char *path, char **out, size_t *outlen)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	rc = laps_file_read(path, GR_SECRET_FILE_MAX, LAPS_FILE_SECRET | LAPS_FILE_OWNER_SELF, &buf,
			    &len);
	if (rc != 0)
		return laps_seterr_prefix(rc == LAPS_ERR_NOTFOUND ? LAPS_ERR_CONFIG : rc,
					"[graph] client_secret_file");
	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		buf[--len] = '\0';
	if (len == 0 || memchr(buf, '\n', len) != NULL) {
		laps_file_free(buf, len, LAPS_FILE_SECRET);
		return laps_seterr(LAPS_ERR_CONFIG,
				   "[graph] client_secret_file %s: must hold one "
				   "non-empty line",
				   path);
	}
	*out = buf; /* success */
	*outlen = len;
	return 0;
}

static int
get_token(struct gr_ctx *g)
{
	const struct laps_conf *cfg = g->cfg;
	struct json_object *root = NULL;
	struct gr_buf b = {0};
	char *secret = NULL, *body = NULL;
	const char *tok, *type;
	size_t slen = 0, cap, o;
	int rc;

	if ((rc = read_client_secret(laps_graph_conf(cfg)->client_secret_file, &secret, &slen)) !=
	    0)
		return rc;
	cap = 64 + 3 * (slen + strlen(laps_graph_conf(cfg)->client_id) +
			strlen(laps_graph_conf(cfg)->scope));
	if ((body = laps_secret_alloc(cap)) == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	o = (size_t)snprintf(body, cap, "grant_type=client_credentials&client_id=");
	if ((rc = pct_encode(laps_graph_conf(cfg)->client_id,
			     strlen(laps_graph_conf(cfg)->client_id), body + o, cap - o)) != 0)
		goto toobig;
	o += strlen(body + o);
	if (laps_snprintf(body + o, cap - o, "&client_secret=") != 0)
		goto toobig;
	o += strlen(body + o);
	if ((rc = pct_encode(secret, slen, body + o, cap - o)) != 0)
		goto toobig;
	o += strlen(body + o);
	if (laps_snprintf(body + o, cap - o, "&scope=") != 0)
		goto toobig;
	o += strlen(body + o);
	if ((rc = pct_encode(laps_graph_conf(cfg)->scope, strlen(laps_graph_conf(cfg)->scope),
			     body + o, cap - o)) != 0)
		goto toobig;

	if ((rc = http(g, laps_graph_conf(cfg)->token_url, body, true, &b)) != 0)
		goto out;
	if ((rc = parse_json(b.p, b.len, "token response", &root)) != 0 ||
	    (rc = get_str(root, "access_token", true, GR_TOKEN_MAX, "token response", &tok)) != 0 ||
	    (rc = get_str(root, "token_type", false, 64, "token response", &type)) != 0)
		goto out;
	if (type != NULL && strcasecmp(type, "Bearer") != 0) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "token response: token_type is not Bearer");
		goto out;
	}
	for (const char *p = tok; *p; p++) {
		if (*p <= 0x20 || *p >= 0x7f) {
			rc = laps_seterr(LAPS_ERR_FORMAT,
					 "token response: access_token has odd characters");
			goto out;
		}
	}
	if (tok[0] == '\0') {
		rc = laps_seterr(LAPS_ERR_FORMAT, "token response: access_token is empty");
		goto out;
	}
	if ((g->token = laps_secret_strdup(tok)) == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	rc = 0;
	goto out;
toobig:
	rc = laps_seterr(LAPS_ERR_CONFIG, "[graph] client id, secret or scope too long");
out:
	if (root != NULL) {
		laps_json_wipe(root);
		json_object_put(root);
	}
	buf_free(&b);
	laps_secret_free(body);
	laps_file_free(secret, slen, LAPS_FILE_SECRET);
	return rc;
}

/* {url} without trailing slashes + suffix. */
static int
make_url(const struct laps_conf *cfg, const char *suffix1, const char *suffix2, char *buf,
	 size_t len)
{
	size_t n = strlen(laps_graph_conf(cfg)->url);

	while (n > 0 && laps_graph_conf(cfg)->url[n - 1] == '/')
		n--;
	if (laps_snprintf(buf, len, "%.*s%s%s", (int)n, laps_graph_conf(cfg)->url, suffix1,
			  suffix2) != 0)
		return laps_seterr(LAPS_ERR_TOOBIG, "Graph URL too long");
	return 0;
}

/* ------------------------------------------------------------------ */
/* libcurl's allocator                                                 */

/*
 * libcurl's own buffers hold secrets too (the token request with the client
 * secret, the Authorization header, the download buffer with passwordBase64)
 * and libcurl frees them without wiping: its allocator wipes every block
 * before it is freed (laps_wipe_free, escrow/secret.h).
 */
/* curl_global_init_mem once per process (laps-get is single-threaded). */
static int
curl_ready(void)
{
	static bool done;

	if (done)
		return 0;
	if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, laps_wipe_free, laps_wipe_realloc,
				 strdup, calloc) != CURLE_OK)
		return laps_seterr(LAPS_ERR_INTERNAL, "cannot initialise libcurl");
	done = true;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The backend                                                         */

struct gr_backend {
	struct gr_ctx g;
	bool cached; /* creds holds the credentials of device/account */
	char device[LAPS_DEVICE_MAX + 1];
	char account[LAPS_ACCOUNT_MAX + 1]; /* "" = any account */
	struct laps_record_list creds;      /* newest first */
};

static int
graph_open(const struct laps_conf *cfg, enum laps_backend_role role,
	   const struct laps_backend_env *env, void **ctx)
{
	struct gr_backend *gb;
	int rc;

	(void)env;
	*ctx = NULL;
	if (role != LAPS_ROLE_ADMIN)
		return laps_seterr(LAPS_ERR_UNSUPPORTED, "backend graph is read-only (laps-get)");
	if (laps_graph_conf(cfg)->url == NULL || laps_graph_conf(cfg)->token_url == NULL ||
	    laps_graph_conf(cfg)->client_id == NULL ||
	    laps_graph_conf(cfg)->client_secret_file == NULL || laps_graph_conf(cfg)->scope == NULL)
		return laps_seterr(LAPS_ERR_CONFIG,
				   "[graph] url, token_url, client_id and "
				   "client_secret_file are required for --source graph");
	if ((rc = curl_ready()) != 0)
		return rc;
	if ((gb = calloc(1, sizeof *gb)) == NULL)
		return LAPS_ERR_NOMEM;
	gb->g.cfg = cfg;
	if ((gb->g.curl = curl_easy_init()) == NULL) {
		free(gb);
		return laps_seterr(LAPS_ERR_INTERNAL, "curl_easy_init failed");
	}
	*ctx = gb; /* success */
	return 0;
}

static void
graph_close(void *ctx)
{
	struct gr_backend *gb = ctx;

	if (gb == NULL)
		return;
	laps_record_list_free(&gb->creds);
	laps_secret_free(gb->g.token);
	curl_easy_cleanup(gb->g.curl);
	free(gb);
}

/* The Entra ID device id and name of host (one $filter lookup). */
static int
lookup_device(struct gr_ctx *g, const char *host, char *url, char id[GR_ID_MAX + 1],
	      char name[LAPS_DEVICE_MAX + 1])
{
	struct gr_buf b = {0};
	char q[GR_URL_MAX];
	int rc;

	if ((rc = laps_graph_filter_query(host, q, sizeof q)) != 0 ||
	    (rc = make_url(g->cfg, "/directory/deviceLocalCredentials?$filter=", q, url,
			   GR_URL_MAX)) != 0 ||
	    (rc = http(g, url, NULL, false, &b)) != 0)
		return rc;
	rc = laps_graph_parse_lookup(b.p, b.len, id, GR_ID_MAX + 1, name, LAPS_DEVICE_MAX + 1);
	buf_free(&b);
	if (rc == LAPS_ERR_NOTFOUND)
		return laps_seterr(rc, "no device named '%s' in Entra ID", host);
	if (rc == LAPS_ERR_AMBIGUOUS) {
		return laps_seterr_prefix(rc, "'%s'", host);
	}
	return rc;
}

/* Fetch and cache the credentials of device (account NULL = any). */
static int
fetch(struct gr_backend *gb, const char *device, const char *account)
{
	struct gr_ctx *g = &gb->g;
	struct gr_buf b = {0};
	char *url = NULL, id[GR_ID_MAX + 1], name[LAPS_DEVICE_MAX + 1], idenc[3 * GR_ID_MAX + 1];
	size_t i;
	int rc;

	if (gb->cached && strcmp(gb->device, device) == 0 &&
	    strcmp(gb->account, account ? account : "") == 0)
		return 0;
	gb->cached = false;
	laps_record_list_free(&gb->creds);
	if ((url = malloc(GR_URL_MAX)) == NULL)
		return LAPS_ERR_NOMEM;
	if ((g->token == NULL && (rc = get_token(g)) != 0) ||
	    (rc = lookup_device(g, device, url, id, name)) != 0)
		goto out;
	if ((rc = pct_encode(id, strlen(id), idenc, sizeof idenc)) != 0 ||
	    (rc = make_url(g->cfg, "/directory/deviceLocalCredentials/", idenc, url, GR_URL_MAX)) !=
		0 ||
	    (rc = laps_snprintf(url + strlen(url), GR_URL_MAX - strlen(url),
				"?$select=credentials")) != 0 ||
	    (rc = http(g, url, NULL, false, &b)) != 0 ||
	    (rc = laps_graph_parse_credentials(b.p, b.len, account, &gb->creds)) != 0)
		goto out;
	for (i = 0; i < gb->creds.n; i++) /* $select=credentials may leave deviceName out */
		if (gb->creds.v[i].device[0] == '\0')
			(void)snprintf(gb->creds.v[i].device, sizeof gb->creds.v[i].device, "%s",
				       name);
	(void)snprintf(gb->device, sizeof gb->device, "%s", device);
	(void)snprintf(gb->account, sizeof gb->account, "%s", account ? account : "");
	gb->cached = true;
out:
	buf_free(&b);
	free(url);
	return rc;
}

static int
graph_read(void *ctx, const char *device, const char *account, struct laps_record *out,
	   struct laps_version *ver)
{
	struct gr_backend *gb = ctx;
	int rc;

	ver->tag[0] = '\0'; /* no compare-and-set: nothing is written */
	if ((rc = fetch(gb, device, account)) != 0)
		return rc;
	return laps_record_copy(out, &gb->creds.v[0]);
}

static int
graph_history(void *ctx, const char *device, const char *account, size_t n,
	      struct laps_record_list *out)
{
	struct gr_backend *gb = ctx;
	size_t i;
	int rc;

	if ((rc = fetch(gb, device, account)) != 0)
		return rc;
	for (i = 1; i < gb->creds.n && i <= n; i++) {
		if ((rc = laps_record_list_push(out, &gb->creds.v[i])) != 0) {
			laps_record_list_free(out);
			return rc;
		}
	}
	return 0;
}

static const char *
graph_describe(void *ctx)
{
	(void)ctx;
	return GR_SOURCE;
}

const struct laps_backend_ops laps_backend_graph = {
    .name = "graph",
    .caps = LAPS_BCAP_READONLY | LAPS_BCAP_HISTORY | LAPS_BCAP_ANYACCOUNT,
    .open = graph_open,
    .close = graph_close,
    .read = graph_read,
    .history = graph_history,
    .describe = graph_describe,
};
