/*
 * test_keys.c — key ids, public key lines and files, private key files
 * (docs/FORMAT.md sections 3 and 4, with their test vectors).
 */
#include "config.h"

#include <CUnit/CUnit.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/keys.h"
#include "escrow/secret.h"
#include "tests/unit/testutil.h"

/* the suite's temporary directory (laps_test_suite_init) */
static const char *const dir = laps_test_dir;

/* dir/name in one of four rotating static buffers (two per call are fine) */
static const char *
path_in(const char *name)
{
	static char p[4][4200];
	static unsigned i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
	return p[i];
}

static int
contains(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

/* ---- vectors (FORMAT.md 3.3 and 4.4) ---- */

#define VEC_LINE_A                                                                                 \
	"laps-x25519 j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF8= 57addcd56cefb426 "               \
	"alice@example.org"
#define VEC_LINE_B "laps-x25519 NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlQ= f6a420b14a2d8975"

#define VEC_UNPROTECTED                                                                            \
	"laps-private-key v1\n"                                                                    \
	"public: j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF8=\n"                                   \
	"id: 57addcd56cefb426\n"                                                                   \
	"comment: alice@example.org\n"                                                             \
	"kdf: none\n"                                                                              \
	"key: AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"

#define VEC_PROTECTED                                                                              \
	"laps-private-key v1\n"                                                                    \
	"public: j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF8=\n"                                   \
	"id: 57addcd56cefb426\n"                                                                   \
	"comment: alice@example.org\n"                                                             \
	"kdf: argon2id\n"                                                                          \
	"opslimit: 1\n"                                                                            \
	"memlimit: 8192\n"                                                                         \
	"salt: wMHCw8TFxsfIycrLzM3Ozw==\n"                                                         \
	"nonce: 0NHS09TV1tfY2drb3N3e3+Dh4uPk5ebn\n"                                                \
	"box: zNCOH6y4NbfIHfhapQLZkH+mLordD+t9Fi9y74dHZ9yC8qII/ziPvHorlQBTVRcN\n"
#define VEC_PASSPHRASE "hunter2 hunter2"

static void
vec_key(struct laps_privkey *k, uint8_t start, const char *comment)
{
	size_t i;

	memset(k, 0, sizeof *k);
	k->sk = laps_secret_alloc(LAPS_X25519_BYTES);
	CU_ASSERT_PTR_NOT_NULL_FATAL(k->sk);
	for (i = 0; i < LAPS_X25519_BYTES; i++)
		k->sk[i] = (uint8_t)(start + i);
	CU_ASSERT_EQUAL_FATAL(crypto_scalarmult_base(k->pk, k->sk), 0);
	laps_key_id(k->pk, k->id);
	snprintf(k->comment, sizeof k->comment, "%s", comment);
}

static void
test_vector_keyid_and_line(void)
{
	static const uint8_t pk_a[32] = {0x8f, 0x40, 0xc5, 0xad, 0xb6, 0x8f, 0x25, 0x62,
					 0x4a, 0xe5, 0xb2, 0x14, 0xea, 0x76, 0x7a, 0x6e,
					 0xc9, 0x4d, 0x82, 0x9d, 0x3d, 0x7b, 0x5e, 0x1a,
					 0xd1, 0xba, 0x6f, 0x3e, 0x21, 0x38, 0x28, 0x5f};
	struct laps_privkey a, b;
	struct laps_pubkey pub, back;
	char line[LAPS_PUBKEY_LINE_MAX + 1];

	vec_key(&a, 0x00, "alice@example.org");
	vec_key(&b, 0x20, "");
	CU_ASSERT_EQUAL(memcmp(a.pk, pk_a, 32), 0);
	CU_ASSERT_STRING_EQUAL(a.id, "57addcd56cefb426");
	CU_ASSERT_STRING_EQUAL(b.id, "f6a420b14a2d8975");
	laps_pubkey_from_privkey(&pub, &a);
	CU_ASSERT_EQUAL(laps_pubkey_format(&pub, line, sizeof line), 0);
	CU_ASSERT_STRING_EQUAL(line, VEC_LINE_A);
	laps_pubkey_from_privkey(&pub, &b);
	CU_ASSERT_EQUAL(laps_pubkey_format(&pub, line, sizeof line), 0);
	CU_ASSERT_STRING_EQUAL(line, VEC_LINE_B);
	/* a buffer too small is an error, not a truncated key */
	CU_ASSERT_EQUAL(laps_pubkey_format(&pub, line, 40), LAPS_ERR_TOOBIG);

	CU_ASSERT_EQUAL(laps_pubkey_parse(VEC_LINE_A "\n", &back), 0);
	CU_ASSERT_EQUAL(memcmp(back.pk, a.pk, 32), 0);
	CU_ASSERT_STRING_EQUAL(back.id, a.id);
	CU_ASSERT_STRING_EQUAL(back.comment, "alice@example.org");
	CU_ASSERT_EQUAL(laps_pubkey_parse(VEC_LINE_B, &back), 0);
	CU_ASSERT_STRING_EQUAL(back.comment, "");
	laps_privkey_clear(&a);
	laps_privkey_clear(&b);
}

static void
test_vector_private_files(void)
{
	uint8_t salt[LAPS_KDF_SALT_BYTES], nonce[LAPS_KDF_NONCE_BYTES];
	struct laps_privkey a, got;
	char *text = NULL;
	size_t len = 0, i;

	vec_key(&a, 0x00, "alice@example.org");
	for (i = 0; i < sizeof salt; i++)
		salt[i] = (uint8_t)(0xc0 + i);
	for (i = 0; i < sizeof nonce; i++)
		nonce[i] = (uint8_t)(0xd0 + i);
	CU_ASSERT_EQUAL_FATAL(laps_privkey_format(&a, NULL, 0, 0, NULL, NULL, &text, &len), 0);
	CU_ASSERT_STRING_EQUAL(text, VEC_UNPROTECTED);
	CU_ASSERT_EQUAL(len, strlen(VEC_UNPROTECTED));
	laps_secret_free(text);
	CU_ASSERT_EQUAL_FATAL(
	    laps_privkey_format(&a, VEC_PASSPHRASE, 1, 8192, salt, nonce, &text, &len), 0);
	CU_ASSERT_STRING_EQUAL(text, VEC_PROTECTED);
	laps_secret_free(text);

	/* and the documented files load back to the documented key */
	CU_ASSERT_EQUAL_FATAL(
	    laps_privkey_parse(VEC_UNPROTECTED, strlen(VEC_UNPROTECTED), "vec", NULL, &got), 0);
	CU_ASSERT_EQUAL(memcmp(got.sk, a.sk, 32), 0);
	CU_ASSERT_STRING_EQUAL(got.comment, "alice@example.org");
	laps_privkey_clear(&got);
	CU_ASSERT_EQUAL_FATAL(
	    laps_privkey_parse(VEC_PROTECTED, strlen(VEC_PROTECTED), "vec", VEC_PASSPHRASE, &got),
	    0);
	CU_ASSERT_EQUAL(memcmp(got.sk, a.sk, 32), 0);
	CU_ASSERT_EQUAL(memcmp(got.pk, a.pk, 32), 0);
	CU_ASSERT_STRING_EQUAL(got.id, a.id);
	laps_privkey_clear(&got);
	memset(&got, 0x55, sizeof got);
	got.sk = NULL;
	CU_ASSERT_EQUAL(laps_privkey_parse(VEC_PROTECTED, strlen(VEC_PROTECTED), "vec",
					   "hunter2 hunter3", &got),
			LAPS_ERR_PASSPHRASE);
	CU_ASSERT_PTR_NULL(got.sk); /* untouched on failure */
	CU_ASSERT_EQUAL(laps_privkey_parse(VEC_PROTECTED, strlen(VEC_PROTECTED), "vec", NULL, &got),
			LAPS_ERR_PASSPHRASE);
	CU_ASSERT(contains(laps_errdetail(), "passphrase-protected"));
	laps_privkey_clear(&a);
}

/* FORMAT.md 4.2: the passphrase is its exact bytes — no Unicode
 * normalisation, no trimming; the trailing newline is the CLI's business. */
static void
test_passphrase_bytes(void)
{
	uint8_t salt[LAPS_KDF_SALT_BYTES] = {0}, nonce[LAPS_KDF_NONCE_BYTES] = {0};
	static const char *const other[] = {
	    "caf\x65\xcc\x81 x", /* NFD of the same text */
	    "caf\xc3\xa9 x\n",    /* with a newline */
	    " caf\xc3\xa9 x",     /* leading space */
	    "CAF\xc3\x89 X",      /* other case */
	};
	struct laps_privkey a, got;
	char *text = NULL;
	size_t len = 0, i;

	vec_key(&a, 0x00, "");
	CU_ASSERT_EQUAL_FATAL(
	    laps_privkey_format(&a, "caf\xc3\xa9 x", 1, 8192, salt, nonce, &text, &len), 0);
	CU_ASSERT_EQUAL(laps_privkey_parse(text, len, "nfc", "caf\xc3\xa9 x", &got), 0);
	laps_privkey_clear(&got);
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		memset(&got, 0, sizeof got);
		CU_ASSERT_EQUAL(laps_privkey_parse(text, len, "nfc", other[i], &got),
				LAPS_ERR_PASSPHRASE);
		CU_ASSERT_PTR_NULL(got.sk);
	}
	laps_secret_free(text);
	laps_privkey_clear(&a);
}

