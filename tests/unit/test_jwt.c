/*
 * test_jwt.c — server/jwt.c: tokens signed here with keys generated here
 * (OpenSSL EVP), each refusal checked for its specific reason.
 */
#include "config.h"

#include "server/jwt.h"

#include "escrow/err.h"
#include "tests/unit/testutil.h"

#include <CUnit/CUnit.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ISS "https://issuer.test"
#define AUD "https://laps-escrowd.test"
#define NOW 1800000000LL

static EVP_PKEY *k_es, *k_rs, *k_ed, *k_es_other, *k_rs_small;
static struct jwt_keyset *ks;

static struct jwt_verifier_config
cfg(void)
{
	struct jwt_verifier_config c = {
	    .issuer = ISS, .audience = AUD, .leeway = 0, .require_at_jwt = true};
	return c;
}

static char *
b64url(const unsigned char *p, size_t n)
{
	size_t max = sodium_base64_encoded_len(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *s = malloc(max);

	if (s != NULL)
		sodium_bin2base64(s, max, p, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return s;
}

static char *
b64str(const char *s)
{
	return b64url((const unsigned char *)s, strlen(s));
}

static char *
bn_b64(EVP_PKEY *k, const char *param, size_t pad)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1024];
	int n;
	char *s;

	if (EVP_PKEY_get_bn_param(k, param, &bn) != 1)
		return NULL;
	n = pad ? BN_bn2binpad(bn, buf, (int)pad) : BN_bn2bin(bn, buf);
	BN_free(bn);
	s = b64url(buf, (size_t)n);
	return s;
}

/* The public JWK of k as JSON text (static buffer per call site). */
static void
jwk_of(EVP_PKEY *k, const char *kid, char *out, size_t len)
{
	char *a = NULL, *b = NULL;

	if (EVP_PKEY_is_a(k, "EC")) {
		a = bn_b64(k, OSSL_PKEY_PARAM_EC_PUB_X, 32);
		b = bn_b64(k, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
		snprintf(out, len,
			 "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\",\"kid\":\"%s\","
			 "\"alg\":\"ES256\",\"use\":\"sig\"}",
			 a, b, kid);
	} else if (EVP_PKEY_is_a(k, "RSA")) {
		a = bn_b64(k, OSSL_PKEY_PARAM_RSA_N, 0);
		b = bn_b64(k, OSSL_PKEY_PARAM_RSA_E, 0);
		snprintf(out, len, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\",\"kid\":\"%s\"}", a, b,
			 kid);
	} else {
		unsigned char raw[32];
		size_t rl = sizeof raw;

		EVP_PKEY_get_raw_public_key(k, raw, &rl);
		a = b64url(raw, rl);
		snprintf(out, len,
			 "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\",\"kid\":\"%s\","
			 "\"alg\":\"EdDSA\"}",
			 a, kid);
	}
	free(a);
	free(b);
}

/* Sign header.payload with k for alg; returns the compact token (malloc). */
static char *
sign(const char *header, const char *payload, EVP_PKEY *k, const char *alg)
{
	char *h = b64url((const unsigned char *)header, strlen(header));
	char *p = b64url((const unsigned char *)payload, strlen(payload));
	char *input = NULL, *sig64 = NULL, *tok = NULL;
	unsigned char sig[1024], raw[64];
	size_t siglen = sizeof sig;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t n;

	n = strlen(h) + strlen(p) + 2;
	input = malloc(n);
	snprintf(input, n, "%s.%s", h, p);
	if (EVP_DigestSignInit_ex(md, NULL, strcmp(alg, "EdDSA") == 0 ? NULL : "SHA256", NULL, NULL,
				  k, NULL) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, (unsigned char *)input, strlen(input)) != 1)
		goto out;
	if (strcmp(alg, "ES256") == 0) {
		const unsigned char *q = sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)siglen);
		const BIGNUM *r, *s;

		ECDSA_SIG_get0(es, &r, &s);
		BN_bn2binpad(r, raw, 32);
		BN_bn2binpad(s, raw + 32, 32);
		ECDSA_SIG_free(es);
		sig64 = b64url(raw, 64);
	} else {
		sig64 = b64url(sig, siglen);
	}
	n = strlen(input) + strlen(sig64) + 2;
	tok = malloc(n);
	snprintf(tok, n, "%s.%s", input, sig64);
