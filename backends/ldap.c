/*
 * ldap.c — the LDAP escrow backend: OpenLDAP and Active Directory, schema
 * modes laps (this project's schema, sealed records, history), mslaps
 * (Windows LAPS msLAPS-Password with encryption off) and legacy
 * (ms-Mcs-AdmPwd).  See docs/LDAP.md for the design, especially how the
 * Microsoft modes do compare-and-set through the expiration attribute.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <json-c/json.h>
#include <json-c/printbuf.h>
#include <lber.h>
#include <ldap.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backends/ldap_backend.h"
#include "escrow/backend.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/json_secret.h"
#include "escrow/log.h"
#include "escrow/record.h"
#include "escrow/secret.h"

#define LDAP_SECRET_FILE_MAX 4096
#define LDAP_FILTER_MAX 2048
#define LDAP_DN_MAX 2048
#define LDAP_VALUES_MAX 256	/* values per attribute we accept */
#define LDAP_MS_JSON_MAX 4096	/* msLAPS-Password value */
#define LDAP_CONFLICT_RETRIES 3 /* confirm/set_expiry retry on a lost race */

/* Attribute names */
#define AT_CURRENT "lapsCurrent"
#define AT_ROTID "lapsRotationId"
#define AT_HISTORY "lapsHistory"
#define AT_EXPIRY "lapsExpiration"
#define AT_MSLAPS_PW "msLAPS-Password"
#define AT_MSLAPS_EXP "msLAPS-PasswordExpirationTime"
#define AT_LEGACY_PW "ms-Mcs-AdmPwd"
#define AT_LEGACY_EXP "ms-Mcs-AdmPwdExpirationTime"

struct lctx {
	const struct laps_config *cfg;
	enum laps_backend_role role;
	LDAP *ld;
	const char *uri; /* the URI we are connected to (borrowed from cfg) */
	struct timeval tv;
	unsigned caps;
	char desc[64];
};

/* One fetched device entry. */
struct lentry {
	char *dn;
	struct berval **cur, **rid, **hist, **exp, **pw;
};

/* ------------------------------------------------------------------ */
/* FILETIME                                                             */

int
laps_filetime_from_unix(int64_t unix_seconds, uint64_t *ft)
{
	const int64_t min = -11644473600LL;
	const int64_t max = (int64_t)((UINT64_MAX / LAPS_FILETIME_PER_SEC) - 11644473600ULL);

	if (unix_seconds < min || unix_seconds > max)
		return laps_seterr(LAPS_ERR_INVALID, "time %" PRId64 " out of FILETIME range",
				   unix_seconds);
	*ft = ((uint64_t)(unix_seconds - min)) * LAPS_FILETIME_PER_SEC;
	return 0;
}

int64_t
laps_filetime_to_unix(uint64_t ft)
{
	return (int64_t)(ft / LAPS_FILETIME_PER_SEC) - 11644473600LL;
}

char *
laps_filetime_format_dec(uint64_t ft, char buf[LAPS_FILETIME_DEC_MAX])
{
	(void)snprintf(buf, LAPS_FILETIME_DEC_MAX, "%" PRIu64, ft);
	return buf;
}

char *
laps_filetime_format_hex(uint64_t ft, char buf[LAPS_FILETIME_HEX_MAX])
{
	(void)snprintf(buf, LAPS_FILETIME_HEX_MAX, "%" PRIx64, ft);
	return buf;
}

int
laps_filetime_parse_dec(const char *s, size_t len, uint64_t *ft)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 20)
		return laps_seterr(LAPS_ERR_FORMAT, "FILETIME: bad length");
	for (i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return laps_seterr(LAPS_ERR_FORMAT, "FILETIME: not a decimal number");
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return laps_seterr(LAPS_ERR_FORMAT, "FILETIME: out of range");
		v = v * 10 + d;
	}
	*ft = v;
	return 0;
}

int
laps_filetime_parse_hex(const char *s, size_t len, uint64_t *ft)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 16)
		return laps_seterr(LAPS_ERR_FORMAT, "FILETIME: bad hex length");
	for (i = 0; i < len; i++) {
		unsigned d;
		char c = s[i];

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return laps_seterr(LAPS_ERR_FORMAT, "FILETIME: not a hex number");
		v = (v << 4) | d;
	}
	*ft = v;
	return 0;
}

uint32_t
laps_ms_rotation_tag(const char *rotation_id)
{
	uint32_t v = 0;
	size_t i;

	for (i = 0; i < 8 && rotation_id[i] != '\0'; i++) {
		char c = rotation_id[i];
		unsigned d = 0;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		v = (v << 4) | d;
	}
	return v % LAPS_MS_TAG_MOD;
}

uint64_t
laps_ms_expiration_encode(int64_t expiry, uint32_t tag, int pending)
{
	uint64_t ft = 0;

	if (expiry < 0)
		expiry = 0;
	if (laps_filetime_from_unix(expiry, &ft) != 0)
		ft = LAPS_FILETIME_UNIX_EPOCH;
	return ft + 2ULL * (tag % LAPS_MS_TAG_MOD) + (pending ? 1U : 0U);
}

void
laps_ms_expiration_decode(uint64_t value, int64_t *expiry, uint32_t *tag, int *pending)
{
	uint64_t frac = value % LAPS_FILETIME_PER_SEC;

	*expiry = laps_filetime_to_unix(value);
	*tag = (uint32_t)(frac / 2);
	*pending = (int)(frac & 1);
}

/* ------------------------------------------------------------------ */
/* Errors                                                               */

int
laps_ldap_map_error(int rc)
{
	switch (rc) {
	case LDAP_SUCCESS:
		return 0;
	case LDAP_SERVER_DOWN:
	case LDAP_CONNECT_ERROR:
	case LDAP_UNAVAILABLE:
	case LDAP_UNWILLING_TO_PERFORM:
	case LDAP_OTHER:
		return rc == LDAP_UNWILLING_TO_PERFORM || rc == LDAP_OTHER ? LAPS_ERR_BACKEND
									   : LAPS_ERR_UNAVAILABLE;
	case LDAP_TIMEOUT:
	case LDAP_TIMELIMIT_EXCEEDED:
		return LAPS_ERR_TIMEOUT;
	case LDAP_BUSY:
	case LDAP_ADMINLIMIT_EXCEEDED:
		return LAPS_ERR_BUSY;
	case LDAP_INVALID_CREDENTIALS:
	case LDAP_INAPPROPRIATE_AUTH:
	case LDAP_AUTH_METHOD_NOT_SUPPORTED:
	case LDAP_AUTH_UNKNOWN:
	case LDAP_STRONG_AUTH_REQUIRED:
	case LDAP_SASL_BIND_IN_PROGRESS:
	case LDAP_LOCAL_ERROR:
		return LAPS_ERR_AUTH;
	case LDAP_INSUFFICIENT_ACCESS:
	case LDAP_CONFIDENTIALITY_REQUIRED:
		return LAPS_ERR_ACCESS;
	case LDAP_NO_SUCH_OBJECT:
		return LAPS_ERR_NOTFOUND;
	case LDAP_UNDEFINED_TYPE:
	case LDAP_OBJECT_CLASS_VIOLATION:
	case LDAP_NO_OBJECT_CLASS_MODS:
	case LDAP_INVALID_SYNTAX:
		return LAPS_ERR_SCHEMA;
	case LDAP_NO_SUCH_ATTRIBUTE:
	case LDAP_ASSERTION_FAILED:
	case LDAP_TYPE_OR_VALUE_EXISTS:
	case LDAP_CONSTRAINT_VIOLATION:
		return LAPS_ERR_CONFLICT;
	case LDAP_SIZELIMIT_EXCEEDED:
		return LAPS_ERR_AMBIGUOUS;
	case LDAP_NO_MEMORY:
		return LAPS_ERR_NOMEM;
	case LDAP_FILTER_ERROR:
	case LDAP_PARAM_ERROR:
	case LDAP_INVALID_DN_SYNTAX:
		return LAPS_ERR_CONFIG;
	default:
		return LAPS_ERR_BACKEND;
	}
}

/* Set a detail "what on URI: ldap error (n): server message" and return the
 * mapped code.  diag may be NULL (then the handle's diagnostic is used). */