/* ---- generation, ids ---- */

static void
test_generate(void)
{
	struct laps_privkey a, b;
	uint8_t pk[32];
	char id[LAPS_KEYID_MAX + 1];
	uint8_t h[32];

	CU_ASSERT_EQUAL_FATAL(laps_key_generate(&a, "ops team"), 0);
	CU_ASSERT_EQUAL_FATAL(laps_key_generate(&b, NULL), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a.sk);
	CU_ASSERT_EQUAL(crypto_scalarmult_base(pk, a.sk), 0);
	CU_ASSERT_EQUAL(memcmp(pk, a.pk, 32), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(a.pk, b.pk, 32), 0);
	CU_ASSERT_STRING_EQUAL(a.comment, "ops team");
	CU_ASSERT_STRING_EQUAL(b.comment, "");
	/* id = hex of the first 8 bytes of BLAKE2b-256(pk) */
	crypto_generichash(h, 32, a.pk, 32, NULL, 0);
	sodium_bin2hex(id, sizeof id, h, 8);
	CU_ASSERT_STRING_EQUAL(a.id, id);
	CU_ASSERT_EQUAL(strlen(a.id), 16);
	CU_ASSERT_EQUAL(laps_key_generate(&b, "bad\ncomment"), LAPS_ERR_INVALID);
	laps_privkey_clear(&a);
	CU_ASSERT_PTR_NULL(a.sk);
	laps_privkey_clear(&b);
}

