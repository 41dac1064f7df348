/*
 * rest_est.c — the agent's EST client (RFC 7030) on OpenSSL 3 and libcurl.
 *
 * enroll: an EC P-256 key made here, a PKCS#10 request whose subject CN is
 * the device, POSTed base64 to BASE/.well-known/est/simpleenroll (Bearer
 * token) or simplereenroll (mTLS with the current pair); the answer (at
 * most EST_ANSWER_MAX bytes, application/pkcs7-mime certs-only, base64) must
 * hold a certificate for this key and this name, valid now.  Only then is
 * the pair replaced.
 *
 * Replacement, so that a crash leaves the old pair or the new one, never a
 * key with the other's certificate:
 *   1. CERT.new written (temp + fsync + rename + fsync of the directory)
 *   2. KEY.new written the same way (0600)
 *   3. KEY.new renamed over KEY — the commit point
 *   4. CERT.new renamed over CERT, directory fsynced.
 * The key goes first because its rename is the commit point and the new
 * certificate is already on disk (CERT.new) when it happens: recover()
 * (run before every enroll and renewal, so before the agent opens the pair)
 * finds CERT.new, and rolls forward (renames it) when it matches KEY, or
 * back (removes CERT.new and KEY.new) when KEY is still the old key.
 * Renaming the certificate first would leave, after a crash, an old key
 * with a certificate for a key that may never have reached the disk.
 * A step that fails (not a crash) is followed by the same recovery before
 * the error is returned: the caller's rotation goes on with a whole pair.
 * The named steps (r->fault, tests only) are the est_* of agent/fault.c;
 * tests/integration/est_agent_faults.sh kills and fails the agent at each.
 */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "backends/rest_est.h"
#include "backends/rest_http.h"
#include "backends/rest_keystore.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/log.h"
#include "escrow/secret.h"

#define EST_ANSWER_MAX (64 * 1024)
#define EST_CERT_FILE_MAX (64 * 1024)
#define EST_PATH_MAX 4096
#define EST_PKCS7 "application/pkcs7-mime"
#define EST_SKEW 300 /* seconds a new certificate's notBefore may lie ahead */

/* A named step of the flow (fault injection, tests only; see rest_est.h). */
static int
fault(const struct laps_est_req *r, const char *step)
{
	return r->fault != NULL ? r->fault(step) : 0;
}

/* libcurl's progress callback: the step est_csr_sent once the whole
 * request has gone out (the server may have issued the certificate). */
struct sent {
	const struct laps_est_req *r;
	bool done;
	int rc; /* the step's failure (the transfer is aborted) */
};

static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct sent *s = arg;

	(void)dt;
	(void)dn;
	if (s->done || ut <= 0 || un < ut)
		return 0;
	s->done = true;
	s->rc = fault(s->r, "est_csr_sent");
	return s->rc != 0;
}

struct buf {
	char *p;
	size_t n;
	bool over;
};

static size_t
on_body(char *d, size_t sz, size_t nm, void *arg)
{
	struct buf *b = arg;
	size_t n = sz * nm;
	char *q;

	if (b->n + n > EST_ANSWER_MAX) {
		b->over = true;
		return 0;
	}
	if ((q = realloc(b->p, b->n + n + 1)) == NULL)
		return 0;
	b->p = q;
	memcpy(b->p + b->n, d, n);
	b->n += n;
	b->p[b->n] = '\0';
	return n;
}

/* The request: base64 DER PKCS#10, CN = device, signed with k. */
static int
make_csr(EVP_PKEY *k, const char *device, char **out)
{
	X509_REQ *req = X509_REQ_new();
	unsigned char *der = NULL;
	int n, rc = LAPS_ERR_CRYPTO;

	*out = NULL;
	if (req == NULL || X509_REQ_set_version(req, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_UTF8,
				       (const unsigned char *)device, -1, -1, 0) != 1 ||
	    X509_REQ_set_pubkey(req, k) != 1 || X509_REQ_sign(req, k, EVP_sha256()) <= 0 ||
	    (n = i2d_X509_REQ(req, &der)) <= 0)
		goto out;
	if ((*out = malloc(4 * ((size_t)n / 3 + 1) + 1)) == NULL) {
		rc = LAPS_ERR_NOMEM;
		goto out;
	}
	EVP_EncodeBlock((unsigned char *)*out, der, n);
	rc = 0;
out:
	OPENSSL_free(der);
	X509_REQ_free(req);
	return rc != 0 && rc != LAPS_ERR_NOMEM ? laps_seterr(rc, "est: cannot build the request")
					       : rc;
}

