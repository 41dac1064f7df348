/*
 * test_rest.c — the REST backend's pure parts.
 *
 *   rest_json   every answer parser: what it accepts, and for each malformed
 *               answer the LAPS_ERR_* and a detail that names the endpoint
 *               (never the token it refused)
 *   rest_auth   the RFC 7523 assertion, cross-checked: signed by
 *               rest_auth_assertion with ES256, RS256 and EdDSA keys made
 *               here, verified by laps-escrowd's own JWS verifier
 *               (server/jwt.c) against the public key as a JWK, claims
 *               read back; a foreign key does not verify it; unsupported
 *               and encrypted keys refused; secret files' modes
 */
#include "config.h"

#include <CUnit/CUnit.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/rest_auth.h"
#include "backends/rest_json.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/secret.h"
#include "server/jwt.h"
#include "tests/unit/testutil.h"

#define WHAT "GET /v1/devices/ws01/accounts/lapsadmin"
#define NOW 1800000000LL
#define TOKEN_URL "https://login.example.test/oauth2/token"

static bool
detail_has(const char *s)
{
	return strstr(laps_errdetail(), s) != NULL;
}

/* ------------------------------------------------------------------ */
/* rest_json                                                            */

#define META                                                                                     \
	"{\"device\":\"ws01\",\"account\":\"lapsadmin\",\"rotation_id\":"                        \
	"\"0123456789abcdef0123456789abcdef\",\"state\":\"%s\",\"rotated_at\":%s,"               \
	"\"expires_at\":1702592000,\"seq\":7%s}"

static int
meta(const char *state, const char *rotated, const char *extra, struct laps_record *r,
     int64_t *seq)
{
	char buf[1024];

	snprintf(buf, sizeof buf, META, state, rotated, extra);
	laps_record_clear(r);
	laps_record_init(r);
	return rest_parse_meta(buf, strlen(buf), WHAT, r, seq);
}

static void
test_meta(void)
{
	struct laps_record r;
	int64_t seq = 0;

	laps_record_init(&r);
	CU_ASSERT_EQUAL(meta("pending", "1700000000", ",\"future_member\":[1,2]", &r, &seq), 0);
	CU_ASSERT_STRING_EQUAL(r.device, "ws01");
	CU_ASSERT_EQUAL(r.state, LAPS_STATE_PENDING);
	CU_ASSERT_EQUAL(r.rotated_at, 1700000000);
	CU_ASSERT_EQUAL(r.expires_at, 1702592000);
	CU_ASSERT_EQUAL(seq, 7);
	CU_ASSERT_EQUAL(r.seq, 7); /* the agent writes seq + 1 from this */
	CU_ASSERT_PTR_NULL(r.envelope);

	CU_ASSERT_EQUAL(meta("lost", "1700000000", "", &r, &seq), LAPS_ERR_FORMAT);
	CU_ASSERT(detail_has(WHAT) && detail_has("state"));
	CU_ASSERT_EQUAL(meta("confirmed", "\"yesterday\"", "", &r, &seq), LAPS_ERR_FORMAT);
	CU_ASSERT(detail_has(WHAT) && detail_has("rotated_at"));
	CU_ASSERT_EQUAL(meta("confirmed", "-5", "", &r, &seq), LAPS_ERR_FORMAT);
	CU_ASSERT(detail_has("out of range"));
	CU_ASSERT_EQUAL(meta("confirmed", "1", ",\"key_ids\":[\"xyz\"]", &r, &seq), LAPS_ERR_FORMAT);
	CU_ASSERT(detail_has("key_ids[0]"));
	CU_ASSERT_EQUAL(rest_parse_meta("<html>", 6, WHAT, &r, &seq), LAPS_ERR_FORMAT);
	CU_ASSERT(detail_has(WHAT));
	CU_ASSERT_EQUAL(rest_parse_meta("[1]", 3, WHAT, &r, &seq), LAPS_ERR_FORMAT);
	CU_ASSERT(detail_has(WHAT));
	laps_record_clear(&r);
}

