/*
 * fuzz_ldap.c — libFuzzer target for the values the LDAP backend reads from
 * a directory: msLAPS-Password JSON, FILETIME (decimal and hex) and the
 * expiration tag encoding, and filter template expansion of a device name.
 */
#include "config.h"

#include <ldap.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "backends/ldap_backend.h"
#include "escrow/secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char acct[LAPS_ACCOUNT_MAX + 1], out[512], dev[LAPS_DEVICE_MAX + 1];
	char *pw = NULL;
	uint64_t ft = 0;
	int64_t exp;
	uint32_t tag;
	int pending;

	if (laps_crypto_init() != 0)
		return 0;
	if (laps_ldap_mslaps_parse((const char *)data, size, acct, &ft, &pw) == 0) {
		if (strlen(acct) > LAPS_ACCOUNT_MAX || pw == NULL)
			__builtin_trap();
		laps_secret_free(pw);
	}
	if (laps_filetime_parse_dec((const char *)data, size, &ft) == 0) {
		laps_ms_expiration_decode(ft, &exp, &tag, &pending);
		if (tag >= LAPS_MS_TAG_MOD * 2U || (pending != 0 && pending != 1))
			__builtin_trap();
	}
	(void)laps_filetime_parse_hex((const char *)data, size, &ft);
	if (size <= LAPS_DEVICE_MAX) {
		memcpy(dev, data, size);
		dev[size] = '\0';
		(void)laps_ldap_filter_expand("(|(cn=%h)(dNSHostName=%f))", dev, out, sizeof(out));
		(void)laps_ldap_filter_expand(dev, "host1.example.test", out, sizeof(out));
	}
	return 0;
}
