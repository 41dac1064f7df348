/*
 * rest_auth.c — tokens for the REST backend: client credentials
 * (client_secret_basic or an RFC 7523 private_key_jwt assertion), a static
 * bearer token, mTLS (no token), and for administrators the device
 * authorization grant with a per-user token cache (rest_auth_device.c).
 * Both post to the token endpoint through rest_token.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "backends/rest_auth.h"
#include "backends/rest_auth_impl.h"
#include "backends/rest_json.h"
#include "backends/rest_keystore.h"
#include "backends/rest_secret.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/log.h"
#include "escrow/secret.h"
#include "backends/rest_conf.h"

#define SECRET_FILE_MAX 16384
#define KEY_FILE_MAX 65536
#define ASSERTION_LIFETIME 60
#define B64URL(n) sodium_base64_ENCODED_LEN((n), sodium_base64_VARIANT_URLSAFE_NO_PADDING)

void
rest_auth_set_token(struct rest_auth *a, char *token)
{
	size_t n;

	laps_secret_free(a->header);
	a->header = NULL;
	if (token == NULL)
		return;
	n = strlen(token) + sizeof "Authorization: Bearer ";
	if ((a->header = laps_secret_alloc(n)) != NULL)
		snprintf(a->header, n, "Authorization: Bearer %s", token);
	laps_secret_free(token);
}

/* "&scope=...&resource=..." for the configured values into buf. */
static int
scope_params(const struct laps_conf *cfg, char *buf, size_t len)
{
	char s[1024], res[1024];
	int rc;

	buf[0] = s[0] = res[0] = '\0';
	if (laps_rest_conf(cfg)->scope != NULL &&
	    (rc = rest_urlencode(laps_rest_conf(cfg)->scope, s, sizeof s)) != 0)
		return laps_seterr(rc, "[rest] scope too long");
	if (laps_rest_conf(cfg)->resource != NULL &&
	    (rc = rest_urlencode(laps_rest_conf(cfg)->resource, res, sizeof res)) != 0)
		return laps_seterr(rc, "[rest] resource too long");
	return laps_snprintf(buf, len, "%s%s%s%s", s[0] ? "&scope=" : "", s,
			     res[0] ? "&resource=" : "", res);
}

/* Authorization: Basic base64(urlenc(id) ":" urlenc(secret)) (RFC 6749 2.3.1). */
static int
basic_header(const char *id, const char *secret, char **out)
{
	size_t n = 3 * (strlen(id) + strlen(secret)) + 2, b64n;
	char *pair = NULL, *hdr = NULL;
	int rc = LAPS_ERR_NOMEM;

	if ((pair = laps_secret_alloc(n)) == NULL)
		goto out;
	if (rest_urlencode(id, pair, n) != 0)
		goto out;
	pair[strlen(pair) + 1] = '\0';
	pair[strlen(pair)] = ':';
	if (rest_urlencode(secret, pair + strlen(pair), n - strlen(pair)) != 0)
		goto out;
	b64n = sodium_base64_ENCODED_LEN(strlen(pair), sodium_base64_VARIANT_ORIGINAL);
	if ((hdr = laps_secret_alloc(b64n + sizeof "Authorization: Basic ")) == NULL)
		goto out;
	memcpy(hdr, "Authorization: Basic ", sizeof "Authorization: Basic ");
	sodium_bin2base64(hdr + strlen(hdr), b64n, (const unsigned char *)pair, strlen(pair),
			  sodium_base64_VARIANT_ORIGINAL);
	*out = hdr; /* success */
	hdr = NULL;
	rc = 0;
out:
	laps_secret_free(pair);
	laps_secret_free(hdr);
	return rc == 0 ? 0 : laps_seterr(rc, "[rest] client credentials: out of memory");
}

static int
fetch_client_secret(struct rest_auth *a, struct rest_resp *r, char **token)
{
	const struct laps_conf *cfg = a->cfg;
	char *secret = NULL, *hdr = NULL, form[2200];
	size_t slen;
	int64_t exp;
	int rc;

	if ((rc = rest_auth_read_secret(laps_rest_conf(cfg)->client_secret_file,
					"client_secret_file", SECRET_FILE_MAX, &secret, &slen)) !=
	    0)
		return rc;
	if ((rc = basic_header(laps_rest_conf(cfg)->client_id, secret, &hdr)) != 0)
		goto out;
	if ((rc = laps_snprintf(form, sizeof form, "grant_type=client_credentials")) != 0 ||
	    (rc = scope_params(cfg, form + strlen(form), sizeof form - strlen(form))) != 0)
		goto out;
	rc = rest_auth_post_token(a, laps_rest_conf(cfg)->token_url, hdr, form, r, token, &exp,
				  NULL);
out:
	laps_file_free(secret, slen, rest_secret_flags());
	laps_secret_free(hdr);
	return rc;
}

