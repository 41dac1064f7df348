/*
 * seal.c — the envelope (docs/FORMAT.md section 2).
 *
 *   "LAPS" | version 0x01 | n | nonce[24] | n * (key id[8] | sealed box[80])
 *   | XChaCha20-Poly1305(padded password)[258 + 16]
 *
 * The AEAD's associated data is the whole header (everything before the
 * ciphertext) followed by the binding (version, device, account, rotation id,
 * rotation time), so any change to any byte of the envelope, or opening it
 * for another device/account/rotation, fails authentication.
 */
#include "config.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/err.h"
#include "escrow/keys.h"
#include "escrow/seal.h"
#include "escrow/secret.h"

#define SEAL_MAGIC "LAPS"
#define SEAL_MAGIC_LEN 4
#define SEAL_OFF_VERSION 4
#define SEAL_OFF_COUNT 5
#define SEAL_OFF_NONCE 6
#define SEAL_OFF_SLOTS (SEAL_OFF_NONCE + LAPS_SEAL_NONCE_BYTES) /* 30 */
#define SEAL_KEYID_BYTES 8
#define SEAL_WRAP_BYTES (crypto_box_SEALBYTES + LAPS_SEAL_KEY_BYTES) /* 80 */
#define SEAL_SLOT_BYTES (SEAL_KEYID_BYTES + SEAL_WRAP_BYTES)	     /* 88 */
#define SEAL_PW_MAX 256						     /* format constant */
#define SEAL_PAD_BYTES (2 + SEAL_PW_MAX)			     /* 258 */
#define SEAL_CT_BYTES (SEAL_PAD_BYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES) /* 274 */

/* Binding limits (bytes). */
#define SEAL_DEVICE_MAX LAPS_DEVICE_MAX
#define SEAL_ACCOUNT_MAX LAPS_ACCOUNT_MAX
#define SEAL_ROTID_MAX 64

_Static_assert(LAPS_PASSWORD_MAX <= SEAL_PW_MAX, "passwords must fit the v1 padding");
_Static_assert(SEAL_WRAP_BYTES == 80, "sealed box of a 32-byte key");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == LAPS_SEAL_NONCE_BYTES, "nonce size");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == LAPS_SEAL_KEY_BYTES, "key size");
_Static_assert(crypto_box_PUBLICKEYBYTES == LAPS_X25519_BYTES, "X25519 size");
_Static_assert(crypto_box_SECRETKEYBYTES == LAPS_X25519_BYTES, "X25519 size");
_Static_assert(SEAL_OFF_SLOTS + LAPS_MAX_RECIPIENTS * SEAL_SLOT_BYTES + SEAL_CT_BYTES <=
		   LAPS_ENVELOPE_MAX,
	       "largest envelope fits LAPS_ENVELOPE_MAX");

/* A parsed (not yet authenticated) envelope; pointers into the input. */
struct seal_view {
	size_t n;
	const uint8_t *nonce;
	const uint8_t *slots; /* n * SEAL_SLOT_BYTES */
	const uint8_t *ct;    /* SEAL_CT_BYTES */
	size_t header_len;    /* bytes before ct */
};

static size_t
seal_size(size_t n)
{
	return SEAL_OFF_SLOTS + n * SEAL_SLOT_BYTES + SEAL_CT_BYTES;
}

static void
keyid_hex(const uint8_t raw[SEAL_KEYID_BYTES], char id[LAPS_KEYID_MAX + 1])
{
	sodium_bin2hex(id, LAPS_KEYID_MAX + 1, raw, SEAL_KEYID_BYTES);
}

static void
keyid_raw(const uint8_t pk[LAPS_X25519_BYTES], uint8_t raw[SEAL_KEYID_BYTES])
{
	uint8_t h[crypto_generichash_BYTES];

	crypto_generichash(h, sizeof h, pk, LAPS_X25519_BYTES, NULL, 0);
	memcpy(raw, h, SEAL_KEYID_BYTES);
}

