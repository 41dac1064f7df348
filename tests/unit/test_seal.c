/*
 * test_seal.c — the envelope: round trips, recipients, tampering, binding,
 * strict parsing and the test vector of docs/FORMAT.md section 2.7.
 */
#include "config.h"

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <CUnit/CUnit.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/err.h"
#include "escrow/keys.h"
#include "escrow/seal.h"
#include "escrow/secret.h"
#include "tests/unit/testutil.h"

#define PW "correct horse battery staple"

static struct laps_privkey keys[4]; /* keys[3] is never a recipient */
static struct laps_pubkey pubs[4];
static const struct laps_seal_ad AD = {"host1.example.org", "admin",
				       "0123456789abcdef0123456789abcdef", 1767225600};

static int
setup(void)
{
	size_t i;

	if (laps_crypto_init() != 0)
		return -1;
	for (i = 0; i < 4; i++) {
		if (laps_key_generate(&keys[i], "test") != 0)
			return -1;
		laps_pubkey_from_privkey(&pubs[i], &keys[i]);
	}
	return 0;
}

static int
teardown(void)
{
	size_t i;

	for (i = 0; i < 4; i++)
		laps_privkey_clear(&keys[i]);
	return 0;
}

/* Seal PW to pubs[0..n) with AD. */
static uint8_t *
seal_n(size_t n, size_t *len)
{
	uint8_t *env = NULL;

	CU_ASSERT_EQUAL_FATAL(laps_seal(pubs, n, &AD, PW, strlen(PW), &env, len), 0);
	return env;
}

static int
open_with(const struct laps_privkey *k, const struct laps_seal_ad *ad, const uint8_t *env,
	  size_t len, char **pw, size_t *pwlen)
{
	*pw = NULL;
	*pwlen = 0;
	return laps_seal_open(k, ad, env, len, pw, pwlen);
}

static void
test_roundtrip(void)
{
	uint8_t *env;
	size_t len, pwlen;
	char *pw;

	env = seal_n(1, &len);
	CU_ASSERT_EQUAL(len, 30 + 88 + 274);
	CU_ASSERT_EQUAL(memcmp(env, "LAPS\x01\x01", 6), 0);
	CU_ASSERT_PTR_NULL(memmem(env, len, PW, strlen(PW))); /* not in clear */
	CU_ASSERT_EQUAL(open_with(&keys[0], &AD, env, len, &pw, &pwlen), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pw);
	CU_ASSERT_EQUAL(pwlen, strlen(PW));
	CU_ASSERT_STRING_EQUAL(pw, PW);
	laps_secret_free(pw);
	free(env);
}

/* Every length gives the same envelope size (padding). */
static void
test_padding_hides_length(void)
{
	char pw[LAPS_PASSWORD_MAX + 1], *out;
	uint8_t *env;
	size_t len, l, outlen;

	memset(pw, 'x', sizeof pw);
	for (l = 1; l <= LAPS_PASSWORD_MAX; l += (l < 40 ? 1 : 37)) {
		pw[l - 1] = (char)('a' + l % 26);
		CU_ASSERT_EQUAL_FATAL(laps_seal(pubs, 2, &AD, pw, l, &env, &len), 0);
		CU_ASSERT_EQUAL(len, 30 + 2 * 88 + 274);
		CU_ASSERT_EQUAL(open_with(&keys[1], &AD, env, len, &out, &outlen), 0);
		CU_ASSERT_EQUAL(outlen, l);
		if (out != NULL) {
			CU_ASSERT_EQUAL(memcmp(out, pw, l), 0);
			CU_ASSERT_EQUAL(out[l], '\0');
		}
		laps_secret_free(out);
		free(env);
	}
	CU_ASSERT_EQUAL_FATAL(laps_seal(pubs, 1, &AD, pw, LAPS_PASSWORD_MAX, &env, &len), 0);
	CU_ASSERT_EQUAL(open_with(&keys[0], &AD, env, len, &out, &outlen), 0);
	CU_ASSERT_EQUAL(outlen, LAPS_PASSWORD_MAX);
	laps_secret_free(out);
	free(env);
}

