/*
 * gkdi_tool — test helper for tests/integration/ldap_impacket.sh:
 *   gkdi_tool envelope ROOTKEY.json VALUE
 *   gkdi_tool sd SID      (the target security descriptor we send, in hex)
 * VALUE: a file holding one msLAPS-EncryptedPassword value (header + blob).
 * Prints, in hex, the GroupKeyEnvelope MS-GKDI GetKey would answer an
 * authorised reader for that blob (the test-only root key source,
 * backends/gkdi_source.c): the one input impacket's LAPS reader gets from
 * the domain controller.  Everything else (CMS, key identifier, KEK, key
 * unwrap, AES-GCM) is left to the independent decryptor.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/dpapi_ng.h"
#include "backends/gkdi_source.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/secret.h"

int
main(int argc, char **argv)
{
	struct gkdi_source *src = NULL;
	struct dpapi_ng_blob b;
	const uint8_t *blob;
	uint8_t *gke = NULL;
	char *v = NULL;
	size_t vlen = 0, bloblen, gkelen = 0, i;
	uint64_t ft;
	int rc;

	if (argc == 3 && strcmp(argv[1], "sd") == 0) {
		uint8_t sd[GKDI_TARGET_SD_MAX];
		size_t sdlen = 0;

		if ((rc = gkdi_target_sd(argv[2], sd, sizeof sd, &sdlen)) != 0)
			return 1;
		for (i = 0; i < sdlen; i++)
			printf("%02x", sd[i]);
		printf("\n");
		return 0;
	}
	if (argc != 4 || strcmp(argv[1], "envelope") != 0) {
		fprintf(stderr, "usage: gkdi_tool envelope ROOTKEY.json VALUE | sd SID\n");
		return 2;
	}
	if ((rc = laps_file_read(argv[3], 65536, 0, &v, &vlen)) != 0 ||
	    (rc = dpapi_ng_laps_split((const uint8_t *)v, vlen, &ft, &blob, &bloblen)) != 0 ||
	    (rc = dpapi_ng_blob_parse(blob, bloblen, &b)) != 0 ||
	    (rc = gkdi_source_open(argv[2], &src)) != 0 ||
	    (rc = gkdi_source_reader_key(src, b.sid, &b.kid, &gke, &gkelen)) != 0) {
		fprintf(stderr, "gkdi_tool: %s: %s\n", laps_strerror(rc), laps_errdetail());
		rc = 1;
		goto out;
	}
	for (i = 0; i < gkelen; i++)
		printf("%02x", gke[i]);
	printf("\n");
	rc = 0;
out:
	laps_secret_free(gke);
	gkdi_source_close(src);
	laps_file_free(v, vlen, 0);
	return rc;
}
