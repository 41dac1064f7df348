/*
 * enroll.c — laps-agent enroll and the renewal in `run`: the token (read
 * from a file or a descriptor, never argv or the environment, wiped after
 * use) or the bootstrap certificate's key (a secret file), the [rest]
 * paths, and the EST client the rest module exports (backends/rest_est.h;
 * laps-agent itself never links libcurl).
 */
#include "config.h"

#include <ctype.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/cert_state.h"
#include "agent/enroll.h"
#include "agent/fault.h"
#include "agent/lock.h"
#include "backends/registry.h"
#include "backends/rest_conf.h"
#include "backends/rest_est.h"
#include "escrow/err.h"
#include "escrow/escrow_conf.h"
#include "escrow/fileio.h"
#include "escrow/events.h"
#include "escrow/log.h"
#include "escrow/secret.h"

#define BOOT_KEY_MAX 65536 /* a bootstrap certificate's key file, PEM */
#define TOKEN_MAX 8192 /* an enrollment token, or an OIDC access token (JWTs of 1-3 KiB are common) */

/* The client's named steps go through the agent's fault injection. */
static int
est_fault(const char *step)
{
	return laps_fault(step);
}

/* The rest module's EST client (loading the module when needed). */
static int
est_client(const struct laps_est_client **out)
{
	const struct laps_backend_ops *ops;
	const struct laps_est_client *c;
	char path[PATH_MAX];
	void *h;
	int rc;

	if ((rc = laps_backend_load("rest", &ops)) != 0)
		return rc;
	/* laps_backend_load checked and opened it; this only finds the handle */
	if ((rc = laps_snprintf(path, sizeof path, "%s/rest.so", laps_backend_module_dir())) != 0)
		return rc;
	if ((h = dlopen(path, RTLD_LAZY | RTLD_LOCAL | RTLD_NOLOAD)) == NULL)
		return laps_seterr(LAPS_ERR_CONFIG, "the rest module has no EST client (%s)", path);
	c = dlsym(h, LAPS_EST_CLIENT_SYMBOL);
	dlclose(h); /* drops only the reference taken here */
	if (c == NULL || c->abi == NULL || strcmp(c->abi, LAPS_EST_ABI) != 0)
		return laps_seterr(LAPS_ERR_VERSION, "%s: no EST client of this release", path);
	*out = c;
	return 0;
}

/* Read the token; trailing white space dropped; printable ASCII only. */
static int
read_token(const struct laps_enroll_opts *o, char *tok, size_t cap)
{
	size_t n = 0, i;
	ssize_t k;
	char *buf = NULL;
	int rc;

	if (o->token_file != NULL) {
		if ((rc = laps_file_read(o->token_file, TOKEN_MAX, LAPS_FILE_SECRET, &buf, &n)) !=
		    0)
			return rc;
		if (n >= cap) {
			laps_file_free(buf, n, LAPS_FILE_SECRET);
			return laps_seterr(LAPS_ERR_TOOBIG, "%s: token too long", o->token_file);
		}
		memcpy(tok, buf, n);
		laps_file_free(buf, n, LAPS_FILE_SECRET);
	} else {
		while (n < cap - 1 && (k = read(o->token_fd, tok + n, cap - 1 - n)) != 0) {
			if (k < 0)
				return laps_seterr(LAPS_ERR_IO, "--token-fd %d: cannot read",
						   o->token_fd);
			n += (size_t)k;
		}
		if (n == cap - 1)
			return laps_seterr(LAPS_ERR_TOOBIG, "--token-fd: token too long");
	}
	while (n > 0 && isspace((unsigned char)tok[n - 1]))
		n--;
	tok[n] = '\0';
	for (i = 0; i < n; i++)
		if (tok[i] <= ' ' || tok[i] > '~')
			return laps_seterr(LAPS_ERR_FORMAT, "the token holds a character that is "
							    "not printable ASCII");
	if (n == 0)
		return laps_seterr(LAPS_ERR_FORMAT, "the token is empty");
	return 0;
}