static void
test_three_recipients(void)
{
	uint8_t *env;
	size_t len, pwlen, i;
	char *pw;

	env = seal_n(3, &len);
	for (i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(open_with(&keys[i], &AD, env, len, &pw, &pwlen), 0);
		CU_ASSERT_PTR_NOT_NULL(pw);
		if (pw != NULL)
			CU_ASSERT_STRING_EQUAL(pw, PW);
		laps_secret_free(pw);
	}
	free(env);
}

static void
test_not_recipient(void)
{
	uint8_t *env;
	size_t len, pwlen, i;
	char *pw;
	const char *d;

	env = seal_n(3, &len);
	CU_ASSERT_EQUAL(open_with(&keys[3], &AD, env, len, &pw, &pwlen), LAPS_ERR_NOTRECIPIENT);
	CU_ASSERT_PTR_NULL(pw);
	d = laps_errdetail();
	CU_ASSERT_PTR_NOT_NULL(strstr(d, "sealed to keys"));
	for (i = 0; i < 3; i++)
		CU_ASSERT_PTR_NOT_NULL(strstr(d, keys[i].id));
	CU_ASSERT_PTR_NOT_NULL(strstr(d, keys[3].id)); /* names the key tried too */
	free(env);
}

static void
test_key_ids(void)
{
	char ids[LAPS_MAX_RECIPIENTS][LAPS_KEYID_MAX + 1];
	uint8_t *env;
	size_t len, n = 99, i;

	env = seal_n(3, &len);
	CU_ASSERT_EQUAL(laps_seal_key_ids(env, len, ids, LAPS_MAX_RECIPIENTS, &n), 0);
	CU_ASSERT_EQUAL(n, 3);
	for (i = 0; i < 3; i++)
		CU_ASSERT_STRING_EQUAL(ids[i], keys[i].id);
	n = 99;
	CU_ASSERT_EQUAL(laps_seal_key_ids(env, len, ids, 2, &n), LAPS_ERR_TOOBIG);
	CU_ASSERT_EQUAL(n, 99);
	CU_ASSERT_EQUAL(laps_seal_key_ids(env, len - 1, ids, 4, &n), LAPS_ERR_FORMAT);
	free(env);
}