/* Strict structural parse: sizes, magic, version, count, duplicate ids. */
static int
seal_parse(const uint8_t *env, size_t envlen, struct seal_view *v)
{
	size_t n, i, j;

	if (env == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "envelope: NULL");
	if (envlen > LAPS_ENVELOPE_MAX)
		return laps_seterr(LAPS_ERR_FORMAT, "envelope: %zu bytes exceeds the maximum %d",
				   envlen, LAPS_ENVELOPE_MAX);
	if (memcmp(env, SEAL_MAGIC, envlen < SEAL_MAGIC_LEN ? envlen : SEAL_MAGIC_LEN) != 0)
		return laps_seterr(LAPS_ERR_FORMAT, "envelope: bad magic (not a laps envelope)");
	if (envlen <= SEAL_OFF_VERSION)
		return laps_seterr(LAPS_ERR_FORMAT, "envelope: truncated (%zu bytes)", envlen);
	if (env[SEAL_OFF_VERSION] != LAPS_SEAL_VERSION)
		return laps_seterr(LAPS_ERR_VERSION,
				   "envelope: unsupported version %u (expected %d)",
				   env[SEAL_OFF_VERSION], LAPS_SEAL_VERSION);
	if (envlen <= SEAL_OFF_COUNT)
		return laps_seterr(LAPS_ERR_FORMAT, "envelope: truncated (%zu bytes)", envlen);
	n = env[SEAL_OFF_COUNT];
	if (n == 0 || n > LAPS_MAX_RECIPIENTS)
		return laps_seterr(LAPS_ERR_FORMAT, "envelope: recipient count %zu not in 1..%d", n,
				   LAPS_MAX_RECIPIENTS);
	if (envlen < seal_size(n))
		return laps_seterr(
		    LAPS_ERR_FORMAT,
		    "envelope: truncated (%zu bytes, %zu expected for %zu recipients)", envlen,
		    seal_size(n), n);
	if (envlen > seal_size(n))
		return laps_seterr(
		    LAPS_ERR_FORMAT,
		    "envelope: %zu trailing bytes after %zu expected for %zu recipients",
		    envlen - seal_size(n), seal_size(n), n);
	v->n = n;
	v->nonce = env + SEAL_OFF_NONCE;
	v->slots = env + SEAL_OFF_SLOTS;
	v->header_len = SEAL_OFF_SLOTS + n * SEAL_SLOT_BYTES;
	v->ct = env + v->header_len;
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (memcmp(v->slots + i * SEAL_SLOT_BYTES, v->slots + j * SEAL_SLOT_BYTES,
				   SEAL_KEYID_BYTES) == 0)
				return laps_seterr(
				    LAPS_ERR_FORMAT,
				    "envelope: recipient %zu and %zu have the same key id", i + 1,
				    j + 1);
	return 0;
}

static int
check_str(const char *what, const char *s, size_t max, size_t *len)
{
	size_t l;

	if (s == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "seal binding: %s missing", what);
	l = strlen(s);
	if (l == 0 || l > max)
		return laps_seterr(LAPS_ERR_INVALID, "seal binding: %s length %zu not in 1..%zu",
				   what, l, max);
	*len = l;
	return 0;
}

static uint8_t *
put_str(uint8_t *p, const char *s, size_t len, bool lower)
{
	size_t i;

	*p++ = (uint8_t)(len >> 8);
	*p++ = (uint8_t)len;
	for (i = 0; i < len; i++) {
		uint8_t c = (uint8_t)s[i];
		if (lower && c >= 'A' && c <= 'Z')
			c = (uint8_t)(c - 'A' + 'a');
		*p++ = c;
	}
	return p;
}

/*
 * Associated data: header bytes, then 0x01, then u16be-length-prefixed device
 * (ASCII lower-cased), account and rotation id, then rotated_at as int64 big
 * endian.  *out is malloc'd.
 */
static int
build_ad(const uint8_t *header, size_t header_len, const struct laps_seal_ad *ad, uint8_t **out,
	 size_t *outlen)
{
	size_t dl, al, rl, len;
	uint64_t t;
	uint8_t *buf, *p;
	int rc, i;

	if (ad == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "seal binding: missing");
	if ((rc = check_str("device", ad->device, SEAL_DEVICE_MAX, &dl)) != 0 ||
	    (rc = check_str("account", ad->account, SEAL_ACCOUNT_MAX, &al)) != 0 ||
	    (rc = check_str("rotation id", ad->rotation_id, SEAL_ROTID_MAX, &rl)) != 0)
		return rc;
	len = header_len + 1 + 2 + dl + 2 + al + 2 + rl + 8;
	if ((buf = malloc(len)) == NULL)
		return LAPS_ERR_NOMEM;
	memcpy(buf, header, header_len);
	p = buf + header_len;
	*p++ = LAPS_SEAL_VERSION;
	p = put_str(p, ad->device, dl, true);
	p = put_str(p, ad->account, al, false);
	p = put_str(p, ad->rotation_id, rl, false);
	t = (uint64_t)ad->rotated_at;
	for (i = 7; i >= 0; i--)
		*p++ = (uint8_t)(t >> (8 * i));
	*out = buf;
	*outlen = len;
	return 0;
}