static void
test_problem(void)
{
	const char *p = "{\"type\":\"x\",\"status\":412,\"code\":\"version_mismatch\","
			"\"detail\":\"changed\\nsince\"}";
	char code[REST_CODE_MAX], detail[REST_DETAIL_MAX];

	CU_ASSERT_EQUAL(rest_parse_problem(p, strlen(p), code, detail), 0);
	CU_ASSERT_STRING_EQUAL(code, "version_mismatch");
	CU_ASSERT_STRING_EQUAL(detail, "changed?since"); /* control characters replaced */
	CU_ASSERT_EQUAL(rest_parse_problem("{\"status\":500}", 14, code, detail), LAPS_ERR_FORMAT);
}

static void
test_devices(void)
{
	char devs[2][LAPS_DEVICE_MAX + 1], next[REST_PAGE_TOKEN_MAX + 1];
	const char *ok = "{\"devices\":[\"ws01.example.test\"],\"next_page_token\":\"ws01\"}";
	const char *bad = "{\"devices\":[\"ws01\",\"../etc\"],\"next_page_token\":null}";
	const char *tok = "{\"devices\":[],\"next_page_token\":\"a b\"}";
	size_t n = 0;

	CU_ASSERT_EQUAL(rest_parse_devices(ok, strlen(ok), WHAT, devs, 2, &n, next), 0);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_STRING_EQUAL(devs[0], "ws01.example.test");
	CU_ASSERT_STRING_EQUAL(next, "ws01");
	CU_ASSERT_EQUAL(rest_parse_devices(ok, strlen(ok), WHAT, devs, 2, &n, next), 0);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(rest_parse_devices(ok, strlen(ok), WHAT, devs, 2, &n, next), LAPS_ERR_TOOBIG);
	n = 0;
	CU_ASSERT_EQUAL(rest_parse_devices(bad, strlen(bad), WHAT, devs, 2, &n, next),
			LAPS_ERR_FORMAT);
	CU_ASSERT(detail_has(WHAT) && detail_has("devices[1]"));
	CU_ASSERT_EQUAL(n, 0); /* outputs set only on success */
	CU_ASSERT_EQUAL(rest_parse_devices(tok, strlen(tok), WHAT, devs, 2, &n, next),
			LAPS_ERR_FORMAT);
	CU_ASSERT(detail_has("next_page_token"));
}

struct rows {
	size_t n;
	char last[LAPS_DEVICE_MAX + LAPS_ACCOUNT_MAX + 128];
	int stop_at; /* return LAPS_ERR_IO at this row (1-based), 0 = never */
};

static int
row_cb(void *arg, const struct laps_report_row *row)
{
	struct rows *r = arg;

	r->n++;
	snprintf(r->last, sizeof r->last, "%s/%s:%d:%lld:%lld:%llu:%d", row->device, row->account,
		 (int)row->state, (long long)row->rotated_at, (long long)row->expires_at,
		 (unsigned long long)row->seq, row->has_record);
	return (int)r->n == r->stop_at ? LAPS_ERR_IO : 0;
}

#define ROW(d, st) \
	"{\"device\":\"" d "\",\"account\":\"lapsadmin\",\"state\":\"" st "\"," \
	"\"rotated_at\":10,\"expires_at\":20,\"seq\":3,\"overdue\":true}"