/* Flip each bit 0 and 7 of every byte: nothing opens, nothing crashes. */
static void
test_bitflip_everywhere(void)
{
	uint8_t *env;
	size_t len, pwlen, i, b, opener;
	char *pw;
	int rc, bad = 0;

	env = seal_n(3, &len);
	for (opener = 0; opener < 3; opener += 2) {
		for (i = 0; i < len; i++) {
			for (b = 0; b < 8; b += 7) {
				env[i] ^= (uint8_t)(1u << b);
				rc = open_with(&keys[opener], &AD, env, len, &pw, &pwlen);
				env[i] ^= (uint8_t)(1u << b);
				if (rc == 0 || pw != NULL ||
				    (rc != LAPS_ERR_FORMAT && rc != LAPS_ERR_VERSION &&
				     rc != LAPS_ERR_NOTRECIPIENT && rc != LAPS_ERR_CRYPTO)) {
					if (bad++ < 5)
						fprintf(stderr, "byte %zu bit %zu: rc %d\n", i, b,
							rc);
					laps_secret_free(pw);
				}
				/* header fields after the magic/version/count: crypto */
				if (i >= 6 && i < 30)
					CU_ASSERT_EQUAL(rc, LAPS_ERR_CRYPTO);
			}
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	/* the intact envelope still opens */
	CU_ASSERT_EQUAL(open_with(&keys[2], &AD, env, len, &pw, &pwlen), 0);
	laps_secret_free(pw);
	free(env);
}

/* Issue 16.3: an envelope taken out of host2's record and put into a
 * record that names host1 (or another account, rotation or time), as a
 * directory administrator could, does not open with that record's binding;
 * the whole record moved is caught by laps_backend_read (test_core). */
static void
test_moved_between_records(void)
{
	struct laps_record r2, r1;
	struct laps_seal_ad ad;
	size_t pwlen, i;
	char *pw;

	laps_record_init(&r2);
	laps_record_init(&r1);
	snprintf(r2.device, sizeof(r2.device), "host2.example.org");
	snprintf(r2.account, sizeof(r2.account), "admin");
	snprintf(r2.rotation_id, sizeof(r2.rotation_id), "%s", AD.rotation_id);
	r2.rotated_at = AD.rotated_at;
	laps_seal_ad_from_record(&ad, &r2);
	CU_ASSERT_EQUAL_FATAL(
	    laps_seal(pubs, 1, &ad, PW, strlen(PW), &r2.envelope, &r2.envelope_len), 0);
	CU_ASSERT_EQUAL(open_with(&keys[0], &ad, r2.envelope, r2.envelope_len, &pw, &pwlen), 0);
	laps_secret_free(pw);
	for (i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL_FATAL(laps_record_copy(&r1, &r2), 0);
		if (i == 0)
			snprintf(r1.device, sizeof(r1.device), "host1.example.org");
		else if (i == 1)
			snprintf(r1.account, sizeof(r1.account), "root");
		else if (i == 2)
			r1.rotation_id[0] = '1';
		else
			r1.rotated_at++;
		laps_seal_ad_from_record(&ad, &r1);
		CU_ASSERT_EQUAL(open_with(&keys[0], &ad, r1.envelope, r1.envelope_len, &pw, &pwlen),
				LAPS_ERR_CRYPTO);
		CU_ASSERT_PTR_NULL(pw);
	}
	laps_record_clear(&r1);
	laps_record_clear(&r2);
}

static void
test_binding(void)
{
	struct laps_seal_ad ad;
	uint8_t *env;
	size_t len, pwlen;
	char *pw;

	env = seal_n(2, &len);
	ad = AD;
	ad.device = "host2.example.org";
	CU_ASSERT_EQUAL(open_with(&keys[0], &ad, env, len, &pw, &pwlen), LAPS_ERR_CRYPTO);
	CU_ASSERT_PTR_NULL(pw);
	ad = AD;
	ad.account = "root";
	CU_ASSERT_EQUAL(open_with(&keys[0], &ad, env, len, &pw, &pwlen), LAPS_ERR_CRYPTO);
	ad = AD;
	ad.account = "Admin"; /* accounts are case-sensitive */
	CU_ASSERT_EQUAL(open_with(&keys[0], &ad, env, len, &pw, &pwlen), LAPS_ERR_CRYPTO);
	ad = AD;
	ad.rotation_id = "0123456789abcdef0123456789abcdee";
	CU_ASSERT_EQUAL(open_with(&keys[0], &ad, env, len, &pw, &pwlen), LAPS_ERR_CRYPTO);
	ad = AD;
	ad.rotated_at = AD.rotated_at + 1;
	CU_ASSERT_EQUAL(open_with(&keys[1], &ad, env, len, &pw, &pwlen), LAPS_ERR_CRYPTO);
	ad.rotated_at = -AD.rotated_at;
	CU_ASSERT_EQUAL(open_with(&keys[1], &ad, env, len, &pw, &pwlen), LAPS_ERR_CRYPTO);
	/* no shifting of bytes between fields: "host1.example.org"+"admin" vs
	 * "host1.example.orga"+"dmin" */
	ad = AD;
	ad.device = "host1.example.orga";
	ad.account = "dmin";
	CU_ASSERT_EQUAL(open_with(&keys[1], &ad, env, len, &pw, &pwlen), LAPS_ERR_CRYPTO);
	/* device names compare case-insensitively (ASCII) */
	ad = AD;
	ad.device = "HOST1.Example.ORG";
	CU_ASSERT_EQUAL(open_with(&keys[1], &ad, env, len, &pw, &pwlen), 0);
	if (pw != NULL)
		CU_ASSERT_STRING_EQUAL(pw, PW);
	laps_secret_free(pw);
	/* a binding that cannot be encoded */
	ad = AD;
	ad.device = "";
	CU_ASSERT_EQUAL(open_with(&keys[1], &ad, env, len, &pw, &pwlen), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(open_with(&keys[1], NULL, env, len, &pw, &pwlen), LAPS_ERR_INVALID);
	free(env);
}

static void
test_truncation_and_trailing(void)
{
	uint8_t *env, *big;
	size_t len, pwlen, l;
	char *pw;
	int rc;

	env = seal_n(2, &len);
	for (l = 0; l < len; l++) {
		/* a heap copy of exactly l bytes so ASan sees any over-read */
		uint8_t *t = malloc(l ? l : 1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(t);
		memcpy(t, env, l);
		rc = open_with(&keys[0], &AD, t, l, &pw, &pwlen);
		CU_ASSERT_EQUAL(rc, LAPS_ERR_FORMAT);
		CU_ASSERT_PTR_NULL(pw);
		free(t);
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "truncated"));
	CU_ASSERT_EQUAL(open_with(&keys[0], &AD, env, 3, &pw, &pwlen), LAPS_ERR_FORMAT);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "truncated"));
	big = calloc(1, LAPS_ENVELOPE_MAX + 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memcpy(big, env, len);
	CU_ASSERT_EQUAL(open_with(&keys[0], &AD, big, len + 1, &pw, &pwlen), LAPS_ERR_FORMAT);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "trailing"));
	CU_ASSERT_EQUAL(open_with(&keys[0], &AD, big, LAPS_ENVELOPE_MAX + 1, &pw, &pwlen),
			LAPS_ERR_FORMAT);
	free(big);
	free(env);
}

