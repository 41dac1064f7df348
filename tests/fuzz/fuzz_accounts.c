/*
 * fuzz_accounts.c — libFuzzer target for the account-management parsers:
 * login.defs (agent/account_create.c) and the shadow password field's lock
 * state (agent/lockstate.c).  Properties: whatever the current field, the
 * composed field carries the new hash behind its prefix and classifies as
 * the lock that was asked for; relocking never yields the empty field.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/account.h"
#include "agent/account_create.h"
#include "agent/lockstate.h"
#include "escrow/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_field(const char *cur)
{
	static const char hash[] = "$6$salt$hash";
	char out[LAPS_HASH_MAX + 16];
	enum laps_lock_want w;
	enum laps_lock_state st;
	size_t prefix;

	for (w = LAPS_LOCK_WANT_KEEP; w <= LAPS_LOCK_WANT_UNLOCKED; w++) {
		if (laps_lockstate_compose(cur, w, hash, out, sizeof out) != 0)
			continue;
		if (strcmp(laps_lockstate_bare(out), hash) != 0)
			abort();
		st = laps_lockstate_classify(out, &prefix);
		if (w == LAPS_LOCK_WANT_LOCKED && st != LAPS_LOCK_LOCKED)
			abort();
		if (w == LAPS_LOCK_WANT_UNLOCKED && st != LAPS_LOCK_NONE)
			abort();
		if (laps_lockstate_relock(cur, w, out, sizeof out) == 0 && out[0] == '\0' &&
		    cur[0] != '\0')
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct laps_login_defs d;
	char *s;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (laps_login_defs_parse(s, size, &d) == 0 &&
	    (d.sys_uid_min > d.sys_uid_max || d.sys_gid_min > d.sys_gid_max))
		abort();
	if (size <= LAPS_HASH_MAX && strpbrk(s, ":\n") == NULL)
		check_field(s);
	laps_clearerr();
	free(s);
	return 0;
}
