/*
 * jwt.c — JWT access token verification (see jwt.h).
 *
 *   token   = B64URL(header) "." B64URL(payload) "." B64URL(signature)
 *   input   = the first two parts as they are (the signing input)
 *   ES256   : signature = r || s, 32 bytes each; OpenSSL wants DER
 *   RS256   : RSASSA-PKCS1-v1_5 with SHA-256, len = modulus bytes
 *   EdDSA   : Ed25519, 64 bytes, no pre-hash
 *
 * Order of the checks: size, shape, base64url, header (alg allowed, no crit,
 * typ), key (by kid, alg must match the key), signature, then the claims.
 * Nothing from the payload is trusted before the signature verified.
 */
#include "config.h"

#include "server/jwt.h"

#include "escrow/err.h"
#include "escrow/fileio.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum jwt_alg { ALG_NONE_ = 0, ALG_ES256, ALG_RS256, ALG_EDDSA };

struct jwt_key {
	char *kid; /* NULL when the JWKS gave none */
	enum jwt_alg alg;
	EVP_PKEY *pkey;
};

struct jwt_keyset {
	struct jwt_key keys[JWT_JWKS_KEYS_MAX];
	size_t n;
};

struct jwt_claims {
	json_object *payload;
};

struct jwt_verifier {
	char *issuer, *audience, *jwks_file, *ca_file;
	struct jwt_verifier_config cfg; /* strings point at the copies above */
	pthread_mutex_t lock;		/* everything below */
	pthread_cond_t fetched;		/* fetching went false */
	struct jwt_keyset *keys; /* NULL until the first successful fetch */
	int64_t last_fetch;	 /* time of the last fetch attempt */
	bool fetched_once;
	bool fetching;	   /* a fetch is in flight (at most one) */
	bool have_fetcher; /* fetcher is a thread to join */
	pthread_t fetcher;
	char fetch_error[256]; /* why the last fetch failed, "" after a success */
};

/* A token taken apart; header and payload parsed, nothing verified yet. */
struct parsed {
	const char *input; /* signing input: token[0 .. input_len) */
	size_t input_len;
	json_object *header, *payload;
	unsigned char sig[JWT_TOKEN_MAX];
	size_t sig_len;
	enum jwt_alg alg;
	const char *kid;
};

/* ------------------------------------------------------------------ */
/* base64url and JSON                                                  */