/* ------------------------------------------------------------------ */
/* RFC 7523 client assertion                                            */

static const char *
key_alg(EVP_PKEY *k, const EVP_MD **md)
{
	char group[64];
	size_t n;

	switch (EVP_PKEY_get_base_id(k)) {
	case EVP_PKEY_RSA:
		*md = EVP_sha256();
		return EVP_PKEY_get_bits(k) >= 2048 ? "RS256" : NULL;
	case EVP_PKEY_EC:
		*md = EVP_sha256();
		if (EVP_PKEY_get_group_name(k, group, sizeof group, &n) != 1 ||
		    strcmp(group, "prime256v1") != 0)
			return NULL;
		return "ES256";
	case EVP_PKEY_ED25519:
		*md = NULL;
		return "EdDSA";
	default:
		return NULL;
	}
}

/* ECDSA's DER signature to JWS's fixed-width r||s (RFC 7518 3.4). */
static int
ecdsa_raw(unsigned char *sig, size_t *len)
{
	const unsigned char *p = sig;
	ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)*len);
	const BIGNUM *r, *s;
	int ok;

	if (es == NULL)
		return LAPS_ERR_CRYPTO;
	ECDSA_SIG_get0(es, &r, &s);
	ok = BN_bn2binpad(r, sig, 32) == 32 && BN_bn2binpad(s, sig + 32, 32) == 32;
	ECDSA_SIG_free(es);
	*len = 64;
	return ok ? 0 : LAPS_ERR_CRYPTO;
}

static int
sign(EVP_PKEY *k, const EVP_MD *md, bool ec, const char *in, unsigned char *sig, size_t *len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = LAPS_ERR_CRYPTO;

	if (ctx != NULL && EVP_DigestSignInit(ctx, NULL, md, NULL, k) == 1 &&
	    EVP_DigestSign(ctx, sig, len, (const unsigned char *)in, strlen(in)) == 1)
		rc = ec ? ecdsa_raw(sig, len) : 0;
	EVP_MD_CTX_free(ctx);
	return rc;
}

static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return 0; /* an encrypted key cannot be used unattended */
}

