/*
 * fuzz_envelope.c — libFuzzer target for the envelope parser and opener.
 * The input is an envelope; it is listed (laps_seal_key_ids) and opened with
 * the test-vector key A of docs/FORMAT.md 2.7 and its binding, so seeds
 * sealed to that key reach the AEAD and the padding checks.
 * An input starting with "RT" is a round trip instead: the rest is
 * device NUL account NUL rotation id NUL password; it is sealed to key A
 * and must open to the same password under the same binding (and with the
 * device upper-cased), and must not open under a changed rotation time.
 * An input starting with "PT" reaches past the authentication: the rest is
 * the decrypted block itself (u16be length, password, zero padding: 258
 * bytes, zero-filled or cut to size), which the harness encrypts and seals
 * to key A under the fixed binding as docs/FORMAT.md 2 lays it out, so the
 * opener's checks of the decrypted block run on fuzzed bytes.  It must
 * open exactly when the block is well formed, to the password it holds.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "escrow/err.h"
#include "escrow/keys.h"
#include "escrow/seal.h"
#include "escrow/secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct laps_privkey key;
static const struct laps_seal_ad ad = {"host1.example.org", "admin",
				       "0123456789abcdef0123456789abcdef", 1767225600};

static int
init(void)
{
	size_t i;

	if (laps_crypto_init() != 0)
		abort();
	if ((key.sk = laps_secret_alloc(LAPS_X25519_BYTES)) == NULL)
		abort();
	for (i = 0; i < LAPS_X25519_BYTES; i++)
		key.sk[i] = (uint8_t)i;
	if (crypto_scalarmult_base(key.pk, key.sk) != 0)
		abort();
	laps_key_id(key.pk, key.id);
	return 1;
}

/* Next NUL-separated field of [*p, end) into a malloc'd string. */
static char *
field(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nul = memchr(*p, '\0', (size_t)(end - *p));
	size_t l = nul ? (size_t)(nul - *p) : (size_t)(end - *p);
	char *s = malloc(l + 1);

	if (s == NULL)
		abort();
	memcpy(s, *p, l);
	s[l] = '\0';
	*p += l + (nul != NULL);
	return s;
}

static void
round_trip(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	struct laps_pubkey pub;
	struct laps_seal_ad rad, bad;
	char *dev = field(&p, end), *acc = field(&p, end), *rot = field(&p, end);
	char *pw = NULL, *out = NULL, *up;
	size_t pwlen = (size_t)(end - p), outlen = 0, envlen = 0, i;
	uint8_t *env = NULL;
	int rc;

	if ((pw = malloc(pwlen + 1)) == NULL || (up = strdup(dev)) == NULL)
		abort();
	memcpy(pw, p, pwlen);
	pw[pwlen] = '\0';
	laps_pubkey_from_privkey(&pub, &key);
	rad.device = dev;
	rad.account = acc;
	rad.rotation_id = rot;
	rad.rotated_at = (int64_t)size * 1000003 - 500000;
	rc = laps_seal(&pub, 1, &rad, pw, pwlen, &env, &envlen);
	if (rc != 0) {
		if (rc != LAPS_ERR_INVALID || env != NULL)
			abort();
		goto out;
	}
	if (envlen != 392)
		abort();
	for (i = 0; up[i] != '\0'; i++)
		if (up[i] >= 'a' && up[i] <= 'z')
			up[i] = (char)(up[i] - 'a' + 'A');
	bad = rad;
	bad.device = up;
	if (laps_seal_open(&key, &bad, env, envlen, &out, &outlen) != 0 || outlen != pwlen ||
	    memcmp(out, pw, pwlen) != 0)
		abort();
	laps_secret_free(out);
	out = NULL;
	bad = rad;
	bad.rotated_at++;
	if (laps_seal_open(&key, &bad, env, envlen, &out, &outlen) != LAPS_ERR_CRYPTO)
		abort();
out:
	free(env);
	free(pw);
	free(up);
	free(dev);
	free(acc);
	free(rot);
}

/* FORMAT.md 2: "LAPS" 01 n=1 nonce[24] | key id[8] sealed-box(data key)[80]
 * | AEAD(block[258]) with ad = header | 01 | u16be+device | u16be+account
 * | u16be+rotation id | i64be rotated_at. */