/* Strict base64url without padding; non-canonical trailing bits refused. */
static int
b64url_decode(const char *s, size_t len, unsigned char *out, size_t max, size_t *outlen)
{
	const char *end = NULL;

	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return -1;
	if (sodium_base642bin(out, max, s, len, NULL, outlen, &end,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    end != s + len)
		return -1;
	return 0;
}

/* A JSON object from buf[0..len), depth-limited; NULL if not an object. */
static json_object *
json_parse_object(const char *buf, size_t len)
{
	json_tokener *tok;
	json_object *o = NULL;

	if (len > JWT_JWKS_MAX || memchr(buf, '\0', len) != NULL)
		return NULL;
	if ((tok = json_tokener_new_ex(JWT_JSON_DEPTH_MAX)) == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	if (o != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
			  json_tokener_get_parse_end(tok) != len ||
			  !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

static const char *
jstr(json_object *obj, const char *name)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, name, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* A number claim as whole seconds: 0 ok, 1 absent, -1 not a number. */
static int
jtime(json_object *obj, const char *name, int64_t *out)
{
	json_object *v;
	double d;

	if (!json_object_object_get_ex(obj, name, &v))
		return 1;
	if (json_object_is_type(v, json_type_int)) {
		*out = json_object_get_int64(v);
		return 0;
	}
	if (!json_object_is_type(v, json_type_double))
		return -1;
	d = json_object_get_double(v);
	if (!(d > -9.0e15 && d < 9.0e15))
		return -1;
	*out = (int64_t)d;
	return 0;
}

static enum jwt_alg
alg_from_name(const char *s)
{
	if (s == NULL)
		return ALG_NONE_;
	if (strcmp(s, "ES256") == 0)
		return ALG_ES256;
	if (strcmp(s, "RS256") == 0)
		return ALG_RS256;
	if (strcmp(s, "EdDSA") == 0)
		return ALG_EDDSA;
	return ALG_NONE_;
}

/* ------------------------------------------------------------------ */
/* JWKS                                                                */

/* Decode a base64url member into buf; exact length unless want == 0. */
static int
jwk_bytes(json_object *k, const char *name, unsigned char *buf, size_t max, size_t want,
	  size_t *len)
{
	const char *s = jstr(k, name);

	if (s == NULL || b64url_decode(s, strlen(s), buf, max, len) != 0 ||
	    (want != 0 && *len != want))
		return laps_seterr(LAPS_ERR_FORMAT, "JWKS: key member \"%s\" missing or malformed",
				   name);
	return 0;
}

static int
pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld, EVP_PKEY **out)
{
	EVP_PKEY_CTX *ctx = NULL, *chk = NULL;
	OSSL_PARAM *params = NULL;
	int rc = LAPS_ERR_FORMAT;

	*out = NULL;
	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	if (EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto out;
	if ((chk = EVP_PKEY_CTX_new_from_pkey(NULL, *out, NULL)) == NULL ||
	    EVP_PKEY_public_check(chk) != 1)
		goto out;
	rc = 0; /* success */
out:
	if (rc != 0) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	EVP_PKEY_CTX_free(chk);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return rc;
}

static int
jwk_ec(json_object *k, EVP_PKEY **out)
{
	unsigned char pub[65], x[33], y[33];
	size_t xl, yl;
	OSSL_PARAM_BLD *bld = NULL;
	int rc;

	*out = NULL;
	if ((rc = jwk_bytes(k, "x", x, sizeof x, 32, &xl)) != 0 ||
	    (rc = jwk_bytes(k, "y", y, sizeof y, 32, &yl)) != 0)
		return rc;
	pub[0] = 0x04;
	memcpy(pub + 1, x, 32);
	memcpy(pub + 33, y, 32);
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub) != 1) {
		OSSL_PARAM_BLD_free(bld);
		return LAPS_ERR_NOMEM;
	}
	rc = pkey_fromdata("EC", bld, out);
	OSSL_PARAM_BLD_free(bld);
	if (rc == LAPS_ERR_FORMAT)
		return laps_seterr(rc, "JWKS: EC key is not a valid P-256 point");
	return rc;
}

static int
jwk_rsa(json_object *k, EVP_PKEY **out)
{
	unsigned char n[JWT_RSA_BITS_MAX / 8 + 1], e[16];
	size_t nl, el;
	BIGNUM *bn = NULL, *be = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	int rc;

	*out = NULL;
	if ((rc = jwk_bytes(k, "n", n, sizeof n, 0, &nl)) != 0 ||
	    (rc = jwk_bytes(k, "e", e, sizeof e, 0, &el)) != 0)
		return rc;
	if ((bn = BN_bin2bn(n, (int)nl, NULL)) == NULL || (be = BN_bin2bn(e, (int)el, NULL)) == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	if (BN_num_bits(bn) < JWT_RSA_BITS_MIN || BN_num_bits(bn) > JWT_RSA_BITS_MAX) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "JWKS: RSA key of %d bits (%d..%d allowed)",
				 BN_num_bits(bn), JWT_RSA_BITS_MIN, JWT_RSA_BITS_MAX);
		goto out;
	}
	if (!BN_is_odd(be) || BN_is_one(be) || BN_num_bits(be) > 64) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "JWKS: RSA public exponent unusable");
		goto out;
	}
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) != 1) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	rc = pkey_fromdata("RSA", bld, out);
	if (rc == LAPS_ERR_FORMAT)
		rc = laps_seterr(rc, "JWKS: RSA key refused by OpenSSL");
out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return rc;
}

static int
jwk_okp(json_object *k, EVP_PKEY **out)
{
	unsigned char x[33];
	size_t xl;
	int rc;

	*out = NULL;
	if ((rc = jwk_bytes(k, "x", x, sizeof x, 32, &xl)) != 0)
		return rc;
	*out = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, xl);
	return *out != NULL ? 0 : laps_seterr(LAPS_ERR_FORMAT, "JWKS: bad Ed25519 key");
}

/*
 * The algorithm a JWK is usable for, from kty/crv and the optional alg and
 * use; ALG_NONE_ for keys we skip (encryption keys, other curves, other
 * algorithms).
 */
static enum jwt_alg
jwk_usable(json_object *k)
{
	const char *kty = jstr(k, "kty"), *crv = jstr(k, "crv"), *use = jstr(k, "use");
	const char *alg = jstr(k, "alg");
	enum jwt_alg want;
	json_object *v;

	if (kty == NULL || (use != NULL && strcmp(use, "sig") != 0))
		return ALG_NONE_;
	if (json_object_object_get_ex(k, "use", &v) && use == NULL)
		return ALG_NONE_;
	if (strcmp(kty, "EC") == 0 && crv != NULL && strcmp(crv, "P-256") == 0)
		want = ALG_ES256;
	else if (strcmp(kty, "RSA") == 0)
		want = ALG_RS256;
	else if (strcmp(kty, "OKP") == 0 && crv != NULL && strcmp(crv, "Ed25519") == 0)
		want = ALG_EDDSA;
	else
		return ALG_NONE_;
	if (json_object_object_get_ex(k, "alg", &v) && alg_from_name(alg) != want)
		return ALG_NONE_; /* e.g. RSA with PS256 or RSA-OAEP: not ours */
	return want;
}