/* The [rest] part of a request; an error when the pair has no file paths. */
static int
req_from_conf(const struct laps_conf *cfg, struct laps_est_req *r)
{
	const struct laps_rest_conf *rc = laps_rest_conf(cfg);

	memset(r, 0, sizeof *r);
	if (rc->cert_file == NULL || rc->key_file == NULL)
		return laps_seterr(LAPS_ERR_CONFIG, "[rest] cert_file and key_file are where the "
						    "certificate and its key go: set both");
	r->base = rc->url;
	r->ca_file = rc->ca_file;
	r->cert_file = rc->cert_file;
	r->key_file = rc->key_file;
	r->timeout = (long)rc->timeout;
	r->key_store = (int)rc->key_store;
	r->fault = laps_fault_enabled() ? est_fault : NULL;
	return 0;
}

/* c's operation under the run lock (one replacement of the pair at a
 * time: a second agent's recovery must not undo this one's), its outcome
 * kept in <state_dir>/cert. */
static int
locked(const struct laps_agent *a, const struct laps_est_client *c, const struct laps_est_req *r,
       enum laps_est_renewal *what)
{
	char err[512], detail[512] = "";
	int fd = -1, rc;

	if ((rc = laps_lock_acquire(a->state_dir, a->lock_wait, &fd)) != 0)
		return rc;
	if (what != NULL)
		rc = c->renew(r, (int64_t)time(NULL), what);
	else
		rc = c->enroll(r);
	if (rc != 0)
		snprintf(detail, sizeof detail, "%s", laps_errdetail());
	if (rc != 0 || what == NULL || *what == LAPS_EST_RENEWED)
		laps_cert_state_note(a->state_dir, (int64_t)time(NULL), rc,
				     rc != 0 ? laps_errstr(rc, err, sizeof err) : NULL);
	laps_lock_release(fd);
	if (rc != 0)
		(void)laps_seterr(rc, "%s", detail);
	return rc;
}

/* simpleenroll with the bootstrap certificate: its key read as a secret
 * file (refused unless private to its owner), handed to the client in
 * locked memory, wiped after.  The bootstrap files are left as they are. */
static int
with_boot_cert(const struct laps_agent *a, const struct laps_est_client *c, struct laps_est_req *r,
	       const struct laps_enroll_opts *o)
{
	/* as the [rest] secret files: root's own when run as root */
	unsigned fl =
	    LAPS_FILE_SECRET | (geteuid() == 0 ? LAPS_FILE_OWNER_ROOT : LAPS_FILE_OWNER_SELF);
	char *key = NULL;
	size_t n = 0;
	int rc;

	if ((rc = laps_file_read(o->boot_key, BOOT_KEY_MAX, fl, &key, &n)) != 0)
		return laps_seterr_prefix(rc, "--bootstrap-key");
	r->boot_cert = o->boot_cert;
	r->boot_key = (const unsigned char *)key;
	r->boot_key_len = n;
	rc = locked(a, c, r, NULL);
	r->boot_key = NULL;
	laps_file_free(key, n, fl);
	return rc;
}

int
laps_agent_enroll(const struct laps_agent *a, const struct laps_conf *cfg,
		  const struct laps_enroll_opts *o)
{
	const struct laps_est_client *c;
	struct laps_est_req r;
	char tok[TOKEN_MAX + 1];
	char err[512];
	int rc;

	if ((rc = req_from_conf(cfg, &r)) != 0 || (rc = est_client(&c)) != 0)
		goto out;
	if (o->server != NULL)
		r.base = o->server;
	if (o->ca_file != NULL)
		r.ca_file = o->ca_file;
	if (r.base == NULL || strncmp(r.base, "https://", 8) != 0) {
		rc = laps_seterr(LAPS_ERR_CONFIG,
				 "--server (or [rest] url) must be an https:// URL");
		goto out;
	}
	r.device = a->device;
	if (o->boot_cert != NULL) {
		rc = with_boot_cert(a, c, &r, o);
		goto out;
	}
	if ((rc = read_token(o, tok, sizeof tok)) == 0) {
		r.token = tok;
		rc = locked(a, c, &r, NULL);
	}
	laps_wipe(tok, sizeof tok);
out:
	if (rc != 0)
		log_event(LAPS_EV_CERT_ENROLL_FAILED, "enroll: %s",
			  laps_errstr(rc, err, sizeof err));
	else
		log_event(LAPS_EV_CERT_ENROLLED, "enrolled %s: certificate %s, key %s", a->device,
			  r.cert_file, r.key_file);
	return rc;
}