out:
	EVP_MD_CTX_free(md);
	free(h);
	free(p);
	free(input);
	free(sig64);
	return tok;
}

static char *
payload(long long iat, long long exp, const char *extra)
{
	static char buf[1024];

	snprintf(buf, sizeof buf,
		 "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"host1\",\"client_id\":\"host1\","
		 "\"scope\":\"laps.device laps.read\",\"groups\":[\"laps-admins\",\"ops\"],"
		 "\"jti\":\"j1\",\"iat\":%lld,\"exp\":%lld%s}",
		 iat, exp, extra != NULL ? extra : "");
	return buf;
}

#define H_ES "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"es\"}"
#define H_RS "{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"kid\":\"rs\"}"
#define H_ED "{\"alg\":\"EdDSA\",\"typ\":\"at+jwt\",\"kid\":\"ed\"}"

/* Verify tok against the suite's keyset; returns the error, checks that the
 * detail contains want (when want != NULL). */
static int
check(const char *tok, const struct jwt_verifier_config *c, const char *want)
{
	struct jwt_claims *cl = NULL;
	int rc;

	laps_clearerr();
	rc = jwt_verify_keyset(ks, c, tok, strlen(tok), NOW, &cl);
	if (rc == 0) {
		CU_ASSERT_PTR_NOT_NULL(cl);
	} else {
		CU_ASSERT_PTR_NULL(cl);
	}
	if (want != NULL && strstr(laps_errdetail(), want) == NULL) {
		fprintf(stderr, "\n  want \"%s\", detail \"%s\"\n", want, laps_errdetail());
		CU_FAIL("error detail");
	}
	jwt_claims_free(cl);
	return rc;
}

static int
suite_init(void)
{
	char jwks[16384], a[4096], b[4096], c[4096], d[1024];
	int rc;

	if (sodium_init() < 0)
		return -1;
	k_es = EVP_EC_gen("P-256");
	k_es_other = EVP_EC_gen("P-256");
	k_rs = EVP_RSA_gen(2048);
	k_rs_small = EVP_RSA_gen(1024);
	k_ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!k_es || !k_es_other || !k_rs || !k_rs_small || !k_ed)
		return -1;
	jwk_of(k_es, "es", a, sizeof a);
	jwk_of(k_rs, "rs", b, sizeof b);
	jwk_of(k_ed, "ed", c, sizeof c);
	/* an encryption key and an unknown type are skipped, not errors */
	snprintf(d, sizeof d,
		 "{\"kty\":\"RSA\",\"use\":\"enc\",\"n\":\"AQAB\",\"e\":\"AQAB\",\"kid\":\"enc\"},"
		 "{\"kty\":\"oct\",\"k\":\"c2VjcmV0\",\"kid\":\"hs\"}");
	snprintf(jwks, sizeof jwks, "{\"keys\":[%s,%s,%s,%s]}", a, b, c, d);
	rc = jwt_jwks_parse(jwks, strlen(jwks), &ks);
	return rc == 0 ? 0 : -1;
}

static int
suite_cleanup(void)
{
	jwt_keyset_free(ks);
	EVP_PKEY_free(k_es);
	EVP_PKEY_free(k_es_other);
	EVP_PKEY_free(k_rs);
	EVP_PKEY_free(k_rs_small);
	EVP_PKEY_free(k_ed);
	return 0;
}