static void
test_report(void)
{
	const char *page = "{\"entries\":[" ROW("a1", "pending") "," ROW("b2", "confirmed")
			   "],\"next_page_token\":\"b2/lapsadmin\"}";
	const char *last = "{\"entries\":[],\"next_page_token\":null}";
	const char *loop = "{\"entries\":[],\"next_page_token\":\"x\"}";
	const char *bad = "{\"entries\":[" ROW("a1", "pending") "," ROW("b2", "stolen") "]}";
	const char *noarr = "{\"rows\":[]}";
	char next[REST_PAGE_TOKEN_MAX + 1];
	struct rows r = {0};
	size_t n;

	CU_ASSERT_EQUAL(rest_parse_report(page, strlen(page), "GET /v1/report", row_cb, &r, &n,
					  next), 0);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(r.n, 2);
	CU_ASSERT_STRING_EQUAL(r.last, "b2/lapsadmin:1:10:20:3:1");
	CU_ASSERT_STRING_EQUAL(next, "b2/lapsadmin");
	CU_ASSERT_EQUAL(rest_parse_report(last, strlen(last), "GET /v1/report", row_cb, &r, &n,
					  next), 0);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_STRING_EQUAL(next, "");
	CU_ASSERT_EQUAL(rest_parse_report(loop, strlen(loop), "GET /v1/report", row_cb, &r, &n,
					  next), LAPS_ERR_FORMAT);
	CU_ASSERT(detail_has("GET /v1/report") && detail_has("empty page"));
	memset(&r, 0, sizeof r);
	CU_ASSERT_EQUAL(rest_parse_report(bad, strlen(bad), "GET /v1/report", row_cb, &r, &n,
					  next), LAPS_ERR_FORMAT);
	CU_ASSERT(detail_has("GET /v1/report: entries[1]") && detail_has("state"));
	CU_ASSERT_EQUAL(r.n, 1); /* the good row before went out */
	CU_ASSERT_EQUAL(rest_parse_report(noarr, strlen(noarr), "GET /v1/report", row_cb, &r, &n,
					  next), LAPS_ERR_FORMAT);
	CU_ASSERT(detail_has("entries"));
	/* the callback's error stops the page and comes back as it is */
	memset(&r, 0, sizeof r);
	r.stop_at = 1;
	CU_ASSERT_EQUAL(rest_parse_report(page, strlen(page), "GET /v1/report", row_cb, &r, &n,
					  next), LAPS_ERR_IO);
	CU_ASSERT_EQUAL(r.n, 1);
}

static void
test_token(void)
{
	const char *ok = "{\"access_token\":\"eyJh.eyJ.sig-_~+/=\",\"token_type\":\"bEaReR\","
			 "\"expires_in\":600,\"refresh_token\":\"r1\"}";
	const char *mac = "{\"access_token\":\"abc\",\"token_type\":\"mac\"}";
	const char *evil = "{\"access_token\":\"SECRET\\r\\nX-Injected: 1\",\"token_type\":\"Bearer\"}";
	const char *noexp = "{\"access_token\":\"abc\",\"token_type\":\"Bearer\"}";
	char *a = NULL, *r = NULL;
	int64_t exp = -1;

	CU_ASSERT_EQUAL(rest_parse_token(ok, strlen(ok), TOKEN_URL, &a, &exp, &r), 0);
	CU_ASSERT_STRING_EQUAL(a, "eyJh.eyJ.sig-_~+/=");
	CU_ASSERT_STRING_EQUAL(r, "r1");
	CU_ASSERT_EQUAL(exp, 600);
	laps_secret_free(a);
	laps_secret_free(r);
	a = r = NULL;
	CU_ASSERT_EQUAL(rest_parse_token(noexp, strlen(noexp), TOKEN_URL, &a, &exp, &r), 0);
	CU_ASSERT_EQUAL(exp, 0);
	CU_ASSERT_PTR_NULL(r);
	laps_secret_free(a);
	a = NULL;
	CU_ASSERT_EQUAL(rest_parse_token(mac, strlen(mac), TOKEN_URL, &a, &exp, &r),
			LAPS_ERR_FORMAT);
	CU_ASSERT(detail_has(TOKEN_URL) && detail_has("Bearer"));
	CU_ASSERT_EQUAL(rest_parse_token(evil, strlen(evil), TOKEN_URL, &a, &exp, &r),
			LAPS_ERR_FORMAT);
	CU_ASSERT(detail_has(TOKEN_URL) && detail_has("access_token"));
	CU_ASSERT(!detail_has("SECRET")); /* the refused token is never echoed */
	CU_ASSERT_PTR_NULL(a);
	CU_ASSERT_FALSE(rest_token_ok("a b"));
	CU_ASSERT_FALSE(rest_token_ok("=abc"));
	CU_ASSERT_FALSE(rest_token_ok("ab=c"));
	CU_ASSERT_TRUE(rest_token_ok("abc=="));
}

static void
test_oauth_error(void)
{
	char err[REST_CODE_MAX];

	CU_ASSERT_EQUAL(rest_parse_oauth_error("{\"error\":\"authorization_pending\"}", 33, err), 0);
	CU_ASSERT_STRING_EQUAL(err, "authorization_pending");
	CU_ASSERT_EQUAL(rest_parse_oauth_error("{\"error\":7}", 11, err), LAPS_ERR_FORMAT);
}