int
laps_agent_renew_cert(const struct laps_agent *a, const struct laps_conf *cfg)
{
	const struct laps_rest_conf *rcf = laps_rest_conf(cfg);
	const char *backend = laps_escrow_conf(cfg)->backend;
	const struct laps_est_client *c;
	enum laps_est_renewal what = LAPS_EST_NOT_DUE;
	struct laps_est_req r;
	char err[512];
	int rc;

	if (backend == NULL || strcmp(backend, "rest") != 0 || rcf->auth != LAPS_REST_AUTH_MTLS ||
	    rcf->key_file == NULL || rcf->cert_file == NULL)
		return 0;
	if ((rc = req_from_conf(cfg, &r)) != 0 || (rc = est_client(&c)) != 0)
		goto fail;
	r.device = a->device;
	if ((rc = locked(a, c, &r, &what)) != 0)
		goto fail;
	if (what == LAPS_EST_RENEWED)
		log_event(LAPS_EV_CERT_RENEWED, "renewed the client certificate %s (new key %s)",
			  r.cert_file, r.key_file);
	return what == LAPS_EST_RENEWED ? 1 : 0;
fail:
	if (what == LAPS_EST_EXPIRED) {
		log_event(LAPS_EV_CERT_EXPIRED, "%s", laps_errstr(rc, err, sizeof err));
		return rc;
	}
	log_event(LAPS_EV_CERT_RENEWAL_FAILED,
		  "certificate renewal failed, keeping the current certificate: %s",
		  laps_errstr(rc, err, sizeof err));
	return rc;
}

void
laps_agent_cert_status(const struct laps_agent *a, const struct laps_conf *cfg,
		       struct laps_cert_status *out)
{
	const struct laps_rest_conf *rcf = laps_rest_conf(cfg);
	const char *backend = laps_escrow_conf(cfg)->backend;
	const struct laps_est_client *c;
	int rc;

	memset(out, 0, sizeof *out);
	if (backend == NULL || strcmp(backend, "rest") != 0 || rcf->auth != LAPS_REST_AUTH_MTLS ||
	    rcf->key_file == NULL || rcf->cert_file == NULL)
		return;
	out->managed = true;
	snprintf(out->cert_file, sizeof out->cert_file, "%s", rcf->cert_file);
	rc = laps_cert_state_load(a->state_dir, &out->state);
	out->have_state = rc == 0;
	if ((rc = est_client(&c)) == 0 &&
	    (rc = c->cert_times(rcf->cert_file, &out->not_before, &out->not_after)) == 0) {
		out->have_times = true;
		out->renew_from = out->not_before + (out->not_after - out->not_before) / 3 * 2;
	}
	if (rc != 0)
		laps_errstr(rc, out->error, sizeof out->error);
}

int
laps_agent_enroll_hint(const struct laps_conf *cfg)
{
	const struct laps_rest_conf *r = laps_rest_conf(cfg);
	const char *backend = laps_escrow_conf(cfg)->backend;

	if (backend == NULL || strcmp(backend, "rest") != 0 || r->auth != LAPS_REST_AUTH_MTLS ||
	    r->cert_file == NULL || r->key_file == NULL || access(r->cert_file, F_OK) == 0)
		return 0;
	fprintf(stderr,
		"laps-agent: [rest] cert_file %s does not exist: enroll this device first "
		"(laps-agent enroll --token-file FILE, or --bootstrap-cert FILE --bootstrap-key "
		"FILE)\n",
		r->cert_file);
	return -1;
}