static int
jwk_add(struct jwt_keyset *ks, json_object *k)
{
	struct jwt_key *key = &ks->keys[ks->n];
	json_object *kidv;
	const char *kid;
	int rc;

	memset(key, 0, sizeof *key);
	if ((key->alg = jwk_usable(k)) == ALG_NONE_)
		return 0; /* skipped */
	if (json_object_object_get_ex(k, "kid", &kidv)) {
		kid = jstr(k, "kid");
		if (kid == NULL || strlen(kid) > 256)
			return laps_seterr(LAPS_ERR_FORMAT, "JWKS: kid not a string of <= 256 bytes");
		if ((key->kid = strdup(kid)) == NULL)
			return LAPS_ERR_NOMEM;
	}
	rc = key->alg == ALG_ES256 ? jwk_ec(k, &key->pkey)
	     : key->alg == ALG_RS256 ? jwk_rsa(k, &key->pkey)
				     : jwk_okp(k, &key->pkey);
	if (rc != 0) {
		free(key->kid);
		key->kid = NULL;
		return rc;
	}
	ks->n++;
	return 0;
}

void
jwt_keyset_free(struct jwt_keyset *ks)
{
	if (ks == NULL)
		return;
	for (size_t i = 0; i < ks->n; i++) {
		free(ks->keys[i].kid);
		EVP_PKEY_free(ks->keys[i].pkey);
	}
	free(ks);
}

size_t
jwt_keyset_count(const struct jwt_keyset *ks)
{
	return ks != NULL ? ks->n : 0;
}

int
jwt_jwks_parse(const char *json, size_t len, struct jwt_keyset **out)
{
	struct jwt_keyset *ks = NULL;
	json_object *root = NULL, *keys;
	size_t n;
	int rc = LAPS_ERR_FORMAT;

	*out = NULL;
	if (len > JWT_JWKS_MAX)
		return laps_seterr(LAPS_ERR_TOOBIG, "JWKS over %d bytes", JWT_JWKS_MAX);
	if ((root = json_parse_object(json, len)) == NULL) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "JWKS: not a JSON object");
		goto out;
	}
	if (!json_object_object_get_ex(root, "keys", &keys) ||
	    !json_object_is_type(keys, json_type_array)) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "JWKS: no \"keys\" array");
		goto out;
	}
	if ((ks = calloc(1, sizeof *ks)) == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	n = json_object_array_length(keys);
	for (size_t i = 0; i < n && ks->n < JWT_JWKS_KEYS_MAX; i++) {
		json_object *k = json_object_array_get_idx(keys, i);

		if (!json_object_is_type(k, json_type_object)) {
			rc = laps_seterr(LAPS_ERR_FORMAT, "JWKS: key %zu is not an object", i);
			goto out;
		}
		if ((rc = jwk_add(ks, k)) != 0)
			goto out;
	}
	if (ks->n == 0) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "JWKS: no ES256, RS256 or EdDSA signing key");
		goto out;
	}
	*out = ks;
	ks = NULL;
	rc = 0; /* success */
out:
	jwt_keyset_free(ks);
	json_object_put(root);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Tokens                                                              */

static void
parsed_clear(struct parsed *p)
{
	json_object_put(p->header);
	json_object_put(p->payload);
	p->header = p->payload = NULL;
}

/* Decode one part into a JSON object (header or payload). */
static json_object *
part_json(const char *s, size_t len)
{
	unsigned char buf[JWT_TOKEN_MAX];
	size_t n;

	if (b64url_decode(s, len, buf, sizeof buf, &n) != 0)
		return NULL;
	return json_parse_object((const char *)buf, n);
}

static bool
typ_ok(const char *typ)
{
	return typ != NULL &&
	       (strcasecmp(typ, "at+jwt") == 0 || strcasecmp(typ, "application/at+jwt") == 0);
}

