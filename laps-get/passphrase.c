/*
 * passphrase.c — read a key passphrase from a file descriptor or from the
 * terminal without echo.  Never from argv or the environment.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "escrow/err.h"
#include "escrow/secret.h"
#include "laps-get/lapsget.h"

/* Set by the signal handlers while the terminal is without echo. */
static volatile sig_atomic_t got_signal;

static void
on_signal(int sig)
{
	got_signal = sig;
}

/* Read up to a newline or EOF into buf[cap].  interruptible: a signal caught
 * by on_signal ends the read (the handlers are installed without
 * SA_RESTART, so read() returns EINTR). */
static int
read_line(int fd, char *buf, size_t cap, size_t *len, bool interruptible)
{
	size_t n = 0;

	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);

		if (r < 0) {
			if (errno == EINTR && !(interruptible && got_signal))
				continue;
			if (errno == EINTR)
				return laps_seterr(LAPS_ERR_PASSPHRASE, "interrupted");
			return laps_seterr(LAPS_ERR_IO, "cannot read the passphrase: %s",
					   strerror(errno));
		}
		if (r == 0 || c == '\n')
			break;
		if (n + 1 >= cap)
			return laps_seterr(LAPS_ERR_PASSPHRASE, "passphrase longer than %d bytes",
					   LAPS_PASSWORD_MAX);
		buf[n++] = c;
		c = 0;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*len = n;
	return 0;
}

static const int tty_signals[] = {SIGINT, SIGHUP, SIGQUIT, SIGTERM, SIGTSTP, SIGTTIN, SIGTTOU};
#define N_TTY_SIGNALS (sizeof tty_signals / sizeof tty_signals[0])

static int
read_tty(const char *prompt, char *buf, size_t cap, size_t *len)
{
	struct termios old, noecho;
	struct sigaction sa, saved[N_TTY_SIGNALS];
	size_t i;
	int fd, rc, sig;
	bool restore = false;

	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return laps_seterr(LAPS_ERR_PASSPHRASE,
				   "no terminal to ask for the passphrase (use --passphrase-fd)");
	/* Never leave the terminal without echo: catch the signals that would
	 * stop or end us, restore the terminal, then deliver them. */
	got_signal = 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: read() returns EINTR */
	for (i = 0; i < N_TTY_SIGNALS; i++)
		(void)sigaction(tty_signals[i], &sa, &saved[i]);
	if (tcgetattr(fd, &old) == 0) {
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
		noecho.c_lflag |= ICANON;
		if (tcsetattr(fd, TCSAFLUSH, &noecho) == 0)
			restore = true;
	}
	if (!restore) {
		rc = laps_seterr(LAPS_ERR_IO, "cannot turn off echo on the terminal");
		goto out;
	}
	if (write(fd, prompt, strlen(prompt)) < 0) {
		rc = laps_seterr(LAPS_ERR_IO, "cannot write to the terminal");
		goto out;
	}
	rc = read_line(fd, buf, cap, len, true);
	(void)!write(fd, "\n", 1);
out:
	if (restore)
		(void)tcsetattr(fd, TCSAFLUSH, &old);
	for (i = 0; i < N_TTY_SIGNALS; i++)
		(void)sigaction(tty_signals[i], &saved[i], NULL);
	close(fd);
	sig = got_signal;
	got_signal = 0;
	if (sig != 0) {
		laps_wipe(buf, cap);
		(void)raise(sig); /* with the original disposition */
		if (rc == 0)
			rc = laps_seterr(LAPS_ERR_PASSPHRASE, "interrupted");
	}
	return rc;
}

int
lg_read_passphrase(int fd, const char *prompt, char **out)
{
	char *buf;
	size_t len = 0;
	int rc;

	*out = NULL;
	buf = laps_secret_alloc(LAPS_PASSWORD_MAX + 2);
	if (buf == NULL)
		return LAPS_ERR_NOMEM;
	if (fd >= 0)
		rc = read_line(fd, buf, LAPS_PASSWORD_MAX + 2, &len, false);
	else
		rc = read_tty(prompt, buf, LAPS_PASSWORD_MAX + 2, &len);
	if (rc != 0)
		goto out;
	if (len == 0) {
		rc = laps_seterr(LAPS_ERR_PASSPHRASE, "empty passphrase");
		goto out;
	}
	*out = buf; /* success */
	buf = NULL;
out:
	laps_secret_free(buf);
	return rc;
}
