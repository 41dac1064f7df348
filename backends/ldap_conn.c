/*
 * ldap_conn.c — the LDAP backend's connection: the URI list and failover,
 * TLS (StartTLS or ldaps://), the bind (simple, SASL EXTERNAL, SASL
 * GSSAPI), error mapping, and the request helpers every operation uses
 * (wait for a result, modify, access probe).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <lber.h>
#include <ldap.h>
#include <netdb.h>
#include <poll.h>
#include <sasl/sasl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "backends/ldap_int.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/log.h"
#include "backends/ldap_conf.h"

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
		return LAPS_ERR_UNAVAILABLE;
	case LDAP_UNWILLING_TO_PERFORM:
	case LDAP_OTHER:
		return LAPS_ERR_BACKEND;
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

int
lconn_error(struct lctx *c, int rc, const char *what, const char *diag)
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
/* Requests                                                             */

int
lconn_wait(struct lctx *c, int msgid, const char *what, LDAPMessage **res)
{
	struct timeval tv = c->tv;
	int rc, err;

	*res = NULL;
	errno = 0;
	rc = ldap_result(c->ld, msgid, LDAP_MSG_ALL, &tv, res);
	err = errno;
	if (rc == 0) {
		(void)ldap_abandon_ext(c->ld, msgid, NULL, NULL);
		return laps_seterr(LAPS_ERR_TIMEOUT, "ldap: %s on %s: no answer within %ld s", what,
				   c->uri, (long)c->tv.tv_sec);
	}
	if (rc < 0) {
		int lrc = LDAP_SERVER_DOWN;

		(void)ldap_get_option(c->ld, LDAP_OPT_RESULT_CODE, &lrc);
		/* liblber refused a message over LB_MESSAGE_MAX (and dropped
		 * the connection) */
		if (lrc == LDAP_SERVER_DOWN && err == ERANGE)
			return laps_seterr(LAPS_ERR_TOOBIG,
					   "ldap: %s on %s: the answer is larger than %d bytes", what,
					   c->uri, LB_MESSAGE_MAX);
		return lconn_error(c, lrc, what, NULL);
	}
	return 0;
}

int
lconn_parse_final(struct lctx *c, LDAPMessage *res, const char *what, int *lrc, char **diag)
{
	int rc;

	*lrc = LDAP_OTHER;
	*diag = NULL;
	rc = ldap_parse_result(c->ld, res, lrc, NULL, diag, NULL, NULL, 1);
	if (rc != LDAP_SUCCESS)
		return lconn_error(c, rc, what, NULL);
	return 0;
}

int
lconn_modify(struct lctx *c, const char *dn, struct modlist *ml, LDAPControl **ctrls,
	     const char *what, int *lrc_out)
{
	LDAPMessage *res = NULL;
	char *diag = NULL;
	int msgid, rc, lrc = LDAP_OTHER;

	rc = ldap_modify_ext(c->ld, dn, ml->ptrs, ctrls, NULL, &msgid);
	if (rc != LDAP_SUCCESS) {
		rc = lconn_error(c, rc, what, NULL);
		goto out;
	}
	if ((rc = lconn_wait(c, msgid, what, &res)) != 0)
		goto out;
	if ((rc = lconn_parse_final(c, res, what, &lrc, &diag)) != 0)
		goto out;
	if (lrc == LDAP_SUCCESS) {
		rc = 0;
	} else if (laps_ldap_map_error(lrc) == LAPS_ERR_CONFLICT) {
		(void)laps_seterr(LAPS_ERR_CONFLICT,
				  "ldap: %s of %s on %s: changed concurrently (%s%s%s)", what, dn,
				  c->uri, ldap_err2string(lrc), diag && *diag ? ": " : "",
				  diag ? diag : "");
		rc = LB_RACE_LOST;
	} else {
		char w[LB_DN_MAX + 64];

		(void)snprintf(w, sizeof(w), "%s of %s", what, dn);
		rc = lconn_error(c, lrc, w, diag);
	}
out:
	if (lrc_out != NULL)
		*lrc_out = lrc;
	ldap_memfree(diag);
	return rc;
}