/* Split, decode and check the header; nothing is verified yet. */
static int
token_parse(const char *tok, size_t len, bool require_at_jwt, struct parsed *p)
{
	const char *d1, *d2;
	json_object *v;

	memset(p, 0, sizeof *p);
	if (len > JWT_TOKEN_MAX)
		return laps_seterr(LAPS_ERR_AUTH, "token: over %d bytes", JWT_TOKEN_MAX);
	if ((d1 = memchr(tok, '.', len)) == NULL ||
	    (d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok))) == NULL ||
	    memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok)) != NULL)
		return laps_seterr(LAPS_ERR_AUTH, "token: not a JWS compact serialisation");
	p->input = tok;
	p->input_len = (size_t)(d2 - tok);
	if ((p->header = part_json(tok, (size_t)(d1 - tok))) == NULL)
		return laps_seterr(LAPS_ERR_AUTH, "token: header is not base64url JSON");
	/* The header first: "none" comes with an empty signature. */
	if ((p->alg = alg_from_name(jstr(p->header, "alg"))) == ALG_NONE_)
		return laps_seterr(LAPS_ERR_AUTH, "token: alg not allowed (ES256, RS256, EdDSA)");
	if (json_object_object_get_ex(p->header, "crit", &v))
		return laps_seterr(LAPS_ERR_AUTH, "token: crit header not supported");
	if (require_at_jwt && !typ_ok(jstr(p->header, "typ")))
		return laps_seterr(LAPS_ERR_AUTH, "token: typ is not at+jwt (RFC 9068)");
	if (json_object_object_get_ex(p->header, "kid", &v) &&
	    (p->kid = jstr(p->header, "kid")) == NULL)
		return laps_seterr(LAPS_ERR_AUTH, "token: kid is not a string");
	if ((p->payload = part_json(d1 + 1, (size_t)(d2 - d1 - 1))) == NULL)
		return laps_seterr(LAPS_ERR_AUTH, "token: payload is not base64url JSON");
	if (b64url_decode(d2 + 1, len - (size_t)(d2 + 1 - tok), p->sig, sizeof p->sig,
			  &p->sig_len) != 0)
		return laps_seterr(LAPS_ERR_AUTH, "token: signature is not base64url");
	return 0;
}

/*
 * The key for the token: by kid, or without a kid the only key of the
 * token's alg.  NULL when unknown; *mismatch when the kid names a key of
 * another algorithm.
 */
static const struct jwt_key *
key_find(const struct jwt_keyset *ks, const struct parsed *p, bool *mismatch)
{
	const struct jwt_key *found = NULL;
	size_t n = 0;

	*mismatch = false;
	if (ks == NULL)
		return NULL;
	for (size_t i = 0; i < ks->n; i++) {
		const struct jwt_key *k = &ks->keys[i];

		if (p->kid != NULL) {
			if (k->kid == NULL || strcmp(k->kid, p->kid) != 0)
				continue;
			if (k->alg != p->alg) {
				*mismatch = true;
				continue;
			}
			return k;
		}
		if (k->alg == p->alg) {
			found = k;
			n++;
		}
	}
	return n == 1 ? found : NULL;
}

/* r || s (32 + 32 bytes) to DER for OpenSSL. */
static int
es256_der(const unsigned char *sig, size_t len, unsigned char **der, int *derlen)
{
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	int rc = LAPS_ERR_NOMEM;

	*der = NULL;
	if (len != 64)
		return laps_seterr(LAPS_ERR_AUTH, "token: ES256 signature is not 64 bytes");
	if ((es = ECDSA_SIG_new()) == NULL || (r = BN_bin2bn(sig, 32, NULL)) == NULL ||
	    (s = BN_bin2bn(sig + 32, 32, NULL)) == NULL)
		goto out;
	if (ECDSA_SIG_set0(es, r, s) != 1)
		goto out;
	r = s = NULL; /* owned by es */
	if ((*derlen = i2d_ECDSA_SIG(es, der)) <= 0) {
		*der = NULL;
		goto out;
	}
	rc = 0; /* success */
out:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return rc;
}

static int
sig_verify(EVP_PKEY *pkey, const struct parsed *p)
{
	EVP_MD_CTX *md = NULL;
	unsigned char *der = NULL;
	const unsigned char *sig = p->sig;
	size_t siglen = p->sig_len;
	int derlen = 0, rc;

	if (p->alg == ALG_ES256) {
		if ((rc = es256_der(p->sig, p->sig_len, &der, &derlen)) != 0)
			return rc;
		sig = der;
		siglen = (size_t)derlen;
	} else if (p->alg == ALG_RS256 && (int)siglen != EVP_PKEY_get_size(pkey)) {
		return laps_seterr(LAPS_ERR_AUTH, "token: RS256 signature of the wrong length");
	} else if (p->alg == ALG_EDDSA && siglen != 64) {
		return laps_seterr(LAPS_ERR_AUTH, "token: EdDSA signature is not 64 bytes");
	}
	rc = LAPS_ERR_NOMEM;
	if ((md = EVP_MD_CTX_new()) == NULL)
		goto out;
	if (EVP_DigestVerifyInit_ex(md, NULL, p->alg == ALG_EDDSA ? NULL : "SHA256", NULL, NULL,
				    pkey, NULL) != 1) {
		rc = laps_seterr(LAPS_ERR_AUTH, "token: key unusable for its algorithm");
		goto out;
	}
	if (EVP_DigestVerify(md, sig, siglen, (const unsigned char *)p->input, p->input_len) != 1) {
		rc = laps_seterr(LAPS_ERR_AUTH, "token: bad signature");
		goto out;
	}
	rc = 0; /* success */
out:
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	return rc;
}

