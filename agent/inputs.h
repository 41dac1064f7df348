/*
 * inputs.h — the files and directories the agent trusts, checked before it
 * uses them when running as root (issue 16.4).
 *
 * Whoever can write the recipients' key file reads every future password;
 * whoever can write the CA file, the bind secret or the client key/cert can
 * impersonate the directory or the device; whoever owns the state directory
 * can plant journals and markers.  As root, each of them must therefore be
 * owned by root and not group- or world-writable (a symbolic link too, and
 * what it points to).  Files the agent reads itself are checked again when
 * opened (journal, state, markers, lock files: escrow/fileio.h); this check
 * covers the ones libraries open (ldap's CA and client certificate) and lets
 * check-config list every problem at once.
 */
#ifndef LAPS_AGENT_INPUTS_H
#define LAPS_AGENT_INPUTS_H

#include <stdbool.h>

#include "escrow/conf.h"

/* Called once per refused input: what it is (e.g. "[ldap] ca_file"), and
 * the error (LAPS_ERR_PERM, LAPS_ERR_IO; laps_errdetail() names the path
 * and what is wrong). */
typedef void (*laps_input_cb)(void *arg, const char *what, int rc);

/*
 * Check every configured input file and the state directory (when it
 * exists) against the rules above; a no-op unless euid is 0.  Missing files
 * are not this check's business (their readers say so).  Returns 0 or the
 * first failure, after calling cb (may be NULL) for each one.
 */
int laps_agent_check_inputs(const struct laps_conf *cfg, const char *state_dir, laps_input_cb cb,
			    void *arg) __attribute__((warn_unused_result));

#endif
