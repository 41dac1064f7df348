/*
 * gkdi_source.h — where the LDAP backend's encrypted Windows LAPS mode
 * (docs/LDAP.md "Encrypted passwords") gets its MS-GKDI group keys: the
 * answer GetKey would give, as a packed GroupKeyEnvelope (gkdi_key.h).
 *
 * Two sources, one interface:
 *   - root key file (`[ldap] gkdi_root_key_file`): TEST AND LAB ONLY.  It
 *     stands in for GetKey by deriving the envelope from a KDS root key
 *     held in a file (what only a domain controller holds); it answers for
 *     any SID, i.e. it does no authorisation at all.
 *   - GetKey over DCE/RPC (MS-GKDI, gkdi_rpc.h) from a domain controller,
 *     with the process's Kerberos credentials; the DC decides who gets
 *     which key (LAPS_ERR_ACCESS: not in the group).
 *
 * Envelopes come from laps_secret_alloc (seed keys are secret): release
 * them with laps_secret_free.
 */
#ifndef LAPS_GKDI_SOURCE_H
#define LAPS_GKDI_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "backends/gkdi_key.h"

#define GKDI_ROOT_KEY_FILE_MAX 16384 /* the JSON root key file */

struct gkdi_source;

/*
 * Open a source: root_key_file != NULL gives the test source (the file:
 * the JSON a KDS root key is exported as by the dpapi-ng project and in
 * ../shared/vectors/dpapi-ng: RootKeyId, Version, KdfAlgorithm,
 * KdfParameters (hex), SecretAgreementAlgorithm, SecretAgreementParameters
 * (hex), PrivateKeyLength, PublicKeyLength, RootKeyData (hex); owned by
 * the running user or root, no group/other access).
 * LAPS_ERR_CONFIG/_FORMAT/_IO/_PERM.
 */
int gkdi_source_open(const char *root_key_file, struct gkdi_source **out)
    __attribute__((warn_unused_result));
/* The GetKey source: server (copied), port (0: the endpoint mapper),
 * timeout in seconds for each call.  LAPS_ERR_NOMEM. */
int gkdi_source_open_rpc(const char *server, unsigned port, int timeout, struct gkdi_source **out)
    __attribute__((warn_unused_result));
/* The root key source from the file's text (json, len bytes; exposed for
 * tests/fuzz/fuzz_gkdi_source.c).  LAPS_ERR_FORMAT / _TOOBIG. */
int gkdi_source_parse(const char *json, size_t len, struct gkdi_source **out)
    __attribute__((warn_unused_result));
void gkdi_source_close(struct gkdi_source *s);

/*
 * A writer's key for the protection descriptor "SID=sid" at unix time
 * now: what GetKey gives a computer account that is not in the group (the
 * public key envelope of the current L0/L1/L2 interval), so the writer
 * holds no group secret.
 */
int gkdi_source_writer_key(struct gkdi_source *s, const char *sid, int64_t now, uint8_t **env,
			   size_t *envlen) __attribute__((warn_unused_result));

/*
 * A reader's key for a blob's key identifier and SID (GetKey with the
 * blob's root key id and L0/L1/L2): a seed envelope.  LAPS_ERR_NOTFOUND
 * when the source does not hold the blob's root key; LAPS_ERR_ACCESS when
 * the caller is not authorised (the DC answers with a public key only).
 */
int gkdi_source_reader_key(struct gkdi_source *s, const char *sid, const struct gkdi_key_id *kid,
			   uint8_t **env, size_t *envlen) __attribute__((warn_unused_result));

/* The (L0, L1, L2) indices of unix time t: one L2 key per 10 hours
 * (MS-GKDI KeyCycleDuration, 360000000000 FILETIME units), 32 L2 per L1,
 * 32 L1 per L0. */
void gkdi_interval(int64_t t, int32_t *l0, int32_t *l1, int32_t *l2);

#endif