static bool
aud_ok(json_object *payload, const char *audience)
{
	json_object *aud;

	if (!json_object_object_get_ex(payload, "aud", &aud))
		return false;
	if (json_object_is_type(aud, json_type_string))
		return strcmp(json_object_get_string(aud), audience) == 0;
	if (!json_object_is_type(aud, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(aud); i++) {
		json_object *a = json_object_array_get_idx(aud, i);

		if (json_object_is_type(a, json_type_string) &&
		    strcmp(json_object_get_string(a), audience) == 0)
			return true;
	}
	return false;
}

static int
claims_check(json_object *pl, const struct jwt_verifier_config *cfg, int64_t now)
{
	const char *iss = jstr(pl, "iss");
	int64_t exp, nbf, iat, leeway = cfg->leeway, lo, hi;
	int r;

	/* now is a sane clock value and the leeway at most a day: lo and hi
	 * cannot overflow, and no claim value is ever subtracted. */
	leeway = leeway < 0 ? 0 : leeway > 86400 ? 86400 : leeway;
	lo = now - leeway;
	hi = now + leeway;

	if (iss == NULL || strcmp(iss, cfg->issuer) != 0)
		return laps_seterr(LAPS_ERR_AUTH, "token: wrong or missing iss");
	if (!aud_ok(pl, cfg->audience))
		return laps_seterr(LAPS_ERR_AUTH, "token: aud does not name this server");
	if (jtime(pl, "exp", &exp) != 0)
		return laps_seterr(LAPS_ERR_AUTH, "token: exp missing or not a number");
	if (exp <= lo)
		return laps_seterr(LAPS_ERR_AUTH, "token: expired");
	if (jtime(pl, "iat", &iat) != 0)
		return laps_seterr(LAPS_ERR_AUTH, "token: iat missing or not a number");
	if (iat > hi)
		return laps_seterr(LAPS_ERR_AUTH, "token: issued in the future (iat)");
	if ((r = jtime(pl, "nbf", &nbf)) < 0)
		return laps_seterr(LAPS_ERR_AUTH, "token: nbf not a number");
	if (r == 0 && nbf > hi)
		return laps_seterr(LAPS_ERR_AUTH, "token: not yet valid (nbf)");
	return 0;
}

/* Signature and claims of a parsed token with its key; on success the
 * payload moves to *out. */
static int
finish(struct parsed *p, EVP_PKEY *pkey, const struct jwt_verifier_config *cfg, int64_t now,
       struct jwt_claims **out)
{
	struct jwt_claims *c;
	int rc;

	if ((rc = sig_verify(pkey, p)) != 0 || (rc = claims_check(p->payload, cfg, now)) != 0)
		return rc;
	if ((c = calloc(1, sizeof *c)) == NULL)
		return LAPS_ERR_NOMEM;
	c->payload = p->payload;
	p->payload = NULL;
	*out = c;
	return 0;
}

static int
config_check(const struct jwt_verifier_config *cfg)
{
	if (cfg == NULL || cfg->issuer == NULL || cfg->audience == NULL || cfg->issuer[0] == '\0' ||
	    cfg->audience[0] == '\0')
		return laps_seterr(LAPS_ERR_INVALID, "jwt: issuer and audience are required");
	return 0;
}

int
jwt_verify_keyset(const struct jwt_keyset *ks, const struct jwt_verifier_config *cfg,
		  const char *token, size_t len, int64_t now, struct jwt_claims **out)
{
	struct parsed *p;
	const struct jwt_key *k;
	bool mismatch;
	int rc;

	*out = NULL;
	if ((rc = config_check(cfg)) != 0)
		return rc;
	if ((p = malloc(sizeof *p)) == NULL)
		return LAPS_ERR_NOMEM;
	if ((rc = token_parse(token, len, cfg->require_at_jwt, p)) != 0)
		goto out;
	if ((k = key_find(ks, p, &mismatch)) == NULL) {
		rc = laps_seterr(LAPS_ERR_AUTH, mismatch ? "token: alg does not match the key"
							 : "token: unknown kid (no key)");
		goto out;
	}
	rc = finish(p, k->pkey, cfg, now, out);
out:
	parsed_clear(p);
	free(p);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Claims                                                              */

const char *
jwt_claim_str(const struct jwt_claims *c, const char *name)
{
	return c != NULL ? jstr(c->payload, name) : NULL;
}

static bool
word_in(const char *list, const char *w)
{
	size_t wl = strlen(w);

	if (wl == 0)
		return false;
	for (const char *s = list; *s != '\0';) {
		size_t n = strcspn(s, " ");

		if (n == wl && memcmp(s, w, wl) == 0)
			return true;
		s += n;
		s += strspn(s, " ");
	}
	return false;
}

bool
jwt_claim_has(const struct jwt_claims *c, const char *name, const char *value)
{
	json_object *v;

	if (c == NULL || value == NULL || !json_object_object_get_ex(c->payload, name, &v))
		return false;
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);

		if (strcmp(s, value) == 0)
			return true;
		return (strcmp(name, "scope") == 0 || strcmp(name, "scp") == 0) && word_in(s, value);
	}
	if (!json_object_is_type(v, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		json_object *e = json_object_array_get_idx(v, i);

		if (json_object_is_type(e, json_type_string) &&
		    strcmp(json_object_get_string(e), value) == 0)
			return true;
	}
	return false;
}

int64_t
jwt_claim_int(const struct jwt_claims *c, const char *name, int64_t dflt)
{
	json_object *v;

	if (c == NULL || !json_object_object_get_ex(c->payload, name, &v) ||
	    !json_object_is_type(v, json_type_int))
		return dflt;
	return json_object_get_int64(v);
}

void
jwt_claims_free(struct jwt_claims *c)
{
	if (c == NULL)
		return;
	json_object_put(c->payload);
	free(c);
}

/* ------------------------------------------------------------------ */
/* Fetching: discovery and JWKS over verified TLS                      */

struct body {
	char *p;
	size_t len;
	bool toobig;
};

static size_t
body_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	size_t n = size * nmemb;
	char *np;

	if (n > JWT_JWKS_MAX || b->len + n > JWT_JWKS_MAX) {
		b->toobig = true;
		return 0; /* aborts the transfer */
	}
	if ((np = realloc(b->p, b->len + n + 1)) == NULL)
		return 0;
	b->p = np;
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

static int
curl_err(CURLcode cc, const char *url, const struct body *b)
{
	if (b->toobig || cc == CURLE_FILESIZE_EXCEEDED)
		return laps_seterr(LAPS_ERR_TOOBIG, "%s: answer over %d bytes", url, JWT_JWKS_MAX);
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		return laps_seterr(LAPS_ERR_TIMEOUT, "%s: timed out", url);
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		return laps_seterr(LAPS_ERR_TLS, "%s: %s", url, curl_easy_strerror(cc));
	case CURLE_UNSUPPORTED_PROTOCOL:
		return laps_seterr(LAPS_ERR_INVALID, "%s: only https is allowed", url);
	default:
		return laps_seterr(LAPS_ERR_UNAVAILABLE, "%s: %s", url, curl_easy_strerror(cc));
	}
}