static void
test_header_errors(void)
{
	uint8_t *env;
	size_t len, pwlen;
	char *pw;

	env = seal_n(2, &len);
	env[0] = 'X';
	CU_ASSERT_EQUAL(open_with(&keys[0], &AD, env, len, &pw, &pwlen), LAPS_ERR_FORMAT);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "magic"));
	env[0] = 'L';
	env[4] = 2;
	CU_ASSERT_EQUAL(open_with(&keys[0], &AD, env, len, &pw, &pwlen), LAPS_ERR_VERSION);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "version 2"));
	env[4] = 0;
	CU_ASSERT_EQUAL(open_with(&keys[0], &AD, env, len, &pw, &pwlen), LAPS_ERR_VERSION);
	env[4] = 1;
	env[5] = 0;
	CU_ASSERT_EQUAL(open_with(&keys[0], &AD, env, len, &pw, &pwlen), LAPS_ERR_FORMAT);
	env[5] = LAPS_MAX_RECIPIENTS + 1;
	CU_ASSERT_EQUAL(open_with(&keys[0], &AD, env, len, &pw, &pwlen), LAPS_ERR_FORMAT);
	env[5] = 1; /* claims one recipient: the length no longer fits */
	CU_ASSERT_EQUAL(open_with(&keys[0], &AD, env, len, &pw, &pwlen), LAPS_ERR_FORMAT);
	env[5] = 2;
	/* duplicate key id: copy slot 0's id over slot 1's */
	memcpy(env + 30 + 88, env + 30, 8);
	CU_ASSERT_EQUAL(open_with(&keys[0], &AD, env, len, &pw, &pwlen), LAPS_ERR_FORMAT);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "same key id"));
	free(env);
}

