/*
 * keys.c — admin key pairs: key ids, the one-line public key, private key
 * files (docs/FORMAT.md sections 3 and 4).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/keys.h"
#include "escrow/secret.h"

#define PUBKEY_PREFIX "laps-x25519 "
#define PUBKEY_B64_LEN 44 /* base64 of 32 bytes, padded */
#define PUBKEY_FILE_MAX (64 * 1024)
#define COMMENT_MAX (sizeof(((struct laps_pubkey *)0)->comment) - 1) /* 127 */

#define PRIV_HEADER "laps-private-key v1"
#define PRIV_BOX_BYTES (crypto_secretbox_MACBYTES + LAPS_X25519_BYTES) /* 48 */

_Static_assert(crypto_pwhash_argon2id_SALTBYTES == LAPS_KDF_SALT_BYTES, "salt size");
_Static_assert(crypto_secretbox_NONCEBYTES == LAPS_KDF_NONCE_BYTES, "nonce size");
_Static_assert(crypto_secretbox_KEYBYTES == 32, "secretbox key size");

void
laps_key_id(const uint8_t pk[LAPS_X25519_BYTES], char id[LAPS_KEYID_MAX + 1])
{
	uint8_t h[crypto_generichash_BYTES]; /* BLAKE2b-256 */

	crypto_generichash(h, sizeof h, pk, LAPS_X25519_BYTES, NULL, 0);
	sodium_bin2hex(id, LAPS_KEYID_MAX + 1, h, LAPS_KEYID_MAX / 2);
}

/* Printable (no control characters), at most COMMENT_MAX bytes. */
static bool
comment_ok(const char *c, size_t len)
{
	size_t i;

	if (len > COMMENT_MAX)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)c[i];
		if (ch < 0x20 || ch == 0x7f)
			return false;
	}
	return true;
}

/* A public key that is a small-order point makes every box to it fail. */
static bool
pk_usable(const uint8_t pk[LAPS_X25519_BYTES])
{
	static const uint8_t scalar[crypto_scalarmult_SCALARBYTES] = {
	    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
	uint8_t q[crypto_scalarmult_BYTES];
	bool ok = crypto_scalarmult(q, scalar, pk) == 0;

	laps_wipe(q, sizeof q);
	return ok;
}

int
laps_key_generate(struct laps_privkey *out, const char *comment)
{
	struct laps_privkey k;

	if (out == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "key generate: NULL argument");
	if (comment == NULL)
		comment = "";
	if (!comment_ok(comment, strlen(comment)))
		return laps_seterr(LAPS_ERR_INVALID,
				   "key comment: at most %zu printable characters", COMMENT_MAX);
	if (laps_crypto_init() != 0)
		return laps_seterr(LAPS_ERR_INTERNAL, "libsodium initialisation failed");
	memset(&k, 0, sizeof k);
	if ((k.sk = laps_secret_alloc(LAPS_X25519_BYTES)) == NULL)
		return LAPS_ERR_NOMEM;
	if (crypto_box_keypair(k.pk, k.sk) != 0) {
		laps_secret_free(k.sk);
		return laps_seterr(LAPS_ERR_INTERNAL, "key generation failed");
	}
	laps_key_id(k.pk, k.id);
	memcpy(k.comment, comment, strlen(comment) + 1);
	*out = k; /* success */
	return 0;
}

void
laps_privkey_clear(struct laps_privkey *k)
{
	if (k == NULL)
		return;
	laps_secret_free(k->sk);
	laps_wipe(k, sizeof *k);
}

void
laps_pubkey_from_privkey(struct laps_pubkey *pub, const struct laps_privkey *k)
{
	memset(pub, 0, sizeof *pub);
	memcpy(pub->pk, k->pk, LAPS_X25519_BYTES);
	memcpy(pub->id, k->id, sizeof pub->id);
	memcpy(pub->comment, k->comment, sizeof pub->comment);
	pub->id[LAPS_KEYID_MAX] = '\0';
	pub->comment[COMMENT_MAX] = '\0';
}

int
laps_pubkey_format(const struct laps_pubkey *pub, char *buf, size_t len)
{
	char b64[PUBKEY_B64_LEN + 1];

	if (pub == NULL || buf == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "public key format: NULL argument");
	sodium_bin2base64(b64, sizeof b64, pub->pk, LAPS_X25519_BYTES,
			  sodium_base64_VARIANT_ORIGINAL);
	if (pub->comment[0] != '\0')
		return laps_snprintf(buf, len, "%s%s %s %s", PUBKEY_PREFIX, b64, pub->id,
				     pub->comment);
	return laps_snprintf(buf, len, "%s%s %s", PUBKEY_PREFIX, b64, pub->id);
}

/* Exact base64 (with padding) of exactly n bytes: no whitespace, canonical. */
static int
b64_exact(const char *s, size_t slen, uint8_t *out, size_t n)
{
	size_t got = 0;
	const char *end = NULL;

	if (slen != sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL) - 1)
		return -1;
	if (sodium_base642bin(out, n, s, slen, NULL, &got, &end, sodium_base64_VARIANT_ORIGINAL) !=
		0 ||
	    got != n || end != s + slen)
		return -1;
	return 0;
}