static int
lerr(struct lctx *c, int rc, const char *what, const char *diag)
{
	char *hdiag = NULL;
	int err = laps_ldap_map_error(rc);
	const char *hint = "";

	if (diag == NULL && c->ld != NULL &&
	    ldap_get_option(c->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &hdiag) == LDAP_OPT_SUCCESS)
		diag = hdiag;
	if (err == LAPS_ERR_SCHEMA)
		hint = " (schema not loaded?)";
	if (err == 0)
		err = LAPS_ERR_BACKEND;
	(void)laps_seterr(err, "ldap: %s on %s: %s (%d)%s%s%s", what, c->uri ? c->uri : "(none)",
			  ldap_err2string(rc), rc, (diag && *diag) ? ": " : "",
			  (diag && *diag) ? diag : "", hint);
	ldap_memfree(hdiag);
	return err;
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */

/* RFC 4515 escaping of one value into out (returns bytes written or -1). */
static int
filter_escape(const char *v, char *out, size_t outlen)
{
	size_t i, o = 0;

	for (i = 0; v[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)v[i];

		if (ch == '*' || ch == '(' || ch == ')' || ch == '\\' || ch < 0x20 || ch >= 0x7f) {
			if (o + 3 >= outlen)
				return -1;
			(void)snprintf(out + o, 4, "\\%02x", ch);
			o += 3;
		} else {
			if (o + 1 >= outlen)
				return -1;
			out[o++] = (char)ch;
		}
	}
	out[o] = '\0';
	return (int)o;
}

/* Expand %h/%f/%% in tmpl; esc selects RFC 4515 escaping (filters) versus
 * verbatim (DN templates: the device is validated to host-name characters,
 * which need no DN escaping). */
static int
template_expand(const char *tmpl, const char *device, bool esc, char *out, size_t outlen)
{
	char shorth[LAPS_DEVICE_MAX + 1], buf[3 * LAPS_DEVICE_MAX + 1];
	const char *dot, *p, *val;
	size_t o = 0, n;

	if (strlen(device) > LAPS_DEVICE_MAX)
		return laps_seterr(LAPS_ERR_INVALID, "ldap: device name too long");
	dot = strchr(device, '.');
	n = dot ? (size_t)(dot - device) : strlen(device);
	memcpy(shorth, device, n);
	shorth[n] = '\0';
	for (p = tmpl; *p != '\0'; p++) {
		if (*p != '%') {
			if (o + 1 >= outlen)
				return laps_seterr(LAPS_ERR_TOOBIG,
						   "ldap: expanded template too long");
			out[o++] = *p;
			continue;
		}
		p++;
		if (*p == 'h')
			val = shorth;
		else if (*p == 'f')
			val = device;
		else if (*p == '%')
			val = "%";
		else
			return laps_seterr(
			    LAPS_ERR_CONFIG,
			    "ldap: template '%s': unknown sequence '%%%c' (use %%h, %%f, %%%%)",
			    tmpl, *p ? *p : ' ');
		if (esc && *p != '%') {
			if (filter_escape(val, buf, sizeof(buf)) < 0)
				return laps_seterr(LAPS_ERR_TOOBIG, "ldap: value too long");
			val = buf;
		}
		n = strlen(val);
		if (o + n >= outlen)
			return laps_seterr(LAPS_ERR_TOOBIG, "ldap: expanded template too long");
		memcpy(out + o, val, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
}

int
laps_ldap_filter_expand(const char *tmpl, const char *device, char *out, size_t outlen)
{
	return template_expand(tmpl, device, true, out, outlen);
}

static const char *
schema_name(enum laps_ldap_schema s)
{
	switch (s) {
	case LAPS_SCHEMA_MSLAPS:
		return "mslaps";
	case LAPS_SCHEMA_LEGACY:
		return "legacy";
	default:
		return "laps";
	}
}

static bool
ms_mode(const struct lctx *c)
{
	return c->cfg->ldap_schema != LAPS_SCHEMA_LAPS;
}

static const char *
ms_exp_attr(const struct lctx *c)
{
	return c->cfg->ldap_schema == LAPS_SCHEMA_MSLAPS ? AT_MSLAPS_EXP : AT_LEGACY_EXP;
}

static const char *
ms_pw_attr(const struct lctx *c)
{
	return c->cfg->ldap_schema == LAPS_SCHEMA_MSLAPS ? AT_MSLAPS_PW : AT_LEGACY_PW;
}

static void
bvals_free(struct berval **v, bool wipe)
{
	size_t i;

	if (v == NULL)
		return;
	if (wipe)
		for (i = 0; v[i] != NULL; i++)
			if (v[i]->bv_val != NULL)
				laps_wipe(v[i]->bv_val, v[i]->bv_len);
	ldap_value_free_len(v);
}

static void
lentry_free(struct lentry *e)
{
	ldap_memfree(e->dn);
	bvals_free(e->cur, false);
	bvals_free(e->rid, false);
	bvals_free(e->hist, false);
	bvals_free(e->exp, false);
	bvals_free(e->pw, true);
	memset(e, 0, sizeof(*e));
}

static size_t
bvals_count(struct berval **v)
{
	size_t n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return n;
}

/* ------------------------------------------------------------------ */
/* Connection                                                           */

/* Wait for the result of msgid; *res is the result message (caller frees). */
static int
wait_result(struct lctx *c, int msgid, const char *what, LDAPMessage **res)
{
	struct timeval tv = c->tv;
	int rc;

	*res = NULL;
	rc = ldap_result(c->ld, msgid, LDAP_MSG_ALL, &tv, res);
	if (rc == 0) {
		(void)ldap_abandon_ext(c->ld, msgid, NULL, NULL);
		return laps_seterr(LAPS_ERR_TIMEOUT, "ldap: %s on %s: no answer within %ld s", what,
				   c->uri, (long)c->tv.tv_sec);
	}
	if (rc < 0) {
		int lrc = LDAP_SERVER_DOWN;

		(void)ldap_get_option(c->ld, LDAP_OPT_RESULT_CODE, &lrc);
		return lerr(c, lrc, what, NULL);
	}
	return 0;
}

/* Parse a final result; returns the LDAP code in *lrc and the server's
 * message (ldap_memfree) in *diag. Frees res. */
static int
parse_final(struct lctx *c, LDAPMessage *res, const char *what, int *lrc, char **diag)
{
	int rc;

	*lrc = LDAP_OTHER;
	*diag = NULL;
	rc = ldap_parse_result(c->ld, res, lrc, NULL, diag, NULL, NULL, 1);
	if (rc != LDAP_SUCCESS)
		return lerr(c, rc, what, NULL);
	return 0;
}

/* Can we open a TCP connection to the URI's host:port?  Used to tell a TLS
 * failure on ldaps:// from a server that is down. */
static bool
tcp_reachable(const char *uri, int timeout_s)
{
	LDAPURLDesc *lud = NULL;
	struct addrinfo hints, *ai = NULL, *a;
	char port[16];
	bool ok = false;

	if (ldap_url_parse(uri, &lud) != LDAP_URL_SUCCESS || lud->lud_host == NULL)
		goto out;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	(void)snprintf(port, sizeof(port), "%d", lud->lud_port ? lud->lud_port : 636);
	if (getaddrinfo(lud->lud_host, port, &hints, &ai) != 0)
		goto out;
	for (a = ai; a != NULL && !ok; a = a->ai_next) {
		int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		struct pollfd pfd;
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (fd < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
			ok = true;
		} else if (errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, timeout_s * 1000) == 1 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
				ok = true;
		}
		close(fd);
	}
out:
	if (ai != NULL)
		freeaddrinfo(ai);
	if (lud != NULL)
		ldap_free_urldesc(lud);
	return ok;
}

/* Minimal SASL interaction callback (GSSAPI needs no prompts; any that
 * appear get their default, i.e. an empty authorisation id).  The layout
 * mirrors Cyrus SASL's sasl_interact_t, a stable ABI since SASL 2.0; we
 * mirror it to avoid a build dependency on the SASL headers. */
struct laps_sasl_interact {
	unsigned long id;
	const char *challenge;
	const char *prompt;
	const char *defresult;
	const void *result;
	unsigned len;
};

static int
sasl_interact(LDAP *ld, unsigned flags, void *defaults, void *in)
{
	struct laps_sasl_interact *i = in;

	for (; i != NULL && i->id != 0; i++) {
		i->result = i->defresult ? i->defresult : "";
		i->len = (unsigned)strlen(i->result);
	}
	return LDAP_SUCCESS;
}

static int
do_bind(struct lctx *c)
{
	const struct laps_config *cfg = c->cfg;
	LDAPMessage *res = NULL;
	char *secret = NULL, *diag = NULL;
	size_t slen = 0;
	struct berval cred;
	int msgid = -1, lrc, rc;

	switch (cfg->ldap_bind) {
	case LAPS_BIND_SIMPLE:
		if (cfg->ldap_bind_dn == NULL || cfg->ldap_bind_secret_file == NULL)
			return laps_seterr(
			    LAPS_ERR_CONFIG,
			    "ldap: bind = simple needs bind_dn and bind_secret_file");
		/* owner-only (0600/0400) and ours: a file someone else owns
		 * is readable here only because we are root */
		rc = laps_file_read(cfg->ldap_bind_secret_file, LDAP_SECRET_FILE_MAX,
				    LAPS_FILE_SECRET | LAPS_FILE_OWNER_SELF, &secret, &slen);
		if (rc != 0)
			return rc;
		if (slen > 0 && secret[slen - 1] == '\n')
			secret[--slen] = '\0';
		if (slen > 0 && secret[slen - 1] == '\r')
			secret[--slen] = '\0';
		if (slen == 0) {
			rc = laps_seterr(LAPS_ERR_CONFIG, "ldap: %s: empty secret",
					 cfg->ldap_bind_secret_file);
			goto out;
		}
		cred.bv_val = secret;
		cred.bv_len = slen;
		rc = ldap_sasl_bind(c->ld, cfg->ldap_bind_dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL,
				    &msgid);
		if (rc != LDAP_SUCCESS) {
			rc = lerr(c, rc, "simple bind", NULL);
			goto out;
		}
		if ((rc = wait_result(c, msgid, "simple bind", &res)) != 0)
			goto out;
		if ((rc = parse_final(c, res, "simple bind", &lrc, &diag)) != 0)
			goto out;
		if (lrc != LDAP_SUCCESS) {
			char what[LDAP_DN_MAX + 32];

			(void)snprintf(what, sizeof(what), "simple bind as %s", cfg->ldap_bind_dn);
			rc = lerr(c, lrc, what, diag);
			goto out;
		}
		break;
	case LAPS_BIND_EXTERNAL:
		/* an empty initial response: "authorise as the authenticated identity" */
		cred.bv_val = (char *)(uintptr_t) "";
		cred.bv_len = 0;
		rc = ldap_sasl_bind(c->ld, NULL, "EXTERNAL", &cred, NULL, NULL, &msgid);
		if (rc != LDAP_SUCCESS) {
			rc = lerr(c, rc, "SASL EXTERNAL bind", NULL);
			goto out;
		}
		if ((rc = wait_result(c, msgid, "SASL EXTERNAL bind", &res)) != 0)
			goto out;
		if ((rc = parse_final(c, res, "SASL EXTERNAL bind", &lrc, &diag)) != 0)
			goto out;
		if (lrc != LDAP_SUCCESS) {
			rc = lerr(c, lrc, "SASL EXTERNAL bind", diag);
			goto out;
		}
		break;
	case LAPS_BIND_GSSAPI:
		/* the service principal is ldap/<host of the URI>: no reverse
		 * DNS, the same name the TLS certificate was checked against */
		(void)ldap_set_option(c->ld, LDAP_OPT_X_SASL_NOCANON, LDAP_OPT_ON);
		lrc = ldap_sasl_interactive_bind_s(c->ld, NULL, "GSSAPI", NULL, NULL,
						   LDAP_SASL_QUIET, sasl_interact, NULL);
		if (lrc != LDAP_SUCCESS) {
			rc = lerr(c, lrc, "SASL GSSAPI bind (host keytab / credential cache?)",
				  NULL);
			goto out;
		}
		break;
	default:
		return laps_seterr(LAPS_ERR_CONFIG, "ldap: unknown bind mode");
	}
	rc = 0;
out:
	ldap_memfree(diag);
	if (secret != NULL)
		laps_file_free(secret, slen, LAPS_FILE_SECRET);
	return rc;
}

static bool
uri_has_scheme(const char *uri, const char *scheme)
{
	size_t n = strlen(scheme);

	return strncasecmp(uri, scheme, n) == 0;
}

static int
set_tls_options(struct lctx *c)
{
	const struct laps_config *cfg = c->cfg;
	int demand = LDAP_OPT_X_TLS_DEMAND, zero = 0, rc;

	if ((rc = ldap_set_option(c->ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand)) != LDAP_OPT_SUCCESS)
		return lerr(c, rc, "setting TLS_REQUIRE_CERT", NULL);
	if (cfg->ldap_ca_file != NULL &&
	    (rc = ldap_set_option(c->ld, LDAP_OPT_X_TLS_CACERTFILE, cfg->ldap_ca_file)) !=
		LDAP_OPT_SUCCESS)
		return lerr(c, rc, "setting the CA file", NULL);
	if (cfg->ldap_cert_file != NULL &&
	    (rc = ldap_set_option(c->ld, LDAP_OPT_X_TLS_CERTFILE, cfg->ldap_cert_file)) !=
		LDAP_OPT_SUCCESS)
		return lerr(c, rc, "setting the client certificate", NULL);
	if (cfg->ldap_key_file != NULL &&
	    (rc = ldap_set_option(c->ld, LDAP_OPT_X_TLS_KEYFILE, cfg->ldap_key_file)) !=
		LDAP_OPT_SUCCESS)
		return lerr(c, rc, "setting the client key", NULL);
	if ((rc = ldap_set_option(c->ld, LDAP_OPT_X_TLS_NEWCTX, &zero)) != LDAP_OPT_SUCCESS)
		return laps_seterr(LAPS_ERR_TLS,
				   "ldap: cannot create a TLS context on %s (CA file %s, "
				   "certificate %s): %s",
				   c->uri, cfg->ldap_ca_file ? cfg->ldap_ca_file : "(system)",
				   cfg->ldap_cert_file ? cfg->ldap_cert_file : "(none)",
				   ldap_err2string(rc));
	return 0;
}

/* Connect to one URI: options, TLS, bind. */
static int
connect_one(struct lctx *c, const char *uri)
{
	const struct laps_config *cfg = c->cfg;
	int v3 = LDAP_VERSION3, rc;
	bool ldaps = uri_has_scheme(uri, "ldaps://");
	bool ldapi = uri_has_scheme(uri, "ldapi://");

	c->uri = uri;
	if (!ldaps && !ldapi && !uri_has_scheme(uri, "ldap://"))
		return laps_seterr(LAPS_ERR_CONFIG,
				   "ldap: uri %s: not ldap://, ldaps:// or ldapi://", uri);
	if (cfg->ldap_tls == LAPS_TLS_LDAPS && !ldaps && !ldapi)
		return laps_seterr(LAPS_ERR_CONFIG, "ldap: tls = ldaps but uri %s is not ldaps://",
				   uri);
	if (cfg->ldap_tls != LAPS_TLS_LDAPS && ldaps)
		return laps_seterr(LAPS_ERR_CONFIG,
				   "ldap: uri %s is ldaps:// but tls = %s (set tls = ldaps)", uri,
				   cfg->ldap_tls == LAPS_TLS_NONE ? "none" : "starttls");
	rc = ldap_initialize(&c->ld, uri);
	if (rc != LDAP_SUCCESS) {
		c->ld = NULL;
		return laps_seterr(LAPS_ERR_CONFIG, "ldap: uri %s: %s", uri, ldap_err2string(rc));
	}
	if (ldap_set_option(c->ld, LDAP_OPT_PROTOCOL_VERSION, &v3) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(c->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(c->ld, LDAP_OPT_NETWORK_TIMEOUT, &c->tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(c->ld, LDAP_OPT_TIMEOUT, &c->tv) != LDAP_OPT_SUCCESS)
		return laps_seterr(LAPS_ERR_INTERNAL, "ldap: cannot set connection options");
	if (!ldapi && cfg->ldap_tls != LAPS_TLS_NONE) {
		if ((rc = set_tls_options(c)) != 0)
			return rc;
	}
	if (!ldapi && cfg->ldap_tls == LAPS_TLS_STARTTLS) {
		char *diag = NULL;

		rc = ldap_start_tls_s(c->ld, NULL, NULL);
		if (rc != LDAP_SUCCESS) {
			int err;

			(void)ldap_get_option(c->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
			if (rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT)
				err = lerr(c, rc, "StartTLS", diag);
			else
				err = laps_seterr(
				    LAPS_ERR_TLS,
				    "ldap: StartTLS with %s failed: %s (%d)%s%s "
				    "(certificate not trusted by %s, or host name mismatch?)",
				    uri, ldap_err2string(rc), rc, diag ? ": " : "",
				    diag ? diag : "",
				    cfg->ldap_ca_file ? cfg->ldap_ca_file : "the system CAs");
			ldap_memfree(diag);
			return err;
		}
	}
	rc = do_bind(c);
	if (rc == LAPS_ERR_UNAVAILABLE && ldaps && tcp_reachable(uri, (int)c->tv.tv_sec))
		rc = laps_seterr(
		    LAPS_ERR_TLS,
		    "ldap: TLS handshake with %s failed (certificate not trusted by %s, "
		    "or host name mismatch?)",
		    uri, cfg->ldap_ca_file ? cfg->ldap_ca_file : "the system CAs");
	return rc;
}

static void
disconnect(struct lctx *c)
{
	if (c->ld != NULL)
		(void)ldap_unbind_ext_s(c->ld, NULL, NULL);
	c->ld = NULL;
}

/* Try every URI in order; the first that connects and binds wins. */
static int
connect_any(struct lctx *c)
{
	const struct laps_config *cfg = c->cfg;
	char first_detail[512] = "";
	int first_err = 0, rc = LAPS_ERR_CONFIG;
	size_t i;

	if (cfg->n_ldap_uri == 0)
		return laps_seterr(LAPS_ERR_CONFIG, "ldap: no uri configured");
	for (i = 0; i < cfg->n_ldap_uri; i++) {
		rc = connect_one(c, cfg->ldap_uri[i]);
		if (rc == 0)
			return 0;
		disconnect(c);
		if (!laps_err_transient(rc) && rc != LAPS_ERR_TLS)
			return rc; /* configuration or credentials: the next server won't differ */
		log_debug("ldap: %s: %s", cfg->ldap_uri[i], laps_errdetail());
		if (first_err == 0 || (first_err != LAPS_ERR_TLS && rc == LAPS_ERR_TLS)) {
			first_err = rc;
			(void)snprintf(first_detail, sizeof(first_detail), "%s", laps_errdetail());
		}
	}
	if (cfg->n_ldap_uri > 1)
		return laps_seterr(first_err, "%s (all %zu servers failed)", first_detail,
				   cfg->n_ldap_uri);
	return laps_seterr(first_err, "%s", first_detail);
}

/* ------------------------------------------------------------------ */
/* Entry lookup                                                         */

static const char *const laps_attrs[] = {AT_CURRENT, AT_ROTID, AT_HISTORY, AT_EXPIRY, NULL};

/* Attributes to fetch for the mode (the password only for admins). */
static void
mode_attrs(const struct lctx *c, const char *attrs[6])
{
	size_t i = 0;

	if (!ms_mode(c)) {
		for (; laps_attrs[i] != NULL; i++)
			attrs[i] = laps_attrs[i];
	} else {
		attrs[i++] = ms_exp_attr(c);
		if (c->role == LAPS_ROLE_ADMIN)
			attrs[i++] = ms_pw_attr(c);
	}
	attrs[i] = NULL;
}

/*
 * libldap keeps each received entry (its BER encoding) in the result
 * message, and ldap_msgfree() frees it unwiped.  After the password values
 * were copied out (ldap_get_values_len, wiped by lentry_free), wipe them
 * inside the message: ldap_get_attribute_ber() returns values that point
 * into the message's own buffer (parsed in place, not copied).
 */
static void
wipe_message_attr(LDAP *ld, LDAPMessage *m, const char *attr)
{
	BerElement *ber = NULL;
	struct berval dn, a, *vals = NULL;
	size_t i, alen = strlen(attr);
	int n = 0;

	if (ldap_get_dn_ber(ld, m, &ber, &dn) != LDAP_SUCCESS)
		goto out;
	while (n++ < LDAP_VALUES_MAX &&
	       ldap_get_attribute_ber(ld, m, ber, &a, &vals) == LDAP_SUCCESS && a.bv_val != NULL) {
		/* "attr" or "attr;option" */
		if (vals != NULL && a.bv_len >= alen && strncasecmp(a.bv_val, attr, alen) == 0 &&
		    (a.bv_len == alen || a.bv_val[alen] == ';')) {
			for (i = 0; vals[i].bv_val != NULL; i++)
				laps_wipe(vals[i].bv_val, vals[i].bv_len);
		}
		ber_memfree(vals);
		vals = NULL;
	}
out:
	ber_memfree(vals);
	if (ber != NULL)
		ber_free(ber, 0);
}

/* Fetch the device's entry with the mode's attributes in one search. */
static int
fetch_entry(struct lctx *c, const char *device, struct lentry *e)
{
	const struct laps_config *cfg = c->cfg;
	char filter[LDAP_FILTER_MAX], base[LDAP_DN_MAX];
	const char *attrs[6];
	LDAPMessage *res = NULL, *m;
	char *diag = NULL;
	int scope, msgid, rc, lrc, nent = 0;

	memset(e, 0, sizeof(*e));
	if (!laps_record_device_ok(device))
		return laps_seterr(LAPS_ERR_INVALID, "ldap: invalid device name");
	mode_attrs(c, attrs);
	if (cfg->ldap_dn != NULL) {
		if ((rc = template_expand(cfg->ldap_dn, device, false, base, sizeof(base))) != 0)
			return rc;
		(void)snprintf(filter, sizeof(filter), "(objectClass=*)");
		scope = LDAP_SCOPE_BASE;
	} else if (cfg->ldap_base != NULL) {
		const char *tmpl =
		    cfg->ldap_filter ? cfg->ldap_filter : "(|(cn=%h)(dNSHostName=%f))";

		if ((rc = template_expand(tmpl, device, true, filter, sizeof(filter))) != 0)
			return rc;
		(void)snprintf(base, sizeof(base), "%s", cfg->ldap_base);
		scope = LDAP_SCOPE_SUBTREE;
	} else {
		return laps_seterr(LAPS_ERR_CONFIG, "ldap: set dn or base (+ filter)");
	}
	if (c->ld == NULL && (rc = connect_any(c)) != 0)
		return rc;
	rc = ldap_search_ext(c->ld, base, scope, filter, (char **)(uintptr_t)attrs, 0, NULL, NULL,
			     &c->tv, 2, &msgid);
	if (rc != LDAP_SUCCESS) {
		rc = lerr(c, rc, "search", NULL);
		goto out;
	}
	if ((rc = wait_result(c, msgid, "search", &res)) != 0)
		goto out;
	for (m = ldap_first_message(c->ld, res); m != NULL; m = ldap_next_message(c->ld, m)) {
		int t = ldap_msgtype(m);

		if (t == LDAP_RES_SEARCH_ENTRY) {
			if (++nent > 1)
				continue;
			e->dn = ldap_get_dn(c->ld, m);
			if (!ms_mode(c)) {
				e->cur = ldap_get_values_len(c->ld, m, AT_CURRENT);
				e->rid = ldap_get_values_len(c->ld, m, AT_ROTID);
				e->hist = ldap_get_values_len(c->ld, m, AT_HISTORY);
				e->exp = ldap_get_values_len(c->ld, m, AT_EXPIRY);
			} else {
				e->exp = ldap_get_values_len(c->ld, m, ms_exp_attr(c));
				if (c->role == LAPS_ROLE_ADMIN)
					e->pw = ldap_get_values_len(c->ld, m, ms_pw_attr(c));
			}
		} else if (t == LDAP_RES_SEARCH_RESULT) {
			rc = ldap_parse_result(c->ld, m, &lrc, NULL, &diag, NULL, NULL, 0);
			if (rc != LDAP_SUCCESS) {
				rc = lerr(c, rc, "search", NULL);
				goto out;
			}
			if (lrc == LDAP_SIZELIMIT_EXCEEDED || nent > 1) {
				rc = laps_seterr(LAPS_ERR_AMBIGUOUS,
						 "ldap: several entries under %s match %s on %s",
						 base, filter, c->uri);
				goto out;
			}
			if (lrc == LDAP_NO_SUCH_OBJECT) {
				rc = laps_seterr(LAPS_ERR_NOTFOUND, "ldap: no entry %s on %s%s%s",
						 base, c->uri, diag && *diag ? ": " : "",
						 diag ? diag : "");
				goto out;
			}
			if (lrc != LDAP_SUCCESS) {
				char what[LDAP_FILTER_MAX + 32];

				(void)snprintf(what, sizeof(what), "search %s", filter);
				rc = lerr(c, lrc, what, diag);
				goto out;
			}
		}
		/* LDAP_RES_SEARCH_REFERENCE: ignored, never chased */
	}
	if (nent == 0) {
		rc = laps_seterr(LAPS_ERR_NOTFOUND, "ldap: no entry matches %s under %s on %s",
				 filter, base, c->uri);
		goto out;
	}
	rc = 0;
out:
	ldap_memfree(diag);
	if (res != NULL) {
		/* the clear-text password (Microsoft modes) is in the message too */
		if (ms_mode(c) && c->role == LAPS_ROLE_ADMIN)
			for (m = ldap_first_entry(c->ld, res); m != NULL;
			     m = ldap_next_entry(c->ld, m))
				wipe_message_attr(c->ld, m, ms_pw_attr(c));
		ldap_msgfree(res);
	}
	if (rc != 0)
		lentry_free(e);
	return rc;
}

/*
 * Distinguish "attribute not set" from "not allowed to see it": directories
 * silently leave out attributes the client may not read.  A compare is
 * answered with insufficientAccess in that case.
 */
static int
probe_access(struct lctx *c, const char *dn, const char *attr)
{
	struct berval bv = {1, (char *)(uintptr_t) "0"};
	LDAPMessage *res = NULL;
	char *diag = NULL;
	int msgid, rc, lrc;

	rc = ldap_compare_ext(c->ld, dn, attr, &bv, NULL, NULL, &msgid);
	if (rc != LDAP_SUCCESS)
		return lerr(c, rc, "compare", NULL);
	if ((rc = wait_result(c, msgid, "compare", &res)) != 0)
		return rc;
	if ((rc = parse_final(c, res, "compare", &lrc, &diag)) != 0)
		return rc;
	if (lrc == LDAP_INSUFFICIENT_ACCESS) {
		char what[LDAP_DN_MAX + 64];

		(void)snprintf(what, sizeof(what), "reading %s of %s", attr, dn);
		rc = lerr(c, lrc, what, diag);
	} else {
		rc = 0;
	}
	ldap_memfree(diag);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Modify                                                               */

struct modlist {
	LDAPMod mods[16];
	LDAPMod *ptrs[17];
	size_t n;
};

/* Add an operation with values vals (NULL-terminated, borrowed). */
static int
modlist_add(struct modlist *ml, int op, const char *attr, struct berval **vals)
{
	if (ml->n >= 16)
		return laps_seterr(LAPS_ERR_INTERNAL, "ldap: too many modifications");
	ml->mods[ml->n].mod_op = op | LDAP_MOD_BVALUES;
	ml->mods[ml->n].mod_type = (char *)(uintptr_t)attr;
	ml->mods[ml->n].mod_bvalues = vals;
	ml->ptrs[ml->n] = &ml->mods[ml->n];
	ml->n++;
	ml->ptrs[ml->n] = NULL;
	return 0;
}

/* Run a modify; conflicts (a value we delete is gone, a value we add is
 * there, a failed assertion) become LAPS_ERR_CONFLICT.  *lrc_out (optional)
 * receives the LDAP code. */
static int
do_modify(struct lctx *c, const char *dn, struct modlist *ml, LDAPControl **ctrls, const char *what,
	  int *lrc_out)
{
	LDAPMessage *res = NULL;
	char *diag = NULL;
	int msgid, rc, lrc = LDAP_OTHER;

	rc = ldap_modify_ext(c->ld, dn, ml->ptrs, ctrls, NULL, &msgid);
	if (rc != LDAP_SUCCESS) {
		rc = lerr(c, rc, what, NULL);
		goto out;
	}
	if ((rc = wait_result(c, msgid, what, &res)) != 0)
		goto out;
	if ((rc = parse_final(c, res, what, &lrc, &diag)) != 0)
		goto out;
	if (lrc == LDAP_SUCCESS) {
		rc = 0;
	} else if (laps_ldap_map_error(lrc) == LAPS_ERR_CONFLICT) {
		rc = laps_seterr(
		    LAPS_ERR_CONFLICT, "ldap: %s of %s on %s: changed concurrently (%s%s%s)", what,
		    dn, c->uri, ldap_err2string(lrc), diag && *diag ? ": " : "", diag ? diag : "");
	} else {
		char w[LDAP_DN_MAX + 64];

		(void)snprintf(w, sizeof(w), "%s of %s", what, dn);
		rc = lerr(c, lrc, w, diag);
	}
out:
	if (lrc_out != NULL)
		*lrc_out = lrc;
	ldap_memfree(diag);
	return rc;
}

/* ------------------------------------------------------------------ */
/* laps schema mode                                                     */

/* Parse the lapsCurrent value of account: *idx is its index in e->cur, -1
 * if none. rec filled when found. */
static int
laps_find_current(const struct lentry *e, const char *account, struct laps_record *rec,
		  ssize_t *idx)
{
	struct laps_record tmp;
	size_t i;
	int rc;

	*idx = -1;
	laps_record_init(&tmp);
	for (i = 0; e->cur != NULL && e->cur[i] != NULL; i++) {
		if (i >= LDAP_VALUES_MAX)
			break;
		rc = laps_record_parse(e->cur[i]->bv_val, e->cur[i]->bv_len, &tmp);
		if (rc != 0) {
			log_warn("ldap: %s: ignoring an unreadable %s value: %s", e->dn, AT_CURRENT,
				 laps_errdetail());
			continue;
		}
		if (strcmp(tmp.account, account) != 0)
			continue;
		if (*idx >= 0) {
			laps_record_clear(&tmp);
			return laps_seterr(LAPS_ERR_FORMAT,
					   "ldap: %s holds two %s values for account %s", e->dn,
					   AT_CURRENT, account);
		}
		*idx = (ssize_t)i;
		laps_record_clear(rec);
		*rec = tmp;
		laps_record_init(&tmp);
	}
	laps_record_clear(&tmp);
	return 0;
}

/* "<account>:<something>" values of attr for account: indices into v. */
static size_t
prefixed_values(struct berval **v, const char *account, size_t *idx, size_t max)
{
	size_t i, n = 0, al = strlen(account);

	for (i = 0; v != NULL && v[i] != NULL && n < max; i++) {
		if (v[i]->bv_len > al && memcmp(v[i]->bv_val, account, al) == 0 &&
		    v[i]->bv_val[al] == ':')
			idx[n++] = i;
	}
	return n;
}

/* The authoritative expiry of account from lapsExpiration, if any. */
static bool
laps_expiry_of(const struct lentry *e, const char *account, int64_t *when)
{
	size_t idx[4], n, al = strlen(account);
	char buf[32];
	long long v;

	n = prefixed_values(e->exp, account, idx, 4);
	if (n == 0)
		return false;
	if (e->exp[idx[0]]->bv_len - al - 1 >= sizeof(buf))
		return false;
	memcpy(buf, e->exp[idx[0]]->bv_val + al + 1, e->exp[idx[0]]->bv_len - al - 1);
	buf[e->exp[idx[0]]->bv_len - al - 1] = '\0';
	if (laps_parse_int64(buf, 0, INT64_MAX, &v) != 0)
		return false;
	*when = (int64_t)v;
	return true;
}

static int
laps_read(struct lctx *c, const char *device, const char *account, struct laps_record *out,
	  struct laps_version *ver)
{
	struct lentry e;
	struct laps_record rec;
	ssize_t idx;
	int64_t when;
	int rc;

	laps_record_init(&rec);
	if ((rc = fetch_entry(c, device, &e)) != 0)
		return rc;
	if ((rc = laps_find_current(&e, account, &rec, &idx)) != 0)
		goto out;
	if (idx < 0) {
		if (e.cur == NULL && e.rid == NULL && (rc = probe_access(c, e.dn, AT_ROTID)) != 0)
			goto out;
		rc = laps_seterr(LAPS_ERR_NOTFOUND, "ldap: %s has no record for %s", e.dn, account);
		goto out;
	}
	if (laps_expiry_of(&e, account, &when))
		rec.expires_at = when;
	(void)snprintf(rec.source, sizeof(rec.source), "%s", c->desc);
	(void)snprintf(ver->tag, sizeof(ver->tag), "%s", rec.rotation_id);
	laps_record_clear(out);
	*out = rec; /* success: ownership passes */
	laps_record_init(&rec);
	rc = 0;
out:
	laps_record_clear(&rec);
	lentry_free(&e);
	return rc;
}

/* Indices of the history values of account, oldest first after sorting. */
struct histval {
	size_t idx;
	int64_t rotated_at;
	char rotation_id[LAPS_ROTID_HEX + 1];
};

static int
histval_cmp_oldest_first(const void *a, const void *b)
{
	const struct histval *x = a, *y = b;

	if (x->rotated_at != y->rotated_at)
		return x->rotated_at < y->rotated_at ? -1 : 1;
	return strcmp(x->rotation_id, y->rotation_id);
}

static int
laps_write(struct lctx *c, const struct laps_record *rec, const struct laps_version *expected,
	   struct laps_version *newver)
{
	struct lentry e;
	struct laps_record cur, tmp;
	struct modlist ml;
	struct histval hv[LDAP_VALUES_MAX + 2];
	struct berval newcur, newrid, oldrid_bv, *v_newcur[2], *v_newrid[2], *v_oldcur[2],
	    *v_oldrid[2], *v_addhist[2], *v_delhist[LDAP_VALUES_MAX + 2];
	char *json = NULL, ridbuf[LAPS_ACCOUNT_MAX + LAPS_ROTID_HEX + 2],
	     oldridbuf[LAPS_ACCOUNT_MAX + LAPS_ROTID_HEX + 2], assertion[256],
	     acct_esc[3 * LAPS_ACCOUNT_MAX + 1];
	LDAPControl *ctrl = NULL, *ctrls[2] = {NULL, NULL};
	size_t i, nh = 0, keep, ndel = 0;
	ssize_t idx;
	bool dup;
	int rc, lrc;

	laps_record_init(&cur);
	laps_record_init(&tmp);
	memset(&ml, 0, sizeof(ml));
	if ((rc = laps_record_serialise(rec, &json)) != 0)
		return rc;
	if ((rc = fetch_entry(c, rec->device, &e)) != 0)
		goto out;
	if ((rc = laps_find_current(&e, rec->account, &cur, &idx)) != 0)
		goto out;
	if (idx < 0 && e.cur == NULL && e.rid == NULL &&
	    (rc = probe_access(c, e.dn, AT_ROTID)) != 0)
		goto out;
	if ((idx < 0) != (expected->tag[0] == '\0') ||
	    (idx >= 0 && strcmp(cur.rotation_id, expected->tag) != 0)) {
		rc = laps_seterr(LAPS_ERR_CONFLICT,
				 "ldap: %s: the current record of %s is %s, expected %s", e.dn,
				 rec->account, idx >= 0 ? cur.rotation_id : "(none)",
				 expected->tag[0] ? expected->tag : "(none)");
		goto out;
	}
	(void)snprintf(ridbuf, sizeof(ridbuf), "%s:%s", rec->account, rec->rotation_id);
	newcur.bv_val = json;
	newcur.bv_len = strlen(json);
	newrid.bv_val = ridbuf;
	newrid.bv_len = strlen(ridbuf);
	v_newcur[0] = &newcur, v_newcur[1] = NULL;
	v_newrid[0] = &newrid, v_newrid[1] = NULL;

	if (idx >= 0) {
		/* compare-and-set: delete the exact old values */
		(void)snprintf(oldridbuf, sizeof(oldridbuf), "%s:%s", rec->account,
			       cur.rotation_id);
		oldrid_bv.bv_val = oldridbuf;
		oldrid_bv.bv_len = strlen(oldridbuf);
		v_oldcur[0] = e.cur[idx], v_oldcur[1] = NULL;
		v_oldrid[0] = &oldrid_bv, v_oldrid[1] = NULL;
		if ((rc = modlist_add(&ml, LDAP_MOD_DELETE, AT_CURRENT, v_oldcur)) != 0 ||
		    (rc = modlist_add(&ml, LDAP_MOD_DELETE, AT_ROTID, v_oldrid)) != 0)
			goto out;
	} else {
		/* creation: assert that no rotation id of this account exists */
		if (filter_escape(rec->account, acct_esc, sizeof(acct_esc)) < 0) {
			rc = laps_seterr(LAPS_ERR_INVALID, "ldap: account name too long");
			goto out;
		}
		(void)snprintf(assertion, sizeof(assertion), "(!(%s=%s:*))", AT_ROTID, acct_esc);
		lrc = ldap_create_assertion_control(c->ld, assertion, 1, &ctrl);
		if (lrc != LDAP_SUCCESS) {
			rc = lerr(c, lrc, "creating the assertion control", NULL);
			goto out;
		}
		ctrls[0] = ctrl;
	}
	if ((rc = modlist_add(&ml, LDAP_MOD_ADD, AT_CURRENT, v_newcur)) != 0 ||
	    (rc = modlist_add(&ml, LDAP_MOD_ADD, AT_ROTID, v_newrid)) != 0)
		goto out;

	/* history of this account, by the rotated_at inside each value */
	for (i = 0; e.hist != NULL && e.hist[i] != NULL && i < LDAP_VALUES_MAX; i++) {
		if (laps_record_parse(e.hist[i]->bv_val, e.hist[i]->bv_len, &tmp) != 0) {
			log_warn("ldap: %s: ignoring an unreadable %s value", e.dn, AT_HISTORY);
			continue;
		}
		if (strcmp(tmp.account, rec->account) == 0) {
			hv[nh].idx = i;
			hv[nh].rotated_at = tmp.rotated_at;
			memcpy(hv[nh].rotation_id, tmp.rotation_id, sizeof(hv[nh].rotation_id));
			nh++;
		}
		laps_record_clear(&tmp);
	}
	/* the pushed record competes with the others: keep the newest
	 * cfg->history by rotated_at (never by server order) */
	dup = false;
	if (idx >= 0) {
		for (i = 0; e.hist != NULL && e.hist[i] != NULL; i++)
			if (e.hist[i]->bv_len == e.cur[idx]->bv_len &&
			    memcmp(e.hist[i]->bv_val, e.cur[idx]->bv_val, e.cur[idx]->bv_len) == 0)
				dup = true;
	}
	if (idx >= 0 && !dup) {
		hv[nh].idx = SIZE_MAX; /* the pushed current record */
		hv[nh].rotated_at = cur.rotated_at;
		memcpy(hv[nh].rotation_id, cur.rotation_id, sizeof(hv[nh].rotation_id));
		nh++;
	}
	keep = c->cfg->history;
	qsort(hv, nh, sizeof(hv[0]), histval_cmp_oldest_first);
	for (i = 0; i < nh; i++) {
		if (hv[i].idx == SIZE_MAX) {
			if (i >= (nh > keep ? nh - keep : 0)) {
				v_addhist[0] = e.cur[idx], v_addhist[1] = NULL;
				if ((rc = modlist_add(&ml, LDAP_MOD_ADD, AT_HISTORY, v_addhist)) !=
				    0)
					goto out;
			}
		} else if (i < (nh > keep ? nh - keep : 0)) {
			v_delhist[ndel++] = e.hist[hv[i].idx];
		}
	}
	v_delhist[ndel] = NULL;
	if (ndel > 0 && (rc = modlist_add(&ml, LDAP_MOD_DELETE, AT_HISTORY, v_delhist)) != 0)
		goto out;

	rc = do_modify(c, e.dn, &ml, ctrls[0] ? ctrls : NULL, "write", &lrc);
	if (rc != 0 && ctrl != NULL && lrc == LDAP_UNAVAILABLE_CRITICAL_EXTENSION) {
		/* Active Directory has no assertion control: the creation race
		 * is then not detected (documented in docs/LDAP.md) */
		log_debug("ldap: %s: no assertion control, writing without it", c->uri);
		rc = do_modify(c, e.dn, &ml, NULL, "write", NULL);
	}
	if (rc != 0)
		goto out;
	(void)snprintf(newver->tag, sizeof(newver->tag), "%s", rec->rotation_id);
out:
	if (ctrl != NULL)
		ldap_control_free(ctrl);
	free(json);
	laps_record_clear(&cur);
	laps_record_clear(&tmp);
	lentry_free(&e);
	return rc;
}

/* Build the modify that replaces account's expiry values with when. */
static int
laps_expiry_mods(const struct lentry *e, const char *account, int64_t when, struct modlist *ml,
		 struct berval **del, struct berval *addbv, struct berval **add, char *buf,
		 size_t buflen)
{
	size_t idx[LDAP_VALUES_MAX], n, i;
	int rc;

	n = prefixed_values(e->exp, account, idx, LDAP_VALUES_MAX);
	for (i = 0; i < n; i++)
		del[i] = e->exp[idx[i]];
	del[n] = NULL;
	if (n > 0 && (rc = modlist_add(ml, LDAP_MOD_DELETE, AT_EXPIRY, del)) != 0)
		return rc;
	(void)snprintf(buf, buflen, "%s:%" PRId64, account, when);
	addbv->bv_val = buf;
	addbv->bv_len = strlen(buf);
	add[0] = addbv;
	add[1] = NULL;
	return modlist_add(ml, LDAP_MOD_ADD, AT_EXPIRY, add);
}

static int
laps_confirm_once(struct lctx *c, const char *device, const char *account, const char *rotation_id,
		  int64_t expires_at)
{
	struct lentry e;
	struct laps_record cur, conf;
	struct modlist ml;
	struct berval newcur, expbv, *v_old[2], *v_new[2], *v_expdel[LDAP_VALUES_MAX + 1],
	    *v_expadd[2];
	char *json = NULL, expbuf[LAPS_ACCOUNT_MAX + 32];
	ssize_t idx;
	int64_t when;
	int rc;

	laps_record_init(&cur);
	laps_record_init(&conf);
	memset(&ml, 0, sizeof(ml));
	if ((rc = fetch_entry(c, device, &e)) != 0)
		return rc;
	if ((rc = laps_find_current(&e, account, &cur, &idx)) != 0)
		goto out;
	if (idx < 0 || strcmp(cur.rotation_id, rotation_id) != 0) {
		rc = laps_seterr(LAPS_ERR_CONFLICT,
				 "ldap: %s: the current record of %s is %s, not %s", e.dn, account,
				 idx >= 0 ? cur.rotation_id : "(none)", rotation_id);
		goto out;
	}
	if (cur.state == LAPS_STATE_CONFIRMED && laps_expiry_of(&e, account, &when) &&
	    when == expires_at) {
		rc = 0; /* already done (a retried confirm) */
		goto out;
	}
	if ((rc = laps_record_copy(&conf, &cur)) != 0)
		goto out;
	conf.state = LAPS_STATE_CONFIRMED;
	conf.expires_at = expires_at;
	conf.source[0] = '\0';
	if ((rc = laps_record_serialise(&conf, &json)) != 0)
		goto out;
	newcur.bv_val = json;
	newcur.bv_len = strlen(json);
	v_old[0] = e.cur[idx], v_old[1] = NULL;
	v_new[0] = &newcur, v_new[1] = NULL;
	if (newcur.bv_len != e.cur[idx]->bv_len ||
	    memcmp(json, e.cur[idx]->bv_val, newcur.bv_len) != 0) {
		if ((rc = modlist_add(&ml, LDAP_MOD_DELETE, AT_CURRENT, v_old)) != 0 ||
		    (rc = modlist_add(&ml, LDAP_MOD_ADD, AT_CURRENT, v_new)) != 0)
			goto out;
	}
	if ((rc = laps_expiry_mods(&e, account, expires_at, &ml, v_expdel, &expbv, v_expadd, expbuf,
				   sizeof(expbuf))) != 0)
		goto out;
	rc = do_modify(c, e.dn, &ml, NULL, "confirm", NULL);
out:
	free(json);
	laps_record_clear(&cur);
	laps_record_clear(&conf);
	lentry_free(&e);
	return rc;
}

static int
laps_set_expiry_once(struct lctx *c, const char *device, const char *account, int64_t when)
{
	struct lentry e;
	struct laps_record cur;
	struct modlist ml;
	struct berval expbv, *v_expdel[LDAP_VALUES_MAX + 1], *v_expadd[2];
	char expbuf[LAPS_ACCOUNT_MAX + 32];
	ssize_t idx;
	int rc;

	laps_record_init(&cur);
	memset(&ml, 0, sizeof(ml));
	if ((rc = fetch_entry(c, device, &e)) != 0)
		return rc;
	if ((rc = laps_find_current(&e, account, &cur, &idx)) != 0)
		goto out;
	if (idx < 0) {
		if (e.cur == NULL && (rc = probe_access(c, e.dn, AT_ROTID)) != 0)
			goto out;
		rc = laps_seterr(LAPS_ERR_NOTFOUND, "ldap: %s has no record for %s", e.dn, account);
		goto out;
	}
	if ((rc = laps_expiry_mods(&e, account, when, &ml, v_expdel, &expbv, v_expadd, expbuf,
				   sizeof(expbuf))) != 0)
		goto out;
	rc = do_modify(c, e.dn, &ml, NULL, "set expiry", NULL);
out:
	laps_record_clear(&cur);
	lentry_free(&e);
	return rc;
}

static int
laps_history(struct lctx *c, const char *device, const char *account, size_t n,
	     struct laps_record_list *out)
{
	struct lentry e;
	struct laps_record_list l = {NULL, 0};
	struct laps_record tmp;
	size_t i;
	int rc;

	laps_record_init(&tmp);
	if ((rc = fetch_entry(c, device, &e)) != 0)
		return rc;
	if (e.hist == NULL && e.cur == NULL && (rc = probe_access(c, e.dn, AT_HISTORY)) != 0)
		goto out;
	for (i = 0; e.hist != NULL && e.hist[i] != NULL && i < LDAP_VALUES_MAX; i++) {
		if (laps_record_parse(e.hist[i]->bv_val, e.hist[i]->bv_len, &tmp) != 0) {
			log_warn("ldap: %s: ignoring an unreadable %s value: %s", e.dn, AT_HISTORY,
				 laps_errdetail());
			continue;
		}
		if (strcmp(tmp.account, account) == 0) {
			(void)snprintf(tmp.source, sizeof(tmp.source), "%s", c->desc);
			if ((rc = laps_record_list_push(&l, &tmp)) != 0)
				goto out;
		}
		laps_record_clear(&tmp);
	}
	laps_record_list_sort(&l);
	while (l.n > n)
		laps_record_clear(&l.v[--l.n]);
	laps_record_list_free(out);
	*out = l; /* success */
	l.v = NULL;
	l.n = 0;
	rc = 0;
out:
	laps_record_clear(&tmp);
	laps_record_list_free(&l);
	lentry_free(&e);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Microsoft schema modes                                               */

/*
 * The device cannot read the password back (AD confidential attribute), so
 * rotation tracking goes through the expiration value (tag + pending bit,
 * see ldap_backend.h) and a small local file in the agent's state directory that
 * remembers which rotation ids this host wrote:
 *   <state_dir>/ldap-<schema>.<account>.rotid: "<newest id>\n<previous id>\n"
 * It is written before the modify, so a crash can never leave the directory
 * holding a rotation the file does not know.
 */
static int
ms_rotid_path(const struct lctx *c, const char *account, char *buf, size_t len)
{
	const char *dir = c->cfg->state_dir ? c->cfg->state_dir : LAPS_STATE_DIR_DEFAULT;

	return laps_snprintf(buf, len, "%s/ldap-%s.%s.rotid", dir, schema_name(c->cfg->ldap_schema),
			     account);
}

/* Load up to two ids; missing file = none. */
static void
ms_rotid_load(const struct lctx *c, const char *account, char ids[2][LAPS_ROTID_HEX + 1])
{
	char path[4096], *buf = NULL, *p;
	size_t len = 0, i;

	ids[0][0] = ids[1][0] = '\0';
	if (ms_rotid_path(c, account, path, sizeof(path)) != 0)
		return;
	if (laps_file_read(path, 256, LAPS_FILE_MISSING_OK | LAPS_FILE_OWNER_SELF, &buf, &len) != 0)
		return;
	p = buf;
	for (i = 0; i < 2 && p != NULL; i++) {
		char *nl = strchr(p, '\n');

		if (nl == NULL || (size_t)(nl - p) != LAPS_ROTID_HEX)
			break;
		memcpy(ids[i], p, LAPS_ROTID_HEX);
		ids[i][LAPS_ROTID_HEX] = '\0';
		p = nl + 1;
	}
	laps_file_free(buf, len, 0);
}

static int
ms_rotid_store(const struct lctx *c, const char *account, const char *newest, const char *prev)
{
	char path[4096], data[2 * (LAPS_ROTID_HEX + 1) + 1];
	int rc;

	if ((rc = ms_rotid_path(c, account, path, sizeof(path))) != 0)
		return rc;
	(void)snprintf(data, sizeof(data), "%s\n%s%s", newest, prev, prev[0] ? "\n" : "");
	return laps_file_write_atomic(path, data, strlen(data), 0600);
}

/* The value of the expiration attribute, parsed. */
static int
ms_expiration(const struct lctx *c, const struct lentry *e, uint64_t *value)
{
	if (bvals_count(e->exp) == 0)
		return LAPS_ERR_NOTFOUND;
	if (bvals_count(e->exp) > 1)
		return laps_seterr(LAPS_ERR_FORMAT, "ldap: %s: several %s values", e->dn,
				   ms_exp_attr(c));
	if (laps_filetime_parse_dec(e->exp[0]->bv_val, e->exp[0]->bv_len, value) != 0)
		return laps_seterr(LAPS_ERR_FORMAT, "ldap: %s: %s is not a FILETIME", e->dn,
				   ms_exp_attr(c));
	return 0;
}

/* The rotation id for the expiration value: one this host wrote with the
 * same tag, or else a derived one (16 zeros + the value in hex) that the
 * agent will not recognise as its own. */
static void
ms_rotation_id(const struct lctx *c, const char *account, uint64_t value,
	       char out[LAPS_ROTID_HEX + 1])
{
	char ids[2][LAPS_ROTID_HEX + 1];
	int64_t exp;
	uint32_t tag;
	int pending, i;

	laps_ms_expiration_decode(value, &exp, &tag, &pending);
	if (c->role == LAPS_ROLE_AGENT) {
		ms_rotid_load(c, account, ids);
		for (i = 0; i < 2; i++) {
			if (ids[i][0] != '\0' && laps_ms_rotation_tag(ids[i]) == tag) {
				memcpy(out, ids[i], LAPS_ROTID_HEX + 1);
				return;
			}
		}
	}
	(void)snprintf(out, LAPS_ROTID_HEX + 1, "%016" PRIx64 "%016" PRIx64, (uint64_t)0, value);
}

/* A control character (laps-get prints the password on a terminal)? */
static bool
has_control(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return true;
	return false;
}

int
laps_ldap_mslaps_parse(const char *json, size_t len, char account[LAPS_ACCOUNT_MAX + 1],
		       uint64_t *ft, char **password)
{
	json_object *o = NULL, *n = NULL, *t = NULL, *p = NULL;
	const char *ps, *ns, *ts;
	size_t plen = 0;
	uint64_t v;
	int rc;

	*password = NULL;
	if (len > LDAP_MS_JSON_MAX)
		return laps_seterr(LAPS_ERR_TOOBIG, "%s: longer than %d bytes", AT_MSLAPS_PW,
				   LDAP_MS_JSON_MAX);
	if (memchr(json, '\0', len) != NULL)
		return laps_seterr(LAPS_ERR_FORMAT, "%s: contains a NUL byte", AT_MSLAPS_PW);
	if ((rc = laps_json_parse_secret(json, len, LDAP_MS_JSON_MAX, 4, AT_MSLAPS_PW, &o)) != 0) {
		if (rc == LAPS_ERR_NOMEM)
			return rc;
		return laps_seterr(LAPS_ERR_FORMAT, "%s: not {\"n\":..,\"t\":..,\"p\":..}",
				   AT_MSLAPS_PW);
	}
	if (json_object_object_length(o) != 3 || !json_object_object_get_ex(o, "n", &n) ||
	    !json_object_object_get_ex(o, "t", &t) || !json_object_object_get_ex(o, "p", &p) ||
	    !json_object_is_type(n, json_type_string) ||
	    !json_object_is_type(t, json_type_string) ||
	    !json_object_is_type(p, json_type_string)) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "%s: not {\"n\":..,\"t\":..,\"p\":..}",
				 AT_MSLAPS_PW);
		goto out;
	}
	ns = json_object_get_string(n);
	ts = json_object_get_string(t);
	ps = json_object_get_string(p);
	plen = (size_t)json_object_get_string_len(p);
	if (strlen(ns) != (size_t)json_object_get_string_len(n) || strlen(ns) == 0 ||
	    strlen(ns) > LAPS_ACCOUNT_MAX) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "%s: bad account name", AT_MSLAPS_PW);
		goto out;
	}
	if (strlen(ts) != (size_t)json_object_get_string_len(t) ||
	    laps_filetime_parse_hex(ts, strlen(ts), &v) != 0) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "%s: \"t\" is not a hex FILETIME", AT_MSLAPS_PW);
		goto out;
	}
	if (strlen(ps) != plen || plen == 0 || plen > LAPS_PASSWORD_MAX) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "%s: bad password length", AT_MSLAPS_PW);
		goto out;
	}
	if (has_control(ps, plen)) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "%s: the password contains a control character",
				 AT_MSLAPS_PW);
		goto out;
	}
	if ((*password = laps_secret_strdup(ps)) == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	memcpy(account, ns, strlen(ns) + 1);
	*ft = v;
	rc = 0; /* success: *password is the caller's */
out:
	/* every string: "p" may also hide under another key or in a nested value */
	laps_json_free_secret(o);
	return rc;
}

