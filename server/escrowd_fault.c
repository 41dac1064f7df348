/*
 * escrowd_fault.c — laps-escrowd's fault-injection points (tests only).
 *
 * Compiled to nothing unless ./configure --enable-fault-injection.
 * LAPS_ESCROWD_FAULT=STEP:ACTION, ACTION kill (raise SIGKILL: the process
 * dies with the transaction open) or fail (LAPS_ERR_FAULT: a rollback).
 */
#include "config.h"

#include "server/store.h"

#ifdef LAPS_FAULT_INJECTION
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/err.h"

int
store_fault(const char *step)
{
	const char *v = getenv("LAPS_ESCROWD_FAULT");
	size_t n = strlen(step);

	if (v == NULL || strncmp(v, step, n) != 0 || v[n] != ':')
		return 0;
	if (strcmp(v + n + 1, "kill") == 0)
		raise(SIGKILL);
	if (strcmp(v + n + 1, "fail") == 0)
		return laps_seterr(LAPS_ERR_FAULT, "injected fault at %s", step);
	return 0;
}
#endif