static bool
is_lower_hex(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int
laps_pubkey_parse(const char *line, struct laps_pubkey *out)
{
	struct laps_pubkey k;
	const char *p, *sp, *idp;
	size_t len, b64len, idlen, got = 0;
	char want[LAPS_KEYID_MAX + 1];

	if (line == NULL || out == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "public key: NULL argument");
	len = strnlen(line, LAPS_PUBKEY_LINE_MAX + 3);
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > LAPS_PUBKEY_LINE_MAX)
		return laps_seterr(LAPS_ERR_FORMAT, "public key: line longer than %d bytes",
				   LAPS_PUBKEY_LINE_MAX);
	if (memchr(line, '\n', len) != NULL || memchr(line, '\r', len) != NULL)
		return laps_seterr(LAPS_ERR_FORMAT, "public key: more than one line");
	memset(&k, 0, sizeof k);
	if (len < strlen(PUBKEY_PREFIX) || memcmp(line, PUBKEY_PREFIX, strlen(PUBKEY_PREFIX)) != 0)
		return laps_seterr(LAPS_ERR_FORMAT,
				   "public key: expected \"laps-x25519 <base64> <key id> "
				   "[comment]\" (bad prefix)");
	p = line + strlen(PUBKEY_PREFIX);
	len -= strlen(PUBKEY_PREFIX);
	sp = memchr(p, ' ', len);
	b64len = sp ? (size_t)(sp - p) : len;
	if (b64len == 0)
		return laps_seterr(LAPS_ERR_FORMAT, "public key: bad base64 (empty key field)");
	if (sodium_base642bin(k.pk, sizeof k.pk, p, b64len, NULL, &got, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0) {
		/* distinguish a well-formed key of the wrong size from bad base64 */
		uint8_t tmp[LAPS_PUBKEY_LINE_MAX];
		if (sodium_base642bin(tmp, sizeof tmp, p, b64len, NULL, &got, NULL,
				      sodium_base64_VARIANT_ORIGINAL) == 0 &&
		    got != LAPS_X25519_BYTES)
			return laps_seterr(LAPS_ERR_FORMAT,
					   "public key: wrong length (%zu bytes, expected %d)", got,
					   LAPS_X25519_BYTES);
		return laps_seterr(LAPS_ERR_FORMAT, "public key: bad base64");
	}
	if (got != LAPS_X25519_BYTES)
		return laps_seterr(LAPS_ERR_FORMAT,
				   "public key: wrong length (%zu bytes, expected %d)", got,
				   LAPS_X25519_BYTES);
	if (b64_exact(p, b64len, k.pk, LAPS_X25519_BYTES) != 0)
		return laps_seterr(LAPS_ERR_FORMAT, "public key: bad base64 (not canonical)");
	if (sp == NULL)
		return laps_seterr(LAPS_ERR_FORMAT, "public key: key id missing");
	idp = sp + 1;
	len -= b64len + 1;
	sp = memchr(idp, ' ', len);
	idlen = sp ? (size_t)(sp - idp) : len;
	if (idlen != LAPS_KEYID_MAX || !is_lower_hex(idp, idlen))
		return laps_seterr(LAPS_ERR_FORMAT,
				   "public key: key id must be %d lowercase hex characters",
				   LAPS_KEYID_MAX);
	laps_key_id(k.pk, want);
	if (memcmp(idp, want, LAPS_KEYID_MAX) != 0)
		return laps_seterr(LAPS_ERR_FORMAT,
				   "public key: key id %.16s does not match the key (its id is %s)",
				   idp, want);
	memcpy(k.id, want, sizeof k.id);
	if (sp != NULL) {
		const char *c = sp + 1;
		size_t clen = len - idlen - 1;
		if (!comment_ok(c, clen))
			return laps_seterr(LAPS_ERR_FORMAT,
					   "public key: comment longer than %zu bytes or with "
					   "control characters",
					   COMMENT_MAX);
		memcpy(k.comment, c, clen);
		k.comment[clen] = '\0';
	}
	if (!pk_usable(k.pk))
		return laps_seterr(LAPS_ERR_FORMAT, "public key %s: not a usable X25519 key", k.id);
	*out = k; /* success */
	return 0;
}

int
laps_pubkey_load_file(const char *path, struct laps_pubkey *keys, size_t max, size_t *n)
{
	char *buf = NULL;
	size_t len = 0, count, off, i;
	unsigned lineno = 0, seen = 0;
	char line[LAPS_PUBKEY_LINE_MAX + 2];
	struct laps_pubkey k;
	int rc;

	if (path == NULL || keys == NULL || n == NULL || *n > max)
		return laps_seterr(LAPS_ERR_INVALID, "public key file: bad arguments");
	if ((rc = laps_file_read(path, PUBKEY_FILE_MAX, LAPS_FILE_OWNER_ROOT, &buf, &len)) != 0)
		return rc;
	count = *n;
	if (memchr(buf, '\0', len) != NULL) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "%s: contains a NUL byte", path);
		goto out;
	}
	for (off = 0; off < len;) {
		const char *s = buf + off, *nl = memchr(s, '\n', len - off);
		size_t l = nl ? (size_t)(nl - s) : len - off, j = 0;

		off += l + (nl != NULL);
		lineno++;
		while (j < l && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r'))
			j++;
		if (j == l || s[j] == '#')
			continue;
		if (l > LAPS_PUBKEY_LINE_MAX + 1) {
			rc = laps_seterr(LAPS_ERR_FORMAT, "%s:%u: line longer than %d bytes", path,
					 lineno, LAPS_PUBKEY_LINE_MAX);
			goto out;
		}
		memcpy(line, s, l);
		line[l] = '\0';
		if ((rc = laps_pubkey_parse(line, &k)) != 0) {
			rc = laps_seterr_prefix(rc, "%s:%u", path, lineno);
			goto out;
		}
		seen++;
		for (i = 0; i < count; i++)
			if (memcmp(keys[i].pk, k.pk, LAPS_X25519_BYTES) == 0)
				break;
		if (i < count)
			continue; /* the same key listed twice: once is enough */
		if (count >= max) {
			rc = laps_seterr(LAPS_ERR_TOOBIG, "%s:%u: more than %zu public keys", path,
					 lineno, max);
			goto out;
		}
		keys[count++] = k;
	}
	if (seen == 0) {
		rc = laps_seterr(LAPS_ERR_FORMAT,
				 "%s: no public key in the file (expected lines "
				 "\"laps-x25519 <base64> <key id> [comment]\")",
				 path);
		goto out;
	}
	*n = count; /* success */
	rc = 0;
out:
	laps_file_free(buf, len, 0);
	return rc;
}