/* header.payload as base64url into buf. */
static int
assertion_input(const char *alg, const char *client_id, const char *aud, int64_t now, char *buf,
		size_t len)
{
	struct json_object *h = json_object_new_object(), *p = json_object_new_object();
	unsigned char jti[16];
	char jtihex[33];
	const char *hs, *ps;
	int rc = LAPS_ERR_NOMEM;

	randombytes_buf(jti, sizeof jti);
	sodium_bin2hex(jtihex, sizeof jtihex, jti, sizeof jti);
	if (h == NULL || p == NULL ||
	    json_object_object_add(h, "alg", json_object_new_string(alg)) ||
	    json_object_object_add(h, "typ", json_object_new_string("JWT")) ||
	    json_object_object_add(p, "iss", json_object_new_string(client_id)) ||
	    json_object_object_add(p, "sub", json_object_new_string(client_id)) ||
	    json_object_object_add(p, "aud", json_object_new_string(aud)) ||
	    json_object_object_add(p, "jti", json_object_new_string(jtihex)) ||
	    json_object_object_add(p, "iat", json_object_new_int64(now)) ||
	    json_object_object_add(p, "exp", json_object_new_int64(now + ASSERTION_LIFETIME)))
		goto out;
	hs = json_object_to_json_string_ext(h, JSON_C_TO_STRING_PLAIN);
	ps = json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN);
	if (hs == NULL || ps == NULL || B64URL(strlen(hs)) + B64URL(strlen(ps)) + 1 > len)
		goto out;
	sodium_bin2base64(buf, len, (const unsigned char *)hs, strlen(hs),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	buf[strlen(buf) + 1] = '\0';
	buf[strlen(buf)] = '.';
	sodium_bin2base64(buf + strlen(buf), len - strlen(buf), (const unsigned char *)ps,
			  strlen(ps), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	rc = 0;
out:
	json_object_put(h);
	json_object_put(p);
	return rc;
}

/* The signed assertion with key k (a PEM key's or the TPM's). */
static int
assertion_with_key(EVP_PKEY *k, const char *client_id, const char *aud, int64_t now, char **out)
{
	const EVP_MD *md = NULL;
	const char *alg;
	unsigned char sig[1024];
	size_t siglen = sizeof sig, n;
	char *buf = NULL;
	int rc;

	if ((alg = key_alg(k, &md)) == NULL) {
		rc = laps_seterr(LAPS_ERR_UNSUPPORTED, "[rest] key_file: the key must be EC P-256 "
						       "(ES256), RSA >= 2048 (RS256) or Ed25519");
		goto out;
	}
	n = 2048 + strlen(client_id) * 2 + strlen(aud) * 2 + B64URL(sizeof sig);
	if ((buf = malloc(n)) == NULL) {
		rc = laps_seterr(LAPS_ERR_NOMEM, "[rest] assertion: out of memory");
		goto out;
	}
	if ((rc = assertion_input(alg, client_id, aud, now, buf, n - B64URL(sizeof sig) - 1)) !=
	    0) {
		rc = laps_seterr(rc, "[rest] assertion: cannot build it");
		goto out;
	}
	if ((rc = sign(k, md, EVP_PKEY_get_base_id(k) == EVP_PKEY_EC, buf, sig, &siglen)) != 0) {
		rc = laps_seterr(rc, "[rest] key_file: signing the assertion failed");
		goto out;
	}
	buf[strlen(buf) + 1] = '\0';
	buf[strlen(buf)] = '.';
	sodium_bin2base64(buf + strlen(buf), n - strlen(buf), sig, siglen,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	*out = buf; /* success */
	buf = NULL;
	rc = 0;
out:
	free(buf);
	return rc;
}

int
rest_auth_assertion(const char *pem, size_t len, const char *client_id, const char *aud,
		    int64_t now, char **out)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *k = NULL;
	int rc;

	if (bio == NULL || (k = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL)) == NULL)
		rc = laps_seterr(LAPS_ERR_FORMAT, "[rest] key_file: not an unencrypted PEM "
						  "private key");
	else
		rc = assertion_with_key(k, client_id, aud, now, out);
	EVP_PKEY_free(k);
	BIO_free(bio);
	return rc;
}

/* The assertion signed by key_file's key: a PEM key read here, or the TPM's
 * (rest_keystore.h). */
static int
jwt_assertion(const struct laps_conf *cfg, char **assertion)
{
	const struct laps_rest_conf *r = laps_rest_conf(cfg);
	EVP_PKEY *k = NULL;
	char *pem = NULL;
	size_t plen = 0;
	int rc;

	if (rest_keystore_is_tpm(r->key_store)) {
		if ((rc = rest_keystore_load(r->key_file, true, &k)) == 0)
			rc = assertion_with_key(k, r->client_id, r->token_url, (int64_t)time(NULL),
						assertion);
		EVP_PKEY_free(k);
		return rc;
	}
	if ((rc = rest_auth_read_secret(r->key_file, "key_file", KEY_FILE_MAX, &pem, &plen)) != 0)
		return rc;
	rc = rest_auth_assertion(pem, plen, r->client_id, r->token_url, (int64_t)time(NULL),
				 assertion);
	laps_file_free(pem, plen, rest_secret_flags());
	return rc;
}

static int
fetch_jwt(struct rest_auth *a, struct rest_resp *r, char **token)
{
	const struct laps_conf *cfg = a->cfg;
	char *assertion = NULL, *form = NULL, id[768];
	size_t flen = 0;
	int64_t exp;
	int rc;

	if ((rc = jwt_assertion(cfg, &assertion)) != 0)
		goto out;
	if ((rc = rest_urlencode(laps_rest_conf(cfg)->client_id, id, sizeof id)) != 0) {
		rc = laps_seterr(rc, "[rest] client_id too long");
		goto out;
	}
	flen = strlen(assertion) + strlen(id) + 4096;
	if ((form = malloc(flen)) == NULL) {
		rc = laps_seterr(LAPS_ERR_NOMEM, "[rest] out of memory");
		goto out;
	}
	if ((rc = laps_snprintf(form, flen,
				"grant_type=client_credentials&client_id=%s&client_assertion_type="
				"urn%%3Aietf%%3Aparams%%3Aoauth%%3Aclient-assertion-type%%3Ajwt-"
				"bearer&client_assertion=%s",
				id, assertion)) != 0 ||
	    (rc = scope_params(cfg, form + strlen(form), flen - strlen(form))) != 0)
		goto out;
	rc = rest_auth_post_token(a, laps_rest_conf(cfg)->token_url, NULL, form, r, token, &exp,
				  NULL);
out:
	if (form != NULL)
		laps_freezero(form, flen);
	free(assertion);
	return rc;
}

