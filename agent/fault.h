/*
 * fault.h — fault injection at the named steps of the rotation protocol.
 *
 * Compiled only with ./configure --enable-fault-injection (LAPS_FAULT_INJECTION);
 * in production builds laps_fault() is a constant 0 and no code reads the
 * environment.  Control: LAPS_FAULT=step:action[,step:action...] where
 * action is
 *   kill  raise(SIGKILL) at that step (the process dies mid-protocol)
 *   fail  the step returns LAPS_ERR_FAULT (a clean failure)
 *   stop  raise(SIGSTOP) (tests use it to hold the lock deterministically)
 * The variable carries no secret.  Step names: see laps_fault_steps[].
 */
#ifndef LAPS_FAULT_H
#define LAPS_FAULT_H

#include <stdbool.h>

/* The named steps, NULL-terminated (documented in laps-agent(8)). */
extern const char *const laps_fault_steps[];

/* Whether fault injection is compiled in. */
bool laps_fault_enabled(void);

#ifdef LAPS_FAULT_INJECTION
/* At step: die, stop or return LAPS_ERR_FAULT as LAPS_FAULT says; else 0. */
int laps_fault(const char *step) __attribute__((warn_unused_result));
#else
#define laps_fault(step) ((void)(step), 0)
#endif

#endif