/* ---- private key files ---------------------------------------------- */

static int
append(char *out, size_t cap, size_t *off, const char *s, size_t len)
{
	if (*off + len >= cap)
		return LAPS_ERR_TOOBIG;
	memcpy(out + *off, s, len);
	*off += len;
	out[*off] = '\0';
	return 0;
}

static int
append_field(char *out, size_t cap, size_t *off, const char *name, const char *val)
{
	int rc;

	if ((rc = append(out, cap, off, name, strlen(name))) != 0 ||
	    (rc = append(out, cap, off, ": ", 2)) != 0 ||
	    (rc = append(out, cap, off, val, strlen(val))) != 0 ||
	    (rc = append(out, cap, off, "\n", 1)) != 0)
		return rc;
	return 0;
}

static int
append_b64(char *out, size_t cap, size_t *off, const char *name, const uint8_t *bin, size_t n)
{
	char b64[128];
	int rc;

	if (sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL) > sizeof b64)
		return LAPS_ERR_INTERNAL;
	sodium_bin2base64(b64, sizeof b64, bin, n, sodium_base64_VARIANT_ORIGINAL);
	rc = append_field(out, cap, off, name, b64);
	laps_wipe(b64, sizeof b64);
	return rc;
}

/* Check the key pair is consistent: pk = X25519(sk), id = key id of pk. */
static int
privkey_check(const struct laps_privkey *k)
{
	uint8_t pk[LAPS_X25519_BYTES];
	char id[LAPS_KEYID_MAX + 1];

	if (k->sk == NULL || crypto_scalarmult_base(pk, k->sk) != 0 ||
	    sodium_memcmp(pk, k->pk, sizeof pk) != 0)
		return -1;
	laps_key_id(pk, id);
	if (strcmp(id, k->id) != 0)
		return -1;
	return 0;
}

