/*
 * rest_keystore.h — where the REST backend's device key lives ([rest]
 * key_store): a PEM private key in key_file, or a key created in the TPM 2.0
 * whose TPM-wrapped blob ("TSS2 PRIVATE KEY" PEM, useless without that TPM)
 * is key_file.
 *
 * TPM keys go through OpenSSL 3's provider "tpm2" (Debian package
 * tpm2-openssl), which reaches the TPM through the TCTI of its environment
 * variable TPM2OPENSSL_TCTI (default: the kernel's resource manager,
 * /dev/tpmrm0).  The provider is loaded once into the default library
 * context next to "default", which stays the preferred implementation
 * (EVP_set_default_properties "?provider=default"): only the key's own
 * operations (generate, sign, export the public half) run in the TPM.
 *
 * libcurl 7.88 cannot name a provider key, so the TLS client pair is put
 * into the connection's SSL_CTX from CURLOPT_SSL_CTX_FUNCTION
 * (rest_keystore_curl).
 */
#ifndef LAPS_REST_KEYSTORE_H
#define LAPS_REST_KEYSTORE_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/bio.h>
#include <openssl/evp.h>

#define REST_TPM_DEVICE "/dev/tpmrm0"
#define REST_TPM_TCTI_ENV "TPM2OPENSSL_TCTI"
#define REST_TPM_PEM_LABEL "-----BEGIN TSS2 PRIVATE KEY-----"

/* Whether [rest] key_store (enum laps_rest_key_store) means the TPM: tpm;
 * auto when REST_TPM_DEVICE exists or REST_TPM_TCTI_ENV names a TPM. */
bool rest_keystore_is_tpm(int key_store);

/* A new EC P-256 key: made by OpenSSL (tpm false) or inside the TPM.
 * LAPS_ERR_UNSUPPORTED (no TPM / no provider, with the reason) or
 * LAPS_ERR_CRYPTO. */
int rest_keystore_keygen(bool tpm, EVP_PKEY **out) __attribute__((warn_unused_result));

/* k as key_file holds it, appended to out: a PEM private key, or for a TPM
 * key its wrapped blob (refused if the encoder gave anything else). */
int rest_keystore_write(EVP_PKEY *k, bool tpm, BIO *out) __attribute__((warn_unused_result));

/* key_file (owner/mode checked as every [rest] secret file) as a key.  For
 * the TPM the file must hold a TSS2 blob, loaded through OSSL_STORE; the
 * TPM refuses a blob it did not wrap.  *out is the caller's (EVP_PKEY_free). */
int rest_keystore_load(const char *path, bool tpm, EVP_PKEY **out)
    __attribute__((warn_unused_result));

/* cert_file's first certificate is k's.  0 or LAPS_ERR_CONFIG. */
int rest_keystore_match(const char *cert_file, const char *key_file, EVP_PKEY *k)
    __attribute__((warn_unused_result));

/* The TLS client pair of the next connections of curl handle `curl`: the
 * chain of cert_file and k (both borrowed; they must outlive the handle's
 * requests), set from CURLOPT_SSL_CTX_FUNCTION.  0 or LAPS_ERR_UNSUPPORTED
 * (a libcurl not built on OpenSSL). */
struct rest_keystore_tls {
	const char *cert_file;
	EVP_PKEY *key;
};
int rest_keystore_curl(void *curl, const struct rest_keystore_tls *t)
    __attribute__((warn_unused_result));

#endif
