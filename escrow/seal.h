/*
 * seal.h — the envelope: the password encrypted once with a fresh data key
 * (XChaCha20-Poly1305), the data key wrapped for each recipient X25519 key
 * (crypto_box_seal).  The AEAD's associated data binds device, account,
 * rotation id and rotation time, so a blob moved to another device/account or
 * replayed under another rotation fails to open.  Bytes: docs/FORMAT.md.
 */
#ifndef LAPS_SEAL_H
#define LAPS_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "escrow/record.h"

#define LAPS_X25519_BYTES 32

struct laps_pubkey {
	uint8_t pk[LAPS_X25519_BYTES];
	char id[LAPS_KEYID_MAX + 1]; /* hex of the first 8 bytes of BLAKE2b-256(pk) */
	char comment[128];
};

struct laps_privkey {
	uint8_t *sk; /* LAPS_X25519_BYTES of locked memory */
	uint8_t pk[LAPS_X25519_BYTES];
	char id[LAPS_KEYID_MAX + 1];
	char comment[128];
};

/* What the envelope is bound to (the associated data). */
struct laps_seal_ad {
	const char *device;
	const char *account;
	const char *rotation_id;
	int64_t rotated_at;
};

/*
 * Seal password (pwlen bytes) to n recipients.  *env is malloc'd.
 * Errors: LAPS_ERR_INVALID (no recipients, too many, bad ad), LAPS_ERR_NOMEM.
 */
int laps_seal(const struct laps_pubkey *recipients, size_t n, const struct laps_seal_ad *ad,
	      const char *password, size_t pwlen, uint8_t **env, size_t *envlen)
    __attribute__((warn_unused_result));

/*
 * Open with one private key.  *password is NUL-terminated locked memory
 * (laps_secret_free).  Errors: LAPS_ERR_NOTRECIPIENT (detail lists the key
 * ids it is sealed to), LAPS_ERR_CRYPTO (tampered, or wrong device/account/
 * rotation binding), LAPS_ERR_FORMAT / LAPS_ERR_VERSION (malformed).
 */
int laps_seal_open(const struct laps_privkey *key, const struct laps_seal_ad *ad,
		   const uint8_t *env, size_t envlen, char **password, size_t *pwlen)
    __attribute__((warn_unused_result));

/* The recipient key ids an envelope names (without opening it). */
int laps_seal_key_ids(const uint8_t *env, size_t envlen, char ids[][LAPS_KEYID_MAX + 1],
		      size_t max, size_t *n) __attribute__((warn_unused_result));

/* Convenience: ad from a record. */
void laps_seal_ad_from_record(struct laps_seal_ad *ad, const struct laps_record *r);

/*
 * For test vectors (docs/FORMAT.md section 2.7) — production code calls
 * laps_seal().  laps_seal() with its random inputs given explicitly:
 * data_key (LAPS_SEAL_KEY_BYTES), nonce (LAPS_SEAL_NONCE_BYTES) and eph_sk,
 * n * LAPS_X25519_BYTES: the ephemeral X25519 secret key of each recipient's
 * sealed box, in recipient order.  laps_seal() draws exactly these bytes from
 * randombytes_buf(), in this order (data key, nonce, eph_sk[0..n-1]).
 */
#define LAPS_SEAL_VERSION 1
#define LAPS_SEAL_KEY_BYTES 32
#define LAPS_SEAL_NONCE_BYTES 24
int laps_seal_explicit(const struct laps_pubkey *recipients, size_t n,
		       const struct laps_seal_ad *ad, const char *password, size_t pwlen,
		       const uint8_t *data_key, const uint8_t *nonce, const uint8_t *eph_sk,
		       uint8_t **env, size_t *envlen) __attribute__((warn_unused_result));

#endif
