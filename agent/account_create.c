/*
 * account_create.c — create the managed account when it is missing, and
 * keep its lock as [agent] account_state says (account_create.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/account_create.h"
#include "agent/etcfile.h"
#include "agent/lockstate.h"
#include "escrow/err.h"
#include "escrow/events.h"
#include "escrow/fileio.h"
#include "escrow/log.h"
#include "escrow/secret.h"
#include "agent/agent_conf.h"

#define LOGIN_DEFS_MAX (256 * 1024)
#define NO_HOME "/nonexistent"
#define DEFAULT_SHELL "/bin/sh"
#define GECOS "laps managed account"

enum { F_GROUP = 0, F_GSHADOW, F_SHADOW, F_PASSWD, F_COUNT };
/* the write order: the account appears (passwd) only when the rest exists */
static const char *const etc_rel[F_COUNT] = {"/etc/group", "/etc/gshadow", "/etc/shadow",
					     "/etc/passwd"};

/* The four files, read under the locks. */
struct etc_files {
	char path[F_COUNT][4200];
	char *buf[F_COUNT];
	size_t len[F_COUNT];
	bool present[F_COUNT];	   /* gshadow may be missing */
	bool file_locked[F_COUNT]; /* "<path>.lock" is ours */
	int pwd_lock;
};

/* ---- login.defs ------------------------------------------------------ */

static int
defs_value(const char *key, const char *val, struct laps_login_defs *d)
{
	static const struct {
		const char *key;
		size_t off;
		bool is_long;
	} tab[] = {
	    {"SYS_UID_MIN", offsetof(struct laps_login_defs, sys_uid_min), false},
	    {"SYS_UID_MAX", offsetof(struct laps_login_defs, sys_uid_max), false},
	    {"SYS_GID_MIN", offsetof(struct laps_login_defs, sys_gid_min), false},
	    {"SYS_GID_MAX", offsetof(struct laps_login_defs, sys_gid_max), false},
	    {"PASS_MIN_DAYS", offsetof(struct laps_login_defs, pass_min_days), true},
	    {"PASS_MAX_DAYS", offsetof(struct laps_login_defs, pass_max_days), true},
	    {"PASS_WARN_AGE", offsetof(struct laps_login_defs, pass_warn_age), true},
	};
	long long v;
	size_t i;

	for (i = 0; i < sizeof tab / sizeof tab[0]; i++) {
		if (strcmp(key, tab[i].key) != 0)
			continue;
		if (laps_parse_int64(val, tab[i].is_long ? -1 : 0, 4294967294LL, &v) != 0)
			return LAPS_ERR_FORMAT;
		if (tab[i].is_long)
			*(long *)(void *)((char *)d + tab[i].off) = (long)v;
		else
			*(unsigned long *)(void *)((char *)d + tab[i].off) = (unsigned long)v;
		return 0;
	}
	return 0; /* other keys are not ours */
}

int
laps_login_defs_parse(const char *buf, size_t len, struct laps_login_defs *out)
{
	const char *p = buf, *end = buf + len, *eol;
	char line[512], *key, *val;
	unsigned lineno = 0;
	size_t n;

	out->sys_uid_min = out->sys_gid_min = 101;
	out->sys_uid_max = out->sys_gid_max = 999;
	out->pass_min_days = 0;
	out->pass_max_days = 99999;
	out->pass_warn_age = 7;
	for (; p < end; p = eol + 1) {
		lineno++;
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		n = (size_t)(eol - p);
		if (n >= sizeof line)
			continue; /* no key of ours is that long */
		memcpy(line, p, n);
		line[n] = '\0';
		/* "KEY VALUE": blanks around and between */
		key = line + strspn(line, " \t\r");
		if (*key == '\0' || *key == '#')
			continue;
		val = key + strcspn(key, " \t\r");
		if (*val == '\0')
			continue;
		*val++ = '\0';
		val += strspn(val, " \t\r");
		val[strcspn(val, " \t\r")] = '\0';
		if (*val == '\0')
			continue;
		if (defs_value(key, val, out) != 0)
			return laps_seterr(LAPS_ERR_FORMAT, "login.defs:%u: %s: bad value '%.32s'",
					   lineno, key, val);
	}
	if (out->sys_uid_min > out->sys_uid_max || out->sys_gid_min > out->sys_gid_max)
		return laps_seterr(LAPS_ERR_FORMAT, "login.defs: SYS_UID/SYS_GID range is empty");
	return 0;
}