/* What a finished POST to url came to: 0 for a 200 certs-only answer,
 * else the error (reason set). */
static int
answer_rc(const struct laps_est_req *r, const char *url, const struct buf *b, CURLcode cc,
	  long status, const char *ctype)
{
	size_t n = strlen(EST_PKCS7);

	if (b->over)
		return laps_seterr(LAPS_ERR_TOOBIG, "est: %s: answer over %d bytes", url,
				   EST_ANSWER_MAX);
	if (cc != CURLE_OK)
		return laps_seterr(LAPS_ERR_UNAVAILABLE, "est: %s: %s", url,
				   curl_easy_strerror(cc));
	if (status == 401 || status == 403)
		return laps_seterr(status == 401 ? LAPS_ERR_AUTH : LAPS_ERR_ACCESS,
				   "est: %s: HTTP %ld (%s)", url, status,
				   r->token != NULL	  ? "token refused"
				   : r->boot_cert != NULL ? "bootstrap certificate refused"
							  : "certificate refused");
	if (status != 200)
		return laps_seterr(status == 409   ? LAPS_ERR_CONFLICT
				   : status >= 500 ? LAPS_ERR_UNAVAILABLE
						   : LAPS_ERR_BACKEND,
				   "est: %s: HTTP %ld", url, status);
	if (ctype == NULL || strncasecmp(ctype, EST_PKCS7, n) != 0 ||
	    (ctype[n] != '\0' && ctype[n] != ';'))
		return laps_seterr(LAPS_ERR_FORMAT, "est: %s: not application/pkcs7-mime", url);
	return 0;
}

/* simpleenroll (a token or a bootstrap certificate), not simplereenroll? */
static bool
first(const struct laps_est_req *r)
{
	return r->token != NULL || r->boot_cert != NULL;
}

/* The TLS client credential: the bootstrap certificate (its key from
 * memory, not copied by curl), or for simplereenroll the current pair;
 * none with a token. */
static int
client_cred(const struct laps_est_req *r, CURL *c, struct rest_keystore_tls *tls)
{
	struct curl_blob key;
	int rc;

	if (r->boot_cert != NULL) {
		key.data = (void *)(uintptr_t)r->boot_key;
		key.len = r->boot_key_len;
		key.flags = CURL_BLOB_NOCOPY;
		curl_easy_setopt(c, CURLOPT_SSLCERT, r->boot_cert);
		if (curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &key) != CURLE_OK)
			return laps_seterr(LAPS_ERR_UNAVAILABLE,
					   "est: this libcurl cannot take a key from memory");
	} else if (r->token == NULL && rest_keystore_is_tpm(r->key_store)) {
		/* the TPM key: into the SSL_CTX (rest_keystore.h) */
		if ((rc = rest_keystore_load(r->key_file, true, &tls->key)) != 0 ||
		    (rc = rest_keystore_curl(c, tls)) != 0)
			return rc;
	} else if (r->token == NULL) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, r->cert_file);
		curl_easy_setopt(c, CURLOPT_SSLKEY, r->key_file);
	}
	return 0;
}

/* POST the request; the answer body in *b (200 only). */
static int
post(const struct laps_est_req *r, const char *csr, struct buf *b)
{
	char url[EST_PATH_MAX], auth[8300]; /* the agent's token cap (8 KiB) + the header name */
	struct curl_slist *h = NULL, *h2;
	struct sent sent = {r, false, 0};
	struct rest_keystore_tls tls = {r->cert_file, NULL};
	long status = 0;
	char *ctype = NULL;
	CURLcode cc;
	CURL *c;
	int rc;

	if (laps_snprintf(url, sizeof url, "%s/.well-known/est/%s", r->base,
			  first(r) ? "simpleenroll" : "simplereenroll") != 0)
		return laps_seterr(LAPS_ERR_INVALID, "est: server URL too long");
	if ((c = curl_easy_init()) == NULL)
		return laps_seterr(LAPS_ERR_NOMEM, "est: curl");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, r->timeout > 0 ? r->timeout : 30L);
	if (r->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, r->ca_file);
	if ((rc = client_cred(r, c, &tls)) != 0)
		goto out;
	h2 = curl_slist_append(h, "Content-Type: application/pkcs10");
	h = h2;
	if (h != NULL && r->token != NULL) {
		if (laps_snprintf(auth, sizeof auth, "Authorization: Bearer %s", r->token) != 0) {
			rc = laps_seterr(LAPS_ERR_INVALID, "est: token too long");
			goto out;
		}
		h2 = curl_slist_append(h, auth);
		laps_wipe(auth, sizeof auth);
		h = h2 != NULL ? h2 : h;
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, csr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	if (r->fault != NULL) {
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, &sent);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	}
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ctype);
	rc = sent.rc != 0 ? sent.rc /* its reason is set */
			  : answer_rc(r, url, b, cc, status, ctype);