static void
test_valid(void)
{
	struct jwt_verifier_config c = cfg();
	struct jwt_claims *cl = NULL;
	const char *algs[] = {"ES256", "RS256", "EdDSA"}, *hs[] = {H_ES, H_RS, H_ED};
	EVP_PKEY *keys[] = {k_es, k_rs, k_ed};

	CU_ASSERT_EQUAL(jwt_keyset_count(ks), 3);
	for (int i = 0; i < 3; i++) {
		char *t = sign(hs[i], payload(NOW - 5, NOW + 300, NULL), keys[i], algs[i]);

		CU_ASSERT_EQUAL_FATAL(jwt_verify_keyset(ks, &c, t, strlen(t), NOW, &cl), 0);
		CU_ASSERT_STRING_EQUAL(jwt_claim_str(cl, "sub"), "host1");
		CU_ASSERT_PTR_NULL(jwt_claim_str(cl, "groups"));
		CU_ASSERT_TRUE(jwt_claim_has(cl, "scope", "laps.read"));
		CU_ASSERT_TRUE(jwt_claim_has(cl, "scope", "laps.device"));
		CU_ASSERT_FALSE(jwt_claim_has(cl, "scope", "laps.secret"));
		CU_ASSERT_FALSE(jwt_claim_has(cl, "scope", "laps"));
		CU_ASSERT_TRUE(jwt_claim_has(cl, "groups", "ops"));
		CU_ASSERT_FALSE(jwt_claim_has(cl, "groups", "op"));
		CU_ASSERT_TRUE(jwt_claim_has(cl, "client_id", "host1"));
		CU_ASSERT_FALSE(jwt_claim_has(cl, "sub", "host"));
		CU_ASSERT_EQUAL(jwt_claim_int(cl, "exp", -1), NOW + 300);
		CU_ASSERT_EQUAL(jwt_claim_int(cl, "sub", -1), -1);
		CU_ASSERT_EQUAL(jwt_claim_int(cl, "nope", 7), 7);
		jwt_claims_free(cl);
		cl = NULL;
		free(t);
	}
}

static void
test_times(void)
{
	struct jwt_verifier_config c = cfg();
	char *t;

	t = sign(H_ES, payload(NOW - 600, NOW - 10, NULL), k_es, "ES256");
	CU_ASSERT_EQUAL(check(t, &c, "expired"), LAPS_ERR_AUTH);
	c.leeway = 30; /* within the leeway: accepted */
	CU_ASSERT_EQUAL(check(t, &c, NULL), 0);
	free(t);
	c.leeway = 0;
	t = sign(H_ES, payload(NOW - 600, NOW, NULL), k_es, "ES256"); /* exp == now */
	CU_ASSERT_EQUAL(check(t, &c, "expired"), LAPS_ERR_AUTH);
	free(t);
	t = sign(H_ES, payload(NOW - 5, NOW + 300, ",\"nbf\":1800000100"), k_es, "ES256");
	CU_ASSERT_EQUAL(check(t, &c, "not yet valid"), LAPS_ERR_AUTH);
	c.leeway = 100;
	CU_ASSERT_EQUAL(check(t, &c, NULL), 0);
	c.leeway = 0;
	free(t);
	t = sign(H_ES, payload(NOW + 120, NOW + 300, NULL), k_es, "ES256");
	CU_ASSERT_EQUAL(check(t, &c, "issued in the future"), LAPS_ERR_AUTH);
	free(t);
	t = sign(H_ES, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"iat\":1800000000}", k_es, "ES256");
	CU_ASSERT_EQUAL(check(t, &c, "exp missing"), LAPS_ERR_AUTH);
	free(t);
	t = sign(H_ES, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1800000300}", k_es, "ES256");
	CU_ASSERT_EQUAL(check(t, &c, "iat missing"), LAPS_ERR_AUTH);
	free(t);
	t = sign(H_ES, payload(NOW, NOW + 300, ",\"nbf\":\"soon\""), k_es, "ES256");
	CU_ASSERT_EQUAL(check(t, &c, "nbf not a number"), LAPS_ERR_AUTH);
	free(t);
}