/*
 * The sealed box of libsodium's crypto_box_seal() with a given ephemeral
 * secret key: epk | crypto_box_easy(m, blake2b-192(epk | pk), pk, esk).
 */
static int
box_seal_with(uint8_t out[SEAL_WRAP_BYTES], const uint8_t m[LAPS_SEAL_KEY_BYTES],
	      const uint8_t pk[LAPS_X25519_BYTES], const uint8_t esk[LAPS_X25519_BYTES])
{
	uint8_t nonce[crypto_box_NONCEBYTES];
	crypto_generichash_state st;
	int rc = LAPS_ERR_INVALID;

	if (crypto_scalarmult_base(out, esk) != 0)
		goto out;
	crypto_generichash_init(&st, NULL, 0, sizeof nonce);
	crypto_generichash_update(&st, out, crypto_box_PUBLICKEYBYTES);
	crypto_generichash_update(&st, pk, crypto_box_PUBLICKEYBYTES);
	crypto_generichash_final(&st, nonce, sizeof nonce);
	if (crypto_box_easy(out + crypto_box_PUBLICKEYBYTES, m, LAPS_SEAL_KEY_BYTES, nonce, pk,
			    esk) != 0)
		goto out;
	rc = 0;
out:
	laps_wipe(&st, sizeof st);
	return rc;
}

