/*
 * hashjob.c — the shadow method's hash on a worker thread (hashjob.h).
 *
 * The worker's stack is our own locked memory (laps_secret_alloc): the
 * hash functions keep intermediate state on it, and a stack glibc
 * allocated would be cached for reuse, never wiped.  glibc also puts the
 * thread's TLS at the top of a caller-supplied stack, so the worker's
 * error detail is wiped with it.  All signals are blocked in the worker:
 * they stay the main thread's business.
 */

#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/account.h"
#include "agent/hashjob.h"
#include "escrow/err.h"
#include "escrow/secret.h"

/* yescrypt and SHA-512 crypt keep their large state in struct crypt_data
 * and the heap: the worker, TLS included, used 7.4 KiB of its stack for
 * either (measured with a pattern-filled stack, libxcrypt 4.4.33).  The
 * stack is locked, so all of it is resident: 64 KiB, four times that
 * under AddressSanitizer (redzones around every frame). */
#if defined(__SANITIZE_ADDRESS__)
#define HASHJOB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HASHJOB_ASAN 1
#endif
#endif
#ifdef HASHJOB_ASAN
#define HASHJOB_STACK (256 * 1024)
#else
#define HASHJOB_STACK (64 * 1024)
#endif

struct laps_hashjob {
	pthread_t thread;
	bool running; /* started and not yet joined */
	bool taken;
	enum laps_hash h;
	unsigned cost;
	const char *password; /* borrowed */
	void *stack;	      /* laps_secret_alloc'd, HASHJOB_STACK bytes */
	/* the worker's result, read after the join */
	int rc;
	char *hash;
	char detail[LAPS_ERRDETAIL_MAX + 1];
};

static void *
hashjob_main(void *arg)
{
	struct laps_hashjob *job = arg;

	job->rc = laps_shadow_hash(job->h, job->cost, job->password, &job->hash);
	if (job->rc != 0)
		snprintf(job->detail, sizeof job->detail, "%s", laps_errdetail());
	return NULL;
}

/* Create the worker with every signal blocked.  0 or an errno. */
static int
hashjob_spawn(struct laps_hashjob *job)
{
	pthread_attr_t attr;
	sigset_t all, old;
	int err;

	if ((err = pthread_attr_init(&attr)) != 0)
		return err;
	err = pthread_attr_setstack(&attr, job->stack, HASHJOB_STACK);
	if (err == 0) {
		sigfillset(&all);
		(void)pthread_sigmask(SIG_SETMASK, &all, &old);
		err = pthread_create(&job->thread, &attr, hashjob_main, job);
		(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	(void)pthread_attr_destroy(&attr);
	return err;
}

struct laps_hashjob *
laps_hashjob_start(enum laps_hash h, unsigned cost, const char *password)
{
	struct laps_hashjob *job;

	if ((job = calloc(1, sizeof *job)) == NULL)
		return NULL;
	job->h = h;
	job->cost = cost;
	job->password = password;
	job->rc = LAPS_ERR_INTERNAL;
	if ((job->stack = laps_secret_alloc(HASHJOB_STACK)) == NULL || hashjob_spawn(job) != 0) {
		laps_secret_free(job->stack);
		free(job);
		return NULL;
	}
	job->running = true;
	return job;
}

static void
hashjob_join(struct laps_hashjob *job)
{
	if (job->running) {
		(void)pthread_join(job->thread, NULL);
		job->running = false;
	}
}

int
laps_hashjob_take(struct laps_hashjob *job, enum laps_hash h, unsigned cost, const char *password,
		  char **out)
{
	*out = NULL;
	if (job == NULL || job->taken || job->h != h || job->cost != cost ||
	    job->password != password)
		return laps_seterr(LAPS_ERR_INVALID, "no hash job for this password");
	hashjob_join(job);
	job->taken = true;
	if (job->rc != 0)
		return job->detail[0] != '\0' ? laps_seterr(job->rc, "%s", job->detail) : job->rc;
	*out = job->hash;
	job->hash = NULL;
	return 0;
}

void
laps_hashjob_free(struct laps_hashjob *job)
{
	if (job == NULL)
		return;
	hashjob_join(job);
	/* a hash allows offline guessing: wipe it like set() wipes its own */
	if (job->hash != NULL)
		laps_freezero(job->hash, strlen(job->hash));
	laps_secret_free(job->stack);
	laps_wipe(job, sizeof *job);
	free(job);
}