/* GET url (https only, no redirects, TLS verified, body capped). */
static int
http_get(const struct jwt_verifier *v, const char *url, struct body *b)
{
	CURL *c;
	CURLcode cc;
	long status = 0, tmo = v->cfg.timeout_ms > 0 ? v->cfg.timeout_ms : 10000;
	int rc;

	memset(b, 0, sizeof *b);
	if (strncasecmp(url, "https://", 8) != 0)
		return laps_seterr(LAPS_ERR_INVALID, "%s: only https is allowed", url);
	if ((c = curl_easy_init()) == NULL)
		return LAPS_ERR_NOMEM;
	curl_easy_setopt(c, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (v->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, v->ca_file);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, tmo);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, tmo);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)JWT_JWKS_MAX);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "laps-escrowd");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	if ((cc = curl_easy_perform(c)) != CURLE_OK) {
		rc = curl_err(cc, url, b);
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		rc = laps_seterr(status >= 500 ? LAPS_ERR_UNAVAILABLE : LAPS_ERR_FORMAT,
				 "%s: HTTP %ld", url, status);
		goto out;
	}
	rc = b->p != NULL ? 0 : laps_seterr(LAPS_ERR_FORMAT, "%s: empty answer", url);
out:
	curl_easy_cleanup(c);
	if (rc != 0) {
		free(b->p);
		b->p = NULL;
	}
	return rc;
}

int
jwt_discovery_parse(const char *json, size_t len, const char *issuer, char **jwks_uri)
{
	json_object *doc = NULL;
	const char *iss, *u;
	int rc = LAPS_ERR_FORMAT;

	*jwks_uri = NULL;
	if (len > JWT_JWKS_MAX)
		return laps_seterr(LAPS_ERR_TOOBIG, "discovery document larger than %d bytes",
				   JWT_JWKS_MAX);
	if ((doc = json_parse_object(json, len)) == NULL) {
		rc = laps_seterr(rc, "not a JSON object");
		goto out;
	}
	if ((iss = jstr(doc, "issuer")) == NULL || strcmp(iss, issuer) != 0) {
		rc = laps_seterr(rc, "issuer does not match the configured one");
		goto out;
	}
	if ((u = jstr(doc, "jwks_uri")) == NULL || strncasecmp(u, "https://", 8) != 0) {
		rc = laps_seterr(rc, "jwks_uri missing or not https");
		goto out;
	}
	rc = (*jwks_uri = strdup(u)) != NULL ? 0 : LAPS_ERR_NOMEM; /* success */
out:
	json_object_put(doc);
	return rc;
}