int
laps_seal_explicit(const struct laps_pubkey *recipients, size_t n, const struct laps_seal_ad *ad,
		   const char *password, size_t pwlen, const uint8_t *data_key,
		   const uint8_t *nonce, const uint8_t *eph_sk, uint8_t **env, size_t *envlen)
{
	uint8_t *buf = NULL, *ad_buf = NULL, *pad = NULL, *slot;
	size_t len = 0, ad_len = 0, i, j;
	unsigned long long ctlen;
	char id[LAPS_KEYID_MAX + 1];
	int rc = LAPS_ERR_INTERNAL;

	if (env == NULL || envlen == NULL || data_key == NULL || nonce == NULL || eph_sk == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "seal: NULL argument");
	if (recipients == NULL || n == 0)
		return laps_seterr(LAPS_ERR_INVALID, "seal: no recipients");
	if (n > LAPS_MAX_RECIPIENTS)
		return laps_seterr(LAPS_ERR_INVALID, "seal: %zu recipients (at most %d)", n,
				   LAPS_MAX_RECIPIENTS);
	if (password == NULL || pwlen == 0 || pwlen > LAPS_PASSWORD_MAX)
		return laps_seterr(LAPS_ERR_INVALID, "seal: password length %zu not in 1..%d",
				   password == NULL ? 0 : pwlen, LAPS_PASSWORD_MAX);
	if (memchr(password, '\0', pwlen) != NULL)
		return laps_seterr(LAPS_ERR_INVALID, "seal: password contains a NUL byte");
	if (laps_crypto_init() != 0)
		return laps_seterr(LAPS_ERR_INTERNAL, "seal: libsodium initialisation failed");

	len = seal_size(n);
	if ((buf = malloc(len)) == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	memcpy(buf, SEAL_MAGIC, SEAL_MAGIC_LEN);
	buf[SEAL_OFF_VERSION] = LAPS_SEAL_VERSION;
	buf[SEAL_OFF_COUNT] = (uint8_t)n;
	memcpy(buf + SEAL_OFF_NONCE, nonce, LAPS_SEAL_NONCE_BYTES);
	for (i = 0; i < n; i++) {
		slot = buf + SEAL_OFF_SLOTS + i * SEAL_SLOT_BYTES;
		keyid_raw(recipients[i].pk, slot);
		for (j = 0; j < i; j++) {
			if (memcmp(buf + SEAL_OFF_SLOTS + j * SEAL_SLOT_BYTES, slot,
				   SEAL_KEYID_BYTES) == 0) {
				keyid_hex(slot, id);
				rc = laps_seterr(LAPS_ERR_INVALID, "seal: key %s given twice", id);
				goto out;
			}
		}
		if (box_seal_with(slot + SEAL_KEYID_BYTES, data_key, recipients[i].pk,
				  eph_sk + i * LAPS_X25519_BYTES) != 0) {
			keyid_hex(slot, id);
			rc = laps_seterr(LAPS_ERR_INVALID, "seal: unusable public key %s", id);
			goto out;
		}
	}
	if ((rc = build_ad(buf, SEAL_OFF_SLOTS + n * SEAL_SLOT_BYTES, ad, &ad_buf, &ad_len)) != 0)
		goto out;

	if ((pad = laps_secret_alloc(SEAL_PAD_BYTES)) == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	pad[0] = (uint8_t)(pwlen >> 8);
	pad[1] = (uint8_t)pwlen;
	memcpy(pad + 2, password, pwlen); /* rest stays zero */
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(buf + SEAL_OFF_SLOTS + n * SEAL_SLOT_BYTES,
						       &ctlen, pad, SEAL_PAD_BYTES, ad_buf, ad_len,
						       NULL, nonce, data_key) != 0 ||
	    ctlen != SEAL_CT_BYTES) {
		rc = laps_seterr(LAPS_ERR_INTERNAL, "seal: AEAD encryption failed");
		goto out;
	}
	*env = buf;
	*envlen = len;
	buf = NULL; /* success */
	rc = 0;
out:
	free(buf);
	free(ad_buf);
	laps_secret_free(pad);
	return rc;
}

int
laps_seal(const struct laps_pubkey *recipients, size_t n, const struct laps_seal_ad *ad,
	  const char *password, size_t pwlen, uint8_t **env, size_t *envlen)
{
	uint8_t *rnd = NULL;
	size_t rndlen;
	int rc;

	if (n > LAPS_MAX_RECIPIENTS)
		return laps_seterr(LAPS_ERR_INVALID, "seal: %zu recipients (at most %d)", n,
				   LAPS_MAX_RECIPIENTS);
	if (laps_crypto_init() != 0)
		return laps_seterr(LAPS_ERR_INTERNAL, "seal: libsodium initialisation failed");
	/* data key | nonce | ephemeral secret keys: one allocation, one wipe */
	rndlen = LAPS_SEAL_KEY_BYTES + LAPS_SEAL_NONCE_BYTES + n * LAPS_X25519_BYTES;
	if ((rnd = laps_secret_alloc(rndlen)) == NULL)
		return LAPS_ERR_NOMEM;
	randombytes_buf(rnd, LAPS_SEAL_KEY_BYTES);
	randombytes_buf(rnd + LAPS_SEAL_KEY_BYTES, LAPS_SEAL_NONCE_BYTES);
	if (n > 0)
		randombytes_buf(rnd + LAPS_SEAL_KEY_BYTES + LAPS_SEAL_NONCE_BYTES,
				n * LAPS_X25519_BYTES);
	rc = laps_seal_explicit(recipients, n, ad, password, pwlen, rnd, rnd + LAPS_SEAL_KEY_BYTES,
				rnd + LAPS_SEAL_KEY_BYTES + LAPS_SEAL_NONCE_BYTES, env, envlen);
	laps_secret_free(rnd);
	return rc;
}

/* "a, b, c" of the envelope's key ids. */
static void
list_ids(const struct seal_view *v, char *buf, size_t len)
{
	char id[LAPS_KEYID_MAX + 1];
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < v->n; i++) {
		keyid_hex(v->slots + i * SEAL_SLOT_BYTES, id);
		if (off + strlen(id) + 3 >= len)
			break;
		memcpy(buf + off, i ? ", " : "", i ? 2 : 0);
		off += i ? 2 : 0;
		memcpy(buf + off, id, strlen(id) + 1);
		off += strlen(id);
	}
}

