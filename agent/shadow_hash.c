/*
 * shadow_hash.c — the shadow method's password hash with libxcrypt
 * (account.h): libcrypt loaded when first needed (agent/dynlib.h), a fresh
 * salt, crypt_r into locked memory.  Called by the method
 * (agent/account_shadow.c) and by its worker thread (agent/hashjob.c).
 */

#include "config.h"

#include <crypt.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "agent/account.h"
#include "agent/dynlib.h"
#include "escrow/err.h"
#include "escrow/secret.h"

/* libcrypt, loaded when a password is hashed (agent/dynlib.h) */
static __typeof__(crypt_gensalt_ra) *fn_crypt_gensalt_ra;
static __typeof__(crypt_r) *fn_crypt_r;

int
laps_shadow_load(void)
{
	static const struct laps_dynsym syms[] = {
	    {"crypt_gensalt_ra", &fn_crypt_gensalt_ra},
	    {"crypt_r", &fn_crypt_r},
	};

	return laps_dynlib_load("libcrypt.so.1", syms, sizeof syms / sizeof syms[0],
				"method = shadow", 0);
}

int
laps_shadow_hash(enum laps_hash h, unsigned cost, const char *password, char **out)
{
	const char *prefix = h == LAPS_HASH_SHA512 ? "$6$" : "$y$";
	unsigned char rbytes[16];
	struct crypt_data *cd = NULL;
	char *setting = NULL, *res, *copy;
	int rc = LAPS_ERR_INTERNAL;

	*out = NULL;
	if ((rc = laps_shadow_load()) != 0)
		return rc;
	randombytes_buf(rbytes, sizeof rbytes);
	errno = 0;
	setting = fn_crypt_gensalt_ra(prefix, cost, (const char *)rbytes, (int)sizeof rbytes);
	if (setting == NULL) {
		rc = laps_seterr(LAPS_ERR_CRYPTO, "crypt_gensalt(%s, cost %u): %s", prefix, cost,
				 strerror(errno));
		goto out;
	}
	/* struct crypt_data holds intermediate secrets: locked, wiped on free */
	if ((cd = laps_secret_alloc(sizeof *cd)) == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	res = fn_crypt_r(password, setting, cd);
	if (res == NULL || res[0] == '*' || strlen(res) > LAPS_HASH_MAX ||
	    strpbrk(res, ":\n") != NULL) {
		rc = laps_seterr(LAPS_ERR_CRYPTO, "crypt_r(%s) failed", prefix);
		goto out;
	}
	if ((copy = strdup(res)) == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	*out = copy;
	rc = 0;
out:
	laps_wipe(rbytes, sizeof rbytes);
	laps_secret_free(cd);
	free(setting);
	return rc;
}
