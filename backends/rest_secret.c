/*
 * rest_secret.c — the REST backend's secret files (see rest_secret.h).
 */
#include "config.h"

#include <unistd.h>

#include "backends/rest_secret.h"
#include "escrow/err.h"
#include "escrow/fileio.h"

unsigned
rest_secret_flags(void)
{
	return LAPS_FILE_SECRET | (geteuid() == 0 ? LAPS_FILE_OWNER_ROOT : LAPS_FILE_OWNER_SELF);
}

int
rest_auth_read_secret(const char *path, const char *key, size_t max, char **out, size_t *len)
{
	size_t n;
	char *buf = NULL;
	int rc;

	if ((rc = laps_file_read(path, max, rest_secret_flags(), &buf, &n)) != 0)
		return laps_seterr_prefix(rc, "[rest] %s", key);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	if (n == 0) {
		laps_file_free(buf, n, rest_secret_flags());
		return laps_seterr(LAPS_ERR_CONFIG, "[rest] %s: %s is empty", key, path);
	}
	*out = buf; /* success: laps_secret memory */
	*len = n;
	return 0;
}
