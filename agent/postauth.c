/*
 * postauth.c — post-authentication actions.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/postauth.h"
#include "escrow/err.h"
#include "escrow/events.h"
#include "escrow/fileio.h"
#include "escrow/log.h"

int
laps_exec_wait(char *const argv[])
{
	static char env_path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin", env_lc[] = "LC_ALL=C";
	char *const envp[] = {env_path, env_lc, NULL};
	int status, fd;
	pid_t pid;

	if (argv[0] == NULL || argv[0][0] != '/')
		return laps_seterr(LAPS_ERR_INVALID, "exec: not an absolute path");
	pid = fork();
	if (pid < 0)
		return laps_seterr(LAPS_ERR_IO, "fork: %s", strerror(errno));
	if (pid == 0) {
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && fd != STDIN_FILENO)
			(void)dup2(fd, STDIN_FILENO);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return laps_seterr(LAPS_ERR_IO, "waitpid %s: %s", argv[0], strerror(errno));
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		return laps_seterr(LAPS_ERR_IO, "%s exited with status %d", argv[0],
				   WEXITSTATUS(status));
	return laps_seterr(LAPS_ERR_IO, "%s killed by signal %d", argv[0],
			   WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* Does /proc/<pid>/status say real or effective uid == uid? */
static int
proc_uid_matches(const char *proc_dir, const char *pid, uid_t uid)
{
	char path[512], buf[4096];
	unsigned long ruid, euid;
	char *line, *end;
	ssize_t n;
	int fd;

	if (laps_snprintf(path, sizeof path, "%s/%s/status", proc_dir, pid) != 0)
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* zombies are already dead: they only wait for their parent */
	if ((line = strstr(buf, "\nState:")) != NULL) {
		line += 7;
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == 'Z' || *line == 'X')
			return 0;
	}
	if ((line = strstr(buf, "\nUid:")) == NULL)
		return 0;
	line += 5;
	errno = 0;
	ruid = strtoul(line, &end, 10);
	if (errno != 0 || end == line)
		return 0;
	line = end;
	euid = strtoul(line, &end, 10);
	if (errno != 0 || end == line)
		return 0;
	return ruid == (unsigned long)uid || euid == (unsigned long)uid;
}

/* Signal every matching process; returns how many were signalled. */
static size_t
signal_uid(const char *proc_dir, uid_t uid, int sig)
{
	struct dirent *de;
	size_t n = 0;
	long long pid;
	DIR *d;

	if ((d = opendir(proc_dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (laps_parse_int64(de->d_name, 2, 1LL << 30, &pid) != 0)
			continue;
		if ((pid_t)pid == getpid() || !proc_uid_matches(proc_dir, de->d_name, uid))
			continue;
		if (sig == 0 || kill((pid_t)pid, sig) == 0)
			n++;
	}
	closedir(d);
	return n;
}

int
laps_postauth_end_sessions(uid_t uid, const char *account, const char *proc_dir,
			   const char *loginctl, size_t *remaining)
{
	struct timespec nap = {0, 100 * 1000 * 1000};
	unsigned round, waited;
	size_t left = 0;
	struct stat st;
	char *argv[5];

	if (remaining != NULL)
		*remaining = 0;
	if (uid == 0)
		return laps_seterr(LAPS_ERR_INVALID, "refusing to end the sessions of uid 0");
	if (loginctl != NULL && stat(loginctl, &st) == 0 && S_ISREG(st.st_mode) &&
	    access("/run/systemd/system", F_OK) == 0) {
		argv[0] = (char *)loginctl;
		argv[1] = (char *)"terminate-user";
		argv[2] = (char *)account;
		argv[3] = NULL;
		if (laps_exec_wait(argv) != 0)
			log_event(LAPS_EV_SESSION_END_INCOMPLETE, "loginctl terminate-user %s: %s",
				  account, laps_errdetail());
	}
	for (round = 0; round < LAPS_KILL_ROUNDS; round++) {
		if (signal_uid(proc_dir, uid, SIGTERM) == 0)
			break;
		for (waited = 0; waited < LAPS_KILL_WAIT_MS; waited += 100) {
			if (signal_uid(proc_dir, uid, 0) == 0)
				break;
			nanosleep(&nap, NULL);
		}
		(void)signal_uid(proc_dir, uid, SIGKILL);
		nanosleep(&nap, NULL);
	}
	left = signal_uid(proc_dir, uid, 0);
	if (remaining != NULL)
		*remaining = left;
	if (left > 0)
		return laps_seterr(LAPS_ERR_IO, "%zu process(es) of uid %u still running", left,
				   (unsigned)uid);
	return 0;
}

int
laps_postauth_schedule_reboot(const char *shutdown, const char *account)
{
	char msg[128];
	char *argv[5];

	if (laps_snprintf(msg, sizeof msg,
			  "laps: rebooting after use of managed account %s (password rotated)",
			  account) != 0)
		msg[0] = '\0';
	argv[0] = (char *)shutdown;
	argv[1] = (char *)"-r";
	argv[2] = (char *)"+1";
	argv[3] = msg;
	argv[4] = NULL;
	return laps_exec_wait(argv);
}

void
laps_postauth_describe(const struct laps_marker *m, char *buf, size_t len)
{
	int64_t last = m->opened > m->closed ? m->opened : m->closed;
	char when[32] = "?";
	struct tm tm;
	time_t t = (time_t)last;

	if (gmtime_r(&t, &tm) != NULL)
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (laps_snprintf(buf, len, "account %s used via %s by %s%s%s on %s, last use %s%s",
			  m->account, m->service[0] ? m->service : "?",
			  m->ruser[0] ? m->ruser : "?", m->rhost[0] ? "@" : "", m->rhost,
			  m->tty[0] ? m->tty : "?", when,
			  m->closed == 0 ? " (session still open)" : "") != 0 &&
	    len > 0)
		buf[len - 1] = '\0';
}
