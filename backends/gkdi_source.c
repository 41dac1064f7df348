/*
 * gkdi_source.c — MS-GKDI group keys for the LDAP backend's encrypted mode
 * (gkdi_source.h).  The root key file source is a test and lab stand-in
 * for GetKey; the RPC source asks a domain controller (gkdi_rpc.h).
 */
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/gkdi_rpc.h"
#include "backends/gkdi_source.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/secret.h"

#define GKDI_KEY_CYCLE 360000000000ULL /* 10 hours in FILETIME units */
#define GKDI_FT_UNIX 116444736000000000ULL

struct gkdi_source {
	struct gkdi_rpc_conf rpc; /* rpc.server != NULL: the GetKey source */
	char *server;
	struct gkdi_root_key rk;
	char kdf_alg[32], secret_alg[32];
	uint8_t *kdf_params, *secret_params, *data; /* data: laps_secret memory */
};

void
gkdi_interval(int64_t t, int32_t *l0, int32_t *l1, int32_t *l2)
{
	uint64_t ft = (t < 0 ? 0 : (uint64_t)t) * 10000000ULL + GKDI_FT_UNIX;
	uint64_t n = ft / GKDI_KEY_CYCLE;

	*l0 = (int32_t)(n / 1024);
	*l1 = (int32_t)((n / 32) % 32);
	*l2 = (int32_t)(n % 32);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex string member k of o into a new buffer (secret: locked memory). */
static int
hex_member(json_object *o, const char *k, bool secret, uint8_t **out, size_t *len)
{
	json_object *v;
	const char *s;
	size_t n, i;
	uint8_t *b;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return laps_seterr(LAPS_ERR_FORMAT, "no hex string \"%s\"", k);
	s = json_object_get_string(v);
	n = strlen(s);
	if (n % 2 != 0 || n / 2 > GKDI_ENVELOPE_MAX)
		return laps_seterr(LAPS_ERR_FORMAT, "\"%s\": bad hex length", k);
	b = secret ? laps_secret_alloc(n / 2 + 1) : malloc(n / 2 + 1);
	if (b == NULL)
		return LAPS_ERR_NOMEM;
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			if (secret)
				laps_secret_free(b);
			else
				free(b);
			return laps_seterr(LAPS_ERR_FORMAT, "\"%s\": not hex", k);
		}
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	*out = b;
	*len = n / 2;
	return 0;
}

static int
str_member(json_object *o, const char *k, char *buf, size_t cap)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) >= cap)
		return laps_seterr(LAPS_ERR_FORMAT, "no string \"%s\" (at most %zu bytes)", k,
				   cap - 1);
	memcpy(buf, json_object_get_string(v), (size_t)json_object_get_string_len(v) + 1);
	return 0;
}

static int
uint_member(json_object *o, const char *k, uint32_t *out)
{
	json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int) ||
	    (n = json_object_get_int64(v)) < 0 || n > 65536)
		return laps_seterr(LAPS_ERR_FORMAT, "no integer \"%s\" in 0..65536", k);
	*out = (uint32_t)n;
	return 0;
}

static int
root_key_parse(json_object *o, struct gkdi_source *s)
{
	char guid[40];
	int rc;

	if ((rc = str_member(o, "RootKeyId", guid, sizeof guid)) != 0 ||
	    (rc = gkdi_guid_parse(guid, s->rk.id)) != 0 ||
	    (rc = uint_member(o, "Version", &s->rk.version)) != 0 ||
	    (rc = str_member(o, "KdfAlgorithm", s->kdf_alg, sizeof s->kdf_alg)) != 0 ||
	    (rc = hex_member(o, "KdfParameters", false, &s->kdf_params, &s->rk.kdf_params_len)) !=
		0 ||
	    (rc = str_member(o, "SecretAgreementAlgorithm", s->secret_alg, sizeof s->secret_alg)) !=
		0 ||
	    (rc = hex_member(o, "SecretAgreementParameters", false, &s->secret_params,
			     &s->rk.secret_params_len)) != 0 ||
	    (rc = uint_member(o, "PrivateKeyLength", &s->rk.private_key_bits)) != 0 ||
	    (rc = uint_member(o, "PublicKeyLength", &s->rk.public_key_bits)) != 0 ||
	    (rc = hex_member(o, "RootKeyData", true, &s->data, &s->rk.data_len)) != 0)
		return rc;
	if (s->rk.data_len != GKDI_SEED_BYTES)
		return laps_seterr(LAPS_ERR_FORMAT, "\"RootKeyData\" must be %d bytes",
				   GKDI_SEED_BYTES);
	s->rk.kdf_alg = s->kdf_alg;
	s->rk.secret_alg = s->secret_alg;
	s->rk.kdf_params = s->kdf_params;
	s->rk.secret_params = s->secret_params;
	s->rk.data = s->data;
	return 0;
}

void
gkdi_source_close(struct gkdi_source *s)
{
	if (s == NULL)
		return;
	free(s->server);
	free(s->kdf_params);
	free(s->secret_params);
	laps_secret_free(s->data);
	laps_wipe(s, sizeof *s);
	free(s);
}

