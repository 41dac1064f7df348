/*
 * fuzz_oidc.c — the OpenID Connect discovery document (server/jwt.c
 * jwt_discovery_parse()): the issuer must match exactly, the jwks_uri must
 * be https.  Properties: on success the jwks_uri starts with https:// and
 * the document names our issuer.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "escrow/err.h"
#include "server/jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *uri = NULL;

	if (jwt_discovery_parse((const char *)data, size, "https://issuer.test", &uri) == 0) {
		if (uri == NULL || strncasecmp(uri, "https://", 8) != 0)
			abort();
		free(uri);
	} else if (uri != NULL) {
		abort();
	}
	laps_clearerr();
	return 0;
}