static void
test_forged(void)
{
	struct jwt_verifier_config c = cfg();
	char *t, *u;
	size_t n;

	/* signed by another key under the trusted kid */
	t = sign(H_ES, payload(NOW, NOW + 300, NULL), k_es_other, "ES256");
	CU_ASSERT_EQUAL(check(t, &c, "bad signature"), LAPS_ERR_AUTH);
	free(t);
	/* a valid token with a changed payload */
	t = sign(H_ES, payload(NOW, NOW + 300, NULL), k_es, "ES256");
	u = sign(H_ES, payload(NOW, NOW + 3000, NULL), k_es_other, "ES256");
	memcpy(strchr(t, '.'), strchr(u, '.'), strrchr(u, '.') - strchr(u, '.'));
	CU_ASSERT_EQUAL(check(t, &c, "bad signature"), LAPS_ERR_AUTH);
	free(t);
	free(u);
	/* RS256 and EdDSA signatures of the wrong key */
	t = sign(H_RS, payload(NOW, NOW + 300, NULL), k_rs_small, "RS256");
	CU_ASSERT_EQUAL(check(t, &c, "wrong length"), LAPS_ERR_AUTH);
	free(t);
	{
		EVP_PKEY *ed2 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

		t = sign(H_ED, payload(NOW, NOW + 300, NULL), ed2, "EdDSA");
		CU_ASSERT_EQUAL(check(t, &c, "bad signature"), LAPS_ERR_AUTH);
		free(t);
		EVP_PKEY_free(ed2);
	}
	/* truncated signature, truncated token */
	t = sign(H_ES, payload(NOW, NOW + 300, NULL), k_es, "ES256");
	n = strlen(t);
	t[n - 6] = '\0'; /* 80 characters: 60 bytes */
	CU_ASSERT_EQUAL(check(t, &c, "not 64 bytes"), LAPS_ERR_AUTH);
	t[n - 7] = '\0'; /* 79 characters: leftover bits set, or not */
	CU_ASSERT_EQUAL(check(t, &c, NULL), LAPS_ERR_AUTH);
	*strrchr(t, '.') = '\0';
	CU_ASSERT_EQUAL(check(t, &c, "not a JWS"), LAPS_ERR_AUTH);
	free(t);
}