int
laps_seal_open(const struct laps_privkey *key, const struct laps_seal_ad *ad, const uint8_t *env,
	       size_t envlen, char **password, size_t *pwlen)
{
	struct seal_view v;
	uint8_t raw[SEAL_KEYID_BYTES];
	uint8_t *dk = NULL, *pad = NULL, *ad_buf = NULL;
	const uint8_t *slot = NULL;
	size_t ad_len = 0, i, l;
	unsigned long long ptlen;
	char ids[LAPS_MAX_RECIPIENTS * (LAPS_KEYID_MAX + 2) + 1];
	char id[LAPS_KEYID_MAX + 1];
	char *pw;
	int rc = LAPS_ERR_INTERNAL;

	if (key == NULL || key->sk == NULL || password == NULL || pwlen == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "seal open: NULL argument");
	if (laps_crypto_init() != 0)
		return laps_seterr(LAPS_ERR_INTERNAL, "seal open: libsodium initialisation failed");
	if ((rc = seal_parse(env, envlen, &v)) != 0)
		return rc;
	keyid_raw(key->pk, raw);
	for (i = 0; i < v.n; i++) {
		if (memcmp(v.slots + i * SEAL_SLOT_BYTES, raw, SEAL_KEYID_BYTES) == 0) {
			slot = v.slots + i * SEAL_SLOT_BYTES;
			break;
		}
	}
	if (slot == NULL) {
		keyid_hex(raw, id);
		list_ids(&v, ids, sizeof ids);
		return laps_seterr(LAPS_ERR_NOTRECIPIENT,
				   "key %s is not a recipient; sealed to keys %s", id, ids);
	}
	if ((rc = build_ad(env, v.header_len, ad, &ad_buf, &ad_len)) != 0)
		return rc;
	if ((dk = laps_secret_alloc(LAPS_SEAL_KEY_BYTES)) == NULL ||
	    (pad = laps_secret_alloc(SEAL_PAD_BYTES)) == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	if (crypto_box_seal_open(dk, slot + SEAL_KEYID_BYTES, SEAL_WRAP_BYTES, key->pk, key->sk) !=
	    0) {
		keyid_hex(raw, id);
		rc = laps_seterr(LAPS_ERR_CRYPTO,
				 "envelope: the data key wrapped for key %s does not open", id);
		goto out;
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(pad, &ptlen, NULL, v.ct, SEAL_CT_BYTES,
						       ad_buf, ad_len, v.nonce, dk) != 0 ||
	    ptlen != SEAL_PAD_BYTES) {
		rc = laps_seterr(LAPS_ERR_CRYPTO,
				 "envelope: authentication failed (tampered, or sealed for another "
				 "device, account or rotation)");
		goto out;
	}
	l = ((size_t)pad[0] << 8) | pad[1];
	if (l == 0 || l > SEAL_PW_MAX || memchr(pad + 2, '\0', l) != NULL ||
	    !sodium_is_zero(pad + 2 + l, SEAL_PAD_BYTES - 2 - l)) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "envelope: bad padding in the decrypted block");
		goto out;
	}
	if ((pw = laps_secret_strndup((const char *)pad + 2, l)) == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	*password = pw;
	*pwlen = l; /* success */
	rc = 0;
out:
	laps_secret_free(dk);
	laps_secret_free(pad);
	free(ad_buf);
	return rc;
}

int
laps_seal_key_ids(const uint8_t *env, size_t envlen, char ids[][LAPS_KEYID_MAX + 1], size_t max,
		  size_t *n)
{
	struct seal_view v;
	size_t i;
	int rc;

	if (ids == NULL || n == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "seal key ids: NULL argument");
	if ((rc = seal_parse(env, envlen, &v)) != 0)
		return rc;
	if (v.n > max)
		return laps_seterr(LAPS_ERR_TOOBIG, "envelope: %zu recipients, room for %zu", v.n,
				   max);
	for (i = 0; i < v.n; i++)
		keyid_hex(v.slots + i * SEAL_SLOT_BYTES, ids[i]);
	*n = v.n;
	return 0;
}

void
laps_seal_ad_from_record(struct laps_seal_ad *ad, const struct laps_record *r)
{
	ad->device = r->device;
	ad->account = r->account;
	ad->rotation_id = r->rotation_id;
	ad->rotated_at = r->rotated_at;
}
