/*
 * fuzz_config.c — libFuzzer target for the configuration parser
 * (escrow/conf.c) with every program's sections.
 *
 * Parses arbitrary bytes as laps.conf for the agent, laps-get and pam_laps
 * and as laps-escrowd.conf; on success also runs each program's rules and
 * the name functions, then frees.  LeakSanitizer catches leaks on the error
 * paths.  Seed corpus: tests/fuzz/corpus/config/.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "agent/agent_conf.h"
#include "agent/agent_schema.h"
#include "backends/backend_conf.h"
#include "backends/ldap_conf.h"
#include "escrow/conf.h"
#include "escrow/err.h"
#include "laps-get/lapsget_conf.h"
#include "server/escrowd_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct laps_conf_schema pam_schema = {
    {laps_agent_sections}, NULL, LAPS_CONF_SKIP_UNKNOWN};

static int
one(const struct laps_conf_schema *schema, const uint8_t *data, size_t size)
{
	struct laps_conf cfg;
	int sink = 0;

	if (laps_conf_init(&cfg, schema) != 0)
		return 0;
	if (laps_conf_parse(&cfg, "fuzz.conf", (const char *)data, size) == 0) {
		if (schema == &laps_agent_schema) {
			sink += laps_agent_validate(&cfg);
			(void)laps_method_name(laps_agent_conf(&cfg)->method);
			(void)laps_hash_name(laps_agent_conf(&cfg)->hash);
			(void)laps_ldap_schema_name(laps_ldap_conf(&cfg)->schema);
			(void)laps_postauth_action_name(laps_postauth_conf(&cfg)->action);
		} else if (schema == &laps_get_schema) {
			sink += laps_backend_conf_validate(&cfg, LAPS_ROLE_ADMIN);
		} else if (schema == &laps_escrowd_schema) {
			sink += laps_escrowd_conf_validate(&cfg);
		} else {
			sink += laps_agent_conf_validate_accounts(&cfg);
		}
	}
	laps_conf_free(&cfg);
	return sink;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	volatile int sink = 0;

	sink += one(&laps_agent_schema, data, size);
	sink += one(&laps_get_schema, data, size);
	sink += one(&laps_escrowd_schema, data, size);
	sink += one(&pam_schema, data, size);
	(void)sink;
	return 0;
}
