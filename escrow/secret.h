/*
 * secret.h — memory for secrets and process hardening.
 *
 * Secret buffers come from sodium_malloc(): guard pages, mlock'ed (hence
 * also excluded from core dumps via MADV_DONTDUMP), wiped on free.
 * laps_secret_free() wipes, so callers cannot forget to.
 */
#ifndef LAPS_SECRET_H
#define LAPS_SECRET_H

#include <stddef.h>

/* sodium_init() once; returns 0 or LAPS_ERR_INTERNAL. Thread-safe, idempotent. */
int laps_crypto_init(void) __attribute__((warn_unused_result));

/*
 * For programs that hold secrets (agent, laps-get, escrowd): crypto init,
 * PR_SET_DUMPABLE 0, RLIMIT_CORE 0.  Not for pam_laps (it would change the
 * login process).  Returns 0 or a LAPS_ERR_*.
 */
int laps_secure_process(void) __attribute__((warn_unused_result));

/* n bytes of locked memory (zeroed), or NULL.  Free with laps_secret_free. */
void *laps_secret_alloc(size_t n) __attribute__((malloc));
/* Copy of a NUL-terminated string into locked memory, or NULL. */
char *laps_secret_strdup(const char *s) __attribute__((malloc));
/* Copy of n bytes plus a terminating NUL, or NULL. */
char *laps_secret_strndup(const char *s, size_t n) __attribute__((malloc));
/* Wipe and free; NULL is fine. */
void laps_secret_free(void *p);

/* sodium_memzero */
void laps_wipe(void *p, size_t n);
/* free(p) after wiping n bytes (for heap copies that held a secret). */
void laps_freezero(void *p, size_t n);
/* free() and realloc() that wipe the whole old block first
 * (malloc_usable_size): the allocator handed to libraries that keep secrets
 * in their own buffers and free them unwiped (libcurl's curl_global_init_mem,
 * with malloc, strdup and calloc for the other slots).  Blocks must come from
 * malloc/calloc/strdup. */
void laps_wipe_free(void *p);
void *laps_wipe_realloc(void *p, size_t n);
/* Constant-time string equality (lengths compared too). */
int laps_secret_equal(const char *a, const char *b);

#endif