/* laps_privkey_format's argument checks. */
static int
format_args_check(const struct laps_privkey *k, const char *passphrase,
		  unsigned long long opslimit, size_t memlimit, const uint8_t *salt,
		  const uint8_t *nonce)
{
	if (laps_crypto_init() != 0)
		return laps_seterr(LAPS_ERR_INTERNAL, "libsodium initialisation failed");
	if (privkey_check(k) != 0)
		return laps_seterr(LAPS_ERR_INVALID, "private key: inconsistent key pair");
	if (!comment_ok(k->comment, strnlen(k->comment, sizeof k->comment)) ||
	    strnlen(k->comment, sizeof k->comment) > COMMENT_MAX)
		return laps_seterr(LAPS_ERR_INVALID, "private key: bad comment");
	if (passphrase == NULL)
		return 0;
	if (passphrase[0] == '\0')
		return laps_seterr(LAPS_ERR_INVALID, "private key: empty passphrase "
						     "(no passphrase means an unprotected key)");
	if (salt == NULL || nonce == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "private key format: NULL salt/nonce");
	if (opslimit < crypto_pwhash_argon2id_OPSLIMIT_MIN || opslimit > LAPS_KDF_OPSLIMIT_MAX ||
	    memlimit < crypto_pwhash_argon2id_MEMLIMIT_MIN || memlimit > LAPS_KDF_MEMLIMIT_MAX)
		return laps_seterr(LAPS_ERR_INVALID, "private key: KDF limits out of range");
	return 0;
}