out:
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	EVP_PKEY_free(tls.key);
	return rc;
}

/* The certificates of a base64 certs-only PKCS#7; NULL on error. */
static STACK_OF(X509) * parse_certs(const struct buf *b, PKCS7 **p7out)
{
	unsigned char *der;
	const unsigned char *q;
	EVP_ENCODE_CTX *e;
	int n = 0, m = 0;
	PKCS7 *p7 = NULL;

	*p7out = NULL;
	if (b->p == NULL || (der = malloc(b->n + 3)) == NULL)
		return NULL;
	if ((e = EVP_ENCODE_CTX_new()) != NULL) {
		EVP_DecodeInit(e);
		if (EVP_DecodeUpdate(e, der, &n, (unsigned char *)b->p, (int)b->n) >= 0 &&
		    EVP_DecodeFinal(e, der + n, &m) == 1) {
			q = der;
			p7 = d2i_PKCS7(NULL, &q, n + m);
			if (p7 != NULL && q != der + n + m) {
				PKCS7_free(p7);
				p7 = NULL;
			}
		}
		EVP_ENCODE_CTX_free(e);
	}
	free(der);
	if (p7 == NULL || !PKCS7_type_is_signed(p7) || p7->d.sign == NULL ||
	    p7->d.sign->cert == NULL) {
		PKCS7_free(p7);
		return NULL;
	}
	*p7out = p7;
	return p7->d.sign->cert;
}

static int
asn1_time(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

/* The certificate of the answer that holds k's public key, names device and
 * is valid now; NULL (with the reason set) otherwise. */
static X509 *
pick_cert(STACK_OF(X509) * certs, EVP_PKEY *k, const char *device)
{
	char cn[256];
	int64_t nb, na, now = (int64_t)time(NULL);
	int i;

	for (i = 0; i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);

		if (EVP_PKEY_eq(X509_get0_pubkey(x), k) != 1)
			continue;
		if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
					      sizeof cn) <= 0 ||
		    strcmp(cn, device) != 0) {
			laps_seterr(LAPS_ERR_FORMAT, "est: the certificate names '%s', not '%s'",
				    cn, device);
			return NULL;
		}
		if (asn1_time(X509_get0_notBefore(x), &nb) != 0 ||
		    asn1_time(X509_get0_notAfter(x), &na) != 0 || nb > now + EST_SKEW ||
		    na <= now) {
			laps_seterr(LAPS_ERR_FORMAT, "est: the certificate is not valid now");
			return NULL;
		}
		return x;
	}
	laps_seterr(LAPS_ERR_FORMAT, "est: no certificate for the request's key in the answer");
	return NULL;
}

/* PEM of the leaf, then the other certificates of the answer. */
static int
cert_pem(X509 *leaf, STACK_OF(X509) * certs, BIO *bio)
{
	int i;

	if (PEM_write_bio_X509(bio, leaf) != 1)
		return -1;
	for (i = 0; i < sk_X509_num(certs); i++)
		if (sk_X509_value(certs, i) != leaf &&
		    PEM_write_bio_X509(bio, sk_X509_value(certs, i)) != 1)
			return -1;
	return 0;
}

static int
staged(char *buf, size_t len, const char *path)
{
	return laps_snprintf(buf, len, "%s.new", path);
}

static int
write_bio(const char *path, BIO *bio, mode_t mode)
{
	BUF_MEM *m = NULL;
	int rc;

	BIO_get_mem_ptr(bio, &m);
	if (m == NULL)
		return laps_seterr(LAPS_ERR_NOMEM, "est: PEM");
	rc = laps_file_write_atomic(path, m->data, m->length, mode);
	laps_wipe(m->data, m->length);
	return rc;
}

