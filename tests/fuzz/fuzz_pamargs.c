/*
 * fuzz_pamargs.c — libFuzzer target for pam_laps' argument overrides.
 * Input: "ACCOUNTS\nSTATE_DIR" (either part may be missing), applied to a
 * default configuration as pam_laps does, then validated for the module.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_conf.h"
#include "escrow/conf.h"
#include "escrow/err.h"

/* laps.conf as pam_laps reads it (pam/pam_laps.c). */
static const struct laps_conf_schema schema = {{laps_agent_sections}, NULL, LAPS_CONF_SKIP_UNKNOWN};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct laps_conf cfg;
	char *buf, *nl;

	if (size > 4096 || (buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (laps_conf_init(&cfg, &schema) != 0) {
		free(buf);
		return 0;
	}
	nl = strchr(buf, '\n');
	if (nl != NULL)
		*nl = '\0';
	if (laps_agent_conf_set_accounts_csv(laps_agent_conf(&cfg), buf) == 0) {
		/* accepted names are as many as there were commas + 1 */
		size_t commas = 0;
		const char *p;
		for (p = buf; *p != '\0'; p++)
			commas += *p == ',';
		if (laps_agent_conf(&cfg)->n_accounts != commas + 1)
			abort();
	}
	if (nl != NULL)
		(void)laps_agent_conf_set_state_dir(laps_agent_conf(&cfg), nl + 1);
	(void)laps_agent_conf_validate_accounts(&cfg);
	laps_conf_free(&cfg);
	free(buf);
	return 0;
}