/* Discovery: the issuer's jwks_uri (https; the document's issuer must be ours). */
static int
discover(const struct jwt_verifier *v, char **jwks_uri)
{
	char url[2048];
	size_t il = strlen(v->issuer);
	struct body b;
	int rc;

	*jwks_uri = NULL;
	while (il > 0 && v->issuer[il - 1] == '/')
		il--;
	if (laps_snprintf(url, sizeof url, "%.*s/.well-known/openid-configuration", (int)il,
			  v->issuer) != 0)
		return laps_seterr(LAPS_ERR_INVALID, "issuer URL too long");
	if ((rc = http_get(v, url, &b)) != 0)
		return rc;
	if ((rc = jwt_discovery_parse(b.p, b.len, v->issuer, jwks_uri)) != 0)
		rc = laps_seterr_prefix(rc, "%s", url);
	free(b.p);
	return rc;
}

/* "where: detail" */
static int
prefix_detail(int rc, const char *where)
{
	return laps_seterr_prefix(rc, "%s", where);
}

static int
load_keys(const struct jwt_verifier *v, struct jwt_keyset **out)
{
	char *uri = NULL, *buf = NULL;
	size_t len = 0;
	struct body b = {0};
	int rc;

	*out = NULL;
	if (v->jwks_file != NULL) {
		if ((rc = laps_file_read(v->jwks_file, JWT_JWKS_MAX, 0, &buf, &len)) != 0)
			return rc;
		rc = jwt_jwks_parse(buf, len, out);
		laps_file_free(buf, len, 0);
		return rc != 0 && rc != LAPS_ERR_NOMEM ? prefix_detail(rc, v->jwks_file) : rc;
	}
	if ((rc = discover(v, &uri)) != 0)
		return rc;
	if ((rc = http_get(v, uri, &b)) == 0 && (rc = jwt_jwks_parse(b.p, b.len, out)) != 0 &&
	    rc != LAPS_ERR_NOMEM)
		rc = prefix_detail(rc, uri);
	free(b.p);
	free(uri);
	return rc;
}

/*
 * Fetching never holds v->lock: the fetch (discovery + JWKS, up to the
 * timeout twice while an issuer is slow) runs unlocked, one at a time
 * (v->fetching), and only the swap of the key set takes the lock, so a
 * token whose key is cached is verified at once whatever a fetch does.
 */

/* The fetch, unlocked; swaps the keys in and clears v->fetching. */
static int
fetch_unlocked(struct jwt_verifier *v)
{
	struct jwt_keyset *ks = NULL;
	char buf[256];
	int rc;

	rc = load_keys(v, &ks);
	pthread_mutex_lock(&v->lock);
	if (rc == 0) {
		jwt_keyset_free(v->keys);
		v->keys = ks;
		v->fetch_error[0] = '\0';
	} else {
		snprintf(v->fetch_error, sizeof v->fetch_error, "%s",
			 laps_errstr(rc, buf, sizeof buf));
	}
	v->fetching = false;
	pthread_cond_broadcast(&v->fetched);
	pthread_mutex_unlock(&v->lock);
	return rc;
}

static void *
fetch_thread(void *arg)
{
	(void)fetch_unlocked(arg);
	return NULL;
}

/* Start a fetch in the background; the caller holds v->lock and has seen
 * !v->fetching.  false when no thread could be started. */
static bool
fetch_start_locked(struct jwt_verifier *v, int64_t now)
{
	if (v->have_fetcher) { /* finished: fetching is false */
		pthread_join(v->fetcher, NULL);
		v->have_fetcher = false;
	}
	v->last_fetch = now;
	v->fetched_once = true;
	v->fetching = true;
	if (pthread_create(&v->fetcher, NULL, fetch_thread, v) != 0) {
		v->fetching = false;
		return false;
	}
	v->have_fetcher = true;
	return true;
}

/* A fetch now, by the caller (creation, jwt_verifier_refresh), after any
 * fetch in flight. */
static int
fetch_now(struct jwt_verifier *v, int64_t now)
{
	pthread_mutex_lock(&v->lock);
	while (v->fetching)
		pthread_cond_wait(&v->fetched, &v->lock);
	v->last_fetch = now;
	v->fetched_once = true;
	v->fetching = true;
	pthread_mutex_unlock(&v->lock);
	return fetch_unlocked(v);
}

static char *
dup_opt(const char *s, bool *fail)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*fail = true;
	return d;
}

