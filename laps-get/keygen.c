/*
 * keygen.c — laps-get keygen: create an administrator key pair.
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/keys.h"
#include "escrow/secret.h"
#include "laps-get/lapsget.h"

#define LG_PATH_MAX 4096

/* "user@host" for the default comment. */
static void
default_comment(char *buf, size_t len)
{
	struct passwd *pw = getpwuid(geteuid());
	char host[256];

	if (gethostname(host, sizeof host) != 0)
		host[0] = '\0';
	host[sizeof host - 1] = '\0';
	if (laps_snprintf(buf, len, "%s@%s", pw && pw->pw_name ? pw->pw_name : "admin",
			  host[0] ? host : "localhost") != 0)
		buf[0] = '\0';
}

/* The key's folder and the missing ones above it, each 0700 (the first key
 * of a new account goes to ~/.config/laps, which does not exist yet). */
static int
make_parent_dirs(const char *path)
{
	char dir[LG_PATH_MAX];
	struct stat st;
	size_t i;

	if (laps_snprintf(dir, sizeof dir, "%s", path) != 0)
		return laps_seterr(LAPS_ERR_INVALID, "key file name too long");
	if (strrchr(dir, '/') == NULL)
		return 0;
	*strrchr(dir, '/') = '\0';
	if (dir[0] == '\0' || stat(dir, &st) == 0)
		return 0;
	for (i = 1;; i++) {
		char c = dir[i];

		if (c != '/' && c != '\0')
			continue;
		dir[i] = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return laps_seterr(LAPS_ERR_IO, "cannot create the folder %s: %s", dir,
					   strerror(errno));
		dir[i] = c;
		if (c == '\0')
			return 0;
	}
}

static int
get_passphrase(const struct lg_keygen_opts *o, const char *progname, char **out)
{
	char *a = NULL, *b = NULL;
	int rc;

	*out = NULL;
	(void)progname;
	if (o->no_passphrase)
		return 0; /* warned about once the key is written */
	if (o->passphrase_fd >= 0)
		return lg_read_passphrase(o->passphrase_fd, NULL, out);
	if ((rc = lg_read_passphrase(-1, "New passphrase: ", &a)) != 0)
		goto out;
	if ((rc = lg_read_passphrase(-1, "Same passphrase again: ", &b)) != 0)
		goto out;
	if (!laps_secret_equal(a, b)) {
		rc = laps_seterr(LAPS_ERR_PASSPHRASE, "the passphrases do not match");
		goto out;
	}
	*out = a; /* success */
	a = NULL;
out:
	laps_secret_free(a);
	laps_secret_free(b);
	return rc;
}

int
lg_keygen(const struct lg_keygen_opts *o, const char *progname)
{
	struct laps_privkey k;
	struct laps_pubkey pub;
	char comment[128], pubpath[LG_PATH_MAX], line[LAPS_PUBKEY_LINE_MAX + 2];
	char *pass = NULL;
	struct stat st;
	bool have_key = false, saved = false;
	size_t n;
	int rc;

	memset(&k, 0, sizeof k);
	if (o->out_path == NULL || o->out_path[0] == '\0')
		return laps_seterr(LAPS_ERR_INVALID, "keygen needs -o FILE");
	if ((rc = laps_snprintf(pubpath, sizeof pubpath, "%s.pub", o->out_path)) != 0)
		return laps_seterr(LAPS_ERR_INVALID, "key file name too long");
	/* Refuse before asking anything when either file exists. */
	if (lstat(o->out_path, &st) == 0)
		return laps_seterr(LAPS_ERR_IO, "%s exists; not overwriting it", o->out_path);
	if (lstat(pubpath, &st) == 0)
		return laps_seterr(LAPS_ERR_IO, "%s exists; not overwriting it", pubpath);
	if (o->comment != NULL) {
		if (strlen(o->comment) >= sizeof comment || strpbrk(o->comment, "\r\n") != NULL)
			return laps_seterr(LAPS_ERR_INVALID,
					   "the comment must be one line of at most %zu bytes",
					   sizeof comment - 1);
		(void)snprintf(comment, sizeof comment, "%s", o->comment);
	} else {
		default_comment(comment, sizeof comment);
	}
	if ((rc = make_parent_dirs(o->out_path)) != 0)
		goto out;
	if ((rc = get_passphrase(o, progname, &pass)) != 0)
		goto out;
	if ((rc = laps_key_generate(&k, comment)) != 0)
		goto out;
	have_key = true;
	laps_pubkey_from_privkey(&pub, &k);
	if ((rc = laps_pubkey_format(&pub, line, sizeof line - 1)) != 0)
		goto out;
	n = strlen(line);
	line[n++] = '\n';
	line[n] = '\0';
	if ((rc = laps_privkey_save(&k, o->out_path, pass)) != 0)
		goto out;
	saved = true;
	if ((rc = laps_file_write_atomic(pubpath, line, n, 0644)) != 0)
		goto out;
	/* laps_file_write_atomic applies the mode; a umask does not narrow it
	 * further on every implementation, so make sure. */
	if (chmod(pubpath, 0644) != 0) {
		rc = laps_seterr(LAPS_ERR_IO, "chmod %s: %s", pubpath, strerror(errno));
		goto out;
	}
	if (o->no_passphrase)
		fprintf(stderr,
			"%s: warning: the private key %s is NOT protected by a "
			"passphrase; anyone who can read it can read every password sealed to it\n",
			progname, o->out_path);
	if (fwrite(line, 1, n, stdout) != n || fflush(stdout) != 0) {
		rc = laps_seterr(LAPS_ERR_IO, "cannot write to standard output");
		goto out;
	}
	fprintf(stderr, "%s: wrote the private key %s (key id %s) and the public key %s\n",
		progname, o->out_path, pub.id, pubpath);
	rc = 0;
out:
	if (rc != 0 && saved) {
		/* Do not leave a private key without its public half. */
		(void)unlink(o->out_path);
	}
	if (have_key)
		laps_privkey_clear(&k);
	laps_secret_free(pass);
	return rc;
}