static void
test_alg(void)
{
	struct jwt_verifier_config c = cfg();
	char *h, *p, *t, *pem = NULL, tok[4096];
	unsigned char mac[32];
	unsigned int maclen = sizeof mac;
	BIO *bio = BIO_new(BIO_s_mem());
	long pemlen;
	size_t want;
	int i;

	/* alg none, with an empty signature */
	h = b64str("{\"alg\":\"none\",\"typ\":\"at+jwt\"}");
	p = b64url((const unsigned char *)payload(NOW, NOW + 300, NULL),
		   strlen(payload(NOW, NOW + 300, NULL)));
	snprintf(tok, sizeof tok, "%s.%s.", h, p);
	CU_ASSERT_EQUAL(check(tok, &c, "alg not allowed"), LAPS_ERR_AUTH);
	free(h);
	/* HS256 keyed with the RSA public key (the classic confusion) */
	PEM_write_bio_PUBKEY(bio, k_rs);
	pemlen = BIO_get_mem_data(bio, &pem);
	h = b64str("{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":\"rs\"}");
	snprintf(tok, sizeof tok, "%s.%s", h, p);
	HMAC(EVP_sha256(), pem, (int)pemlen, (unsigned char *)tok, strlen(tok), mac, &maclen);
	t = b64url(mac, maclen);
	snprintf(tok + strlen(tok), sizeof tok - strlen(tok), ".%s", t);
	CU_ASSERT_EQUAL(check(tok, &c, "alg not allowed"), LAPS_ERR_AUTH);
	free(t);
	free(h);
	free(p);
	BIO_free(bio);
	/* alg of another key type than the kid's key */
	t = sign("{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"kid\":\"es\"}", payload(NOW, NOW + 300, NULL),
		 k_rs, "RS256");
	CU_ASSERT_EQUAL(check(t, &c, "alg does not match"), LAPS_ERR_AUTH);
	free(t);
	/*
	 * Rule "the token's alg must match its key", with the mismatch as the
	 * only fault: header RS256, kid of the EC key, signed by that EC key
	 * (SHA-256, DER) and exactly as long as an RS256 signature for that key
	 * (EVP_PKEY_get_size).  Were the check missing, the RS256 path would
	 * verify it with the EC key and accept it: the outcome differs.
	 */
	want = (size_t)EVP_PKEY_get_size(k_es);
	for (i = 0, t = NULL; i < 256 && t == NULL; i++) {
		t = sign("{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"kid\":\"es\"}",
			 payload(NOW, NOW + 300, NULL), k_es, "RS256");
		if (strlen(strrchr(t, '.') + 1) != (want * 4 + 2) / 3) {
			free(t);
			t = NULL;
		}
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	if (check(t, &c, NULL) == 0)
		fprintf(stderr, "\n  rule 'the token's alg must match its key' broken: an RS256 "
				"token naming an EC key was accepted\n");
	CU_ASSERT_EQUAL(check(t, &c, "alg does not match"), LAPS_ERR_AUTH);
	free(t);
	/* unknown kid; no kid picks the only key of the alg */
	t = sign("{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"zz\"}", payload(NOW, NOW + 300, NULL),
		 k_es, "ES256");
	CU_ASSERT_EQUAL(check(t, &c, "unknown kid"), LAPS_ERR_AUTH);
	free(t);
	t = sign("{\"alg\":\"ES256\",\"typ\":\"at+jwt\"}", payload(NOW, NOW + 300, NULL), k_es, "ES256");
	CU_ASSERT_EQUAL(check(t, &c, NULL), 0);
	free(t);
	/* crit */
	t = sign("{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"es\",\"crit\":[\"exp\"]}",
		 payload(NOW, NOW + 300, NULL), k_es, "ES256");
	CU_ASSERT_EQUAL(check(t, &c, "crit"), LAPS_ERR_AUTH);
	free(t);
}

static void
test_claims(void)
{
	struct jwt_verifier_config c = cfg();
	char *t;

	t = sign(H_ES, payload(NOW, NOW + 300, NULL), k_es, "ES256");
	c.issuer = "https://issuer.test/";
	CU_ASSERT_EQUAL(check(t, &c, "iss"), LAPS_ERR_AUTH);
	c = cfg();
	c.audience = "https://other.test";
	CU_ASSERT_EQUAL(check(t, &c, "aud"), LAPS_ERR_AUTH);
	free(t);
	c = cfg();
	t = sign(H_ES,
		 "{\"iss\":\"" ISS "\",\"aud\":[\"x\",\"" AUD "\"],\"iat\":1800000000,"
		 "\"exp\":1800000300}",
		 k_es, "ES256");
	CU_ASSERT_EQUAL(check(t, &c, NULL), 0);
	free(t);
	t = sign(H_ES, "{\"iss\":\"" ISS "\",\"aud\":[\"x\"],\"iat\":1800000000,\"exp\":1800000300}",
		 k_es, "ES256");
	CU_ASSERT_EQUAL(check(t, &c, "aud"), LAPS_ERR_AUTH);
	free(t);
	/* typ: "JWT" refused, media type form and case accepted, check off */
	t = sign("{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"es\"}", payload(NOW, NOW + 300, NULL),
		 k_es, "ES256");
	CU_ASSERT_EQUAL(check(t, &c, "typ"), LAPS_ERR_AUTH);
	c.require_at_jwt = false;
	CU_ASSERT_EQUAL(check(t, &c, NULL), 0);
	c.require_at_jwt = true;
	free(t);
	t = sign("{\"alg\":\"ES256\",\"typ\":\"application/AT+JWT\",\"kid\":\"es\"}",
		 payload(NOW, NOW + 300, NULL), k_es, "ES256");
	CU_ASSERT_EQUAL(check(t, &c, NULL), 0);
	free(t);
	t = sign("{\"alg\":\"ES256\",\"kid\":\"es\"}", payload(NOW, NOW + 300, NULL), k_es, "ES256");
	CU_ASSERT_EQUAL(check(t, &c, "typ"), LAPS_ERR_AUTH);
	free(t);
}

static void
test_encoding(void)
{
	struct jwt_verifier_config c = cfg();
	char *t, *big;
	size_t n;

	t = sign(H_ES, payload(NOW, NOW + 300, NULL), k_es, "ES256");
	n = strlen(t);
	/* a '+' (base64, not base64url) in the header */
	t[3] = '+';
	CU_ASSERT_EQUAL(check(t, &c, "header is not base64url"), LAPS_ERR_AUTH);
	free(t);
	t = sign(H_ES, payload(NOW, NOW + 300, NULL), k_es, "ES256");
	/* padding on the signature */
	t = realloc(t, n + 3);
	memcpy(t + n, "==", 3);
	CU_ASSERT_EQUAL(check(t, &c, "signature is not base64url"), LAPS_ERR_AUTH);
	free(t);
	/* a payload that is not JSON */
	t = sign(H_ES, "not json", k_es, "ES256");
	CU_ASSERT_EQUAL(check(t, &c, "payload is not base64url JSON"), LAPS_ERR_AUTH);
	free(t);
	/* four parts */
	t = sign(H_ES, payload(NOW, NOW + 300, NULL), k_es, "ES256");
	t = realloc(t, n + 4);
	memcpy(t + n, ".AA", 4);
	CU_ASSERT_EQUAL(check(t, &c, "not a JWS"), LAPS_ERR_AUTH);
	free(t);
	/* over the size cap (a valid signature would not help) */
	big = malloc(JWT_TOKEN_MAX + 100);
	memset(big, 'A', JWT_TOKEN_MAX + 99);
	big[JWT_TOKEN_MAX + 99] = '\0';
	big[10] = big[20] = '.';
	CU_ASSERT_EQUAL(check(big, &c, "over"), LAPS_ERR_AUTH);
	free(big);
	CU_ASSERT_EQUAL(check("", &c, "not a JWS"), LAPS_ERR_AUTH);
}

static void
test_jwks(void)
{
	struct jwt_keyset *k = NULL;
	char buf[8192], a[4096];
	char *big;

#define PARSE_FAILS(json, err, want)                                                               \
	do {                                                                                       \
		laps_clearerr();                                                                   \
		CU_ASSERT_EQUAL(jwt_jwks_parse(json, strlen(json), &k), err);                      \
		CU_ASSERT_PTR_NULL(k);                                                             \
		CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), want));                            \
	} while (0)

	PARSE_FAILS("[]", LAPS_ERR_FORMAT, "not a JSON object");
	PARSE_FAILS("{\"keys\":{}}", LAPS_ERR_FORMAT, "no \"keys\" array");
	PARSE_FAILS("{\"keys\":[]}", LAPS_ERR_FORMAT, "no ES256");
	PARSE_FAILS("{\"keys\":[1]}", LAPS_ERR_FORMAT, "not an object");
	PARSE_FAILS("{\"keys\":[{\"kty\":\"oct\",\"k\":\"AA\"}]}", LAPS_ERR_FORMAT, "no ES256");
	jwk_of(k_rs_small, "small", a, sizeof a);
	snprintf(buf, sizeof buf, "{\"keys\":[%s]}", a);
	PARSE_FAILS(buf, LAPS_ERR_FORMAT, "1024 bits");
	/* a P-256 "point" that is not on the curve */
	PARSE_FAILS("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
		    "\"x\":\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
		    "\"y\":\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}]}",
		    LAPS_ERR_FORMAT, "P-256 point");
	PARSE_FAILS("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AQ\",\"y\":\"AQ\"}]}",
		    LAPS_ERR_FORMAT, "\"x\"");
	PARSE_FAILS("{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"A+A\"}]}",
		    LAPS_ERR_FORMAT, "\"x\"");
	PARSE_FAILS("{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":"
		    "\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\",\"kid\":7}]}",
		    LAPS_ERR_FORMAT, "kid");
	/* RSA key labelled for another algorithm: skipped */
	jwk_of(k_rs, "rs", a, sizeof a);
	a[strlen(a) - 1] = '\0';
	snprintf(buf, sizeof buf, "{\"keys\":[%s,\"alg\":\"PS256\"}]}", a);
	PARSE_FAILS(buf, LAPS_ERR_FORMAT, "no ES256");
	/* too big */
	big = malloc(JWT_JWKS_MAX + 10);
	memset(big, ' ', JWT_JWKS_MAX + 9);
	big[JWT_JWKS_MAX + 9] = '\0';
	PARSE_FAILS(big, LAPS_ERR_TOOBIG, "over");
	free(big);
	/* deeper than JWT_JSON_DEPTH_MAX (16) but well-formed: refused by the parser */
	big = malloc(4096);
	memcpy(big, "{\"keys\":", 8);
	memset(big + 8, '[', 20);
	memset(big + 28, ']', 20);
	memcpy(big + 48, "}", 2);
	PARSE_FAILS(big, LAPS_ERR_FORMAT, "not a JSON object");
	free(big);