static void
test_device_auth(void)
{
	const char *ok = "{\"device_code\":\"dc1\",\"user_code\":\"ABCD-EFGH\","
			 "\"verification_uri\":\"https://idp.test/device\",\"expires_in\":600}";
	const char *http = "{\"device_code\":\"dc1\",\"user_code\":\"ABCD-EFGH\","
			   "\"verification_uri\":\"http://idp.test/device\",\"expires_in\":600}";
	const char *esc = "{\"device_code\":\"dc1\",\"user_code\":\"AB\\u001b[2J\","
			  "\"verification_uri\":\"https://idp.test/device\",\"expires_in\":600}";
	struct rest_device_auth d;

	memset(&d, 0, sizeof d);
	CU_ASSERT_EQUAL(rest_parse_device_auth(ok, strlen(ok), "POST /device/auth", &d), 0);
	CU_ASSERT_STRING_EQUAL(d.user_code, "ABCD-EFGH");
	CU_ASSERT_EQUAL(d.interval, 5); /* RFC 8628 default */
	CU_ASSERT_STRING_EQUAL(d.verification_uri_complete, "");
	rest_device_auth_clear(&d);
	CU_ASSERT_EQUAL(rest_parse_device_auth(http, strlen(http), "POST /device/auth", &d),
			LAPS_ERR_FORMAT);
	CU_ASSERT(detail_has("POST /device/auth") && detail_has("https"));
	/* a terminal escape in what laps-get prints to the administrator */
	CU_ASSERT_EQUAL(rest_parse_device_auth(esc, strlen(esc), "POST /device/auth", &d),
			LAPS_ERR_FORMAT);
	CU_ASSERT_PTR_NULL(d.device_code);
}

static void
test_retry_after(void)
{
	int64_t s = -1;

	CU_ASSERT_EQUAL(rest_parse_retry_after("120", NOW, &s), 0);
	CU_ASSERT_EQUAL(s, 120);
	/* 1800000000 = Fri, 15 Jan 2027 08:00:00 GMT */
	CU_ASSERT_EQUAL(rest_parse_retry_after("Fri, 15 Jan 2027 08:00:30 GMT", NOW, &s), 0);
	CU_ASSERT_EQUAL(s, 30);
	CU_ASSERT_EQUAL(rest_parse_retry_after("Fri, 15 Jan 2027 07:00:00 GMT", NOW, &s), 0);
	CU_ASSERT_EQUAL(s, 0); /* in the past */
	CU_ASSERT_EQUAL(rest_parse_retry_after("soon", NOW, &s), LAPS_ERR_FORMAT);
	CU_ASSERT_EQUAL(rest_parse_retry_after("-3", NOW, &s), LAPS_ERR_FORMAT);
	CU_ASSERT_TRUE(rest_etag_ok("\"v7\""));
	CU_ASSERT_FALSE(rest_etag_ok("W/\"v7\""));
	CU_ASSERT_FALSE(rest_etag_ok("v7"));
	CU_ASSERT_FALSE(rest_etag_ok("\"a\"b\""));
}

/* ------------------------------------------------------------------ */
/* rest_auth: the RFC 7523 assertion through server/jwt.c               */

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
bn_b64(EVP_PKEY *k, const char *param, int pad)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1024];
	int n;

	if (EVP_PKEY_get_bn_param(k, param, &bn) != 1)
		return NULL;
	n = pad ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
	BN_free(bn);
	return b64url(buf, (size_t)n);
}

/* {"keys":[the public JWK of k]} (no kid: the assertion has none either). */
static void
jwks_of(EVP_PKEY *k, char *out, size_t len)
{
	char *a = NULL, *b = NULL;
	unsigned char raw[32];
	size_t rl = sizeof raw;

	if (EVP_PKEY_is_a(k, "EC")) {
		a = bn_b64(k, OSSL_PKEY_PARAM_EC_PUB_X, 32);
		b = bn_b64(k, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
		snprintf(out, len,
			 "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}]}",
			 a, b);
	} else if (EVP_PKEY_is_a(k, "RSA")) {
		a = bn_b64(k, OSSL_PKEY_PARAM_RSA_N, 0);
		b = bn_b64(k, OSSL_PKEY_PARAM_RSA_E, 0);
		snprintf(out, len, "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"}]}", a, b);
	} else {
		EVP_PKEY_get_raw_public_key(k, raw, &rl);
		a = b64url(raw, rl);
		snprintf(out, len, "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"}]}",
			 a);
	}
	free(a);
	free(b);
}