int
jwt_verifier_new(const struct jwt_verifier_config *cfg, struct jwt_verifier **out)
{
	struct jwt_verifier *v;
	bool fail = false;
	int rc;

	*out = NULL;
	if ((rc = config_check(cfg)) != 0)
		return rc;
	if (cfg->jwks_file == NULL && strncasecmp(cfg->issuer, "https://", 8) != 0)
		return laps_seterr(LAPS_ERR_INVALID, "jwt: issuer must be an https URL");
	if ((v = calloc(1, sizeof *v)) == NULL)
		return LAPS_ERR_NOMEM;
	v->issuer = dup_opt(cfg->issuer, &fail);
	v->audience = dup_opt(cfg->audience, &fail);
	v->jwks_file = dup_opt(cfg->jwks_file, &fail);
	v->ca_file = dup_opt(cfg->ca_file, &fail);
	if (fail || pthread_mutex_init(&v->lock, NULL) != 0 ||
	    pthread_cond_init(&v->fetched, NULL) != 0) {
		free(v->issuer);
		free(v->audience);
		free(v->jwks_file);
		free(v->ca_file);
		free(v);
		return LAPS_ERR_NOMEM;
	}
	v->cfg = *cfg;
	v->cfg.issuer = v->issuer;
	v->cfg.audience = v->audience;
	v->cfg.jwks_file = v->jwks_file;
	v->cfg.ca_file = v->ca_file;
	if (v->cfg.refresh_min_interval <= 0)
		v->cfg.refresh_min_interval = 60;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (v->jwks_file != NULL && (rc = fetch_now(v, 0)) != 0) {
		jwt_verifier_free(v);
		return rc;
	}
	*out = v;
	return 0;
}

void
jwt_verifier_free(struct jwt_verifier *v)
{
	if (v == NULL)
		return;
	pthread_mutex_lock(&v->lock);
	while (v->fetching)
		pthread_cond_wait(&v->fetched, &v->lock);
	pthread_mutex_unlock(&v->lock);
	if (v->have_fetcher)
		pthread_join(v->fetcher, NULL);
	jwt_keyset_free(v->keys);
	pthread_cond_destroy(&v->fetched);
	pthread_mutex_destroy(&v->lock);
	free(v->issuer);
	free(v->audience);
	free(v->jwks_file);
	free(v->ca_file);
	free(v);
	curl_global_cleanup();
}

int
jwt_verifier_refresh(struct jwt_verifier *v, int64_t now)
{
	return fetch_now(v, now);
}

/*
 * The key for p with a reference of its own (EVP_PKEY_up_ref).  A kid
 * found in the cached keys is answered at once, whatever a fetch is doing.
 * An unknown kid starts a fetch (in the background, at most one in flight,
 * at most once per refresh_min_interval) and is refused at once, while the
 * verifier already has keys from the issuer: no token, valid or not, waits
 * for the issuer then.  The caller waits for the fetch only when it cannot
 * do anything without it: no keys at all yet (start-up), or a local
 * jwks_file (a file read).
 */
static int
key_get(struct jwt_verifier *v, const struct parsed *p, int64_t now, EVP_PKEY **out)
{
	const struct jwt_key *k;
	bool mismatch, due;
	int rc = 0;

	*out = NULL;
	pthread_mutex_lock(&v->lock);
	k = key_find(v->keys, p, &mismatch);
	due = !v->fetched_once || now - v->last_fetch >= v->cfg.refresh_min_interval ||
	      now < v->last_fetch;
	if (k == NULL && !mismatch) {
		if (due && !v->fetching)
			(void)fetch_start_locked(v, now);
		while (v->fetching && (v->keys == NULL || v->jwks_file != NULL))
			pthread_cond_wait(&v->fetched, &v->lock);
		k = key_find(v->keys, p, &mismatch);
	}
	if (k == NULL)
		rc = v->keys == NULL
			 ? laps_seterr(LAPS_ERR_UNAVAILABLE, "jwt: no keys from the issuer yet%s%s",
				       v->fetch_error[0] != '\0' ? ": " : "", v->fetch_error)
			 : laps_seterr(LAPS_ERR_AUTH,
				       mismatch	     ? "token: alg does not match the key"
				       : v->fetching ? "token: unknown kid (no key; the issuer's "
						       "keys are being fetched)"
						     : "token: unknown kid (no key)");
	if (k != NULL && EVP_PKEY_up_ref(k->pkey) == 1)
		*out = k->pkey;
	else if (k != NULL)
		rc = LAPS_ERR_NOMEM;
	pthread_mutex_unlock(&v->lock);
	return rc;
}

int
jwt_verify(struct jwt_verifier *v, const char *token, size_t len, int64_t now,
	   struct jwt_claims **out)
{
	struct parsed *p;
	EVP_PKEY *pkey = NULL;
	int rc;

	*out = NULL;
	if ((p = malloc(sizeof *p)) == NULL)
		return LAPS_ERR_NOMEM;
	if ((rc = token_parse(token, len, v->cfg.require_at_jwt, p)) != 0 ||
	    (rc = key_get(v, p, now, &pkey)) != 0)
		goto out;
	rc = finish(p, pkey, &v->cfg, now, out);
out:
	EVP_PKEY_free(pkey);
	parsed_clear(p);
	free(p);
	return rc;
}