int
lconn_probe_access(struct lctx *c, const char *dn, const char *attr)
{
	struct berval bv = {1, (char *)(uintptr_t) "0"};
	LDAPMessage *res = NULL;
	char *diag = NULL;
	int msgid, rc, lrc;

	rc = ldap_compare_ext(c->ld, dn, attr, &bv, NULL, NULL, &msgid);
	if (rc != LDAP_SUCCESS)
		return lconn_error(c, rc, "compare", NULL);
	if ((rc = lconn_wait(c, msgid, "compare", &res)) != 0)
		return rc;
	if ((rc = lconn_parse_final(c, res, "compare", &lrc, &diag)) != 0)
		return rc;
	if (lrc == LDAP_INSUFFICIENT_ACCESS) {
		char what[LB_DN_MAX + 64];

		(void)snprintf(what, sizeof(what), "reading %s of %s", attr, dn);
		rc = lconn_error(c, lrc, what, diag);
	} else {
		rc = 0;
	}
	ldap_memfree(diag);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Cyrus SASL plugins                                                   */

/* SASL_CB_VERIFYFILE: decline every plugin file, allow anything else. */
static int
decline_plugin(void *context, const char *file, sasl_verify_type_t type)
{
	(void)context;
	(void)file;
	return type == SASL_VRFY_PLUGIN ? SASL_CONTINUE : SASL_OK;
}

/*
 * libldap calls sasl_client_init(NULL) when it initialises (on the first
 * libldap call of the process), and Cyrus SASL then dlopens every plugin
 * installed (GSSAPI with Kerberos, NTLM, SCRAM, libdb ...) even for a simple
 * bind: most of a no-op run's cost.  Cyrus SASL initialises once per
 * process and only counts the later calls, so initialising it first with a
 * callback that declines every plugin file leaves libldap a SASL library
 * without plugins.  Simple binds never touch SASL, and EXTERNAL is sent by
 * ldap_sasl_bind itself; GSSAPI needs its plugin, so a GSSAPI bind skips
 * this and the plugins load as before.  The first backend opened in a
 * process decides (programs open one).  No environment variable involved.
 */
void
lconn_sasl_prepare(const struct laps_conf *cfg)
{
	static const sasl_callback_t callbacks[] = {
	    {SASL_CB_VERIFYFILE, (int (*)(void))(uintptr_t)decline_plugin, NULL},
	    {SASL_CB_LIST_END, NULL, NULL},
	};
	static bool done;
	int rc;

	if (done)
		return;
	done = true;
	if (laps_ldap_conf(cfg)->bind == LAPS_BIND_GSSAPI)
		return;
	if ((rc = sasl_client_init(callbacks)) != SASL_OK)
		log_debug("ldap: sasl_client_init: %s", sasl_errstring(rc, NULL, NULL));
}

/* ------------------------------------------------------------------ */
/* Bind                                                                 */

/* Minimal SASL interaction callback (GSSAPI needs no prompts; any that
 * appear get their default, i.e. an empty authorisation id).  The layout
 * mirrors Cyrus SASL's sasl_interact_t, a stable ABI since SASL 2.0; we
 * mirror it to avoid a build dependency on the SASL headers. */
struct sasl_interact_abi {
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
	struct sasl_interact_abi *i = in;

	(void)ld;
	(void)flags;
	(void)defaults;
	for (; i != NULL && i->id != 0; i++) {
		i->result = i->defresult ? i->defresult : "";
		i->len = (unsigned)strlen(i->result);
	}
	return LDAP_SUCCESS;
}

/* Send a bind (mech NULL = simple) and wait for its result, bounded. */
static int
bind_wait(struct lctx *c, const char *dn, const char *mech, struct berval *cred,
	  const char *what)
{
	LDAPMessage *res = NULL;
	char *diag = NULL;
	int msgid = -1, lrc, rc;

	rc = ldap_sasl_bind(c->ld, dn, mech ? mech : LDAP_SASL_SIMPLE, cred, NULL, NULL, &msgid);
	if (rc != LDAP_SUCCESS)
		return lconn_error(c, rc, what, NULL);
	if ((rc = lconn_wait(c, msgid, what, &res)) != 0)
		return rc;
	if ((rc = lconn_parse_final(c, res, what, &lrc, &diag)) != 0)
		return rc;
	rc = lrc == LDAP_SUCCESS ? 0 : lconn_error(c, lrc, what, diag);
	ldap_memfree(diag);
	return rc;
}

static int
bind_simple(struct lctx *c)
{
	const struct laps_conf *cfg = c->cfg;
	char *secret = NULL, what[LB_DN_MAX + 32];
	size_t slen = 0;
	struct berval cred;
	int rc;

	if (laps_ldap_conf(cfg)->bind_dn == NULL || laps_ldap_conf(cfg)->bind_secret_file == NULL)
		return laps_seterr(LAPS_ERR_CONFIG,
				   "ldap: bind = simple needs bind_dn and bind_secret_file");
	/* owner-only (0600/0400) and ours: a file someone else owns is
	 * readable here only because we are root */
	rc = laps_file_read(laps_ldap_conf(cfg)->bind_secret_file, LB_SECRET_FILE_MAX,
			    LAPS_FILE_SECRET | LAPS_FILE_OWNER_SELF, &secret, &slen);
	if (rc != 0)
		return rc;
	if (slen > 0 && secret[slen - 1] == '\n')
		secret[--slen] = '\0';
	if (slen > 0 && secret[slen - 1] == '\r')
		secret[--slen] = '\0';
	if (slen == 0) {
		rc = laps_seterr(LAPS_ERR_CONFIG, "ldap: %s: empty secret",
				 laps_ldap_conf(cfg)->bind_secret_file);
		goto out;
	}
	cred.bv_val = secret;
	cred.bv_len = slen;
	(void)snprintf(what, sizeof(what), "simple bind as %s", laps_ldap_conf(cfg)->bind_dn);
	rc = bind_wait(c, laps_ldap_conf(cfg)->bind_dn, NULL, &cred, what);
out:
	laps_file_free(secret, slen, LAPS_FILE_SECRET);
	return rc;
}

static int
bind_gssapi(struct lctx *c)
{
	int lrc;

	/* the service principal is ldap/<host of the URI>: no reverse DNS,
	 * the same name the TLS certificate was checked against */
	(void)ldap_set_option(c->ld, LDAP_OPT_X_SASL_NOCANON, LDAP_OPT_ON);
	lrc = ldap_sasl_interactive_bind_s(c->ld, NULL, "GSSAPI", NULL, NULL, LDAP_SASL_QUIET,
					   sasl_interact, NULL);
	if (lrc != LDAP_SUCCESS)
		return lconn_error(c, lrc, "SASL GSSAPI bind (host keytab / credential cache?)",
				   NULL);
	return 0;
}

static int
bind_any(struct lctx *c)
{
	struct berval empty = {0, (char *)(uintptr_t) ""};

	switch (laps_ldap_conf(c->cfg)->bind) {
	case LAPS_BIND_SIMPLE:
		return bind_simple(c);
	case LAPS_BIND_EXTERNAL:
		/* an empty initial response: "authorise as the authenticated identity" */
		return bind_wait(c, NULL, "EXTERNAL", &empty, "SASL EXTERNAL bind");
	case LAPS_BIND_GSSAPI:
		return bind_gssapi(c);
	default:
		return laps_seterr(LAPS_ERR_CONFIG, "ldap: unknown bind mode");
	}
}

/* ------------------------------------------------------------------ */
/* Connection                                                           */

/*
 * Every network step is bounded by [ldap] timeout (c->tv):
 *   TCP connect    LDAP_OPT_NETWORK_TIMEOUT
 *   TLS handshake  LDAP_OPT_CONNECT_ASYNC: with it, libldap (2.5) polls the
 *                  handshake against the network timeout; without it, it
 *                  sets the socket non-blocking and retries the handshake
 *                  in a busy loop that never ends when the peer is silent
 *                  (fixed upstream in ITS#8047, after Debian 12's 2.5.13).
 *   StartTLS       sent asynchronously, its answer awaited with a timeout;
 *                  its handshake on a non-blocking socket whose receive and
 *                  send timeouts are the timeout too (bound_handshake)
 *   bind, search, compare, modify   ldap_result() with a timeout (lconn_wait);
 *                  the synchronous SASL bind uses LDAP_OPT_TIMEOUT
 * A step that runs out of time ends that URI with LAPS_ERR_TIMEOUT and the
 * next URI is tried, so a run ends within about (URIs x timeout).
 */

static double
now_s(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Did a failed step started at t0 use up the whole timeout? */
static bool
timed_out(const struct lctx *c, double t0)
{
	return now_s() - t0 >= (double)c->tv.tv_sec - 0.05;
}

/* Called by libldap on every new connection, before any TLS: cap the size
 * of one incoming LDAP message (an entry and all its values). */
static int
on_connect(LDAP *ld, Sockbuf *sb, LDAPURLDesc *srv, struct sockaddr *addr,
	   struct ldap_conncb *ctx)
{
	ber_len_t max = LB_MESSAGE_MAX;

	(void)ld;
	(void)srv;
	(void)addr;
	(void)ctx;
	return ber_sockbuf_ctrl(sb, LBER_SB_OPT_SET_MAX_INCOMING, &max) == 1 ? 0 : -1;
}

static void
on_disconnect(LDAP *ld, Sockbuf *sb, struct ldap_conncb *ctx)
{
	(void)ld;
	(void)sb;
	(void)ctx;
}

static const ldap_conncb conn_callbacks = {on_connect, on_disconnect, NULL};

/* Can we open a TCP connection to the URI's host:port?  Used to tell a TLS
 * failure on ldaps:// from a server that is down. */
static bool
tcp_probe(const char *uri, int timeout_s, int *why)
{
	LDAPURLDesc *lud = NULL;
	struct addrinfo hints, *ai = NULL, *a;
	char port[16];
	bool ok = false;

	*why = 0;
	if (ldap_url_parse(uri, &lud) != LDAP_URL_SUCCESS || lud->lud_host == NULL)
		goto out;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	(void)snprintf(port, sizeof(port), "%d",
		       lud->lud_port			      ? lud->lud_port
		       : strncasecmp(uri, "ldaps://", 8) == 0 ? 636
							      : 389);
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
			else
				*why = soerr != 0 ? soerr : ETIMEDOUT;
		} else {
			*why = errno;
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

static bool
tcp_reachable(const char *uri, int timeout_s)
{
	int why;

	return tcp_probe(uri, timeout_s, &why);
}

/* Is the server down?  After a failed first exchange (StartTLS) on
 * ldap://, say that the TCP connection was refused (or why it failed):
 * StartTLS was never reached.  0 when the server is reachable. */
static int
server_down(struct lctx *c)
{
	int why = 0;

	if (tcp_probe(c->uri, 1, &why))
		return 0;
	return laps_seterr(LAPS_ERR_UNAVAILABLE,
			   "ldap: %s: connection %s (the server is down or not listening there; "
			   "StartTLS was never reached)",
			   c->uri,
			   why == ECONNREFUSED ? "refused"
			   : why	       ? strerror(why)
					       : "failed");
}

static bool
uri_has_scheme(const char *uri, const char *scheme)
{
	return strncasecmp(uri, scheme, strlen(scheme)) == 0;
}

static const char *
ca_name(const struct laps_conf *cfg)
{
	return laps_ldap_conf(cfg)->ca_file ? laps_ldap_conf(cfg)->ca_file : "the system CAs";
}

/* [ldap] ca_file, cert_file, key_file: each one opens (libldap would only
 * say "Can't contact LDAP server" when building the TLS context). */
static int
tls_files_open(const struct laps_conf *cfg)
{
	const char *keys[] = {"ca_file", "cert_file", "key_file"};
	const char *paths[] = {laps_ldap_conf(cfg)->ca_file, laps_ldap_conf(cfg)->cert_file,
			       laps_ldap_conf(cfg)->key_file};
	size_t i;
	int fd;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if (paths[i] == NULL)
			continue;
		if ((fd = open(paths[i], O_RDONLY | O_CLOEXEC)) < 0)
			return laps_seterr(LAPS_ERR_CONFIG, "ldap: [ldap] %s %s: %s", keys[i],
					   paths[i], strerror(errno));
		close(fd);
	}
	return 0;
}

static int
set_tls_options(struct lctx *c)
{
	const struct laps_conf *cfg = c->cfg;
	int demand = LDAP_OPT_X_TLS_DEMAND, zero = 0, rc;

	if ((rc = tls_files_open(cfg)) != 0)
		return rc;

	if ((rc = ldap_set_option(c->ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand)) != LDAP_OPT_SUCCESS)
		return lconn_error(c, rc, "setting TLS_REQUIRE_CERT", NULL);
	if (laps_ldap_conf(cfg)->ca_file != NULL &&
	    (rc = ldap_set_option(c->ld, LDAP_OPT_X_TLS_CACERTFILE,
				  laps_ldap_conf(cfg)->ca_file)) != LDAP_OPT_SUCCESS)
		return lconn_error(c, rc, "setting the CA file", NULL);
	if (laps_ldap_conf(cfg)->cert_file != NULL &&
	    (rc = ldap_set_option(c->ld, LDAP_OPT_X_TLS_CERTFILE,
				  laps_ldap_conf(cfg)->cert_file)) != LDAP_OPT_SUCCESS)
		return lconn_error(c, rc, "setting the client certificate", NULL);
	if (laps_ldap_conf(cfg)->key_file != NULL &&
	    (rc = ldap_set_option(c->ld, LDAP_OPT_X_TLS_KEYFILE, laps_ldap_conf(cfg)->key_file)) !=
		LDAP_OPT_SUCCESS)
		return lconn_error(c, rc, "setting the client key", NULL);
	if ((rc = ldap_set_option(c->ld, LDAP_OPT_X_TLS_NEWCTX, &zero)) != LDAP_OPT_SUCCESS)
		return laps_seterr(
		    LAPS_ERR_TLS,
		    "ldap: cannot create a TLS context on %s (CA file %s, "
		    "certificate %s): %s",
		    c->uri,
		    laps_ldap_conf(cfg)->ca_file ? laps_ldap_conf(cfg)->ca_file : "(system)",
		    laps_ldap_conf(cfg)->cert_file ? laps_ldap_conf(cfg)->cert_file : "(none)",
		    ldap_err2string(rc));
	return 0;
}

/* A failed TLS handshake: out of time, or refused (certificate, name). */
static int
tls_failed(struct lctx *c, double t0, int lrc, const char *what)
{
	char *diag = NULL;
	int err;

	if (timed_out(c, t0))
		return laps_seterr(LAPS_ERR_TIMEOUT, "ldap: %s with %s: no answer within %ld s",
				   what, c->uri, (long)c->tv.tv_sec);
	if (c->ld != NULL)
		(void)ldap_get_option(c->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	err = laps_seterr(LAPS_ERR_TLS,
			  "ldap: %s with %s failed: %s (%d)%s%s "
			  "(certificate not trusted by %s, or host name mismatch?)",
			  what, c->uri, ldap_err2string(lrc), lrc, diag ? ": " : "",
			  diag ? diag : "", ca_name(c->cfg));
	ldap_memfree(diag);
	return err;
}

/* Bound the StartTLS handshake whatever state libldap left the socket in.
 * libldap polls the handshake against the network timeout only when the
 * socket is non-blocking; once (1 fault run in 380) it was blocking and
 * gnutls_handshake waited on a silent server far past the timeout.  So:
 * the socket non-blocking, and its receive and send timeouts set to
 * [ldap] timeout, so that a blocking read or write also returns (EAGAIN,
 * which libldap then bounds by the same deadline).  The timeouts stay:
 * they bound every later read and write of the connection as well. */
static void
bound_handshake(struct lctx *c)
{
	ber_socket_t fd = -1;
	Sockbuf *sb = NULL;

	if (ldap_get_option(c->ld, LDAP_OPT_DESC, &fd) != LDAP_OPT_SUCCESS || fd < 0)
		return;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &c->tv, sizeof c->tv);
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &c->tv, sizeof c->tv);
	if (ldap_get_option(c->ld, LDAP_OPT_SOCKBUF, &sb) == LDAP_OPT_SUCCESS && sb != NULL)
		(void)ber_sockbuf_ctrl(sb, LBER_SB_OPT_SET_NONBLOCK, (void *)1);
}

/* StartTLS: the request and its answer bounded, then the handshake. */
static int
start_tls(struct lctx *c)
{
	LDAPMessage *res = NULL;
	char *diag = NULL;
	double t0;
	int msgid = -1, lrc, rc;

	rc = ldap_start_tls(c->ld, NULL, NULL, &msgid);
	if ((rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR) && server_down(c) != 0)
		return LAPS_ERR_UNAVAILABLE;
	if (rc != LDAP_SUCCESS)
		return lconn_error(c, rc, "StartTLS", NULL);
	if ((rc = lconn_wait(c, msgid, "StartTLS", &res)) != 0)
		return rc;
	if ((rc = lconn_parse_final(c, res, "StartTLS", &lrc, &diag)) != 0)
		return rc;
	if (lrc == LDAP_SERVER_DOWN && server_down(c) != 0) {
		ldap_memfree(diag);
		return LAPS_ERR_UNAVAILABLE;
	}
	if (lrc != LDAP_SUCCESS) {
		rc = lrc == LDAP_SERVER_DOWN || lrc == LDAP_TIMEOUT
			 ? lconn_error(c, lrc, "StartTLS", diag)
			 : laps_seterr(LAPS_ERR_TLS, "ldap: StartTLS refused by %s: %s (%d)%s%s",
				       c->uri, ldap_err2string(lrc), lrc, diag ? ": " : "",
				       diag ? diag : "");
		ldap_memfree(diag);
		return rc;
	}
	ldap_memfree(diag);
	bound_handshake(c);
	t0 = now_s();
	rc = ldap_install_tls(c->ld);
	return rc == LDAP_SUCCESS ? 0 : tls_failed(c, t0, rc, "TLS handshake (StartTLS)");
}

/* Open the connection now (TCP, and the TLS handshake for ldaps://). */
static int
open_transport(struct lctx *c, bool ldaps)
{
	double t0 = now_s();
	int rc;

	rc = ldap_connect(c->ld);
	if (rc == LDAP_SUCCESS)
		return 0;
	if (ldaps && tcp_reachable(c->uri, 1))
		return tls_failed(c, t0, LDAP_CONNECT_ERROR, "TLS handshake");
	if (timed_out(c, t0))
		return laps_seterr(LAPS_ERR_TIMEOUT, "ldap: connect to %s: no answer within %ld s",
				   c->uri, (long)c->tv.tv_sec);
	return lconn_error(c, LDAP_SERVER_DOWN, "connect", NULL);
}

/* ldap_initialize and the session options. */
static int
init_handle(struct lctx *c, const char *uri)
{
	int v3 = LDAP_VERSION3, sizelimit = 2, rc;

	rc = ldap_initialize(&c->ld, uri);
	if (rc != LDAP_SUCCESS) {
		c->ld = NULL;
		return laps_seterr(LAPS_ERR_CONFIG, "ldap: uri %s: %s", uri, ldap_err2string(rc));
	}
	if (ldap_set_option(c->ld, LDAP_OPT_PROTOCOL_VERSION, &v3) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(c->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(c->ld, LDAP_OPT_NETWORK_TIMEOUT, &c->tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(c->ld, LDAP_OPT_TIMEOUT, &c->tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(c->ld, LDAP_OPT_CONNECT_ASYNC, LDAP_OPT_ON) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(c->ld, LDAP_OPT_SIZELIMIT, &sizelimit) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(c->ld, LDAP_OPT_CONNECT_CB, &conn_callbacks) != LDAP_OPT_SUCCESS)
		return laps_seterr(LAPS_ERR_INTERNAL, "ldap: cannot set connection options");
	return 0;
}

/* Connect to one URI: options, TLS, bind. */
static int
connect_one(struct lctx *c, const char *uri)
{
	const struct laps_conf *cfg = c->cfg;
	bool ldaps = uri_has_scheme(uri, "ldaps://");
	bool ldapi = uri_has_scheme(uri, "ldapi://");
	int rc;

	c->uri = uri;
	if (!ldaps && !ldapi && !uri_has_scheme(uri, "ldap://"))
		return laps_seterr(LAPS_ERR_CONFIG,
				   "ldap: uri %s: not ldap://, ldaps:// or ldapi://", uri);
	if (laps_ldap_conf(cfg)->tls == LAPS_TLS_LDAPS && !ldaps && !ldapi)
		return laps_seterr(LAPS_ERR_CONFIG, "ldap: tls = ldaps but uri %s is not ldaps://",
				   uri);
	if (laps_ldap_conf(cfg)->tls != LAPS_TLS_LDAPS && ldaps)
		return laps_seterr(LAPS_ERR_CONFIG,
				   "ldap: uri %s is ldaps:// but tls = %s (set tls = ldaps)", uri,
				   laps_ldap_conf(cfg)->tls == LAPS_TLS_NONE ? "none" : "starttls");
	if ((rc = init_handle(c, uri)) != 0)
		return rc;
	if (!ldapi && laps_ldap_conf(cfg)->tls != LAPS_TLS_NONE && (rc = set_tls_options(c)) != 0)
		return rc;
	if ((rc = open_transport(c, ldaps)) != 0)
		return rc;
	if (!ldapi && laps_ldap_conf(cfg)->tls == LAPS_TLS_STARTTLS && (rc = start_tls(c)) != 0)
		return rc;
	return bind_any(c);
}

void
lconn_close(struct lctx *c)
{
	if (c->ld != NULL)
		(void)ldap_unbind_ext_s(c->ld, NULL, NULL);
	c->ld = NULL;
}

int
lconn_connect(struct lctx *c)
{
	const struct laps_conf *cfg = c->cfg;
	char first_detail[512] = "";
	int first_err = 0, rc = LAPS_ERR_CONFIG;
	size_t i;

	if (laps_ldap_conf(cfg)->n_uri == 0)
		return laps_seterr(LAPS_ERR_CONFIG, "ldap: no uri configured");
	for (i = 0; i < laps_ldap_conf(cfg)->n_uri; i++) {
		rc = connect_one(c, laps_ldap_conf(cfg)->uri[i]);
		if (rc == 0)
			return 0;
		lconn_close(c);
		if (!laps_err_transient(rc) && rc != LAPS_ERR_TLS)
			return rc; /* configuration or credentials: the next server won't differ */
		log_debug("ldap: %s: %s", laps_ldap_conf(cfg)->uri[i], laps_errdetail());
		if (first_err == 0 || (first_err != LAPS_ERR_TLS && rc == LAPS_ERR_TLS)) {
			first_err = rc;
			(void)snprintf(first_detail, sizeof(first_detail), "%s", laps_errdetail());
		}
	}
	if (laps_ldap_conf(cfg)->n_uri > 1)
		return laps_seterr(first_err, "%s (all %zu servers failed)", first_detail,
				   laps_ldap_conf(cfg)->n_uri);
	return laps_seterr(first_err, "%s", first_detail);
}
