/*
 * postauth.h — post-authentication actions, run after a post-auth rotation
 * has been confirmed: end the account's sessions or schedule a reboot.
 * Everything is fork/exec with absolute paths or direct syscalls; never
 * a shell.
 */
#ifndef LAPS_POSTAUTH_H
#define LAPS_POSTAUTH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "escrow/marker.h"

#define LAPS_SHUTDOWN_PATH "/sbin/shutdown"
#define LAPS_LOGINCTL_PATH "/usr/bin/loginctl"
#define LAPS_KILL_WAIT_MS 5000 /* SIGTERM grace before SIGKILL */
#define LAPS_KILL_ROUNDS 3     /* bounded rescans for processes that appear meanwhile */

/*
 * End every process whose real or effective uid is uid (scan of proc_dir,
 * normally "/proc"): SIGTERM, wait up to LAPS_KILL_WAIT_MS, SIGKILL the
 * rest; up to LAPS_KILL_ROUNDS rounds.  loginctl (absolute path, may be
 * NULL or absent) is asked to terminate the user first.  Refuses uid 0.
 * *remaining (may be NULL) = processes still alive at the end.
 */
int laps_postauth_end_sessions(uid_t uid, const char *account, const char *proc_dir,
			       const char *loginctl, size_t *remaining)
    __attribute__((warn_unused_result));

/* Run "<shutdown> -r +1 <message>" (absolute path) and wait for it. */
int laps_postauth_schedule_reboot(const char *shutdown, const char *account)
    __attribute__((warn_unused_result));

/* "used by ruser@rhost via service on tty at <time>" for the log line. */
void laps_postauth_describe(const struct laps_marker *m, char *buf, size_t len);

/* fork/exec argv[0] (absolute path) with an empty environment, stdin from
 * /dev/null, wait.  0 when it exited 0, else LAPS_ERR_IO with detail. */
int laps_exec_wait(char *const argv[]) __attribute__((warn_unused_result));

#endif
