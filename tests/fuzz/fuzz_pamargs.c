/*
 * fuzz_pamargs.c — libFuzzer target for pam_laps' argument overrides.
 * Input: "ACCOUNTS\nSTATE_DIR" (either part may be missing), applied to a
 * default configuration as pam_laps does, then validated for the module.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/conf.h"
#include "escrow/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct laps_config cfg;
	char *buf, *nl;

	if (size > 4096 || (buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (laps_config_init(&cfg) != 0) {
		free(buf);
		return 0;
	}
	nl = strchr(buf, '\n');
	if (nl != NULL)
		*nl = '\0';
	if (laps_config_set_accounts_csv(&cfg, buf) == 0) {
		/* accepted names are as many as there were commas + 1 */
		size_t commas = 0;
		const char *p;
		for (p = buf; *p != '\0'; p++)
			commas += *p == ',';
		if (cfg.n_accounts != commas + 1)
			abort();
	}
	if (nl != NULL)
		(void)laps_config_set_state_dir(&cfg, nl + 1);
	(void)laps_config_validate(&cfg, LAPS_USE_PAM);
	laps_config_free(&cfg);
	free(buf);
	return 0;
}