/* The password attribute into rec (admin role). */
static int
ms_parse_password(struct lctx *c, const struct lentry *e, const char *account,
		  struct laps_record *rec)
{
	char who[LAPS_ACCOUNT_MAX + 1];
	uint64_t ft = 0;
	int rc;

	if (bvals_count(e->pw) != 1)
		return 0; /* not readable or not set: metadata only */
	if (c->cfg->ldap_schema == LAPS_SCHEMA_LEGACY) {
		if (e->pw[0]->bv_len == 0 || e->pw[0]->bv_len > LAPS_PASSWORD_MAX ||
		    has_control(e->pw[0]->bv_val, e->pw[0]->bv_len)) /* NUL included */
			return laps_seterr(LAPS_ERR_FORMAT, "ldap: %s: bad %s value", e->dn,
					   AT_LEGACY_PW);
		rec->password = laps_secret_strndup(e->pw[0]->bv_val, e->pw[0]->bv_len);
		return rec->password ? 0 : LAPS_ERR_NOMEM;
	}
	rc = laps_ldap_mslaps_parse(e->pw[0]->bv_val, e->pw[0]->bv_len, who, &ft, &rec->password);
	if (rc != 0)
		return laps_seterr_prefix(rc, "ldap: %s", e->dn);
	if (strcasecmp(who, account) != 0) {
		laps_secret_free(rec->password);
		rec->password = NULL;
		return laps_seterr(LAPS_ERR_NOTFOUND,
				   "ldap: %s: %s is for account %s, not %s (one account per "
				   "device in the Microsoft schema modes)",
				   e->dn, AT_MSLAPS_PW, who, account);
	}
	rec->rotated_at = laps_filetime_to_unix(ft);
	return 0;
}

