/*
 * fuzz_enroll_token.c — the enrollment token of an Authorization header
 * (server/enroll_api.c enroll_token_of(): "Bearer TOKEN" or "Basic"
 * base64(USER:TOKEN), RFC 7030 §3.2.3).
 *
 * Properties: when a token is found it is NUL-terminated, at most
 * ENROLL_TOKEN_MAX bytes, starts with the prefix, carries 16 lower-case
 * hex digits and a '.'; when none is found the output is empty.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/enroll_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char tok[ENROLL_TOKEN_MAX + 1], *hdr;
	size_t p = sizeof ENROLL_TOKEN_PREFIX - 1, i;

	if (size > 4096 || (hdr = malloc(size + 1)) == NULL)
		return 0;
	memcpy(hdr, data, size);
	hdr[size] = '\0';
	if (enroll_token_of(hdr, tok)) {
		if (strlen(tok) > ENROLL_TOKEN_MAX || strncmp(tok, ENROLL_TOKEN_PREFIX, p) != 0 ||
		    tok[p + ENROLL_ID_HEX] != '.')
			abort();
		for (i = 0; i < ENROLL_ID_HEX; i++)
			if (strchr("0123456789abcdef", tok[p + i]) == NULL)
				abort();
	} else if (tok[0] != '\0') {
		abort();
	}
	free(hdr);
	return 0;
}