static int
fetch_bearer(struct rest_auth *a, char **token)
{
	char *buf = NULL;
	size_t n = 0;
	int rc;

	if ((rc = rest_auth_read_secret(laps_rest_conf(a->cfg)->bearer_file, "bearer_file",
					REST_TOKEN_MAX, &buf, &n)) != 0)
		return rc;
	if (!rest_token_ok(buf)) {
		laps_file_free(buf, n, rest_secret_flags());
		return laps_seterr(LAPS_ERR_CONFIG,
				   "[rest] bearer_file: %s does not hold one "
				   "token (RFC 6750 characters only)",
				   laps_rest_conf(a->cfg)->bearer_file);
	}
	*token = laps_secret_strdup(buf);
	laps_file_free(buf, n, rest_secret_flags());
	return *token != NULL ? 0 : laps_seterr(LAPS_ERR_NOMEM, "[rest] out of memory");
}

/* ------------------------------------------------------------------ */

static int
fetch(struct rest_auth *a)
{
	struct rest_resp r;
	char *token = NULL;
	int rc;

	rest_resp_init(&r);
	switch (laps_rest_conf(a->cfg)->auth) {
	case LAPS_REST_AUTH_CLIENT_SECRET:
		rc = fetch_client_secret(a, &r, &token);
		break;
	case LAPS_REST_AUTH_PRIVATE_KEY_JWT:
		rc = fetch_jwt(a, &r, &token);
		break;
	case LAPS_REST_AUTH_BEARER:
		rc = fetch_bearer(a, &token);
		break;
	case LAPS_REST_AUTH_DEVICE_CODE:
		rc = rest_auth_device_token(a, &token);
		break;
	default:
		rc = 0; /* mtls: TLS carries the credential */
		break;
	}
	rest_resp_clear(&r);
	if (rc == 0)
		rest_auth_set_token(a, token);
	a->fetched = rc == 0;
	return rc;
}

int
rest_auth_new(const struct laps_conf *cfg, enum laps_backend_role role, struct rest_http *h,
	      struct rest_auth **out)
{
	struct rest_auth *a;

	*out = NULL;
	if (laps_rest_conf(cfg)->auth == LAPS_REST_AUTH_DEVICE_CODE && role != LAPS_ROLE_ADMIN)
		return laps_seterr(LAPS_ERR_CONFIG, "[rest] auth = device_code is for laps-get");
	if ((a = calloc(1, sizeof *a)) == NULL)
		return laps_seterr(LAPS_ERR_NOMEM, "rest: out of memory");
	a->cfg = cfg;
	a->role = role;
	a->http = h;
	*out = a;
	return 0;
}

void
rest_auth_free(struct rest_auth *a)
{
	if (a == NULL)
		return;
	laps_secret_free(a->header);
	laps_secret_free(a->refresh);
	free(a);
}

int
rest_auth_header(struct rest_auth *a, const char **hdr)
{
	int rc;

	*hdr = NULL;
	if (!a->fetched && (rc = fetch(a)) != 0)
		return rc;
	*hdr = a->header;
	return 0;
}

int
rest_auth_refresh(struct rest_auth *a)
{
	if (laps_rest_conf(a->cfg)->auth == LAPS_REST_AUTH_MTLS ||
	    laps_rest_conf(a->cfg)->auth == LAPS_REST_AUTH_BEARER)
		return laps_seterr(LAPS_ERR_AUTH, "the server refused the %s credential",
				   laps_rest_auth_name(laps_rest_conf(a->cfg)->auth));
	if (a->refreshed)
		return laps_seterr(LAPS_ERR_AUTH, "the server refused a fresh token too");
	a->refreshed = true;
	log_info("rest: the server refused the token; requesting a new one");
	rest_auth_set_token(a, NULL);
	a->fetched = false;
	if (laps_rest_conf(a->cfg)->auth == LAPS_REST_AUTH_DEVICE_CODE)
		rest_auth_device_forget(a);
	return fetch(a);
}
