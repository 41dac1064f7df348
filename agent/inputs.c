/*
 * inputs.c — as root, trust only root-owned inputs (see inputs.h).
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/inputs.h"
#include "escrow/err.h"
#include "backends/ldap_conf.h"
#include "backends/rest_conf.h"
#include "escrow/escrow_conf.h"

/* Owner and mode of one name (lstat: the link itself, or stat: its target). */
static int
check_stat(const char *path, const struct stat *st, bool want_dir)
{
	if (want_dir && !S_ISDIR(st->st_mode) && !S_ISLNK(st->st_mode))
		return laps_seterr(LAPS_ERR_PERM, "%s: not a directory", path);
	if (!want_dir && !S_ISREG(st->st_mode) && !S_ISLNK(st->st_mode))
		return laps_seterr(LAPS_ERR_PERM, "%s: not a regular file", path);
	if (st->st_uid != 0)
		return laps_seterr(LAPS_ERR_PERM, "%s: not owned by root (uid %u)%s", path,
				   (unsigned)st->st_uid,
				   S_ISLNK(st->st_mode) ? " (the symbolic link itself)" : "");
	if (!S_ISLNK(st->st_mode) && (st->st_mode & 022) != 0)
		return laps_seterr(LAPS_ERR_PERM, "%s: group- or world-writable (mode %04o)", path,
				   (unsigned)(st->st_mode & 07777));
	return 0;
}

/* One input: 0, LAPS_ERR_NOTFOUND (not there: nothing to check) or the
 * refusal. */
static int
check_one(const char *path, bool want_dir)
{
	struct stat st;
	int rc;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? LAPS_ERR_NOTFOUND
				       : laps_seterr(LAPS_ERR_IO, "%s: %s", path, strerror(errno));
	if ((rc = check_stat(path, &st, want_dir)) != 0 || !S_ISLNK(st.st_mode))
		return rc;
	/* a root-owned link: what it points to must pass too */
	if (stat(path, &st) != 0)
		return errno == ENOENT ? LAPS_ERR_NOTFOUND
				       : laps_seterr(LAPS_ERR_IO, "%s: %s", path, strerror(errno));
	if (S_ISLNK(st.st_mode))
		return laps_seterr(LAPS_ERR_INTERNAL, "%s: stat returned a link", path);
	return check_stat(path, &st, want_dir);
}

struct input {
	const char *what;
	const char *path;
};

int
laps_agent_check_inputs(const struct laps_conf *cfg, const char *state_dir, laps_input_cb cb,
			void *arg)
{
	const struct input files[] = {
	    {"[ldap] ca_file", laps_ldap_conf(cfg)->ca_file},
	    {"[ldap] bind_secret_file", laps_ldap_conf(cfg)->bind_secret_file},
	    {"[ldap] cert_file", laps_ldap_conf(cfg)->cert_file},
	    {"[ldap] key_file", laps_ldap_conf(cfg)->key_file},
	    {"[rest] ca_file", laps_rest_conf(cfg)->ca_file},
	    {"[rest] client_secret_file", laps_rest_conf(cfg)->client_secret_file},
	    {"[rest] key_file", laps_rest_conf(cfg)->key_file},
	    {"[rest] cert_file", laps_rest_conf(cfg)->cert_file},
	    {"[rest] bearer_file", laps_rest_conf(cfg)->bearer_file},
	};
	size_t i;
	int rc, first = 0;

	if (geteuid() != 0)
		return 0;
	for (i = 0; i < laps_escrow_conf(cfg)->n_recipients + sizeof files / sizeof files[0]; i++) {
		const char *what = i < laps_escrow_conf(cfg)->n_recipients
				       ? "[escrow] recipients"
				       : files[i - laps_escrow_conf(cfg)->n_recipients].what;
		const char *path = i < laps_escrow_conf(cfg)->n_recipients
				       ? laps_escrow_conf(cfg)->recipients[i]
				       : files[i - laps_escrow_conf(cfg)->n_recipients].path;

		if (path == NULL || path[0] == '\0')
			continue;
		rc = check_one(path, false);
		if (rc == 0 || rc == LAPS_ERR_NOTFOUND)
			continue;
		if (cb != NULL)
			cb(arg, what, rc);
		if (first == 0)
			first = rc;
	}
	rc = check_one(state_dir, true);
	if (rc != 0 && rc != LAPS_ERR_NOTFOUND) {
		if (cb != NULL)
			cb(arg, "[agent] state_dir", rc);
		if (first == 0)
			first = rc;
	}
	return first;
}