/* The passphrase-protected fields (kdf .. box) of a private key file. */
static int
append_protected(char *text, size_t *off, const struct laps_privkey *k, const char *passphrase,
		 unsigned long long opslimit, size_t memlimit, const uint8_t *salt,
		 const uint8_t *nonce)
{
	uint8_t *key = NULL, *box = NULL;
	char num[32];
	int rc;

	if ((key = laps_secret_alloc(crypto_secretbox_KEYBYTES)) == NULL ||
	    (box = laps_secret_alloc(PRIV_BOX_BYTES)) == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	if (crypto_pwhash(key, crypto_secretbox_KEYBYTES, passphrase, strlen(passphrase), salt,
			  opslimit, memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
		rc = laps_seterr(LAPS_ERR_NOMEM, "private key: Argon2id failed (memory)");
		goto out;
	}
	if (crypto_secretbox_easy(box, k->sk, LAPS_X25519_BYTES, nonce, key) != 0) {
		rc = laps_seterr(LAPS_ERR_INTERNAL, "private key: secretbox failed");
		goto out;
	}
	if ((rc = append_field(text, LAPS_KEYFILE_MAX, off, "kdf", "argon2id")) != 0 ||
	    (rc = laps_snprintf(num, sizeof num, "%llu", opslimit)) != 0 ||
	    (rc = append_field(text, LAPS_KEYFILE_MAX, off, "opslimit", num)) != 0 ||
	    (rc = laps_snprintf(num, sizeof num, "%zu", memlimit)) != 0 ||
	    (rc = append_field(text, LAPS_KEYFILE_MAX, off, "memlimit", num)) != 0 ||
	    (rc = append_b64(text, LAPS_KEYFILE_MAX, off, "salt", salt, LAPS_KDF_SALT_BYTES)) != 0 ||
	    (rc = append_b64(text, LAPS_KEYFILE_MAX, off, "nonce", nonce, LAPS_KDF_NONCE_BYTES)) !=
		0 ||
	    (rc = append_b64(text, LAPS_KEYFILE_MAX, off, "box", box, PRIV_BOX_BYTES)) != 0)
		goto out;
	rc = 0;
out:
	laps_secret_free(key);
	laps_secret_free(box);
	return rc;
}

int
laps_privkey_format(const struct laps_privkey *k, const char *passphrase,
		    unsigned long long opslimit, size_t memlimit, const uint8_t *salt,
		    const uint8_t *nonce, char **out, size_t *outlen)
{
	char *text = NULL;
	size_t off = 0;
	int rc;

	if (k == NULL || out == NULL || outlen == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "private key format: NULL argument");
	if ((rc = format_args_check(k, passphrase, opslimit, memlimit, salt, nonce)) != 0)
		return rc;
	if ((text = laps_secret_alloc(LAPS_KEYFILE_MAX)) == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	if ((rc = append(text, LAPS_KEYFILE_MAX, &off, PRIV_HEADER "\n",
			 strlen(PRIV_HEADER) + 1)) != 0 ||
	    (rc = append_b64(text, LAPS_KEYFILE_MAX, &off, "public", k->pk, LAPS_X25519_BYTES)) !=
		0 ||
	    (rc = append_field(text, LAPS_KEYFILE_MAX, &off, "id", k->id)) != 0)
		goto out;
	if (k->comment[0] != '\0' &&
	    (rc = append_field(text, LAPS_KEYFILE_MAX, &off, "comment", k->comment)) != 0)
		goto out;
	if (passphrase == NULL)
		rc = append_field(text, LAPS_KEYFILE_MAX, &off, "kdf", "none");
	if (passphrase == NULL && rc == 0)
		rc = append_b64(text, LAPS_KEYFILE_MAX, &off, "key", k->sk, LAPS_X25519_BYTES);
	if (passphrase != NULL)
		rc = append_protected(text, &off, k, passphrase, opslimit, memlimit, salt, nonce);
	if (rc != 0)
		goto out;
	*out = text;
	*outlen = off;
	text = NULL; /* success */
out:
	laps_secret_free(text);
	return rc;
}

/* Line cursor over a key file's text. */
struct cursor {
	const char *p, *end;
	const char *name;
	unsigned line;
};

/* Next line "field: value"; the value (not NUL-terminated) in *val and *vlen. */
static int
next_field(struct cursor *c, const char *field, const char **val, size_t *vlen)
{
	const char *nl, *s = c->p;
	size_t l, fl = strlen(field);

	c->line++;
	if (s >= c->end)
		return laps_seterr(LAPS_ERR_FORMAT, "%s:%u: truncated: expected \"%s:\"", c->name,
				   c->line, field);
	nl = memchr(s, '\n', (size_t)(c->end - s));
	l = nl ? (size_t)(nl - s) : (size_t)(c->end - s);
	c->p = s + l + (nl != NULL);
	if (l < fl + 2 || memcmp(s, field, fl) != 0 || s[fl] != ':' || s[fl + 1] != ' ')
		return laps_seterr(LAPS_ERR_FORMAT, "%s:%u: expected \"%s: \"", c->name, c->line,
				   field);
	*val = s + fl + 2;
	*vlen = l - fl - 2;
	return 0;
}

static int
field_b64(struct cursor *c, const char *field, uint8_t *out, size_t n)
{
	const char *v;
	size_t vl;
	int rc;

	if ((rc = next_field(c, field, &v, &vl)) != 0)
		return rc;
	if (b64_exact(v, vl, out, n) != 0)
		return laps_seterr(LAPS_ERR_FORMAT, "%s:%u: %s: expected base64 of %zu bytes",
				   c->name, c->line, field, n);
	return 0;
}

static int
field_num(struct cursor *c, const char *field, long long min, long long max, long long *out)
{
	const char *v;
	size_t vl;
	char num[24];
	int rc;

	if ((rc = next_field(c, field, &v, &vl)) != 0)
		return rc;
	if (vl == 0 || vl >= sizeof num || (vl > 1 && v[0] == '0'))
		goto bad;
	memcpy(num, v, vl);
	num[vl] = '\0';
	if (laps_parse_int64(num, min, max, out) != 0)
		goto bad;
	return 0;
bad:
	return laps_seterr(LAPS_ERR_FORMAT, "%s:%u: %s: expected an integer in %lld..%lld", c->name,
			   c->line, field, min, max);
}

/* Parsed, not yet decrypted. */
struct privfile {
	uint8_t pk[LAPS_X25519_BYTES];
	char id[LAPS_KEYID_MAX + 1];
	char comment[COMMENT_MAX + 1];
	bool protected;
	unsigned long long opslimit;
	size_t memlimit;
	uint8_t salt[LAPS_KDF_SALT_BYTES];
	uint8_t nonce[LAPS_KDF_NONCE_BYTES];
	uint8_t box[PRIV_BOX_BYTES]; /* or the secret key itself when !protected */
	unsigned box_line;
};

/* Line 1: "laps-private-key v1"; "laps-private-key v<digits>" is another version. */
static int
privfile_header(const char *text, size_t len, const char *name)
{
	static const char prefix[] = "laps-private-key v";
	const char *nl = memchr(text, '\n', len);
	size_t l = nl ? (size_t)(nl - text) : len, i;

	if (nl != NULL && l == strlen(PRIV_HEADER) && memcmp(text, PRIV_HEADER, l) == 0)
		return 0;
	if (l > strlen(prefix) && memcmp(text, prefix, strlen(prefix)) == 0) {
		for (i = strlen(prefix); i < l; i++)
			if (text[i] < '0' || text[i] > '9')
				break;
		if (i == l)
			return laps_seterr(LAPS_ERR_VERSION,
					   "%s:1: unsupported private key file version %.*s", name,
					   (int)(l - strlen(prefix) > 10 ? 10 : l - strlen(prefix)),
					   text + strlen(prefix));
	}
	return laps_seterr(LAPS_ERR_FORMAT, "%s:1: not a laps private key file (expected \"%s\")",
			   name, PRIV_HEADER);
}

static int
privfile_parse(const char *text, size_t len, const char *name, struct privfile *f)
{
	struct cursor c = {text, text + len, name, 0};
	const char *v, *save_p;
	size_t vl;
	long long num;
	int rc;

	if (len > LAPS_KEYFILE_MAX)
		return laps_seterr(LAPS_ERR_TOOBIG, "%s: larger than %d bytes", name,
				   LAPS_KEYFILE_MAX);
	if (memchr(text, '\0', len) != NULL)
		return laps_seterr(LAPS_ERR_FORMAT, "%s: contains a NUL byte", name);
	if ((rc = privfile_header(text, len, name)) != 0)
		return rc;
	c.p = text + strlen(PRIV_HEADER) + 1;
	c.line = 1;
	if ((rc = field_b64(&c, "public", f->pk, LAPS_X25519_BYTES)) != 0)
		return rc;
	if ((rc = next_field(&c, "id", &v, &vl)) != 0)
		return rc;
	laps_key_id(f->pk, f->id);
	if (vl != LAPS_KEYID_MAX || memcmp(v, f->id, LAPS_KEYID_MAX) != 0)
		return laps_seterr(LAPS_ERR_FORMAT, "%s:%u: id does not match the public key (%s)",
				   name, c.line, f->id);
	f->comment[0] = '\0';
	save_p = c.p;
	if (next_field(&c, "comment", &v, &vl) == 0) {
		if (vl == 0 || !comment_ok(v, vl))
			return laps_seterr(LAPS_ERR_FORMAT, "%s:%u: bad comment", name, c.line);
		memcpy(f->comment, v, vl);
		f->comment[vl] = '\0';
	} else {
		c.p = save_p;
		c.line--;
	}
	if ((rc = next_field(&c, "kdf", &v, &vl)) != 0)
		return rc;
	if (vl == 4 && memcmp(v, "none", 4) == 0) {
		f->protected = false;
		f->box_line = c.line + 1;
		if ((rc = field_b64(&c, "key", f->box, LAPS_X25519_BYTES)) != 0)
			return rc;
	} else if (vl == 8 && memcmp(v, "argon2id", 8) == 0) {
		f->protected = true;
		if ((rc = field_num(&c, "opslimit", (long long)crypto_pwhash_argon2id_OPSLIMIT_MIN,
				    (long long)LAPS_KDF_OPSLIMIT_MAX, &num)) != 0)
			return rc;
		f->opslimit = (unsigned long long)num;
		if ((rc = field_num(&c, "memlimit", (long long)crypto_pwhash_argon2id_MEMLIMIT_MIN,
				    (long long)LAPS_KDF_MEMLIMIT_MAX, &num)) != 0)
			return rc;
		f->memlimit = (size_t)num;
		f->box_line = c.line + 3;
		if ((rc = field_b64(&c, "salt", f->salt, LAPS_KDF_SALT_BYTES)) != 0 ||
		    (rc = field_b64(&c, "nonce", f->nonce, LAPS_KDF_NONCE_BYTES)) != 0 ||
		    (rc = field_b64(&c, "box", f->box, PRIV_BOX_BYTES)) != 0)
			return rc;
	} else {
		return laps_seterr(LAPS_ERR_FORMAT, "%s:%u: kdf: expected \"none\" or \"argon2id\"",
				   name, c.line);
	}
	if (c.p != c.end)
		return laps_seterr(LAPS_ERR_FORMAT, "%s:%u: unexpected content after the key", name,
				   c.line + 1);
	if (c.end[-1] != '\n')
		return laps_seterr(LAPS_ERR_FORMAT, "%s:%u: missing newline at the end", name,
				   c.line);
	return 0;
}

int
laps_privkey_parse(const char *text, size_t len, const char *name, const char *passphrase,
		   struct laps_privkey *out)
{
	struct privfile *f = NULL;
	struct laps_privkey k;
	uint8_t *key = NULL;
	int rc = LAPS_ERR_INTERNAL;

	memset(&k, 0, sizeof k);
	if (text == NULL || out == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "private key: NULL argument");
	if (name == NULL)
		name = "private key";
	if (laps_crypto_init() != 0)
		return laps_seterr(LAPS_ERR_INTERNAL, "libsodium initialisation failed");
	if ((f = laps_secret_alloc(sizeof *f)) == NULL ||
	    (k.sk = laps_secret_alloc(LAPS_X25519_BYTES)) == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	if ((rc = privfile_parse(text, len, name, f)) != 0)
		goto out;
	if (!f->protected) {
		memcpy(k.sk, f->box, LAPS_X25519_BYTES);
	} else {
		if (passphrase == NULL || passphrase[0] == '\0') {
			rc = laps_seterr(LAPS_ERR_PASSPHRASE, "%s: the key is passphrase-protected",
					 name);
			goto out;
		}
		if ((key = laps_secret_alloc(crypto_secretbox_KEYBYTES)) == NULL) {
			rc = LAPS_ERR_NOMEM;
			goto out;
		}
		if (crypto_pwhash(key, crypto_secretbox_KEYBYTES, passphrase, strlen(passphrase),
				  f->salt, f->opslimit, f->memlimit,
				  crypto_pwhash_ALG_ARGON2ID13) != 0) {
			rc = laps_seterr(LAPS_ERR_NOMEM, "%s: Argon2id failed (memlimit %zu)", name,
					 f->memlimit);
			goto out;
		}
		if (crypto_secretbox_open_easy(k.sk, f->box, PRIV_BOX_BYTES, f->nonce, key) != 0) {
			rc = laps_seterr(LAPS_ERR_PASSPHRASE, "%s: wrong passphrase", name);
			goto out;
		}
	}
	memcpy(k.pk, f->pk, LAPS_X25519_BYTES);
	memcpy(k.id, f->id, sizeof k.id);
	memcpy(k.comment, f->comment, sizeof f->comment);
	if (privkey_check(&k) != 0) {
		rc = laps_seterr(LAPS_ERR_FORMAT,
				 "%s:%u: the secret key does not match the public key %s", name,
				 f->box_line, f->id);
		goto out;
	}
	*out = k;
	k.sk = NULL; /* success */
	rc = 0;
out:
	laps_secret_free(k.sk);
	laps_wipe(&k, sizeof k);
	laps_secret_free(key);
	laps_secret_free(f);
	return rc;
}

int
laps_privkey_file_protected(const char *path, bool *prot)
{
	struct privfile *f = NULL;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (path == NULL || prot == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "private key: NULL argument");
	if ((rc = laps_file_read(path, LAPS_KEYFILE_MAX, LAPS_FILE_SECRET | LAPS_FILE_OWNER_SELF,
				 &buf, &len)) != 0)
		return rc;
	if ((f = laps_secret_alloc(sizeof *f)) == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	if ((rc = privfile_parse(buf, len, path, f)) != 0)
		goto out;
	*prot = f->protected; /* success */
out:
	laps_secret_free(f);
	laps_file_free(buf, len, LAPS_FILE_SECRET);
	return rc;
}

int
laps_privkey_load(const char *path, const char *passphrase, struct laps_privkey *out)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (path == NULL || out == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "private key: NULL argument");
	if ((rc = laps_file_read(path, LAPS_KEYFILE_MAX, LAPS_FILE_SECRET | LAPS_FILE_OWNER_SELF,
				 &buf, &len)) != 0)
		return rc;
	rc = laps_privkey_parse(buf, len, path, passphrase, out);
	laps_file_free(buf, len, LAPS_FILE_SECRET);
	return rc;
}

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t w;

	while (len > 0) {
		w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int
laps_privkey_save(const struct laps_privkey *k, const char *path, const char *passphrase)
{
	uint8_t salt[LAPS_KDF_SALT_BYTES], nonce[LAPS_KDF_NONCE_BYTES];
	char *text = NULL;
	size_t len = 0;
	int fd = -1, rc, e;

	if (k == NULL || path == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "private key save: NULL argument");
	if (laps_crypto_init() != 0)
		return laps_seterr(LAPS_ERR_INTERNAL, "libsodium initialisation failed");
	randombytes_buf(salt, sizeof salt);
	randombytes_buf(nonce, sizeof nonce);
	if ((rc = laps_privkey_format(k, passphrase, crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
				      crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE, salt, nonce,
				      &text, &len)) != 0)
		goto out;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		e = errno;
		rc = laps_seterr(e == EACCES ? LAPS_ERR_PERM : LAPS_ERR_IO, "%s: %s%s", path,
				 strerror(e),
				 e == EEXIST ? " (refusing to overwrite a key file)" : "");
		goto out;
	}
	if (fchmod(fd, 0600) != 0 || write_all(fd, text, len) != 0 || fsync(fd) != 0) {
		e = errno;
		close(fd);
		fd = -1;
		unlink(path);
		rc = laps_seterr(LAPS_ERR_IO, "%s: %s", path, strerror(e));
		goto out;
	}
	if (close(fd) != 0) {
		e = errno;
		fd = -1;
		unlink(path);
		rc = laps_seterr(LAPS_ERR_IO, "%s: %s", path, strerror(e));
		goto out;
	}
	fd = -1;
	(void)laps_fsync_dir_of(path);
	rc = 0;
out:
	laps_secret_free(text);
	return rc;
}