/* ---- public key parsing ---- */

static void
expect_bad(const char *line, const char *what)
{
	struct laps_pubkey k;

	CU_ASSERT_EQUAL(laps_pubkey_parse(line, &k), LAPS_ERR_FORMAT);
	if (!contains(laps_errdetail(), what))
		fprintf(stderr, "\"%s\": detail \"%s\" lacks \"%s\"\n", line, laps_errdetail(),
			what);
	CU_ASSERT(contains(laps_errdetail(), what));
}

static void
test_pubkey_errors(void)
{
	char line[600];

	expect_bad("ssh-ed25519 j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF8= 57addcd56cefb426",
		   "prefix");
	expect_bad("laps-x25519  j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF8= 57addcd56cefb426",
		   "base64");
	expect_bad("", "prefix");
	expect_bad("laps-x25519 j0DFrbaPJWJK5bIU6nZ6bsl*gp09e14a0bpvPiE4KF8= 57addcd56cefb426",
		   "base64");
	/* base64 of 31 bytes, and of 33 */
	expect_bad("laps-x25519 j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KA== 57addcd56cefb426",
		   "wrong length");
	expect_bad("laps-x25519 j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF8A 57addcd56cefb426",
		   "wrong length");
	/* non-canonical padding bits */
	expect_bad("laps-x25519 j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF9= 57addcd56cefb426",
		   "base64");
	/* the id of key B on key A */
	expect_bad("laps-x25519 j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF8= f6a420b14a2d8975",
		   "does not match");
	expect_bad("laps-x25519 j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF8= 57ADDCD56CEFB426",
		   "lowercase hex");
	expect_bad("laps-x25519 j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF8= 57addcd56cefb4",
		   "lowercase hex");
	expect_bad("laps-x25519 j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF8=", "key id missing");
	expect_bad("laps-x25519 j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF8= 57addcd56cefb426 "
		   "tab\there",
		   "comment");
	expect_bad(VEC_LINE_A "\n" VEC_LINE_B, "more than one line");
	/* all-zero (small-order) key with its correct id */
	expect_bad("laps-x25519 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= 5f7d3a0aa4d3e2f2",
		   "id");
	snprintf(line, sizeof line, "%s %0*d", VEC_LINE_A, 200, 7);
	expect_bad(line, "longer than");
}

