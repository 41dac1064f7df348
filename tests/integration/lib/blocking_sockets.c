/*
 * blocking_sockets.c — an LD_PRELOAD shim for tests/integration/ldap_hostile.sh:
 * sockets stay blocking whatever the program asks (fcntl F_SETFL and ioctl
 * FIONBIO lose O_NONBLOCK on sockets).  It puts the LDAP client in the state a
 * fault run found it in once: the StartTLS answer read, then the TLS
 * handshake on a blocking socket while the server had stopped answering.
 * Test-only; never installed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

typedef int (*fcntl_fn)(int, int, ...);
typedef int (*ioctl_fn)(int, unsigned long, ...);

static int
is_socket(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

static int
setfl(const char *name, int fd, int cmd, va_list ap)
{
	fcntl_fn real = (fcntl_fn)dlsym(RTLD_NEXT, name);
	unsigned long arg = va_arg(ap, unsigned long);

	if (real == NULL)
		return -1;
	if (cmd == F_SETFL && is_socket(fd))
		arg &= ~(unsigned long)O_NONBLOCK;
	return real(fd, cmd, arg);
}

int fcntl(int fd, int cmd, ...);
int fcntl64(int fd, int cmd, ...);

int
fcntl(int fd, int cmd, ...)
{
	va_list ap;
	int rc;

	va_start(ap, cmd);
	rc = setfl("fcntl", fd, cmd, ap);
	va_end(ap);
	return rc;
}

int
fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	int rc;

	va_start(ap, cmd);
	rc = setfl("fcntl64", fd, cmd, ap);
	va_end(ap);
	return rc;
}

int ioctl(int fd, unsigned long req, ...);

int
ioctl(int fd, unsigned long req, ...)
{
	ioctl_fn real = (ioctl_fn)dlsym(RTLD_NEXT, "ioctl");
	va_list ap;
	void *arg;
	int zero = 0;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (real == NULL)
		return -1;
	if (req == FIONBIO && is_socket(fd))
		arg = &zero;
	return real(fd, req, arg);
}