int
gkdi_source_parse(const char *json, size_t len, struct gkdi_source **out)
{
	struct json_tokener *tok;
	struct gkdi_source *s;
	json_object *o;
	int rc;

	*out = NULL;
	if (len > GKDI_ROOT_KEY_FILE_MAX)
		return laps_seterr(LAPS_ERR_TOOBIG, "longer than %d bytes", GKDI_ROOT_KEY_FILE_MAX);
	if ((tok = json_tokener_new_ex(8)) == NULL)
		return LAPS_ERR_NOMEM;
	o = json_tokener_parse_ex(tok, json, (int)len);
	if (o != NULL && json_tokener_get_parse_end(tok) != len) {
		json_object_put(o); /* trailing bytes */
		o = NULL;
	}
	json_tokener_free(tok);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return laps_seterr(LAPS_ERR_FORMAT, "not a JSON object");
	}
	if ((s = calloc(1, sizeof *s)) == NULL) {
		json_object_put(o);
		return LAPS_ERR_NOMEM;
	}
	rc = root_key_parse(o, s);
	json_object_put(o); /* json-c's copies are not wiped: a test/lab key */
	if (rc != 0) {
		gkdi_source_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

int
gkdi_source_open(const char *root_key_file, struct gkdi_source **out)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	rc = laps_file_read(root_key_file, GKDI_ROOT_KEY_FILE_MAX,
			    LAPS_FILE_SECRET | LAPS_FILE_OWNER_SELF, &buf, &len);
	if (rc != 0)
		return laps_seterr_prefix(rc, "gkdi_root_key_file");
	rc = gkdi_source_parse(buf, len, out);
	laps_file_free(buf, len, LAPS_FILE_SECRET);
	return rc == 0 ? 0 : laps_seterr_prefix(rc, "gkdi_root_key_file %s", root_key_file);
}

int
gkdi_source_open_rpc(const char *server, unsigned port, int timeout, struct gkdi_source **out)
{
	struct gkdi_source *s;

	*out = NULL;
	if ((s = calloc(1, sizeof *s)) == NULL || (s->server = strdup(server)) == NULL) {
		free(s);
		return LAPS_ERR_NOMEM;
	}
	s->rpc.server = s->server;
	s->rpc.port = port;
	s->rpc.timeout = timeout;
	*out = s;
	return 0;
}

/* GetKey for the target SD of sid. */
static int
rpc_getkey(struct gkdi_source *s, const char *sid, const uint8_t *root_key_id, int32_t l0,
	   int32_t l1, int32_t l2, uint8_t **env, size_t *envlen)
{
	uint8_t sd[GKDI_TARGET_SD_MAX];
	struct gkdi_getkey_req req = {sd, 0, root_key_id, l0, l1, l2};
	int rc;

	if ((rc = gkdi_target_sd(sid, sd, sizeof sd, &req.sd_len)) != 0)
		return rc;
	return gkdi_rpc_getkey(&s->rpc, &req, env, envlen);
}

/* The seed envelope for (sid, l0) parsed into *env over the buffer *buf. */
static int
seed_envelope(struct gkdi_source *s, const char *sid, int32_t l0, uint8_t **buf, size_t *len,
	      struct gkdi_envelope *env)
{
	uint8_t sd[GKDI_TARGET_SD_MAX];
	size_t sdlen;
	int rc;

	*buf = NULL;
	if ((rc = gkdi_target_sd(sid, sd, sizeof sd, &sdlen)) != 0 ||
	    (rc = gkdi_envelope_from_root_key(&s->rk, sd, sdlen, l0, buf, len)) != 0 ||
	    (rc = gkdi_envelope_parse(*buf, *len, env)) != 0) {
		laps_secret_free(*buf);
		*buf = NULL;
	}
	return rc;
}

int
gkdi_source_writer_key(struct gkdi_source *s, const char *sid, int64_t now, uint8_t **env,
		       size_t *envlen)
{
	struct gkdi_envelope e;
	uint8_t *seed = NULL;
	size_t seedlen = 0;
	int32_t l0, l1, l2;
	int rc;

	if (s->rpc.server != NULL) /* the DC's current interval */
		return rpc_getkey(s, sid, NULL, -1, -1, -1, env, envlen);
	gkdi_interval(now, &l0, &l1, &l2);
	if ((rc = seed_envelope(s, sid, l0, &seed, &seedlen, &e)) != 0)
		return rc;
	rc = gkdi_envelope_public(&e, l1, l2, env, envlen);
	laps_secret_free(seed);
	return rc;
}

int
gkdi_source_reader_key(struct gkdi_source *s, const char *sid, const struct gkdi_key_id *kid,
		       uint8_t **env, size_t *envlen)
{
	struct gkdi_envelope e;

	if (s->rpc.server != NULL)
		return rpc_getkey(s, sid, kid->root_key_id, kid->l0, kid->l1, kid->l2, env, envlen);
	if (memcmp(kid->root_key_id, s->rk.id, GKDI_GUID_BYTES) != 0)
		return laps_seterr(LAPS_ERR_NOTFOUND,
				   "the blob is protected with another KDS root key than the one "
				   "in gkdi_root_key_file");
	return seed_envelope(s, sid, kid->l0, env, envlen, &e);
}
