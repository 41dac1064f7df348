/*
 * jwt_signer.h — the token signer shared by the JWT-reading harnesses
 * (fuzz_jwt, fuzz_request, fuzz_token): one Ed25519 key from a fixed seed
 * (deterministic signatures, so a crash reproduces), its JWKS with kid
 * "fz", and compact JWS tokens over any header and payload bytes.
 */
#ifndef LAPS_JWT_SIGNER_H
#define LAPS_JWT_SIGNER_H

#include <stddef.h>

/* The header the harnesses sign with unless they fuzz it. */
#define FUZZ_SIGN_HEADER "{\"alg\":\"EdDSA\",\"typ\":\"at+jwt\",\"kid\":\"fz\"}"

/* Initialise libsodium and the key; write its JWKS ({"keys":[...]}, NUL
 * terminated) into jwks (cap bytes).  Aborts on failure. */
void fuzz_sign_init(char *jwks, size_t cap);

/* As fuzz_sign_init, and the JWKS written 0600 to a fresh directory made
 * from dir_template (mkdtemp); its path into path (cap bytes). */
void fuzz_sign_jwks_file(char *dir_template, char *path, size_t cap);

/* b64url(hdr) "." b64url(pay) "." b64url(signature) into tok (cap bytes,
 * NUL terminated); returns its length.  cap must hold the base64 of both
 * parts and the signature (4/3 of hlen + plen, plus 100). */
size_t fuzz_sign_token(const char *hdr, size_t hlen, const void *pay, size_t plen, char *tok,
		       size_t cap);

#endif