static void
test_pubkey_zero_key_usable_check(void)
{
	struct laps_pubkey k;
	uint8_t zero[32] = {0};
	char id[LAPS_KEYID_MAX + 1], line[200];

	laps_key_id(zero, id);
	snprintf(line, sizeof line, "laps-x25519 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= %s",
		 id);
	CU_ASSERT_EQUAL(laps_pubkey_parse(line, &k), LAPS_ERR_FORMAT);
	CU_ASSERT(contains(laps_errdetail(), "not a usable"));
}

static void
test_pubkey_load_file(void)
{
	struct laps_pubkey keys[4];
	size_t n = 0;
	char content[2048];

	snprintf(content, sizeof content,
		 "# admins\n"
		 "\n"
		 "%s\n"
		 "   # indented comment\n"
		 "  \t\n"
		 "%s\r\n"
		 "%s\n" /* duplicate: ignored */
		 "%s",	/* no final newline */
		 VEC_LINE_A, VEC_LINE_B, VEC_LINE_A, VEC_LINE_B);
	CU_ASSERT_EQUAL_FATAL(laps_test_write_file(path_in("admins.pub"), content, 0644), 0);
	CU_ASSERT_EQUAL(laps_pubkey_load_file(path_in("admins.pub"), keys, 4, &n), 0);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_STRING_EQUAL(keys[0].id, "57addcd56cefb426");
	CU_ASSERT_STRING_EQUAL(keys[0].comment, "alice@example.org");
	CU_ASSERT_STRING_EQUAL(keys[1].id, "f6a420b14a2d8975");
	/* appends; the keys already there count as duplicates too */
	CU_ASSERT_EQUAL(laps_pubkey_load_file(path_in("admins.pub"), keys, 4, &n), 0);
	CU_ASSERT_EQUAL(n, 2);

	/* room for one only */
	n = 0;
	CU_ASSERT_EQUAL(laps_pubkey_load_file(path_in("admins.pub"), keys, 1, &n), LAPS_ERR_TOOBIG);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT(contains(laps_errdetail(), "admins.pub:6:"));

	/* an error names file:line */
	snprintf(content, sizeof content, "# x\n%s\n\nlaps-x25519 ju!k 0123456789abcdef\n",
		 VEC_LINE_A);
	CU_ASSERT_EQUAL_FATAL(laps_test_write_file(path_in("bad.pub"), content, 0644), 0);
	n = 0;
	CU_ASSERT_EQUAL(laps_pubkey_load_file(path_in("bad.pub"), keys, 4, &n), LAPS_ERR_FORMAT);
	CU_ASSERT(contains(laps_errdetail(), "bad.pub:4: public key: bad base64"));
	CU_ASSERT_EQUAL(n, 0);

	CU_ASSERT_EQUAL(laps_pubkey_load_file(path_in("missing.pub"), keys, 4, &n),
			LAPS_ERR_NOTFOUND);
	/* a file with no key at all is a mistake */
	CU_ASSERT_EQUAL_FATAL(laps_test_write_file(path_in("empty.pub"), "# none\n\n", 0644), 0);
	CU_ASSERT_EQUAL(laps_pubkey_load_file(path_in("empty.pub"), keys, 4, &n), LAPS_ERR_FORMAT);
	CU_ASSERT(contains(laps_errdetail(), "empty.pub: no public key"));
	CU_ASSERT_EQUAL(n, 0);
	/* a NUL byte is refused */
	CU_ASSERT_EQUAL_FATAL(laps_test_write_file(path_in("nul.pub"), VEC_LINE_B "\n", 0644), 0);
	CU_ASSERT_EQUAL(truncate(path_in("nul.pub"), (off_t)strlen(VEC_LINE_B) + 3), 0);
	CU_ASSERT_EQUAL(laps_pubkey_load_file(path_in("nul.pub"), keys, 4, &n), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(n, 0);
}

/* ---- private key files ---- */

static void
same_key(const struct laps_privkey *a, const struct laps_privkey *b)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(b->sk);
	CU_ASSERT_EQUAL(memcmp(a->sk, b->sk, 32), 0);
	CU_ASSERT_EQUAL(memcmp(a->pk, b->pk, 32), 0);
	CU_ASSERT_STRING_EQUAL(a->id, b->id);
	CU_ASSERT_STRING_EQUAL(a->comment, b->comment);
}