#define PT_BLOCK 258
#define PT_HEADER (6 + 24 + 8 + 80)

static void
put16(uint8_t **p, const char *s)
{
	size_t l = strlen(s);

	*(*p)++ = (uint8_t)(l >> 8);
	*(*p)++ = (uint8_t)l;
	memcpy(*p, s, l);
	*p += l;
}

static void
plaintext(const uint8_t *data, size_t size)
{
	uint8_t env[PT_HEADER + PT_BLOCK + crypto_aead_xchacha20poly1305_ietf_ABYTES];
	uint8_t block[PT_BLOCK], dk[32], adb[PT_HEADER + 1 + 6 + 128 + 8], *p, h[32];
	uint64_t t = (uint64_t)ad.rotated_at;
	unsigned long long ctlen;
	size_t l, pwlen = 0;
	char *pw = NULL;
	bool good;
	int rc, i;

	memset(block, 0, sizeof block);
	memcpy(block, data, size < sizeof block ? size : sizeof block);
	memset(dk, 0x11, sizeof dk);
	memcpy(env, "LAPS\x01\x01", 6);
	memset(env + 6, 0x22, 24);
	crypto_generichash(h, sizeof h, key.pk, sizeof key.pk, NULL, 0);
	memcpy(env + 30, h, 8);
	if (crypto_box_seal(env + 38, dk, sizeof dk, key.pk) != 0)
		abort();
	memcpy(adb, env, PT_HEADER);
	p = adb + PT_HEADER;
	*p++ = 1;
	put16(&p, ad.device);
	put16(&p, ad.account);
	put16(&p, ad.rotation_id);
	for (i = 7; i >= 0; i--)
		*p++ = (uint8_t)(t >> (8 * i));
	crypto_aead_xchacha20poly1305_ietf_encrypt(env + PT_HEADER, &ctlen, block, sizeof block,
						   adb, (size_t)(p - adb), NULL, env + 6, dk);
	if (ctlen != sizeof env - PT_HEADER)
		abort();
	l = ((size_t)block[0] << 8) | block[1];
	good = l >= 1 && l <= 256 && memchr(block + 2, '\0', l) == NULL &&
	       sodium_is_zero(block + 2 + l, PT_BLOCK - 2 - l);
	rc = laps_seal_open(&key, &ad, env, sizeof env, &pw, &pwlen);
	if ((rc == 0) != good || (rc != 0 && rc != LAPS_ERR_FORMAT))
		abort();
	if (rc == 0) {
		if (pwlen != l || memcmp(pw, block + 2, l) != 0 || pw[l] != '\0')
			abort();
		laps_secret_free(pw);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	char ids[LAPS_MAX_RECIPIENTS][LAPS_KEYID_MAX + 1];
	uint8_t *copy;
	char *pw = NULL;
	size_t n = 0, pwlen = 0, i;
	int rc;

	if (!ready)
		ready = init();
	if (size >= 2 && data[0] == 'R' && data[1] == 'T') {
		round_trip(data + 2, size - 2);
		return 0;
	}
	if (size >= 2 && data[0] == 'P' && data[1] == 'T') {
		plaintext(data + 2, size - 2);
		return 0;
	}
	/* an exact-size heap copy so any over-read is caught */
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	if (size)
		memcpy(copy, data, size);
	rc = laps_seal_key_ids(copy, size, ids, LAPS_MAX_RECIPIENTS, &n);
	if (rc == 0) {
		if (n == 0 || n > LAPS_MAX_RECIPIENTS)
			abort();
		for (i = 0; i < n; i++)
			if (strlen(ids[i]) != LAPS_KEYID_MAX)
				abort();
	}
	rc = laps_seal_open(&key, &ad, copy, size, &pw, &pwlen);
	if (rc == 0) {
		if (pw == NULL || pwlen == 0 || pwlen > LAPS_PASSWORD_MAX || strlen(pw) != pwlen)
			abort();
		laps_secret_free(pw);
	} else if (rc != LAPS_ERR_FORMAT && rc != LAPS_ERR_VERSION && rc != LAPS_ERR_NOTRECIPIENT &&
		   rc != LAPS_ERR_CRYPTO) {
		abort();
	}
	free(copy);
	return 0;
}
