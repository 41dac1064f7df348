/*
 * lock.h — the agent's run lock: flock(LOCK_EX) on <state_dir>/lock
 * (O_NOFOLLOW, 0600).  A second agent waits up to a bounded time, then
 * gives up with LAPS_ERR_LOCKED.
 */
#ifndef LAPS_AGENT_LOCK_H
#define LAPS_AGENT_LOCK_H

#define LAPS_LOCK_WAIT_DEFAULT 60 /* seconds */

/*
 * Take the lock, waiting at most wait_seconds (0 = try once).  *fd receives
 * the descriptor that holds it (laps_lock_release).  Creates state_dir
 * (0700) when missing.  LAPS_ERR_LOCKED when still held, LAPS_ERR_IO/PERM.
 */
int laps_lock_acquire(const char *state_dir, unsigned wait_seconds, int *fd)
    __attribute__((warn_unused_result));
void laps_lock_release(int fd);

#endif