#undef PARSE_FAILS
}

/* The verifier with a static JWKS file: an unknown kid re-reads the file,
 * but at most once per refresh_min_interval. */
static void
test_verifier_file(void)
{
	struct jwt_verifier_config c = cfg();
	struct jwt_verifier *v = NULL;
	struct jwt_claims *cl = NULL;
	char path[4200], jwks[8300], a[4096], b[4096], *t;

	snprintf(path, sizeof path, "%s/jwks.json", laps_test_tmpdir());
	jwk_of(k_es, "es", a, sizeof a);
	snprintf(jwks, sizeof jwks, "{\"keys\":[%s]}", a);
	CU_ASSERT_EQUAL_FATAL(laps_test_write_file(path, jwks, 0644), 0);
	c.jwks_file = path;
	c.refresh_min_interval = 60;
	CU_ASSERT_EQUAL_FATAL(jwt_verifier_new(&c, &v), 0);

	t = sign(H_ES, payload(NOW, NOW + 300, NULL), k_es, "ES256");
	CU_ASSERT_EQUAL(jwt_verify(v, t, strlen(t), NOW, &cl), 0);
	CU_ASSERT_STRING_EQUAL(jwt_claim_str(cl, "sub"), "host1");
	jwt_claims_free(cl);
	cl = NULL;
	free(t);

	/* the issuer rotates: a new key "ed" appears in the file */
	jwk_of(k_ed, "ed", b, sizeof b);
	snprintf(jwks, sizeof jwks, "{\"keys\":[%s,%s]}", a, b);
	CU_ASSERT_EQUAL_FATAL(laps_test_write_file(path, jwks, 0644), 0);
	t = sign(H_ED, payload(NOW, NOW + 300, NULL), k_ed, "EdDSA");
	/* first unknown kid: one refresh (the first fetch was at time 0) */
	CU_ASSERT_EQUAL(jwt_verify(v, t, strlen(t), NOW, &cl), 0);
	jwt_claims_free(cl);
	cl = NULL;
	free(t);
	/* another new kid within the interval: no refresh, refused */
	jwk_of(k_es_other, "es2", b, sizeof b);
	snprintf(jwks, sizeof jwks, "{\"keys\":[%s,%s]}", a, b);
	CU_ASSERT_EQUAL_FATAL(laps_test_write_file(path, jwks, 0644), 0);
	t = sign("{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"es2\"}",
		 payload(NOW + 30, NOW + 300, NULL), k_es_other, "ES256");
	laps_clearerr();
	CU_ASSERT_EQUAL(jwt_verify(v, t, strlen(t), NOW + 30, &cl), LAPS_ERR_AUTH);
	CU_ASSERT_PTR_NULL(cl);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "unknown kid"));
	/* after the interval: refreshed, accepted */
	CU_ASSERT_EQUAL(jwt_verify(v, t, strlen(t), NOW + 61, &cl), 0);
	jwt_claims_free(cl);
	cl = NULL;
	free(t);
	/* a broken file keeps the old keys */
	CU_ASSERT_EQUAL_FATAL(laps_test_write_file(path, "{", 0644), 0);
	laps_clearerr();
	CU_ASSERT_EQUAL(jwt_verifier_refresh(v, NOW + 200), LAPS_ERR_FORMAT);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "jwks.json: JWKS: not a JSON object"));
	t = sign(H_ES, payload(NOW + 200, NOW + 300, NULL), k_es, "ES256");
	CU_ASSERT_EQUAL(jwt_verify(v, t, strlen(t), NOW + 200, &cl), 0);
	jwt_claims_free(cl);
	free(t);
	jwt_verifier_free(v);

	/* a missing file fails at creation; config errors */
	c.jwks_file = "/nonexistent/jwks.json";
	CU_ASSERT_EQUAL(jwt_verifier_new(&c, &v), LAPS_ERR_NOTFOUND);
	CU_ASSERT_PTR_NULL(v);
	c = cfg();
	c.issuer = "http://issuer.test";
	CU_ASSERT_EQUAL(jwt_verifier_new(&c, &v), LAPS_ERR_INVALID);
	c.issuer = NULL;
	CU_ASSERT_EQUAL(jwt_verifier_new(&c, &v), LAPS_ERR_INVALID);
}