static int
ms_read(struct lctx *c, const char *device, const char *account, struct laps_record *out,
	struct laps_version *ver)
{
	struct lentry e;
	struct laps_record rec;
	uint64_t value;
	uint32_t tag;
	int64_t exp;
	int pending, rc;

	laps_record_init(&rec);
	if ((rc = fetch_entry(c, device, &e)) != 0)
		return rc;
	rc = ms_expiration(c, &e, &value);
	if (rc == LAPS_ERR_NOTFOUND) {
		if ((rc = probe_access(c, e.dn, ms_exp_attr(c))) != 0)
			goto out;
		rc = laps_seterr(LAPS_ERR_NOTFOUND, "ldap: %s has no %s", e.dn, ms_exp_attr(c));
		goto out;
	}
	if (rc != 0)
		goto out;
	laps_ms_expiration_decode(value, &exp, &tag, &pending);
	(void)snprintf(rec.device, sizeof(rec.device), "%s", device);
	laps_hostname_lower(rec.device);
	(void)snprintf(rec.account, sizeof(rec.account), "%s", account);
	ms_rotation_id(c, account, value, rec.rotation_id);
	rec.expires_at = exp;
	rec.state = pending ? LAPS_STATE_PENDING : LAPS_STATE_CONFIRMED;
	if (c->role == LAPS_ROLE_ADMIN && (rc = ms_parse_password(c, &e, account, &rec)) != 0)
		goto out;
	(void)snprintf(rec.source, sizeof(rec.source), "%s", c->desc);
	(void)snprintf(ver->tag, sizeof(ver->tag), "ft:%" PRIu64, value);
	laps_record_clear(out);
	*out = rec; /* success */
	laps_record_init(&rec);
	rc = 0;
out:
	laps_record_clear(&rec);
	lentry_free(&e);
	return rc;
}

