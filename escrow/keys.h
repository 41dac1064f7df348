/*
 * keys.h — admin key pairs.
 *
 * Public key: one line of text, "laps-x25519 <base64 32 bytes> <key id> [comment]".
 * Private key file: versioned text file, mode 0600, passphrase-protected
 * (Argon2id + XSalsa20-Poly1305 secretbox) or explicitly unprotected.
 * Exact bytes: docs/FORMAT.md.
 */
#ifndef LAPS_KEYS_H
#define LAPS_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "escrow/seal.h"

#define LAPS_PUBKEY_LINE_MAX 256
#define LAPS_KEYFILE_MAX 4096

/* Generate a fresh pair.  0 or LAPS_ERR_NOMEM/INTERNAL. */
int laps_key_generate(struct laps_privkey *out, const char *comment)
    __attribute__((warn_unused_result));
void laps_privkey_clear(struct laps_privkey *k); /* wipes and frees sk */
void laps_pubkey_from_privkey(struct laps_pubkey *pub, const struct laps_privkey *k);

/* Key id of a public key: 16 lowercase hex chars. */
void laps_key_id(const uint8_t pk[LAPS_X25519_BYTES], char id[LAPS_KEYID_MAX + 1]);

/* Format the one-line public key (no newline) into buf. */
int laps_pubkey_format(const struct laps_pubkey *pub, char *buf, size_t len)
    __attribute__((warn_unused_result));
/* Parse one line (trailing newline allowed).  LAPS_ERR_FORMAT names what was wrong
 * (including a key id that does not match the key). */
int laps_pubkey_parse(const char *line, struct laps_pubkey *out)
    __attribute__((warn_unused_result));
/* Load every key line of a file ('#' comments and blank lines ignored).
 * Appends to keys[*n..max); a key already in keys[0..*n) is skipped; *n is
 * updated only on success.  A file without any key line is LAPS_ERR_FORMAT.
 * Errors name file:line. */
int laps_pubkey_load_file(const char *path, struct laps_pubkey *keys, size_t max, size_t *n)
    __attribute__((warn_unused_result));

/*
 * Write the private key to path (created 0600 with O_EXCL; refuses to
 * overwrite).  passphrase NULL = unprotected (explicit choice of the caller).
 */
int laps_privkey_save(const struct laps_privkey *k, const char *path, const char *passphrase)
    __attribute__((warn_unused_result));

/* Whether the key file at path needs a passphrase (0/1 in *prot). */
int laps_privkey_file_protected(const char *path, bool *prot) __attribute__((warn_unused_result));

/*
 * Load a private key.  Refused (LAPS_ERR_PERM) if group/other can read it
 * or it is a symlink.  LAPS_ERR_PASSPHRASE on a wrong/missing passphrase.
 */
int laps_privkey_load(const char *path, const char *passphrase, struct laps_privkey *out)
    __attribute__((warn_unused_result));

/*
 * Lower layers of save/load, for test vectors and the fuzzer (docs/FORMAT.md
 * section 4).  laps_privkey_format: the file's text for k with explicit KDF
 * parameters, salt (LAPS_KDF_SALT_BYTES) and nonce (LAPS_KDF_NONCE_BYTES);
 * passphrase NULL = unprotected (the other KDF arguments are then ignored).
 * *out is NUL-terminated locked memory (laps_secret_free).
 * laps_privkey_parse: parse a file's text (len bytes; name is used in error
 * details); same errors as laps_privkey_load except the file checks.
 */
#define LAPS_KDF_SALT_BYTES 16
#define LAPS_KDF_NONCE_BYTES 24
#define LAPS_KDF_OPSLIMIT_MAX 16ULL                   /* largest opslimit a file may ask for */
#define LAPS_KDF_MEMLIMIT_MAX (1024ULL * 1024 * 1024) /* largest memlimit (bytes) */
int laps_privkey_format(const struct laps_privkey *k, const char *passphrase,
			unsigned long long opslimit, size_t memlimit, const uint8_t *salt,
			const uint8_t *nonce, char **out, size_t *outlen)
    __attribute__((warn_unused_result));
int laps_privkey_parse(const char *text, size_t len, const char *name, const char *passphrase,
		       struct laps_privkey *out) __attribute__((warn_unused_result));

#endif
