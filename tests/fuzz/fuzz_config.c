/*
 * fuzz_config.c — libFuzzer target for the laps.conf parser.
 *
 * Parses arbitrary bytes; on success also runs every validation purpose
 * and the name functions, then frees.  LeakSanitizer catches leaks on the
 * error paths.  Seed corpus: tests/fuzz/corpus/config/.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "escrow/conf.h"
#include "escrow/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct laps_config cfg;
	volatile int sink = 0;

	if (laps_config_init(&cfg) != 0)
		return 0;
	if (laps_config_parse(&cfg, "fuzz.conf", (const char *)data, size) == 0) {
		sink += laps_config_validate(&cfg, LAPS_USE_AGENT);
		sink += laps_config_validate(&cfg, LAPS_USE_GET);
		sink += laps_config_validate(&cfg, LAPS_USE_GET_GRAPH);
		sink += laps_config_validate(&cfg, LAPS_USE_PAM);
		(void)laps_method_name(cfg.method);
		(void)laps_hash_name(cfg.hash);
		(void)laps_ldap_schema_name(cfg.ldap_schema);
		(void)laps_postauth_action_name(cfg.postauth_action);
	}
	laps_config_free(&cfg);
	(void)sink;
	return 0;
}
