/*
 * secret.c — locked, wiped memory for secrets; process hardening.
 */

#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <sodium.h>

#include "escrow/err.h"
#include "escrow/secret.h"

int
laps_crypto_init(void)
{
	if (sodium_init() < 0)
		return laps_seterr(LAPS_ERR_INTERNAL, "libsodium initialisation failed");
	return 0;
}

int
laps_secure_process(void)
{
	struct rlimit rl = {0, 0};
	int rc;

	if ((rc = laps_crypto_init()) != 0)
		return rc;
	if (setrlimit(RLIMIT_CORE, &rl) != 0)
		return laps_seterr(LAPS_ERR_INTERNAL, "setrlimit(RLIMIT_CORE): %s", strerror(errno));
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return laps_seterr(LAPS_ERR_INTERNAL, "prctl(PR_SET_DUMPABLE): %s", strerror(errno));
	return 0;
}

void *
laps_secret_alloc(size_t n)
{
	void *p;

	if (laps_crypto_init() != 0)
		return NULL;
	if (n == 0)
		n = 1;
	if ((p = sodium_malloc(n)) == NULL)
		return NULL;
	sodium_memzero(p, n);
	return p;
}

char *
laps_secret_strndup(const char *s, size_t n)
{
	char *p;

	if (s == NULL || n == SIZE_MAX)
		return NULL;
	if ((p = laps_secret_alloc(n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
laps_secret_strdup(const char *s)
{
	if (s == NULL)
		return NULL;
	return laps_secret_strndup(s, strlen(s));
}

void
laps_secret_free(void *p)
{
	if (p != NULL)
		sodium_free(p); /* wipes before unmapping */
}

void
laps_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		sodium_memzero(p, n);
}

void
laps_freezero(void *p, size_t n)
{
	if (p == NULL)
		return;
	sodium_memzero(p, n);
	free(p);
}

int
laps_secret_equal(const char *a, const char *b)
{
	size_t la, lb;

	if (a == NULL || b == NULL)
		return 0;
	la = strlen(a);
	lb = strlen(b);
	if (la != lb)
		return 0;
	return sodium_memcmp(a, b, la) == 0;
}

void
laps_wipe_free(void *p)
{
	if (p != NULL) {
		laps_wipe(p, malloc_usable_size(p));
		free(p);
	}
}

void *
laps_wipe_realloc(void *p, size_t n)
{
	void *q;
	size_t old;

	if (p == NULL)
		return malloc(n);
	if ((q = malloc(n > 0 ? n : 1)) == NULL)
		return NULL;
	old = malloc_usable_size(p);
	memcpy(q, p, old < n ? old : n);
	laps_wipe_free(p);
	return q;
}
