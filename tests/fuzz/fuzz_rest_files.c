/*
 * fuzz_rest_files.c — the REST backend's credential files: the client
 * secret file ([rest] client_secret_file, rest_auth_read_secret(): read
 * through the real file checks from a 0600 file) and the device flow's
 * token cache (rest_auth_cache_check(), the parser laps-get runs on
 * ~/.cache/laps/token-*.json).
 *
 * Input: byte 0 picks which; the rest is the file.  Properties: a secret
 * read is non-empty, has no trailing white space and is no longer than
 * the file; a cache without a usable access token is refused.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/rest_auth.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *secret = NULL;
	size_t len = 0;
	int64_t exp;
	bool refresh;

	if (path[0] == '\0') {
		char dir[64];

		snprintf(dir, sizeof dir, "%s/fuzz_rest_files.XXXXXX",
			 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(path, sizeof path, "%s/secret", dir);
	}
	if (size < 1 || size > 70000)
		return 0;
	if (data[0] & 1) {
		(void)!rest_auth_cache_check((const char *)data + 1, size - 1, &exp, &refresh);
	} else {
		if (laps_file_write_atomic(path, data + 1, size - 1, 0600) != 0)
			abort();
		if (rest_auth_read_secret(path, "client_secret_file", 4096, &secret, &len) == 0) {
			if (len == 0 || len > size - 1 || strlen(secret) > len ||
			    secret[len - 1] == '\n' || secret[len - 1] == ' ' ||
			    secret[len - 1] == '\r')
				abort();
			laps_file_free(secret, len, LAPS_FILE_SECRET);
		}
	}
	laps_clearerr();
	return 0;
}
