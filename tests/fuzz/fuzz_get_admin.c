/*
 * fuzz_get_admin.c — laps-get enroll-token and device: the printing of
 * laps-escrowd's answers (laps-get/enroll.c lg_admin_show), outside input.
 *
 * The first byte picks the command and --json; the rest is the answer.
 * Properties: no crash, no leak, no undefined behaviour; an answer that is
 * not the expected JSON is an error, never a crash.  Standard output goes
 * to /dev/null; run with -close_fd_mask=2 to silence the token notes on
 * standard error.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/err.h"
#include "laps-get/lapsget.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	struct lg_admin_opts o;
	char *answer;
	int rc;

	if (!quiet) {
		if (freopen("/dev/null", "w", stdout) == NULL)
			abort();
		quiet = true;
	}
	if (size < 1 || size > 65536 || (answer = malloc(size)) == NULL)
		return 0;
	memset(&o, 0, sizeof o);
	o.cmd = (enum lg_admin_cmd)(data[0] % (LG_DEVICE_REENROLL + 1));
	o.json = (data[0] & 0x80) != 0;
	o.operand = "lab-01";
	memcpy(answer, data + 1, size - 1);
	answer[size - 1] = '\0';
	rc = lg_admin_show(answer, size - 1, &o, "fuzz");
	if (rc != 0 && rc != LAPS_ERR_FORMAT && rc != LAPS_ERR_TOOBIG && rc != LAPS_ERR_NOMEM &&
	    rc != LAPS_ERR_IO)
		abort();
	free(answer);
	return 0;
}