/* Steps 1-4 of the header. */
static int
replace_pair(const struct laps_est_req *r, EVP_PKEY *k, X509 *leaf, STACK_OF(X509) * certs)
{
	char cnew[EST_PATH_MAX], knew[EST_PATH_MAX];
	BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
	int rc = LAPS_ERR_NOMEM;

	if (cb == NULL || kb == NULL)
		goto out;
	if (staged(cnew, sizeof cnew, r->cert_file) != 0 ||
	    staged(knew, sizeof knew, r->key_file) != 0) {
		rc = laps_seterr(LAPS_ERR_INVALID, "est: path too long");
		goto out;
	}
	if (cert_pem(leaf, certs, cb) != 0) {
		rc = laps_seterr(LAPS_ERR_CRYPTO, "est: cannot write PEM");
		goto out;
	}
	if ((rc = rest_keystore_write(k, rest_keystore_is_tpm(r->key_store), kb)) != 0)
		goto out;
	if ((rc = write_bio(cnew, cb, 0644)) != 0 || (rc = fault(r, "est_after_cert_new")) != 0 ||
	    (rc = write_bio(knew, kb, 0600)) != 0 || (rc = fault(r, "est_after_key_new")) != 0)
		goto out;
	if (rename(knew, r->key_file) != 0 || laps_fsync_dir_of(r->key_file) != 0)
		goto io;
	if ((rc = fault(r, "est_after_key_rename")) != 0)
		goto out;
	if (rename(cnew, r->cert_file) != 0 || laps_fsync_dir_of(r->cert_file) != 0)
		goto io;
	rc = fault(r, "est_after_cert_rename");
	goto out;
io:
	rc = laps_seterr(LAPS_ERR_IO, "est: replacing %s: %s", r->cert_file, strerror(errno));
out:
	BIO_free(cb);
	BIO_free(kb);
	return rc;
}

/* The public key of a PEM private key file, or of a TPM-wrapped one
 * (loaded by the TPM); NULL when unreadable. */
