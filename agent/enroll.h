/*
 * enroll.h — laps-agent enroll, and the certificate renewal of `run`
 * (EST, RFC 7030; the client itself is in the rest module: backends/rest_est.h).
 */
#ifndef LAPS_AGENT_ENROLL_H
#define LAPS_AGENT_ENROLL_H

#include "agent/cert_state.h"
#include "agent/rotate.h"
#include "escrow/conf.h"

/* The bootstrap credential: an enrollment token (from a file or a
 * descriptor), or a bootstrap certificate and its key (exactly one). */
struct laps_enroll_opts {
	const char *server;	/* NULL: [rest] url */
	const char *ca_file;	/* NULL: [rest] ca_file */
	const char *token_file; /* or */
	int token_fd;		/* -1 when unset, or */
	const char *boot_cert;	/* --bootstrap-cert, with */
	const char *boot_key;	/* --bootstrap-key (a secret file) */
};

/* laps-agent enroll: 0, or a LAPS_ERR_* (logged). */
int laps_agent_enroll(const struct laps_agent *a, const struct laps_conf *cfg,
		      const struct laps_enroll_opts *o) __attribute__((warn_unused_result));

/*
 * Inside `run`, before the rotation: finish an interrupted replacement and
 * renew the mTLS certificate when 2/3 of its lifetime has passed.  Does
 * nothing unless backend = rest, auth = mtls with a key_file.  1 when it
 * renewed, 0 when nothing was due, a LAPS_ERR_* when the renewal failed
 * (logged; the caller goes on with the old pair).
 */
int laps_agent_renew_cert(const struct laps_agent *a, const struct laps_conf *cfg);

/* status: the certificate's validity and <state_dir>/cert (*out; never fails:
 * what could not be read is said in out->error). */
void laps_agent_cert_status(const struct laps_agent *a, const struct laps_conf *cfg,
			    struct laps_cert_status *out);

/* check-config: -1 (after saying to enroll) when auth = mtls has no
 * certificate file yet; 0 otherwise. */
int laps_agent_enroll_hint(const struct laps_conf *cfg);

#endif