/* k's private key as PEM (malloc'd, *len set); pass: encrypt with it. */
static char *
pem_of(EVP_PKEY *k, const char *pass, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;

	if (bio == NULL)
		return NULL;
	if (PEM_write_bio_PrivateKey(bio, k, pass ? EVP_aes_256_cbc() : NULL,
				     (unsigned char *)pass, pass ? (int)strlen(pass) : 0, NULL,
				     NULL) == 1 &&
	    (n = BIO_get_mem_data(bio, &data)) > 0 && (out = malloc((size_t)n + 1)) != NULL) {
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
		*len = (size_t)n;
	}
	BIO_free(bio);
	return out;
}

static EVP_PKEY *
keygen(const char *type)
{
	if (strcmp(type, "ES256") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (strcmp(type, "P-384") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	if (strcmp(type, "RS256") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	if (strcmp(type, "RSA1024") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
}

/* Verify tok with the JWKS of k; 0 or server/jwt.c's error.  *c on success. */
static int
verify_with(EVP_PKEY *k, const char *tok, struct jwt_claims **c)
{
	struct jwt_verifier_config cfg = {
	    .issuer = "ws01.example.test", .audience = TOKEN_URL, .leeway = 0,
	    .require_at_jwt = false}; /* an assertion is typ JWT, not at+jwt */
	struct jwt_keyset *ks = NULL;
	char jwks[4096];
	int rc;

	jwks_of(k, jwks, sizeof jwks);
	if ((rc = jwt_jwks_parse(jwks, strlen(jwks), &ks)) != 0)
		return rc;
	rc = jwt_verify_keyset(ks, &cfg, tok, strlen(tok), NOW + 1, c);
	jwt_keyset_free(ks);
	return rc;
}

static void
assertion_roundtrip(const char *alg)
{
	EVP_PKEY *k = keygen(alg), *other = keygen(alg);
	struct jwt_claims *c = NULL;
	char *pem, *t1 = NULL, *t2 = NULL, jti1[64] = "";
	size_t len = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	CU_ASSERT_PTR_NOT_NULL_FATAL(other);
	pem = pem_of(k, NULL, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pem);
	CU_ASSERT_EQUAL_FATAL(rest_auth_assertion(pem, len, "ws01.example.test", TOKEN_URL, NOW,
						  &t1), 0);
	CU_ASSERT_EQUAL(rest_auth_assertion(pem, len, "ws01.example.test", TOKEN_URL, NOW, &t2), 0);
	CU_ASSERT_EQUAL(verify_with(k, t1, &c), 0);
	if (c != NULL) {
		CU_ASSERT_STRING_EQUAL(jwt_claim_str(c, "iss"), "ws01.example.test");
		CU_ASSERT_STRING_EQUAL(jwt_claim_str(c, "sub"), "ws01.example.test");
		CU_ASSERT_STRING_EQUAL(jwt_claim_str(c, "aud"), TOKEN_URL);
		CU_ASSERT_EQUAL(jwt_claim_int(c, "iat", 0), NOW);
		CU_ASSERT_EQUAL(jwt_claim_int(c, "exp", 0), NOW + 60);
		CU_ASSERT_EQUAL(strlen(jwt_claim_str(c, "jti")), 32);
		snprintf(jti1, sizeof jti1, "%s", jwt_claim_str(c, "jti"));
		jwt_claims_free(c);
		c = NULL;
	}
	CU_ASSERT_EQUAL(verify_with(k, t2, &c), 0);
	if (c != NULL) {
		CU_ASSERT_STRING_NOT_EQUAL(jwt_claim_str(c, "jti"), jti1); /* unique per assertion */
		jwt_claims_free(c);
		c = NULL;
	}
	/* the negative control: another key of the same type does not verify it */
	CU_ASSERT_EQUAL(verify_with(other, t1, &c), LAPS_ERR_AUTH);
	CU_ASSERT_PTR_NULL(c);
	free(t1);
	free(t2);
	free(pem);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

static void
test_assertion_es256(void)
{
	assertion_roundtrip("ES256");
}
static void
test_assertion_rs256(void)
{
	assertion_roundtrip("RS256");
}
static void
test_assertion_eddsa(void)
{
	assertion_roundtrip("EdDSA");
}

static void
test_assertion_refused(void)
{
	const char *types[] = {"P-384", "RSA1024"};
	EVP_PKEY *k;
	char *pem, *t = NULL;
	size_t len, i;

	for (i = 0; i < 2; i++) {
		k = keygen(types[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(k);
		pem = pem_of(k, NULL, &len);
		CU_ASSERT_EQUAL(rest_auth_assertion(pem, len, "ws01", TOKEN_URL, NOW, &t),
				LAPS_ERR_UNSUPPORTED);
		CU_ASSERT(detail_has("key_file"));
		CU_ASSERT_PTR_NULL(t);
		free(pem);
		EVP_PKEY_free(k);
	}
	k = keygen("ES256");
	pem = pem_of(k, "a passphrase", &len);
	CU_ASSERT_EQUAL(rest_auth_assertion(pem, len, "ws01", TOKEN_URL, NOW, &t), LAPS_ERR_FORMAT);
	CU_ASSERT(detail_has("unencrypted"));
	free(pem);
	EVP_PKEY_free(k);
	CU_ASSERT_EQUAL(rest_auth_assertion("junk", 4, "ws01", TOKEN_URL, NOW, &t), LAPS_ERR_FORMAT);
}

static void
test_read_secret(void)
{
	char path[4200], *s = NULL;
	size_t n = 0;

	snprintf(path, sizeof path, "%s/secret", laps_test_dir);
	CU_ASSERT_EQUAL_FATAL(laps_test_write_file(path, "s3cret \r\n", 0600), 0);
	CU_ASSERT_EQUAL(rest_auth_read_secret(path, "client_secret_file", 1024, &s, &n), 0);
	CU_ASSERT_EQUAL(n, 6);
	CU_ASSERT(s != NULL && strcmp(s, "s3cret") == 0);
	laps_file_free(s, n, LAPS_FILE_SECRET);
	s = NULL;
	CU_ASSERT_EQUAL(chmod(path, 0640), 0);
	CU_ASSERT_EQUAL(rest_auth_read_secret(path, "client_secret_file", 1024, &s, &n),
			LAPS_ERR_PERM);
	CU_ASSERT(detail_has("[rest] client_secret_file"));
	CU_ASSERT(!detail_has("s3cret"));
	CU_ASSERT_PTR_NULL(s);
	CU_ASSERT_EQUAL(laps_test_write_file(path, "\n", 0600), 0);
	CU_ASSERT_EQUAL(chmod(path, 0600), 0);
	CU_ASSERT_EQUAL(rest_auth_read_secret(path, "bearer_file", 1024, &s, &n), LAPS_ERR_CONFIG);
	CU_ASSERT(detail_has("empty"));
}

static CU_TestInfo json_tests[] = {
    {"metadata", test_meta},
    {"problem+json", test_problem},
    {"device pages", test_devices},
    {"report pages", test_report},
    {"token answers", test_token},
    {"OAuth errors", test_oauth_error},
    {"device authorization", test_device_auth},
    {"Retry-After and ETag", test_retry_after},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo auth_tests[] = {
    {"ES256 assertion verified by server/jwt.c", test_assertion_es256},
    {"RS256 assertion verified by server/jwt.c", test_assertion_rs256},
    {"EdDSA assertion verified by server/jwt.c", test_assertion_eddsa},
    {"unsupported and encrypted keys", test_assertion_refused},
    {"secret files", test_read_secret},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"rest_json", laps_test_suite_init, laps_test_suite_cleanup, NULL, NULL, json_tests},
    {"rest_auth", laps_test_suite_init, laps_test_suite_cleanup, NULL, NULL, auth_tests},
    CU_SUITE_INFO_NULL,
};

int
main(int argc, char **argv)
{
	return laps_test_main(argc, argv, suites);
}