/* JSON string escaping into dst (locked memory sized by the caller). */
static size_t
json_escape(char *dst, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			dst[o++] = '\\';
			dst[o++] = (char)ch;
		} else if (ch < 0x20) {
			dst[o++] = '\\';
			dst[o++] = 'u';
			dst[o++] = '0';
			dst[o++] = '0';
			dst[o++] = hex[ch >> 4];
			dst[o++] = hex[ch & 15];
		} else {
			dst[o++] = (char)ch;
		}
	}
	return o;
}

static int
ms_write(struct lctx *c, const struct laps_record *rec, const char *password,
	 const struct laps_version *expected, struct laps_version *newver)
{
	struct lentry e;
	struct modlist ml;
	struct berval oldexp, newexp, pwbv, *v_old[2], *v_new[2], *v_pw[2];
	char ids[2][LAPS_ROTID_HEX + 1], newbuf[LAPS_FILETIME_DEC_MAX], tbuf[LAPS_FILETIME_HEX_MAX];
	char *pwval = NULL;
	size_t pwcap = 0, o;
	uint64_t value = 0, newvalue, ft = 0;
	bool exists;
	int rc;

	memset(&ml, 0, sizeof(ml));
	if (password == NULL || password[0] == '\0' || strlen(password) > LAPS_PASSWORD_MAX)
		return laps_seterr(LAPS_ERR_INVALID,
				   "ldap: schema %s stores the password itself: write() needs it",
				   schema_name(c->cfg->ldap_schema));
	if ((rc = fetch_entry(c, rec->device, &e)) != 0)
		return rc;
	rc = ms_expiration(c, &e, &value);
	if (rc != 0 && rc != LAPS_ERR_NOTFOUND)
		goto out;
	exists = rc == 0;
	if (!exists && (rc = probe_access(c, e.dn, ms_exp_attr(c))) != 0)
		goto out;
	if (exists != (expected->tag[0] != '\0') ||
	    (exists && (strncmp(expected->tag, "ft:", 3) != 0 ||
			strcmp(expected->tag + 3, laps_filetime_format_dec(value, newbuf)) != 0))) {
		rc = laps_seterr(LAPS_ERR_CONFLICT, "ldap: %s: %s is %s, expected %s", e.dn,
				 ms_exp_attr(c), exists ? newbuf : "(none)",
				 expected->tag[0] ? expected->tag : "(none)");
		goto out;
	}
	/* remember the rotation id before the directory can hold it */
	if (c->role == LAPS_ROLE_AGENT) {
		char cur[LAPS_ROTID_HEX + 1] = "";

		ms_rotid_load(c, rec->account, ids);
		if (exists)
			ms_rotation_id(c, rec->account, value, cur);
		if (cur[0] == '0' && strncmp(cur, "0000000000000000", 16) == 0)
			cur[0] = '\0'; /* derived: not ours */
		if ((rc = ms_rotid_store(c, rec->account, rec->rotation_id, cur)) != 0) {
			log_warn_rc(rc, "ldap: cannot record the rotation id locally; the next run "
					"will not recognise this rotation");
		}
	}
	/* pending: the expiry is the rotation time, i.e. due again unless confirmed */
	newvalue =
	    laps_ms_expiration_encode(rec->rotated_at, laps_ms_rotation_tag(rec->rotation_id), 1);
	if (laps_filetime_from_unix(rec->rotated_at, &ft) != 0) {
		rc = LAPS_ERR_INVALID;
		goto out;
	}
	/* the password value, in locked memory */
	pwcap = 64 + strlen(rec->account) * 6 + strlen(password) * 6;
	if ((pwval = laps_secret_alloc(pwcap)) == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	if (c->cfg->ldap_schema == LAPS_SCHEMA_MSLAPS) {
		o = 0;
		memcpy(pwval + o, "{\"n\":\"", 6), o += 6;
		o += json_escape(pwval + o, rec->account);
		memcpy(pwval + o, "\",\"t\":\"", 7), o += 7;
		laps_filetime_format_hex(ft, tbuf);
		memcpy(pwval + o, tbuf, strlen(tbuf)), o += strlen(tbuf);
		memcpy(pwval + o, "\",\"p\":\"", 7), o += 7;
		o += json_escape(pwval + o, password);
		memcpy(pwval + o, "\"}", 2), o += 2;
	} else {
		o = strlen(password);
		memcpy(pwval, password, o);
	}
	pwbv.bv_val = pwval;
	pwbv.bv_len = o;
	v_pw[0] = &pwbv, v_pw[1] = NULL;
	(void)laps_filetime_format_dec(newvalue, newbuf);
	newexp.bv_val = newbuf;
	newexp.bv_len = strlen(newbuf);
	v_new[0] = &newexp, v_new[1] = NULL;
	if (exists) {
		oldexp = *e.exp[0];
		v_old[0] = &oldexp, v_old[1] = NULL;
		if ((rc = modlist_add(&ml, LDAP_MOD_DELETE, ms_exp_attr(c), v_old)) != 0)
			goto out;
	}
	if ((rc = modlist_add(&ml, LDAP_MOD_ADD, ms_exp_attr(c), v_new)) != 0 ||
	    (rc = modlist_add(&ml, LDAP_MOD_REPLACE, ms_pw_attr(c), v_pw)) != 0)
		goto out;
	if ((rc = do_modify(c, e.dn, &ml, NULL, "write", NULL)) != 0)
		goto out;
	(void)snprintf(newver->tag, sizeof(newver->tag), "ft:%s", newbuf);
out:
	if (pwval != NULL)
		laps_secret_free(pwval);
	lentry_free(&e);
	return rc;
}

/* Replace the expiration value (CAS on the old value). */
static int
ms_replace_expiration(struct lctx *c, const struct lentry *e, uint64_t newvalue, const char *what)
{
	struct modlist ml;
	struct berval oldexp, newexp, *v_old[2], *v_new[2];
	char newbuf[LAPS_FILETIME_DEC_MAX];

	memset(&ml, 0, sizeof(ml));
	(void)laps_filetime_format_dec(newvalue, newbuf);
	oldexp = *e->exp[0];
	newexp.bv_val = newbuf;
	newexp.bv_len = strlen(newbuf);
	v_old[0] = &oldexp, v_old[1] = NULL;
	v_new[0] = &newexp, v_new[1] = NULL;
	if (modlist_add(&ml, LDAP_MOD_DELETE, ms_exp_attr(c), v_old) != 0 ||
	    modlist_add(&ml, LDAP_MOD_ADD, ms_exp_attr(c), v_new) != 0)
		return LAPS_ERR_INTERNAL;
	return do_modify(c, e->dn, &ml, NULL, what, NULL);
}

static int
ms_confirm_once(struct lctx *c, const char *device, const char *account, const char *rotation_id,
		int64_t expires_at)
{
	struct lentry e;
	uint64_t value;
	uint32_t tag;
	int64_t exp;
	int pending, rc;

	if ((rc = fetch_entry(c, device, &e)) != 0)
		return rc;
	if ((rc = ms_expiration(c, &e, &value)) != 0) {
		if (rc == LAPS_ERR_NOTFOUND)
			rc = laps_seterr(LAPS_ERR_CONFLICT, "ldap: %s: no %s to confirm", e.dn,
					 ms_exp_attr(c));
		goto out;
	}
	laps_ms_expiration_decode(value, &exp, &tag, &pending);
	if (tag != laps_ms_rotation_tag(rotation_id)) {
		rc = laps_seterr(LAPS_ERR_CONFLICT,
				 "ldap: %s: %s belongs to another rotation than %s", e.dn,
				 ms_exp_attr(c), rotation_id);
		goto out;
	}
	if (!pending && exp == expires_at) {
		rc = 0; /* already confirmed */
		goto out;
	}
	rc = ms_replace_expiration(c, &e, laps_ms_expiration_encode(expires_at, tag, 0), "confirm");
out:
	lentry_free(&e);
	return rc;
}

static int
ms_set_expiry_once(struct lctx *c, const char *device, const char *account, int64_t when)
{
	struct lentry e;
	uint64_t value;
	uint32_t tag;
	int64_t exp;
	int pending, rc;

	if ((rc = fetch_entry(c, device, &e)) != 0)
		return rc;
	rc = ms_expiration(c, &e, &value);
	if (rc == LAPS_ERR_NOTFOUND) {
		if ((rc = probe_access(c, e.dn, ms_exp_attr(c))) == 0)
			rc = laps_seterr(LAPS_ERR_NOTFOUND, "ldap: %s has no %s", e.dn,
					 ms_exp_attr(c));
		goto out;
	}
	if (rc != 0)
		goto out;
	laps_ms_expiration_decode(value, &exp, &tag, &pending);
	rc = ms_replace_expiration(c, &e, laps_ms_expiration_encode(when, tag, pending),
				   "set expiry");
out:
	lentry_free(&e);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The ops table                                                        */

static void
ldap_close(void *vctx)
{
	struct lctx *c = vctx;

	if (c == NULL)
		return;
	disconnect(c);
	free(c);
}

/*
 * libldap writes to its sockets with write(): a server that dies under us
 * would kill the process with SIGPIPE instead of giving LAPS_ERR_UNAVAILABLE.
 * Ignore SIGPIPE unless the program installed its own handler.
 */
static void
ignore_sigpipe(void)
{
	struct sigaction sa;

	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL &&
	    !(sa.sa_flags & SA_SIGINFO)) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_IGN;
		(void)sigemptyset(&sa.sa_mask);
		(void)sigaction(SIGPIPE, &sa, NULL);
	}
}