static EVP_PKEY *
load_key(const char *path)
{
	EVP_PKEY *k = NULL;
	FILE *f = fopen(path, "re");

	if (f != NULL) {
		k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (k == NULL && rest_keystore_load(path, true, &k) != 0)
		laps_clearerr();
	return k;
}

static X509 *
load_cert(const char *path)
{
	X509 *x = NULL;
	FILE *f = fopen(path, "re");

	if (f != NULL) {
		x = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	return x;
}

static int
est_recover(const struct laps_est_req *r)
{
	const char *cert_file = r->cert_file, *key_file = r->key_file;
	char cnew[EST_PATH_MAX], knew[EST_PATH_MAX];
	EVP_PKEY *k;
	X509 *x;
	bool fwd;
	int rc;

	if (staged(cnew, sizeof cnew, cert_file) != 0 || staged(knew, sizeof knew, key_file) != 0)
		return laps_seterr(LAPS_ERR_INVALID, "est: path too long");
	if (access(cnew, F_OK) != 0) {
		(void)unlink(knew); /* a crash in step 2: the old pair is whole */
		return 0;
	}
	if ((rc = fault(r, "est_recover_found")) != 0)
		return rc;
	k = load_key(key_file);
	x = load_cert(cnew);
	fwd = k != NULL && x != NULL && EVP_PKEY_eq(X509_get0_pubkey(x), k) == 1;
	EVP_PKEY_free(k);
	X509_free(x);
	if (fwd) {
		log_notice("%s: finishing an interrupted certificate replacement", cert_file);
		if (rename(cnew, cert_file) != 0 || laps_fsync_dir_of(cert_file) != 0)
			return laps_seterr(LAPS_ERR_IO, "est: %s: %s", cnew, strerror(errno));
		return 0;
	}
	log_notice("%s: undoing an interrupted certificate replacement", cert_file);
	(void)unlink(knew);
	if ((rc = fault(r, "est_recover_key_removed")) != 0)
		return rc;
	if (unlink(cnew) != 0)
		return laps_seterr(LAPS_ERR_IO, "est: %s: %s", cnew, strerror(errno));
	return 0;
}

/* Steps after the key exists: request, answer, check, replacement. */
static int
enroll_with(const struct laps_est_req *r, EVP_PKEY *k)
{
	struct buf b = {NULL, 0, false};
	STACK_OF(X509) * certs;
	PKCS7 *p7 = NULL;
	char *csr = NULL;
	X509 *leaf;
	int rc;

	if ((rc = make_csr(k, r->device, &csr)) != 0 || (rc = post(r, csr, &b)) != 0 ||
	    (rc = fault(r, "est_after_answer")) != 0)
		goto out;
	if ((certs = parse_certs(&b, &p7)) == NULL) {
		rc = laps_seterr(LAPS_ERR_FORMAT, "est: the answer is not a certs-only PKCS#7");
		goto out;
	}
	if ((leaf = pick_cert(certs, k, r->device)) == NULL) {
		rc = LAPS_ERR_FORMAT; /* the reason is set */
		goto out;
	}
	if ((rc = fault(r, "est_after_check")) == 0)
		rc = replace_pair(r, k, leaf, certs);
out:
	PKCS7_free(p7);
	free(csr);
	free(b.p);
	return rc;
}

static int
est_enroll(const struct laps_est_req *r)
{
	EVP_PKEY *k = NULL;
	char keep[512];
	int rc;

	if ((rc = est_recover(r)) != 0 || (rc = fault(r, "est_after_recover")) != 0)
		return rc;
	if ((rc = rest_keystore_keygen(rest_keystore_is_tpm(r->key_store), &k)) != 0)
		return laps_seterr_prefix(rc, "est");
	if ((rc = fault(r, "est_after_keygen")) == 0 && (rc = rest_http_global_init()) == 0) {
		rc = enroll_with(r, k);
		rest_http_global_cleanup();
	}
	EVP_PKEY_free(k);
	if (rc != 0) {
		/* a failure after the key's rename must not leave the new key
		 * with the old certificate for the rest of this run */
		char why[512];
		int rr;

		snprintf(keep, sizeof keep, "%s", laps_errdetail());
		if ((rr = est_recover(r)) != 0)
			log_warn("est: %s", laps_errstr(rr, why, sizeof why));
		(void)laps_seterr(rc, "%s", keep);
	}
	return rc;
}

int
laps_est_parse_answer(const char *b64, size_t len, EVP_PKEY *k, const char *device)
{
	struct buf b = {(char *)b64, len, false};
	STACK_OF(X509) * certs;
	PKCS7 *p7 = NULL;
	int rc = 0;

	if (len > EST_ANSWER_MAX)
		return laps_seterr(LAPS_ERR_TOOBIG, "est: answer too big");
	if ((certs = parse_certs(&b, &p7)) == NULL)
		return laps_seterr(LAPS_ERR_FORMAT, "est: the answer is not a certs-only PKCS#7");
	if (pick_cert(certs, k, device) == NULL)
		rc = LAPS_ERR_FORMAT;
	PKCS7_free(p7);
	return rc;
}

static int
est_cert_times(const char *path, int64_t *nb, int64_t *na)
{
	X509 *x;
	int rc;

	if ((x = load_cert(path)) == NULL)
		return laps_seterr(LAPS_ERR_NOTFOUND,
				   "%s: no certificate; enroll first (laps-agent enroll)", path);
	rc = asn1_time(X509_get0_notBefore(x), nb) | asn1_time(X509_get0_notAfter(x), na);
	X509_free(x);
	if (rc != 0 || *na <= *nb)
		return laps_seterr(LAPS_ERR_FORMAT, "%s: unreadable validity", path);
	return 0;
}

static int
est_renew(const struct laps_est_req *r, int64_t now, enum laps_est_renewal *out)
{
	int64_t nb = 0, na = 0;
	int rc;

	*out = LAPS_EST_NOT_DUE;
	if ((rc = est_recover(r)) != 0 || (rc = est_cert_times(r->cert_file, &nb, &na)) != 0)
		return rc;
	if (now >= na) {
		*out = LAPS_EST_EXPIRED;
		return laps_seterr(LAPS_ERR_AUTH,
				   "%s: the certificate has expired; re-enroll (laps-agent enroll "
				   "with a new token)",
				   r->cert_file);
	}
	if (now < nb + (na - nb) / 3 * 2)
		return 0;
	if ((rc = est_enroll(r)) != 0)
		return rc;
	*out = LAPS_EST_RENEWED;
	return 0;
}

const struct laps_est_client laps_est_client = {LAPS_EST_ABI, est_enroll, est_recover, est_renew,
						est_cert_times};