static void
test_privkey_unprotected(void)
{
	struct laps_privkey k, got;
	struct stat st;
	bool prot = true;

	CU_ASSERT_EQUAL_FATAL(laps_key_generate(&k, "automation"), 0);
	CU_ASSERT_EQUAL_FATAL(laps_privkey_save(&k, path_in("plain.key"), NULL), 0);
	CU_ASSERT_EQUAL(lstat(path_in("plain.key"), &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	CU_ASSERT_EQUAL(laps_privkey_file_protected(path_in("plain.key"), &prot), 0);
	CU_ASSERT_FALSE(prot);
	CU_ASSERT_EQUAL(laps_privkey_load(path_in("plain.key"), NULL, &got), 0);
	same_key(&k, &got);
	laps_privkey_clear(&got);
	/* a passphrase given for an unprotected key is not needed */
	CU_ASSERT_EQUAL(laps_privkey_load(path_in("plain.key"), "whatever", &got), 0);
	same_key(&k, &got);
	laps_privkey_clear(&got);
	laps_privkey_clear(&k);
}

static void
test_privkey_protected(void)
{
	struct laps_privkey k, got;
	bool prot = false;
	char *text = NULL;
	size_t len = 0;

	CU_ASSERT_EQUAL_FATAL(laps_key_generate(&k, ""), 0);
	/* default KDF parameters: Argon2id interactive */
	CU_ASSERT_EQUAL_FATAL(laps_privkey_save(&k, path_in("prot.key"), "s3cret pass"), 0);
	CU_ASSERT_EQUAL(laps_privkey_file_protected(path_in("prot.key"), &prot), 0);
	CU_ASSERT_TRUE(prot);
	CU_ASSERT_EQUAL(laps_file_read(path_in("prot.key"), 4096, LAPS_FILE_SECRET, &text, &len),
			0);
	if (text != NULL) {
		CU_ASSERT(contains(text, "\nkdf: argon2id\nopslimit: 2\nmemlimit: 67108864\n"));
		CU_ASSERT(!contains(text, "\ncomment:"));
		CU_ASSERT(!contains(text, "\nkey:"));
	}
	laps_file_free(text, len, LAPS_FILE_SECRET);
	CU_ASSERT_EQUAL(laps_privkey_load(path_in("prot.key"), "s3cret pass", &got), 0);
	same_key(&k, &got);
	laps_privkey_clear(&got);
	memset(&got, 0, sizeof got);
	CU_ASSERT_EQUAL(laps_privkey_load(path_in("prot.key"), "s3cret pasS", &got),
			LAPS_ERR_PASSPHRASE);
	CU_ASSERT_PTR_NULL(got.sk);
	CU_ASSERT_EQUAL(laps_privkey_load(path_in("prot.key"), NULL, &got), LAPS_ERR_PASSPHRASE);
	CU_ASSERT_EQUAL(laps_privkey_load(path_in("prot.key"), "", &got), LAPS_ERR_PASSPHRASE);
	/* an empty passphrase is refused when saving (NULL means unprotected) */
	CU_ASSERT_EQUAL(laps_privkey_save(&k, path_in("empty-pass.key"), ""), LAPS_ERR_INVALID);
	CU_ASSERT_NOT_EQUAL(access(path_in("empty-pass.key"), F_OK), 0);
	laps_privkey_clear(&k);
}

static void
test_privkey_file_safety(void)
{
	struct laps_privkey k, got;
	char *text = NULL;
	size_t len = 0;
	bool prot;

	CU_ASSERT_EQUAL_FATAL(laps_key_generate(&k, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(laps_privkey_save(&k, path_in("k1"), NULL), 0);

	/* readable by group/other: refused */
	CU_ASSERT_EQUAL(chmod(path_in("k1"), 0644), 0);
	CU_ASSERT_EQUAL(laps_privkey_load(path_in("k1"), NULL, &got), LAPS_ERR_PERM);
	CU_ASSERT(contains(laps_errdetail(), "k1"));
	CU_ASSERT_EQUAL(laps_privkey_file_protected(path_in("k1"), &prot), LAPS_ERR_PERM);
	CU_ASSERT_EQUAL(chmod(path_in("k1"), 0620), 0);
	CU_ASSERT_EQUAL(laps_privkey_load(path_in("k1"), NULL, &got), LAPS_ERR_PERM);
	CU_ASSERT_EQUAL(chmod(path_in("k1"), 0604), 0);
	CU_ASSERT_EQUAL(laps_privkey_load(path_in("k1"), NULL, &got), LAPS_ERR_PERM);
	CU_ASSERT_EQUAL(chmod(path_in("k1"), 0600), 0);
	CU_ASSERT_EQUAL(laps_privkey_load(path_in("k1"), NULL, &got), 0);
	laps_privkey_clear(&got);

	/* a symlink to a good key file: refused */
	CU_ASSERT_EQUAL_FATAL(symlink(path_in("k1"), path_in("link")), 0);
	CU_ASSERT_EQUAL(laps_privkey_load(path_in("link"), NULL, &got), LAPS_ERR_PERM);
	/* saving through a symlink (dangling or not) or over a file: refused */
	CU_ASSERT_NOT_EQUAL(laps_privkey_save(&k, path_in("link"), NULL), 0);
	CU_ASSERT_EQUAL_FATAL(symlink(path_in("nowhere"), path_in("dangling")), 0);
	CU_ASSERT_NOT_EQUAL(laps_privkey_save(&k, path_in("dangling"), NULL), 0);
	CU_ASSERT_NOT_EQUAL(access(path_in("nowhere"), F_OK), 0);
	CU_ASSERT_EQUAL_FATAL(laps_test_write_file(path_in("existing"), "keep me\n", 0600), 0);
	CU_ASSERT_EQUAL(laps_privkey_save(&k, path_in("existing"), NULL), LAPS_ERR_IO);
	CU_ASSERT(contains(laps_errdetail(), "refusing to overwrite"));
	CU_ASSERT_EQUAL(laps_file_read(path_in("existing"), 100, 0, &text, &len), 0);
	if (text != NULL)
		CU_ASSERT_STRING_EQUAL(text, "keep me\n");
	laps_file_free(text, len, 0);

	/* owned by someone else (only testable as root) */
	if (geteuid() == 0) {
		CU_ASSERT_EQUAL(chown(path_in("k1"), 12345, 12345), 0);
		CU_ASSERT_EQUAL(laps_privkey_load(path_in("k1"), NULL, &got), LAPS_ERR_PERM);
	}
	laps_privkey_clear(&k);
}

/* Edit VEC_UNPROTECTED/VEC_PROTECTED: replace the first "from" by "to". */
static int
parse_edited(const char *base, const char *from, const char *to, const char *pass)
{
	struct laps_privkey k;
	char buf[2048];
	const char *p = strstr(base, from);
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	snprintf(buf, sizeof buf, "%.*s%s%s", (int)(p - base), base, to, p + strlen(from));
	rc = laps_privkey_parse(buf, strlen(buf), "edited", pass, &k);
	if (rc == 0)
		laps_privkey_clear(&k);
	return rc;
}

static void
test_privkey_parse_strict(void)
{
	const char *u = VEC_UNPROTECTED, *p = VEC_PROTECTED;

	CU_ASSERT_EQUAL(parse_edited(u, "v1", "v2", NULL), LAPS_ERR_VERSION);
	CU_ASSERT_EQUAL(parse_edited(u, "laps-private-key", "ssh-private-key", NULL),
			LAPS_ERR_FORMAT);
	/* id of another key */
	CU_ASSERT_EQUAL(parse_edited(u, "id: 57addcd56cefb426", "id: f6a420b14a2d8975", NULL),
			LAPS_ERR_FORMAT);
	CU_ASSERT(contains(laps_errdetail(), "edited:3:"));
	/* public key of key B with its id: the secret key no longer matches */
	CU_ASSERT_EQUAL(parse_edited(u,
				     "public: j0DFrbaPJWJK5bIU6nZ6bslNgp09e14a0bpvPiE4KF8=\n"
				     "id: 57addcd56cefb426",
				     "public: NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlQ=\n"
				     "id: f6a420b14a2d8975",
				     NULL),
			LAPS_ERR_FORMAT);
	CU_ASSERT(contains(laps_errdetail(), "does not match"));
	CU_ASSERT_EQUAL(parse_edited(u, "kdf: none", "kdf: scrypt", NULL), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(parse_edited(u, "key: AAEC", "key: AAE", NULL), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(parse_edited(u, "Hh8=\n", "Hh8=\nextra: 1\n", NULL), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(parse_edited(u, "Hh8=\n", "Hh8=", NULL), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(parse_edited(u, "Hh8=\n", "Hh8=\n\n", NULL), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(parse_edited(u, "comment: alice@example.org\n", "", NULL), 0);
	CU_ASSERT_EQUAL(parse_edited(u, "comment: alice@example.org\n", "comment: \n", NULL),
			LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(parse_edited(u, "\n", "\r\n", NULL), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(parse_edited(u, "id: 57addcd56cefb426\n", "id: 57addcd56cefb426\r\n", NULL),
			LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(parse_edited(u, "v1", "v10", NULL), LAPS_ERR_VERSION);
	CU_ASSERT_EQUAL(parse_edited(u, "v1", "v1 ", NULL), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(parse_edited(u, "id: ", "id:", NULL), LAPS_ERR_FORMAT);
	/* KDF parameters a file may not ask for (DoS caps) */
	CU_ASSERT_EQUAL(parse_edited(p, "opslimit: 1", "opslimit: 17", VEC_PASSPHRASE),
			LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(parse_edited(p, "opslimit: 1", "opslimit: 0", VEC_PASSPHRASE),
			LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(
	    parse_edited(p, "memlimit: 8192", "memlimit: 1099511627776", VEC_PASSPHRASE),
	    LAPS_ERR_FORMAT);
	CU_ASSERT(contains(laps_errdetail(), "memlimit"));
	CU_ASSERT_EQUAL(parse_edited(p, "memlimit: 8192", "memlimit: 08192", VEC_PASSPHRASE),
			LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(parse_edited(p, "memlimit: 8192", "memlimit: 4096", VEC_PASSPHRASE),
			LAPS_ERR_FORMAT);
	/* other KDF parameters derive another key: it no longer opens */
	CU_ASSERT_EQUAL(parse_edited(p, "memlimit: 8192", "memlimit: 9216", VEC_PASSPHRASE),
			LAPS_ERR_PASSPHRASE);
	CU_ASSERT_EQUAL(parse_edited(p, "salt: wMHC", "salt: wMHD", VEC_PASSPHRASE),
			LAPS_ERR_PASSPHRASE);
	CU_ASSERT_EQUAL(parse_edited(p, "box: zNCO", "box: zNCP", VEC_PASSPHRASE),
			LAPS_ERR_PASSPHRASE);
	CU_ASSERT_EQUAL(parse_edited(p, "nonce: 0NHS", "nonce: 0NHT", VEC_PASSPHRASE),
			LAPS_ERR_PASSPHRASE);
	CU_ASSERT_EQUAL(parse_edited(p, "box: zNCO", "box: zNC", VEC_PASSPHRASE), LAPS_ERR_FORMAT);
}

static void
test_privkey_file_format_errors(void)
{
	struct laps_privkey k;
	char big[LAPS_KEYFILE_MAX + 10];

	CU_ASSERT_EQUAL_FATAL(laps_test_write_file(path_in("trunc.key"),
						   "laps-private-key v1\n"
						   "public: j0DF\n",
						   0600),
			      0);
	CU_ASSERT_EQUAL(laps_privkey_load(path_in("trunc.key"), NULL, &k), LAPS_ERR_FORMAT);
	CU_ASSERT(contains(laps_errdetail(), "trunc.key:2:"));
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	CU_ASSERT_EQUAL_FATAL(laps_test_write_file(path_in("big.key"), big, 0600), 0);
	CU_ASSERT_EQUAL(laps_privkey_load(path_in("big.key"), NULL, &k), LAPS_ERR_TOOBIG);
	CU_ASSERT_EQUAL(laps_privkey_load(path_in("absent.key"), NULL, &k), LAPS_ERR_NOTFOUND);
}

/* The vectors printed in docs/FORMAT.md are the ones checked here. */
static void
test_vectors_in_doc(void)
{
	char *doc = NULL;
	size_t len = 0;

	CU_ASSERT_EQUAL_FATAL(
	    laps_file_read(laps_test_srcpath("docs/FORMAT.md"), 256 * 1024, 0, &doc, &len), 0);
	CU_ASSERT(contains(doc, "\n    " VEC_LINE_A "\n"));
	CU_ASSERT(contains(doc, "\n    " VEC_LINE_B "\n"));
	CU_ASSERT(contains(doc, "\n```\n" VEC_UNPROTECTED "```\n"));
	CU_ASSERT(contains(doc, "\n```\n" VEC_PROTECTED "```\n"));
	CU_ASSERT(contains(doc, "\"" VEC_PASSPHRASE "\""));
	laps_file_free(doc, len, 0);
}

static CU_TestInfo key_tests[] = {
    {"vector: key id and public key line", test_vector_keyid_and_line},
    {"vector: private key files", test_vector_private_files},
    {"passphrase bytes: no normalisation, no trimming", test_passphrase_bytes},
    {"generate", test_generate},
    {"public key parse errors", test_pubkey_errors},
    {"public key of small order refused", test_pubkey_zero_key_usable_check},
    {"public key file", test_pubkey_load_file},
    {"private key unprotected", test_privkey_unprotected},
    {"private key protected", test_privkey_protected},
    {"private key file safety", test_privkey_file_safety},
    {"private key parse is strict", test_privkey_parse_strict},
    {"private key file errors", test_privkey_file_format_errors},
    {"FORMAT.md shows the same vectors", test_vectors_in_doc},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"keys", laps_test_suite_init, laps_test_suite_cleanup, NULL, NULL, key_tests},
    CU_SUITE_INFO_NULL,
};

int
main(int argc, char **argv)
{
	return laps_test_main(argc, argv, suites);
}