static int
ldap_open(const struct laps_config *cfg, enum laps_backend_role role, void **out)
{
	struct lctx *c;
	int rc;

	*out = NULL;
	if (cfg->ldap_schema != LAPS_SCHEMA_LAPS && role == LAPS_ROLE_AGENT && cfg->n_accounts > 1)
		return laps_seterr(
		    LAPS_ERR_UNSUPPORTED,
		    "ldap: schema %s stores one account per device (%zu configured); "
		    "use schema = laps for several accounts",
		    schema_name(cfg->ldap_schema), cfg->n_accounts);
	ignore_sigpipe();
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return LAPS_ERR_NOMEM;
	c->cfg = cfg;
	c->role = role;
	c->tv.tv_sec = cfg->ldap_timeout > 0 ? (time_t)cfg->ldap_timeout : 10;
	c->tv.tv_usec = 0;
	(void)snprintf(c->desc, sizeof(c->desc), "ldap (schema %s)", schema_name(cfg->ldap_schema));
	if (cfg->ldap_schema == LAPS_SCHEMA_LAPS)
		c->caps = LAPS_BCAP_HISTORY | LAPS_BCAP_EXPIRY | LAPS_BCAP_CAS | LAPS_BCAP_FIND;
	else
		c->caps = LAPS_BCAP_EXPIRY | LAPS_BCAP_CAS | LAPS_BCAP_FIND | LAPS_BCAP_CLEARTEXT |
			  LAPS_BCAP_WRITEONLY;
	if (cfg->ldap_tls == LAPS_TLS_NONE)
		log_warn("ldap: tls = none: the directory connection is not encrypted or "
			 "authenticated (bind secrets%s travel in clear)",
			 cfg->ldap_schema != LAPS_SCHEMA_LAPS ? " and passwords" : "");
	if ((rc = connect_any(c)) != 0) {
		ldap_close(c);
		return rc;
	}
	*out = c; /* success */
	return 0;
}