static void
test_seal_invalid(void)
{
	struct laps_pubkey many[LAPS_MAX_RECIPIENTS + 1], dup[2];
	struct laps_privkey k;
	struct laps_seal_ad ad;
	uint8_t *env = NULL;
	size_t len = 0, i, pwlen;
	char pw[LAPS_PASSWORD_MAX + 2], *out;

	CU_ASSERT_EQUAL(laps_seal(pubs, 0, &AD, PW, strlen(PW), &env, &len), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(laps_seal(NULL, 1, &AD, PW, strlen(PW), &env, &len), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(laps_seal(pubs, 1, &AD, PW, 0, &env, &len), LAPS_ERR_INVALID);
	memset(pw, 'a', sizeof pw);
	CU_ASSERT_EQUAL(laps_seal(pubs, 1, &AD, pw, LAPS_PASSWORD_MAX + 1, &env, &len),
			LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(laps_seal(pubs, 1, &AD, "ab\0cd", 5, &env, &len), LAPS_ERR_INVALID);
	CU_ASSERT_EQUAL(laps_seal(pubs, 1, NULL, PW, strlen(PW), &env, &len), LAPS_ERR_INVALID);
	ad = AD;
	ad.account = NULL;
	CU_ASSERT_EQUAL(laps_seal(pubs, 1, &ad, PW, strlen(PW), &env, &len), LAPS_ERR_INVALID);
	ad = AD;
	ad.rotation_id = "";
	CU_ASSERT_EQUAL(laps_seal(pubs, 1, &ad, PW, strlen(PW), &env, &len), LAPS_ERR_INVALID);
	ad = AD;
	ad.account = "an-account-name-longer-than-32-bytes";
	CU_ASSERT_EQUAL(laps_seal(pubs, 1, &ad, PW, strlen(PW), &env, &len), LAPS_ERR_INVALID);
	dup[0] = pubs[1];
	dup[1] = pubs[1];
	CU_ASSERT_EQUAL(laps_seal(dup, 2, &AD, PW, strlen(PW), &env, &len), LAPS_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), pubs[1].id));
	/* a small-order public key (all zero) cannot be sealed to */
	memset(&dup[1], 0, sizeof dup[1]);
	laps_key_id(dup[1].pk, dup[1].id);
	CU_ASSERT_EQUAL(laps_seal(dup, 2, &AD, PW, strlen(PW), &env, &len), LAPS_ERR_INVALID);
	CU_ASSERT_PTR_NULL(env);

	/* the maximum number of recipients works; one more does not */
	for (i = 0; i < LAPS_MAX_RECIPIENTS; i++) {
		CU_ASSERT_EQUAL_FATAL(laps_key_generate(&k, NULL), 0);
		laps_pubkey_from_privkey(&many[i], &k);
		if (i + 1 < LAPS_MAX_RECIPIENTS)
			laps_privkey_clear(&k);
	}
	/* k is the last (32nd) recipient */
	CU_ASSERT_EQUAL_FATAL(laps_seal(many, LAPS_MAX_RECIPIENTS, &AD, PW, strlen(PW), &env, &len),
			      0);
	CU_ASSERT_EQUAL(len, 30 + LAPS_MAX_RECIPIENTS * 88 + 274);
	CU_ASSERT(len <= LAPS_ENVELOPE_MAX);
	CU_ASSERT_EQUAL(open_with(&k, &AD, env, len, &out, &pwlen), 0);
	laps_secret_free(out);
	free(env);
	env = NULL;
	many[LAPS_MAX_RECIPIENTS] = pubs[0];
	CU_ASSERT_EQUAL(laps_seal(many, LAPS_MAX_RECIPIENTS + 1, &AD, PW, strlen(PW), &env, &len),
			LAPS_ERR_INVALID);
	CU_ASSERT_PTR_NULL(env);
	laps_privkey_clear(&k);
}

static void
test_ad_from_record(void)
{
	struct laps_record r;
	struct laps_seal_ad ad;

	memset(&r, 0, sizeof r);
	snprintf(r.device, sizeof r.device, "%s", "ws1");
	snprintf(r.account, sizeof r.account, "%s", "root");
	snprintf(r.rotation_id, sizeof r.rotation_id, "%s", "ffffffffffffffffffffffffffffffff");
	r.rotated_at = 42;
	laps_seal_ad_from_record(&ad, &r);
	CU_ASSERT_PTR_EQUAL(ad.device, r.device);
	CU_ASSERT_PTR_EQUAL(ad.account, r.account);
	CU_ASSERT_PTR_EQUAL(ad.rotation_id, r.rotation_id);
	CU_ASSERT_EQUAL(ad.rotated_at, 42);
}

/* ---- the test vector of docs/FORMAT.md section 2.7 ---- */

static const char VEC_ENV_HEX[] =
    "4c4150530102606162636465666768696a6b6c6d6e6f707172737475767757addcd56cefb426493e82fc"
    "74464a59268817623d2053c5eb8e2cc4a988b4fee179ec6b010d531d1d16e6a62c54cd1f5b4d76d4849f"
    "e176eb47ee21522333186556be0c5a7631cc3a03ceb3c471a4ca3e1da0c787e47164f6a420b14a2d8975"
    "605a725d2a4adfeeb1a29e17edd621c1b7593ee8cdbc44ac6c4ab6e2f805d23c8d633fc229fef2f5c248"
    "bc5a525649249efc9ea52ffa489301ef405acfca51a15e8df635134c5c2cd95bcffae8749cf59562900a"
    "0160864889935f1528b1b8cb9e46ddc298139f67921b9abafb355f02be06002e52b27d3d72f3c2dba553"
    "5a4f4ea8c90d65ff6fdf52e2858e2c45866ad478b46b3d185f0435488ae9cb796d0178b98d5482f9ea65"
    "ca0b3e608a00ac651284ffbe71499b01181393db42896681045505722a6aebdea5d82270a0db065e056c"
    "840129be3f6d4b4b1586e492af514abd108642c1b110200392a1a7fa1af3aaec0ce31d632255229d8cb4"
    "07e734e5f377ea7851466815167372589563ef2c8ea06955daadd9cbf1b2d8d73ae63fc4c0b11398e62f"
    "e1538991cd583d5768adfd95e6f679709004869bce2c459e57d1a1df0661d23c6e22ce740a59deb53032"
    "9fee728e1289dc06473c832db2241086cb35";

/* Secret key with bytes start, start+1, ... start+31 (as in FORMAT.md). */
static void
vec_key(struct laps_privkey *k, uint8_t start)
{
	size_t i;

	memset(k, 0, sizeof *k);
	k->sk = laps_secret_alloc(LAPS_X25519_BYTES);
	CU_ASSERT_PTR_NOT_NULL_FATAL(k->sk);
	for (i = 0; i < LAPS_X25519_BYTES; i++)
		k->sk[i] = (uint8_t)(start + i);
	CU_ASSERT_EQUAL_FATAL(crypto_scalarmult_base(k->pk, k->sk), 0);
	laps_key_id(k->pk, k->id);
}

static void
vec_inputs(uint8_t dk[32], uint8_t nonce[24], uint8_t esk[64])
{
	size_t i;

	for (i = 0; i < 32; i++)
		dk[i] = (uint8_t)(0x40 + i);
	for (i = 0; i < 24; i++)
		nonce[i] = (uint8_t)(0x60 + i);
	for (i = 0; i < 64; i++)
		esk[i] = (uint8_t)(0x80 + i);
}

static void
test_vector_envelope(void)
{
	struct laps_privkey a, b;
	struct laps_pubkey r[2];
	uint8_t dk[32], nonce[24], esk[64], *env = NULL;
	size_t len = 0, pwlen;
	char hex[2 * 600 + 1], *pw;

	vec_key(&a, 0x00);
	vec_key(&b, 0x20);
	CU_ASSERT_STRING_EQUAL(a.id, "57addcd56cefb426");
	CU_ASSERT_STRING_EQUAL(b.id, "f6a420b14a2d8975");
	laps_pubkey_from_privkey(&r[0], &a);
	laps_pubkey_from_privkey(&r[1], &b);
	vec_inputs(dk, nonce, esk);
	CU_ASSERT_EQUAL_FATAL(
	    laps_seal_explicit(r, 2, &AD, PW, strlen(PW), dk, nonce, esk, &env, &len), 0);
	CU_ASSERT_EQUAL_FATAL(len, 480);
	sodium_bin2hex(hex, sizeof hex, env, len);
	CU_ASSERT_STRING_EQUAL(hex, VEC_ENV_HEX);
	free(env);

	/* the documented bytes open with each documented secret key ... */
	env = malloc(480);
	CU_ASSERT_PTR_NOT_NULL_FATAL(env);
	CU_ASSERT_EQUAL_FATAL(
	    sodium_hex2bin(env, 480, VEC_ENV_HEX, strlen(VEC_ENV_HEX), NULL, &len, NULL), 0);
	CU_ASSERT_EQUAL(open_with(&a, &AD, env, len, &pw, &pwlen), 0);
	if (pw != NULL)
		CU_ASSERT_STRING_EQUAL(pw, PW);
	laps_secret_free(pw);
	CU_ASSERT_EQUAL(open_with(&b, &AD, env, len, &pw, &pwlen), 0);
	if (pw != NULL)
		CU_ASSERT_STRING_EQUAL(pw, PW);
	laps_secret_free(pw);
	/* ... and the wrapped data key is a plain libsodium sealed box */
	CU_ASSERT_EQUAL(crypto_box_seal_open(dk, env + 30 + 8, 80, b.pk, b.sk), -1);
	CU_ASSERT_EQUAL(crypto_box_seal_open(dk, env + 30 + 88 + 8, 80, b.pk, b.sk), 0);
	CU_ASSERT_EQUAL(dk[0], 0x40);
	CU_ASSERT_EQUAL(dk[31], 0x5f);
	free(env);
	laps_privkey_clear(&a);
	laps_privkey_clear(&b);
}

/* laps_seal consumes randomness in the documented order. */
static void
test_vector_random_order(void)
{
	uint8_t rnd[32 + 24 + 3 * 32], *e1 = NULL, *e2 = NULL;
	size_t l1 = 0, l2 = 0;

	laps_test_random_reseed(77);
	randombytes_buf(rnd, sizeof rnd);
	laps_test_random_reseed(77);
	CU_ASSERT_EQUAL_FATAL(laps_seal(pubs, 3, &AD, PW, strlen(PW), &e1, &l1), 0);
	CU_ASSERT_EQUAL_FATAL(
	    laps_seal_explicit(pubs, 3, &AD, PW, strlen(PW), rnd, rnd + 32, rnd + 56, &e2, &l2), 0);
	CU_ASSERT_EQUAL(l1, l2);
	CU_ASSERT_EQUAL(memcmp(e1, e2, l1), 0);
	free(e1);
	free(e2);
}

/* The vector printed in docs/FORMAT.md is the one checked above. */
static void
test_vector_in_doc(void)
{
	FILE *f = fopen(laps_test_srcpath("docs/FORMAT.md"), "r");
	char line[512], *hex = NULL;
	size_t cap = 4096, len = 0, i;
	int in = 0;

	if (f == NULL) {
		CU_FAIL("docs/FORMAT.md not found (top_srcdir)");
		return;
	}
	hex = calloc(1, cap);
	CU_ASSERT_PTR_NOT_NULL_FATAL(hex);
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "<!-- vector:envelope-hex:begin -->", 34) == 0) {
			in = 1;
			continue;
		}
		if (strncmp(line, "<!-- vector:envelope-hex:end -->", 32) == 0)
			break;
		if (!in)
			continue;
		for (i = 0; line[i] != '\0'; i++)
			if (((line[i] >= '0' && line[i] <= '9') ||
			     (line[i] >= 'a' && line[i] <= 'f')) &&
			    len + 1 < cap)
				hex[len++] = line[i];
	}
	fclose(f);
	CU_ASSERT_STRING_EQUAL(hex, VEC_ENV_HEX);
	free(hex);
}

