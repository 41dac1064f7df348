/*
 * fuzz_etc.c — the account files as the agent edits them, in an alternate
 * root: account creation (agent/account_create.c: login.defs, the free
 * uid/gid search, the passwd/shadow/group/gshadow lines it adds, the member
 * lists of the supplementary groups it edits), the shadow field's lock
 * prefix rewritten in place (agent/lockstate.c laps_lockstate_apply) and
 * the line and field finders they share (agent/account_shadow.c).
 *
 * Input: byte 0 picks the lock wanted and the groups; then passwd, shadow,
 * group, gshadow and login.defs separated by NUL bytes.  The config is
 * parsed from text ([agent] root = a temporary directory).  Properties:
 * after a creation passwd has exactly one line for the account, with a uid
 * that is not 0 (allow_uid0 is not set); a lock change leaves every other
 * shadow line byte for byte.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/account_create.h"
#include "agent/agent_schema.h"
#include "agent/etcfile.h"
#include "agent/lockstate.h"
#include "escrow/conf.h"
#include "escrow/err.h"
#include "escrow/fileio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[64];
static struct laps_conf cfgs[2];
static const char *const files[] = {"passwd", "shadow", "group", "gshadow", "login.defs"};

static void
setup(void)
{
	static const char *const groups[2] = {"sudo wheel", "adm"};
	/* tmpfs when there is one: the files are rewritten (and fsync'd) for
	 * every input */
	char dir[64], p[128], text[512];
	unsigned i;

	snprintf(dir, sizeof dir, "%s/fuzz_etc.XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(root, sizeof root, "%s", dir);
	snprintf(p, sizeof p, "%s/etc", root);
	if (mkdir(p, 0755) != 0)
		abort();
	for (i = 0; i < 2; i++) {
		snprintf(text, sizeof text,
			 "[agent]\nroot = %s\naccounts = lapsadmin\ncreate_account = yes\n"
			 "account_groups = %s\n",
			 root, groups[i]);
		if (laps_conf_init(&cfgs[i], &laps_agent_schema) != 0 ||
		    laps_conf_parse(&cfgs[i], "fuzz.conf", text, strlen(text)) != 0)
			abort();
	}
}

static char *
slurp(const char *name, size_t *len)
{
	char p[128], *buf = NULL;

	snprintf(p, sizeof p, "%s/etc/%s", root, name);
	if (laps_file_read(p, 1 << 20, LAPS_FILE_MISSING_OK, &buf, len) != 0)
		return NULL;
	return buf;
}

/* Lines of a and b other than name's are the same, in order. */
static bool
same_but(const char *a, size_t alen, const char *b, size_t blen, const char *name)
{
	const char *ae = a + alen, *be = b + blen, *an, *bn;
	size_t l = strlen(name);

	for (;;) {
		while (a < ae && strncmp(a, name, l) == 0 && a[l] == ':')
			a = (an = memchr(a, '\n', (size_t)(ae - a))) ? an + 1 : ae;
		while (b < be && strncmp(b, name, l) == 0 && b[l] == ':')
			b = (bn = memchr(b, '\n', (size_t)(be - b))) ? bn + 1 : be;
		if (a >= ae || b >= be)
			return a >= ae && b >= be;
		an = memchr(a, '\n', (size_t)(ae - a));
		bn = memchr(b, '\n', (size_t)(be - b));
		an = an ? an + 1 : ae;
		bn = bn ? bn + 1 : be;
		if (an - a != bn - b || memcmp(a, b, (size_t)(an - a)) != 0)
			return false;
		a = an;
		b = bn;
	}
}

static void
check_created(void)
{
	const char *ls, *le, *fs, *fe;
	size_t len = 0;
	char *pw = slurp("passwd", &len);

	if (pw == NULL)
		abort();
	if (laps_etc_find_line(pw, len, "lapsadmin", "passwd", &ls, &le) != 0 ||
	    laps_etc_field_span(ls, le, 2, &fs, &fe) != 0 || (fe - fs == 1 && *fs == '0'))
		abort();
	laps_file_free(pw, len, 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p, *end, *nul;
	const struct laps_conf *cfg;
	char path[128], *before, *after;
	const char *ls, *le, *fs, *fe;
	size_t blen = 0, alen = 0;
	bool created = false, changed = false;
	enum laps_lock_want want;
	unsigned i;

	if (root[0] == '\0')
		setup();
	if (size < 1 || size > 65536)
		return 0;
	cfg = &cfgs[data[0] & 1];
	want = (enum laps_lock_want)((data[0] >> 1) % 3);
	p = data + 1;
	end = data + size;
	for (i = 0; i < 5; i++) {
		nul = p < end ? memchr(p, '\0', (size_t)(end - p)) : NULL;
		snprintf(path, sizeof path, "%s/etc/%s", root, files[i]);
		if (laps_file_write_atomic(path, p, (size_t)((nul ? nul : end) - p),
					   i == 1 || i == 3 ? 0640 : 0644) != 0)
			abort();
		p = nul ? nul + 1 : end;
	}
	/* the finders on the raw files */
	if ((before = slurp("shadow", &blen)) != NULL) {
		if (laps_etc_find_line(before, blen, "alice", "shadow", &ls, &le) == 0)
			for (i = 0; i < 9; i++)
				(void)!laps_etc_field_span(ls, le, i, &fs, &fe);
	}
	/* the lock prefix of an existing account, every other line untouched */
	if (before != NULL && laps_lockstate_apply(cfg, "alice", want, &changed) == 0 && changed) {
		if ((after = slurp("shadow", &alen)) == NULL ||
		    !same_but(before, blen, after, alen, "alice"))
			abort();
		laps_file_free(after, alen, 0);
	}
	if (before != NULL)
		laps_file_free(before, blen, 0);
	/* creation */
	if (laps_account_create(cfg, "lapsadmin", &created) == 0 && created)
		check_created();
	laps_clearerr();
	return 0;
}