static bool
args_ok(const char *device, const char *account)
{
	return device != NULL && account != NULL && laps_record_device_ok(device) && laps_record_account_ok(account);
}

static int
ldap_read(void *vctx, const char *device, const char *account, struct laps_record *out,
	  struct laps_version *ver)
{
	struct lctx *c = vctx;

	ver->tag[0] = '\0';
	if (!args_ok(device, account))
		return laps_seterr(LAPS_ERR_INVALID, "ldap: invalid device or account name");
	return ms_mode(c) ? ms_read(c, device, account, out, ver)
			  : laps_read(c, device, account, out, ver);
}

static int
ldap_write(void *vctx, const struct laps_record *rec, const char *password,
	   const struct laps_version *expected, struct laps_version *newver)
{
	struct lctx *c = vctx;

	if (!args_ok(rec->device, rec->account))
		return laps_seterr(LAPS_ERR_INVALID, "ldap: invalid device or account name");
	return ms_mode(c) ? ms_write(c, rec, password, expected, newver)
			  : laps_write(c, rec, expected, newver);
}

static int
ldap_confirm(void *vctx, const char *device, const char *account, const char *rotation_id,
	     int64_t expires_at)
{
	struct lctx *c = vctx;
	int rc = LAPS_ERR_INTERNAL, i;

	if (!args_ok(device, account) || rotation_id == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "ldap: invalid arguments");
	/* a lost race against set_expiry is retried; a different rotation is not */
	for (i = 0; i < LDAP_CONFLICT_RETRIES; i++) {
		rc = ms_mode(c) ? ms_confirm_once(c, device, account, rotation_id, expires_at)
				: laps_confirm_once(c, device, account, rotation_id, expires_at);
		if (rc != LAPS_ERR_CONFLICT || strstr(laps_errdetail(), "concurrently") == NULL)
			break;
	}
	return rc;
}

