/*
 * bench_exec.c — run one or more commands one after the other and print
 * their wall time and peak RSS, measured by the kernel for the children
 * themselves (wait4() rusage), not for a parent interpreter.
 *
 * Usage: bench_exec [-i FILE] [-x CODE] CMD [ARG...] [:: [-i FILE] [-x CODE] CMD [ARG...]]...
 *
 *   -i FILE   the command's standard input (default /dev/null)
 *   -x CODE   exit status CODE counts as success too (laps-get report exits
 *             11 when some account is overdue or stuck)
 *   ::        separates commands; they run in order, each after the previous
 *             one exited (a rotation's floor is ldapmodify then chpasswd)
 *
 * The commands' standard output goes to /dev/null, their standard error is
 * inherited.  On success prints one line on standard output:
 *
 *   WALL_US MAXRSS_KIB CPU_US RSS1_KIB [RSS2_KIB...]
 *
 * WALL_US is the time from the first fork() to the last wait4(); MAXRSS_KIB
 * the largest ru_maxrss of the commands (they never run at the same time, so
 * the peak of the sequence is the peak of its largest member); CPU_US the
 * user + system time of all of them (less sensitive than wall time to a
 * machine that is busy with something else); RSS1_KIB... each command's own
 * ru_maxrss, in order (bench/run shows what a rotation's hash costs from
 * them).  Exit status
 * 0 when every command exited 0, else 1 (and nothing on standard output);
 * 2 on a usage error.  Numbers, not pass/fail: see bench/README.md.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int
usage(void)
{
	fprintf(stderr, "usage: bench_exec [-i FILE] [-x CODE] CMD [ARG...] "
			"[:: [-i FILE] [-x CODE] CMD [ARG...]]...\n");
	return 2;
}

/* "0".."255", else -1 */
static int
exit_code(const char *s)
{
	int v = 0;

	if (*s == '\0' || strlen(s) > 3)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v <= 255 ? v : -1;
}

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* In the child: stdin from IN (or /dev/null), stdout to /dev/null, exec. */
static void
child(const char *in, char **argv)
{
	int fd = open(in != NULL ? in : "/dev/null", O_RDONLY | O_CLOEXEC);
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (fd < 0 || null < 0 || dup2(fd, 0) < 0 || dup2(null, 1) < 0) {
		fprintf(stderr, "bench_exec: %s: %s\n", in != NULL ? in : "/dev/null",
			strerror(errno));
		_exit(127);
	}
	execvp(argv[0], argv);
	fprintf(stderr, "bench_exec: %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Run one command; its ru_maxrss (KiB) into *rss, its CPU time into *cpu.
 * 0 when it exited 0 or ok_code. */
static int
run_one(const char *in, int ok_code, char **argv, long *rss, long long *cpu)
{
	struct rusage ru;
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		fprintf(stderr, "bench_exec: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0)
		child(in, argv);
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "bench_exec: wait4: %s\n", strerror(errno));
			return -1;
		}
	}
	*rss = ru.ru_maxrss;
	*cpu = (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL +
	       ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
	if (WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == ok_code))
		return 0;
	if (WIFEXITED(status))
		fprintf(stderr, "bench_exec: %s exited %d\n", argv[0], WEXITSTATUS(status));
	else
		fprintf(stderr, "bench_exec: %s killed by signal %d\n", argv[0], WTERMSIG(status));
	return -1;
}

int
main(int argc, char **argv)
{
	long long t0, t1, cpu = 0, c = 0;
	long peak = 0, rss = 0, each[64];
	int i = 1, start, rc = 0, n = 0, k;

	if (argc < 2)
		return usage();
	t0 = now_us();
	while (i < argc && rc == 0) {
		const char *in = NULL;
		int ok_code = 0;

		while (i + 1 < argc && (strcmp(argv[i], "-i") == 0 || strcmp(argv[i], "-x") == 0)) {
			if (argv[i][1] == 'i')
				in = argv[i + 1];
			else if ((ok_code = exit_code(argv[i + 1])) < 0)
				return usage();
			i += 2;
		}
		start = i;
		while (i < argc && strcmp(argv[i], "::") != 0)
			i++;
		if (i == start || n == (int)(sizeof each / sizeof each[0]))
			return usage();
		argv[i] = NULL; /* argv[argc] is NULL already; "::" becomes the end */
		if (run_one(in, ok_code, argv + start, &rss, &c) != 0)
			rc = 1;
		cpu += c;
		each[n++] = rss;
		if (rss > peak)
			peak = rss;
		i++;
	}
	t1 = now_us();
	if (rc != 0)
		return rc;
	printf("%lld %ld %lld", t1 - t0, peak, cpu);
	for (k = 0; k < n; k++)
		printf(" %ld", each[k]);
	printf("\n");
	return 0;
}
