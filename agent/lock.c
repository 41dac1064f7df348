/*
 * lock.c — the agent's run lock.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/lock.h"
#include "escrow/err.h"
#include "escrow/fileio.h"

int
laps_lock_acquire(const char *state_dir, unsigned wait_seconds, int *fd)
{
	struct timespec start, now, nap = {0, 200 * 1000 * 1000};
	char path[4096];
	int lfd, rc;

	*fd = -1;
	if ((rc = laps_mkdir_p(state_dir, 0700)) != 0)
		return rc;
	if ((rc = laps_snprintf(path, sizeof path, "%s/lock", state_dir)) != 0)
		return laps_seterr(rc, "%s: path too long", state_dir);
	if ((rc = laps_lockfile_open(path, &lfd)) != 0)
		return rc;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (flock(lfd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			rc = laps_seterr(LAPS_ERR_IO, "flock %s: %s", path, strerror(errno));
			close(lfd);
			return rc;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= (time_t)wait_seconds) {
			close(lfd);
			return laps_seterr(LAPS_ERR_LOCKED,
					   "%s: another laps-agent is running (waited %us)", path,
					   wait_seconds);
		}
		nanosleep(&nap, NULL);
	}
	*fd = lfd;
	return 0;
}

void
laps_lock_release(int fd)
{
	if (fd >= 0) {
		(void)flock(fd, LOCK_UN);
		close(fd);
	}
}