/* Discovery against a closed port: no keys, a transient error (503), not 401. */
static void
test_verifier_unreachable(void)
{
	struct jwt_verifier_config c = cfg();
	struct jwt_verifier *v = NULL;
	struct jwt_claims *cl = NULL;
	char *t;
	int rc;

	c.issuer = "https://127.0.0.1:1";
	c.timeout_ms = 2000;
	CU_ASSERT_EQUAL_FATAL(jwt_verifier_new(&c, &v), 0);
	t = sign(H_ES, payload(NOW, NOW + 300, NULL), k_es, "ES256");
	rc = jwt_verify(v, t, strlen(t), NOW, &cl);
	CU_ASSERT_EQUAL(rc, LAPS_ERR_UNAVAILABLE);
	/* within the interval: no new attempt, still unavailable */
	rc = jwt_verify(v, t, strlen(t), NOW + 1, &cl);
	CU_ASSERT_EQUAL(rc, LAPS_ERR_UNAVAILABLE);
	CU_ASSERT_PTR_NOT_NULL(strstr(laps_errdetail(), "no keys"));
	CU_ASSERT_PTR_NULL(cl);
	free(t);
	jwt_verifier_free(v);
}

int
main(int argc, char **argv)
{
	CU_TestInfo tests[] = {
	    {"valid ES256, RS256, EdDSA; claims", test_valid},
	    {"exp, nbf, iat and leeway", test_times},
	    {"forged and truncated", test_forged},
	    {"alg none, HS256, mismatch, kid, crit", test_alg},
	    {"iss, aud, typ", test_claims},
	    {"base64url, shape, size", test_encoding},
	    {"JWKS parsing", test_jwks},
	    {"verifier: JWKS file, refresh rate limit", test_verifier_file},
	    {"verifier: issuer unreachable", test_verifier_unreachable},
	    CU_TEST_INFO_NULL,
	};
	CU_SuiteInfo suites[] = {
	    {"jwt", suite_init, suite_cleanup, NULL, NULL, tests},
	    CU_SUITE_INFO_NULL,
	};
	return laps_test_main(argc, argv, suites);
}