static int
load_login_defs(const char *root, struct laps_login_defs *d)
{
	char path[4200];
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if ((rc = laps_root_path(root, "/etc/login.defs", path, sizeof path)) != 0)
		return rc;
	rc = laps_file_read(path, LOGIN_DEFS_MAX, LAPS_FILE_MISSING_OK, &buf, &len);
	if (rc == LAPS_ERR_NOTFOUND) {
		laps_clearerr();
		return laps_login_defs_parse("", 0, d);
	}
	if (rc != 0)
		return rc;
	rc = laps_login_defs_parse(buf, len, d);
	free(buf);
	return rc;
}

/* ---- per-file locks (shadow-utils' "<file>.lock") --------------------- */

/* A lock file left by a process that no longer exists. */
static bool
lock_is_stale(const char *lock)
{
	char buf[32];
	long long pid;
	ssize_t r;
	int fd;

	if ((fd = open(lock, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) < 0)
		return false;
	r = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (r <= 0)
		return false;
	buf[r] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (laps_parse_int64(buf, 2, 4194304, &pid) != 0)
		return false;
	return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

static int
file_lock(const char *path)
{
	char tmp[4300], lock[4300], pid[24];
	int fd, rc, tries;

	if ((rc = laps_snprintf(tmp, sizeof tmp, "%s.%ld", path, (long)getpid())) != 0 ||
	    (rc = laps_snprintf(lock, sizeof lock, "%s.lock", path)) != 0)
		return rc;
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return laps_seterr(LAPS_ERR_IO, "%s: %s", tmp, strerror(errno));
	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	rc = write(fd, pid, strlen(pid)) == (ssize_t)strlen(pid) ? 0 : LAPS_ERR_IO;
	close(fd);
	for (tries = 0; rc == 0 && tries < 2; tries++) {
		if (link(tmp, lock) == 0)
			break;
		if (errno != EEXIST || tries > 0 || !lock_is_stale(lock))
			rc = laps_seterr(
			    errno == EEXIST ? LAPS_ERR_LOCKED : LAPS_ERR_IO, "%s: %s", lock,
			    errno == EEXIST ? "held by another process" : strerror(errno));
		else
			(void)unlink(lock);
	}
	if (rc == LAPS_ERR_IO && laps_errdetail()[0] == '\0')
		rc = laps_seterr(LAPS_ERR_IO, "%s: cannot write", tmp);
	(void)unlink(tmp);
	return rc;
}

static void
file_unlock(const char *path)
{
	char lock[4300];

	if (laps_snprintf(lock, sizeof lock, "%s.lock", path) == 0)
		(void)unlink(lock);
}

/* ---- reading and releasing the set ----------------------------------- */

static void
etc_release(struct etc_files *f)
{
	int i;

	for (i = 0; i < F_COUNT; i++) {
		if (f->file_locked[i])
			file_unlock(f->path[i]);
		if (f->buf[i] != NULL)
			laps_freezero(f->buf[i], f->len[i]);
		f->buf[i] = NULL;
	}
	laps_etc_unlock(f->pwd_lock);
	f->pwd_lock = -1;
}

/* Lock everything and read the files (gshadow may be missing). */
static int
etc_acquire(const char *root, struct etc_files *f)
{
	int i, rc;

	memset(f, 0, sizeof *f);
	f->pwd_lock = -1;
	if ((rc = laps_etc_lock(root, &f->pwd_lock)) != 0)
		return rc;
	for (i = 0; i < F_COUNT; i++) {
		if ((rc = laps_root_path(root, etc_rel[i], f->path[i], sizeof f->path[i])) != 0)
			return rc;
		rc = laps_file_read(f->path[i], LAPS_SHADOW_MAX, LAPS_FILE_MISSING_OK, &f->buf[i],
				    &f->len[i]);
		if (rc == LAPS_ERR_NOTFOUND && i == F_GSHADOW) {
			laps_clearerr();
			continue;
		}
		if (rc == LAPS_ERR_NOTFOUND)
			return laps_seterr(LAPS_ERR_ACCOUNT, "%s does not exist", f->path[i]);
		if (rc != 0)
			return rc;
		f->present[i] = true;
		if ((rc = file_lock(f->path[i])) != 0)
			return rc;
		f->file_locked[i] = true;
	}
	return 0;
}

/* ---- ids ------------------------------------------------------------- */

/* Whether a line of buf has id in field idx (passwd: 2, group: 2). */
static bool
id_used(const char *buf, size_t len, unsigned idx, unsigned long id)
{
	const char *p = buf, *end = buf + len, *eol, *fs, *fe;
	char tmp[16];
	long long v;
	size_t n;

	for (; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if (laps_etc_field_span(p, eol, idx, &fs, &fe) != 0 ||
		    (n = (size_t)(fe - fs)) == 0 || n >= sizeof tmp)
			continue;
		memcpy(tmp, fs, n);
		tmp[n] = '\0';
		if (laps_parse_int64(tmp, 0, 4294967295LL, &v) == 0 && (unsigned long)v == id)
			return true;
	}
	return false;
}

/* The highest id in [lo, hi] free in buf (as useradd -r picks). */
static int
free_id(const char *buf, size_t len, unsigned long lo, unsigned long hi, const char *what,
	unsigned long *out)
{
	unsigned long id;

	for (id = hi + 1; id-- > lo;) {
		if (!id_used(buf, len, 2, id)) {
			*out = id;
			return 0;
		}
	}
	return laps_seterr(LAPS_ERR_ACCOUNT, "no free %s in %lu..%lu (login.defs)", what, lo, hi);
}

static int
pick_ids(const struct laps_conf *cfg, const struct etc_files *f, const struct laps_login_defs *d,
	 unsigned long *uid, unsigned long *gid)
{
	int rc;

	if (laps_agent_conf(cfg)->account_uid != LAPS_UID_UNSET) {
		*uid = laps_agent_conf(cfg)->account_uid;
		if (id_used(f->buf[F_PASSWD], f->len[F_PASSWD], 2, *uid))
			return laps_seterr(LAPS_ERR_ACCOUNT,
					   "[agent] account_uid %lu is used by another account",
					   *uid);
	} else if ((rc = free_id(f->buf[F_PASSWD], f->len[F_PASSWD], d->sys_uid_min, d->sys_uid_max,
				 "system uid", uid)) != 0) {
		return rc;
	}
	if (!id_used(f->buf[F_GROUP], f->len[F_GROUP], 2, *uid)) {
		*gid = *uid;
		return 0;
	}
	return free_id(f->buf[F_GROUP], f->len[F_GROUP], d->sys_gid_min, d->sys_gid_max,
		       "system gid", gid);
}

/* ---- editing --------------------------------------------------------- */

/* buf with ins inserted at offset at (malloc'd into *out). */
static int
buf_insert(const char *buf, size_t len, size_t at, const char *ins, char **out, size_t *outlen)
{
	size_t il = strlen(ins);
	char *res;

	if ((res = malloc(len + il + 1)) == NULL)
		return LAPS_ERR_NOMEM;
	memcpy(res, buf, at);
	memcpy(res + at, ins, il);
	memcpy(res + at + il, buf + at, len - at);
	res[len + il] = '\0';
	*out = res;
	*outlen = len + il;
	return 0;
}

/* Replace file i's buffer by the result of splicing ins at at. */
static int
edit(struct etc_files *f, int i, size_t at, const char *ins)
{
	char *nbuf;
	size_t nlen;
	int rc;

	if ((rc = buf_insert(f->buf[i], f->len[i], at, ins, &nbuf, &nlen)) != 0)
		return rc;
	laps_freezero(f->buf[i], f->len[i]);
	f->buf[i] = nbuf;
	f->len[i] = nlen;
	return 0;
}

/* Append a line (a missing final newline of the file is added first). */
static int
append_line(struct etc_files *f, int i, const char *line)
{
	char tmp[1200];
	int rc;

	if ((rc = laps_snprintf(tmp, sizeof tmp, "%s%s\n",
				f->len[i] > 0 && f->buf[i][f->len[i] - 1] != '\n' ? "\n" : "",
				line)) != 0)
		return rc;
	return edit(f, i, f->len[i], tmp);
}

/* Add account to the member list (field 3) of group's line in file i. */
static int
add_member(struct etc_files *f, int i, const char *group, const char *account)
{
	const char *ls, *le, *fs, *fe, *p;
	char ins[LAPS_ACCOUNT_MAX + 2];
	size_t alen = strlen(account);
	int rc;

	if ((rc = laps_etc_find_line(f->buf[i], f->len[i], group, etc_rel[i] + 5, &ls, &le)) != 0)
		return rc;
	if (laps_etc_field_span(ls, le, 3, &fs, &fe) != 0)
		return laps_seterr(LAPS_ERR_FORMAT, "%s: malformed entry for group '%s'",
				   f->path[i], group);
	for (p = fs; p < fe; p += strcspn(p, ",:\n") + 1) {
		if ((size_t)(fe - p) >= alen && memcmp(p, account, alen) == 0 &&
		    (p + alen == fe || p[alen] == ','))
			return 0; /* already a member */
		if (p + strcspn(p, ",:\n") >= fe)
			break;
	}
	if ((rc = laps_snprintf(ins, sizeof ins, "%s%s", fe > fs ? "," : "", account)) != 0)
		return rc;
	return edit(f, i, (size_t)(fe - f->buf[i]), ins);
}

/* Refuse leftovers: an entry of the name in shadow, group or gshadow. */
static int
check_leftovers(const struct etc_files *f, const char *account)
{
	static const int files[] = {F_SHADOW, F_GROUP, F_GSHADOW};
	const char *ls, *le;
	size_t k;
	int rc;

	for (k = 0; k < sizeof files / sizeof files[0]; k++) {
		if (!f->present[files[k]])
			continue;
		rc = laps_etc_find_line(f->buf[files[k]], f->len[files[k]], account, "etc", &ls,
					&le);
		if (rc == 0 || rc == LAPS_ERR_FORMAT)
			return laps_seterr(LAPS_ERR_ACCOUNT,
					   "cannot create account '%s': %s already has an entry "
					   "for that name (not in passwd); fix it by hand",
					   account, f->path[files[k]]);
	}
	laps_clearerr();
	return 0;
}

/* The new lines and the supplementary groups, in the buffers. */
static int
add_entries(const struct laps_conf *cfg, struct etc_files *f, const char *account,
	    const struct laps_login_defs *d, unsigned long uid, unsigned long gid)
{
	char line[1200];
	size_t i;
	int rc;

	if ((rc = laps_snprintf(line, sizeof line, "%s:x:%lu:", account, gid)) != 0 ||
	    (rc = append_line(f, F_GROUP, line)) != 0)
		return rc;
	if (f->present[F_GSHADOW] &&
	    ((rc = laps_snprintf(line, sizeof line, "%s:!::", account)) != 0 ||
	     (rc = append_line(f, F_GSHADOW, line)) != 0))
		return rc;
	for (i = 0; i < laps_agent_conf(cfg)->n_account_groups; i++) {
		rc = add_member(f, F_GROUP, laps_agent_conf(cfg)->account_groups[i], account);
		if (rc == LAPS_ERR_NOTFOUND)
			return laps_seterr(
			    LAPS_ERR_ACCOUNT,
			    "[agent] account_groups: group '%s' does not exist in %s",
			    laps_agent_conf(cfg)->account_groups[i], f->path[F_GROUP]);
		if (rc != 0)
			return rc;
		rc =
		    f->present[F_GSHADOW]
			? add_member(f, F_GSHADOW, laps_agent_conf(cfg)->account_groups[i], account)
			: 0;
		if (rc != 0 && rc != LAPS_ERR_NOTFOUND)
			return rc;
	}
	/* '!': fresh, no password yet — the rotation that follows sets one */
	if ((rc = laps_snprintf(line, sizeof line, "%s:!:%lld:%ld:%ld:%ld:::", account,
				(long long)(time(NULL) / 86400), d->pass_min_days, d->pass_max_days,
				d->pass_warn_age)) != 0 ||
	    (rc = append_line(f, F_SHADOW, line)) != 0)
		return rc;
	if ((rc = laps_snprintf(
		 line, sizeof line, "%s:x:%lu:%lu:%s:%s:%s", account, uid, gid, GECOS,
		 laps_agent_conf(cfg)->account_home ? laps_agent_conf(cfg)->account_home : NO_HOME,
		 laps_agent_conf(cfg)->account_shell ? laps_agent_conf(cfg)->account_shell
						     : DEFAULT_SHELL)) != 0)
		return rc;
	return append_line(f, F_PASSWD, line);
}

/* One of account_home/account_shell: absolute, no ':' (a passwd field
 * separator), no control character (a newline would add a line), no '.'
 * or '..' component (the home is created under [agent] root). */
static int
check_passwd_path(const char *key, const char *v)
{
	const char *p, *c;
	size_t n;

	if (v == NULL)
		return 0;
	if (v[0] != '/' || strlen(v) > ACCOUNT_PATH_MAX)
		return laps_seterr(LAPS_ERR_CONFIG,
				   "[agent] %s: must be an absolute path of at most %d bytes", key,
				   ACCOUNT_PATH_MAX);
	for (p = v; *p != '\0'; p++) {
		if (*p == ':')
			return laps_seterr(LAPS_ERR_CONFIG,
					   "[agent] %s: ':' separates the fields of a passwd line",
					   key);
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return laps_seterr(LAPS_ERR_CONFIG, "[agent] %s: a control character", key);
	}
	for (c = v + 1; *c != '\0'; c += n + (c[n] == '/')) {
		n = strcspn(c, "/");
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return laps_seterr(LAPS_ERR_CONFIG,
					   "[agent] %s: a '.' or '..' component (%.64s)", key, v);
	}
	return 0;
}

int
laps_account_create_check(const char *home, const char *shell)
{
	int rc;

	if ((rc = check_passwd_path("account_home", home)) != 0)
		return rc;
	return check_passwd_path("account_shell", shell);
}

/* The home directory, 0700, owned by the account (no skeleton copied),
 * created inside [agent] root: every component is opened from the root's
 * directory with O_NOFOLLOW, so a symbolic link (in the root or planted
 * in the path) is never followed out of it; the parents must exist. */
static int
make_home(const struct laps_conf *cfg, unsigned long uid, unsigned long gid)
{
	const char *root =
	    laps_agent_conf(cfg)->root != NULL && laps_agent_conf(cfg)->root[0] != '\0'
		? laps_agent_conf(cfg)->root
		: "/";
	const char *home = laps_agent_conf(cfg)->account_home, *c;
	char comp[256];
	int dfd = -1, nfd, rc = LAPS_ERR_IO;
	size_t n;

	if (home == NULL)
		return 0;
	if ((rc = laps_account_create_check(home, NULL)) != 0)
		return rc;
	if ((dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = laps_seterr(LAPS_ERR_IO, "root %s: %s", root, strerror(errno));
		goto out;
	}
	for (c = home; *c == '/'; c++)
		;
	if (*c == '\0') {
		rc = 0; /* "/": exists, left alone (never chowned) */
		goto out;
	}
	while (*c != '\0') {
		n = strcspn(c, "/");
		if (n >= sizeof comp) {
			rc = laps_seterr(LAPS_ERR_CONFIG, "[agent] account_home: a component is "
							  "too long");
			goto out;
		}
		memcpy(comp, c, n);
		comp[n] = '\0';
		for (c += n; *c == '/'; c++)
			;
		if (*c == '\0' && mkdirat(dfd, comp, 0700) != 0) {
			if (errno == EEXIST)
				rc = 0; /* as useradd: an existing directory is left alone */
			else
				rc = laps_seterr(LAPS_ERR_IO, "home directory %s: %s", home,
						 strerror(errno));
			goto out;
		}
		nfd = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0) {
			rc = laps_seterr(LAPS_ERR_IO,
					 "home directory %s: '%s' under %s: %s (a symbolic link is "
					 "never followed)",
					 home, comp, root, strerror(errno));
			goto out;
		}
		close(dfd);
		dfd = nfd;
	}
	if (fchown(dfd, (uid_t)uid, (gid_t)gid) != 0) {
		rc = laps_seterr(LAPS_ERR_IO, "chown %s: %s", home, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (dfd >= 0)
		close(dfd);
	return rc;
}

/* Whether the account exists: <root>/etc/passwd, and NSS without a root. */
static int
account_exists(const struct laps_conf *cfg, const char *account, bool *exists)
{
	struct passwd pw, *res = NULL;
	char pwbuf[4096];
	uint32_t uid;
	int rc;

	laps_clearerr();
	rc = laps_account_uid(cfg, account, &uid);
	*exists = rc == 0;
	if (rc == 0 || rc != LAPS_ERR_ACCOUNT)
		return rc;
	laps_clearerr();
	if (laps_agent_conf(cfg)->root == NULL || laps_agent_conf(cfg)->root[0] == '\0' ||
	    strcmp(laps_agent_conf(cfg)->root, "/") == 0) {
		/* an NSS account (LDAP, sssd): the agent does not create it */
		*exists = getpwnam_r(account, &pw, pwbuf, sizeof pwbuf, &res) == 0 && res != NULL;
		return 0;
	}
	return 0;
}

int
laps_account_create(const struct laps_conf *cfg, const char *account, bool *created)
{
	struct etc_files f;
	struct laps_login_defs d;
	const char *ls, *le;
	unsigned long uid = 0, gid = 0;
	bool exists;
	int i, rc;

	*created = false;
	memset(&f, 0, sizeof f);
	f.pwd_lock = -1;
	if ((rc = laps_account_create_check(laps_agent_conf(cfg)->account_home,
					    laps_agent_conf(cfg)->account_shell)) != 0)
		return rc;
	if ((rc = account_exists(cfg, account, &exists)) != 0 || exists)
		return rc;
	if ((rc = load_login_defs(laps_agent_conf(cfg)->root, &d)) != 0)
		return rc;
	if ((rc = etc_acquire(laps_agent_conf(cfg)->root, &f)) != 0)
		goto out;
	/* under the locks: someone may have created it meanwhile */
	if (laps_etc_find_line(f.buf[F_PASSWD], f.len[F_PASSWD], account, "passwd", &ls, &le) !=
	    LAPS_ERR_NOTFOUND) {
		laps_clearerr();
		rc = 0;
		goto out;
	}
	if ((rc = check_leftovers(&f, account)) != 0 ||
	    (rc = pick_ids(cfg, &f, &d, &uid, &gid)) != 0)
		goto out;
	if (uid == 0 && laps_agent_conf(cfg)->allow_uid0 != LAPS_YES) {
		rc = laps_account_check_uid(cfg, account, 0);
		goto out;
	}
	if ((rc = add_entries(cfg, &f, account, &d, uid, gid)) != 0)
		goto out;
	for (i = 0; i < F_COUNT; i++) {
		if (f.present[i] &&
		    (rc = laps_etc_replace_file(f.path[i], f.buf[i], f.len[i])) != 0)
			goto out;
	}
	*created = true;
	log_event(LAPS_EV_ACCOUNT_CREATED,
		  "%s: account created (uid %lu, gid %lu, home %s, shell %s)", account, uid, gid,
		  laps_agent_conf(cfg)->account_home ? laps_agent_conf(cfg)->account_home : NO_HOME,
		  laps_agent_conf(cfg)->account_shell ? laps_agent_conf(cfg)->account_shell
						      : DEFAULT_SHELL);
	rc = make_home(cfg, uid, gid);
out:
	etc_release(&f);
	return rc;
}

int
laps_account_prepare(const struct laps_conf *cfg, const char *account,
		     const struct laps_account_ops *acct, struct laps_account_info *info)
{
	enum laps_lock_want want;
	bool created = false, changed = false;
	int rc;

	if (laps_agent_conf(cfg)->create_account == LAPS_YES &&
	    (rc = laps_account_create(cfg, account, &created)) != 0)
		return rc;
	if ((rc = acct->inspect(cfg, account, info)) != 0)
		return rc;
	if (laps_agent_conf(cfg)->account_state == LAPS_ACCOUNT_KEEP || !info->have_entry)
		return 0;
	want = laps_agent_conf(cfg)->account_state == LAPS_ACCOUNT_ENABLED ? LAPS_LOCK_WANT_UNLOCKED
									   : LAPS_LOCK_WANT_LOCKED;
	if ((rc = laps_lockstate_apply(cfg, account, want, &changed)) != 0)
		return rc;
	if (!changed)
		return 0;
	log_event(LAPS_EV_ACCOUNT_LOCK_CHANGED, "%s: account %s (account_state = %s)", account,
		  want == LAPS_LOCK_WANT_LOCKED ? "locked" : "unlocked",
		  laps_account_state_name(laps_agent_conf(cfg)->account_state));
	return acct->inspect(cfg, account, info);
}
