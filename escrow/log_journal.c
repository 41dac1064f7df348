/*
 * log_journal.c — journald's native protocol (see log_journal.h).
 *
 * One datagram per line: "KEY=value\n" for each field; a value containing a
 * newline would use the binary form "KEY\n" <64-bit little-endian length>
 * value "\n" (log lines are escaped and never do, but the encoder does not
 * rely on it).  A line the socket refuses goes to stderr/syslog instead.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "escrow/err.h"
#include "escrow/events.h"
#include "escrow/fileio.h"
#include "escrow/log.h"
#include "escrow/log_journal.h"

#define JOURNAL_DGRAM_MAX (LAPS_LOG_MSG_MAX + 1024)

static int journal_fd = -1;
static struct sockaddr_un journal_addr;

/* Append one field; false when it does not fit. */
static bool
put_field(char *buf, size_t cap, size_t *off, const char *key, const char *val)
{
	size_t kl = strlen(key), vl = strlen(val), i;
	uint64_t le = vl;

	if (memchr(val, '\n', vl) == NULL) {
		if (*off + kl + vl + 2 > cap)
			return false;
		memcpy(buf + *off, key, kl);
		buf[*off + kl] = '=';
		memcpy(buf + *off + kl + 1, val, vl);
		buf[*off + kl + 1 + vl] = '\n';
		*off += kl + vl + 2;
		return true;
	}
	if (*off + kl + 1 + 8 + vl + 1 > cap)
		return false;
	memcpy(buf + *off, key, kl);
	buf[*off + kl] = '\n';
	*off += kl + 1;
	for (i = 0; i < 8; i++, le >>= 8)
		buf[(*off)++] = (char)(le & 0xff);
	memcpy(buf + *off, val, vl);
	*off += vl;
	buf[(*off)++] = '\n';
	return true;
}

static int
journal_write(int level, const struct laps_event_def *ev, const char *func, const char *line)
{
	char buf[JOURNAL_DGRAM_MAX], num[24], pid[24], id[16];
	size_t off = 0;
	bool ok;

	if (journal_fd < 0)
		return -1;
	snprintf(num, sizeof num, "%d", level);
	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	ok = put_field(buf, sizeof buf, &off, "MESSAGE", line) &&
	     put_field(buf, sizeof buf, &off, "PRIORITY", num) &&
	     put_field(buf, sizeof buf, &off, "SYSLOG_FACILITY", "10") && /* authpriv */
	     put_field(buf, sizeof buf, &off, "SYSLOG_IDENTIFIER", laps_log_ident()) &&
	     put_field(buf, sizeof buf, &off, "SYSLOG_PID", pid);
	if (ok && func != NULL)
		ok = put_field(buf, sizeof buf, &off, "CODE_FUNC", func);
	if (ok && ev != NULL) {
		snprintf(id, sizeof id, "%u", ev->id);
		ok = put_field(buf, sizeof buf, &off, "LAPS_EVENT_ID", id) &&
		     put_field(buf, sizeof buf, &off, "LAPS_EVENT", ev->name) &&
		     put_field(buf, sizeof buf, &off, "MESSAGE_ID", ev->message_id);
	}
	if (!ok)
		return -1;
	if (sendto(journal_fd, buf, off, MSG_NOSIGNAL, (const struct sockaddr *)&journal_addr,
		   sizeof journal_addr) != (ssize_t)off)
		return -1;
	return 0;
}

int
laps_log_journal_open(const char *path)
{
	int fd;

	if (strlen(path) >= sizeof journal_addr.sun_path)
		return laps_seterr(LAPS_ERR_IO, "%s: socket path too long", path);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return laps_seterr(LAPS_ERR_IO, "socket: %s", strerror(errno));
	laps_log_journal_close();
	memset(&journal_addr, 0, sizeof journal_addr);
	journal_addr.sun_family = AF_UNIX;
	memcpy(journal_addr.sun_path, path, strlen(path) + 1);
	journal_fd = fd;
	laps_log_set_writer(journal_write);
	return 0;
}

void
laps_log_journal_close(void)
{
	laps_log_set_writer(NULL);
	if (journal_fd >= 0)
		close(journal_fd);
	journal_fd = -1;
}

/* Does JOURNAL_STREAM ("<dev>:<ino>", decimal) name stderr? */
static bool
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM"), *colon;
	long long dev, ino;
	char devs[32];
	struct stat st;

	if (js == NULL || (colon = strchr(js, ':')) == NULL || (size_t)(colon - js) >= sizeof devs)
		return false;
	memcpy(devs, js, (size_t)(colon - js));
	devs[colon - js] = '\0';
	if (laps_parse_int64(devs, 0, INT64_MAX, &dev) != 0 ||
	    laps_parse_int64(colon + 1, 0, INT64_MAX, &ino) != 0)
		return false;
	if (fstat(STDERR_FILENO, &st) != 0)
		return false;
	return (long long)st.st_dev == dev && (long long)st.st_ino == ino;
}

int
laps_log_journal_auto(void)
{
	const char *path = LAPS_JOURNAL_SOCKET;

#ifdef LAPS_FAULT_INJECTION
	if (getenv("LAPS_TEST_JOURNAL_SOCKET") != NULL)
		path = getenv("LAPS_TEST_JOURNAL_SOCKET");
#endif
	if (!stderr_is_journal())
		return 0;
	if (access(path, W_OK) != 0 || laps_log_journal_open(path) != 0)
		return 0;
	return 1;
}