/* FORMAT.md 1.4: the version 2 record vector carries the envelope of 2.7,
 * its key_ids are the slots' ids in slot order, and it opens with the
 * binding taken from the record itself. */
static void
test_vector_record_v2(void)
{
	char ids[LAPS_MAX_RECIPIENTS][LAPS_KEYID_MAX + 1], *buf, *pw = NULL;
	struct laps_privkey a, b;
	struct laps_record r;
	struct laps_seal_ad ad;
	size_t n = 0, i, len, pwlen;
	FILE *f;

	laps_record_init(&r);
	buf = malloc(8192);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	f = fopen(laps_test_srcpath("tests/data/records/good/canonical-v2.json"), "rb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	len = fread(buf, 1, 8191, f);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(laps_record_parse(buf, len, &r), 0);
	free(buf);
	CU_ASSERT_EQUAL(r.seq, 42);
	CU_ASSERT_EQUAL_FATAL(laps_seal_key_ids(r.envelope, r.envelope_len, ids, 32, &n), 0);
	CU_ASSERT_EQUAL_FATAL(n, r.n_key_ids);
	for (i = 0; i < n; i++)
		CU_ASSERT_STRING_EQUAL(ids[i], r.key_ids[i]);
	vec_key(&a, 0x00);
	vec_key(&b, 0x20);
	laps_seal_ad_from_record(&ad, &r);
	CU_ASSERT_EQUAL(open_with(&a, &ad, r.envelope, r.envelope_len, &pw, &pwlen), 0);
	if (pw != NULL)
		CU_ASSERT_STRING_EQUAL(pw, PW);
	laps_secret_free(pw);
	CU_ASSERT_EQUAL(open_with(&b, &ad, r.envelope, r.envelope_len, &pw, &pwlen), 0);
	laps_secret_free(pw);
	/* the seq is not part of the binding (the envelope of 2.7 predates it) */
	r.seq = 43;
	laps_seal_ad_from_record(&ad, &r);
	CU_ASSERT_EQUAL(open_with(&a, &ad, r.envelope, r.envelope_len, &pw, &pwlen), 0);
	laps_secret_free(pw);
	laps_privkey_clear(&a);
	laps_privkey_clear(&b);
	laps_record_clear(&r);
}

static CU_TestInfo seal_tests[] = {
    {"round trip", test_roundtrip},
    {"padding hides the length", test_padding_hides_length},
    {"three recipients each open", test_three_recipients},
    {"non-recipient names key ids", test_not_recipient},
    {"key ids without opening", test_key_ids},
    {"a flipped bit anywhere fails", test_bitflip_everywhere},
    {"device/account/rotation binding", test_binding},
    {"envelope moved between records", test_moved_between_records},
    {"truncation and trailing bytes", test_truncation_and_trailing},
    {"header errors", test_header_errors},
    {"invalid seal arguments and caps", test_seal_invalid},
    {"ad from record", test_ad_from_record},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo vector_tests[] = {
    {"envelope vector byte for byte and opens", test_vector_envelope},
    {"randomness consumed in documented order", test_vector_random_order},
    {"FORMAT.md shows the same vector", test_vector_in_doc},
    {"record v2 vector", test_vector_record_v2},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"seal", setup, teardown, NULL, NULL, seal_tests},
    {"vectors", setup, teardown, NULL, NULL, vector_tests},
    CU_SUITE_INFO_NULL,
};

int
main(int argc, char **argv)
{
	laps_test_random_deterministic(20261122);
	return laps_test_main(argc, argv, suites);
}