static int
ldap_history(void *vctx, const char *device, const char *account, size_t n,
	     struct laps_record_list *out)
{
	struct lctx *c = vctx;

	if (!args_ok(device, account))
		return laps_seterr(LAPS_ERR_INVALID, "ldap: invalid device or account name");
	if (ms_mode(c))
		return laps_seterr(LAPS_ERR_UNSUPPORTED,
				   "ldap: schema %s keeps no history (Windows LAPS keeps history "
				   "only for encrypted passwords)",
				   schema_name(c->cfg->ldap_schema));
	return laps_history(c, device, account, n, out);
}

static int
ldap_set_expiry(void *vctx, const char *device, const char *account, int64_t when)
{
	struct lctx *c = vctx;
	int rc = LAPS_ERR_INTERNAL, i;

	if (!args_ok(device, account))
		return laps_seterr(LAPS_ERR_INVALID, "ldap: invalid device or account name");
	for (i = 0; i < LDAP_CONFLICT_RETRIES; i++) {
		rc = ms_mode(c) ? ms_set_expiry_once(c, device, account, when)
				: laps_set_expiry_once(c, device, account, when);
		if (rc != LAPS_ERR_CONFLICT)
			break;
	}
	return rc;
}

static int
ldap_find(void *vctx, const char *name, char (*devices)[LAPS_DEVICE_MAX + 1], size_t max, size_t *n)
{
	struct lctx *c = vctx;
	char filter[LDAP_FILTER_MAX];
	const char *attrs[] = {"cn", NULL};
	LDAPMessage *res = NULL, *m;
	char *diag = NULL;
	int msgid, rc, lrc;
	size_t found = 0;

	*n = 0;
	if (name == NULL || !laps_record_device_ok(name))
		return laps_seterr(LAPS_ERR_INVALID, "ldap: invalid host name");
	if (c->cfg->ldap_base == NULL)
		return laps_seterr(LAPS_ERR_UNSUPPORTED, "ldap: find needs [ldap] base");
	if ((rc = template_expand("(|(cn=%h)(dNSHostName=%f)(dNSHostName=%h.*))", name, true,
				  filter, sizeof(filter))) != 0)
		return rc;
	if (strchr(name, '.') != NULL) {
		/* an FQDN: its first label must match, and so must the whole
		 * name when the entry has a dNSHostName */
		char f2[LDAP_FILTER_MAX];

		if ((rc = template_expand("(|(dNSHostName=%f)(&(cn=%h)(!(dNSHostName=*))))", name,
					  true, f2, sizeof(f2))) != 0)
			return rc;
		memcpy(filter, f2, sizeof(filter));
	}
	rc =
	    ldap_search_ext(c->ld, c->cfg->ldap_base, LDAP_SCOPE_SUBTREE, filter,
			    (char **)(uintptr_t)attrs, 0, NULL, NULL, &c->tv, (int)max + 1, &msgid);
	if (rc != LDAP_SUCCESS)
		return lerr(c, rc, "search", NULL);
	if ((rc = wait_result(c, msgid, "search", &res)) != 0)
		return rc;
	for (m = ldap_first_message(c->ld, res); m != NULL; m = ldap_next_message(c->ld, m)) {
		int t = ldap_msgtype(m);

		if (t == LDAP_RES_SEARCH_ENTRY) {
			struct berval **cn = ldap_get_values_len(c->ld, m, "cn");

			if (cn != NULL && cn[0] != NULL && cn[0]->bv_len <= LAPS_DEVICE_MAX &&
			    found < max) {
				memcpy(devices[found], cn[0]->bv_val, cn[0]->bv_len);
				devices[found][cn[0]->bv_len] = '\0';
				laps_hostname_lower(devices[found]);
				/* untrusted: shown to the user, used as a device
				 * name; a NUL, control character ... is skipped */
				if (strlen(devices[found]) == cn[0]->bv_len &&
				    laps_record_device_ok(devices[found]))
					found++;
			}
			bvals_free(cn, false);
		} else if (t == LDAP_RES_SEARCH_RESULT) {
			rc = ldap_parse_result(c->ld, m, &lrc, NULL, &diag, NULL, NULL, 0);
			if (rc == LDAP_SUCCESS && lrc != LDAP_SUCCESS &&
			    lrc != LDAP_SIZELIMIT_EXCEEDED) {
				rc = lerr(c, lrc, "search", diag);
				goto out;
			}
		}
	}
	*n = found;
	rc = found > 0 ? 0
		       : laps_seterr(LAPS_ERR_NOTFOUND, "ldap: no device matches %s under %s",
				     filter, c->cfg->ldap_base);
out:
	ldap_memfree(diag);
	ldap_msgfree(res);
	return rc;
}

static unsigned
ldap_caps_of(void *vctx)
{
	const struct lctx *c = vctx;

	return c->caps;
}

static const char *
ldap_describe(void *vctx)
{
	const struct lctx *c = vctx;

	return c->desc;
}

const struct laps_backend_ops laps_backend_ldap = {
    .name = "ldap",
    .caps = LAPS_BCAP_HISTORY | LAPS_BCAP_EXPIRY | LAPS_BCAP_CAS | LAPS_BCAP_FIND,
    .open = ldap_open,
    .close = ldap_close,
    .read = ldap_read,
    .write = ldap_write,
    .confirm = ldap_confirm,
    .history = ldap_history,
    .set_expiry = ldap_set_expiry,
    .find = ldap_find,
    .caps_of = ldap_caps_of,
    .describe = ldap_describe,
};
