/*
 * auth_token.c — bearer tokens to identities (docs/REST-API.md §2-3).
 *
 * The signature, typ at+jwt, iss, aud, exp/nbf/iat checks are jwt.c's;
 * here the verified claims become a device (rights claim holds the device
 * value; device claim minus prefix is the device name) or an admin (rights
 * from the rights claim, per unit).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "escrow/err.h"
#include "escrow/fileio.h"
#include "server/fmt.h"
#include "server/auth_token.h"
#include "server/jwt.h"
#include "server/escrowd_conf.h"

struct auth_token {
	struct jwt_verifier *v;
	const struct laps_conf *cfg;
	const struct authz *authz;
};

int
auth_token_new(const struct laps_conf *cfg, const struct authz *a, struct auth_token **out)
{
	struct jwt_verifier_config vc = {
	    .issuer = laps_oidc_conf(cfg)->issuer,
	    .audience = laps_oidc_conf(cfg)->audience,
	    .jwks_file = laps_oidc_conf(cfg)->jwks_file,
	    .ca_file = laps_oidc_conf(cfg)->ca_file,
	    .timeout_ms = (long)laps_oidc_conf(cfg)->timeout * 1000,
	    .leeway = laps_oidc_conf(cfg)->leeway,
	    .refresh_min_interval = 30,
	    .require_at_jwt = true,
	};
	struct auth_token *t;
	int rc;

	*out = NULL;
	if ((t = calloc(1, sizeof *t)) == NULL)
		return LAPS_ERR_NOMEM;
	t->cfg = cfg;
	t->authz = a;
	if ((rc = jwt_verifier_new(&vc, &t->v)) != 0) {
		free(t);
		return rc;
	}
	*out = t;
	return 0;
}

void
auth_token_free(struct auth_token *t)
{
	if (t == NULL)
		return;
	jwt_verifier_free(t->v);
	free(t);
}

struct claims_ctx {
	const struct jwt_claims *c;
	const char *claim;
};

static bool
claims_has(void *ctx, const char *value)
{
	const struct claims_ctx *cc = ctx;

	return jwt_claim_has(cc->c, cc->claim, value);
}

static int
identity_of(struct auth_token *t, const struct jwt_claims *c, struct identity *id, char *why,
	    size_t whylen)
{
	struct claims_ctx cc = {c, laps_authz_conf(t->cfg)->rights_claim};
	const char *sub = jwt_claim_str(c, "sub"), *cid = jwt_claim_str(c, "client_id");
	const char *jti = jwt_claim_str(c, "jti");

	memset(id, 0, sizeof *id);
	fmt_trunc(id->jti, sizeof id->jti, "%s", jti != NULL ? jti : "");
	if (authz_rights_from(t->authz, claims_has, &cc, id)) {
		if (authz_device_name(jwt_claim_str(c, laps_authz_conf(t->cfg)->device_claim),
				      laps_authz_conf(t->cfg)->device_prefix, id->device) != 0) {
			fmt_trunc(why, whylen, "a device token without a usable %s claim",
				  laps_authz_conf(t->cfg)->device_claim);
			return LAPS_ERR_AUTH;
		}
		id->kind = ID_DEVICE;
		fmt_trunc(id->actor, sizeof id->actor, "device:%s", id->device);
		return 0;
	}
	id->kind = ID_ADMIN;
	if (sub == NULL || sub[0] == '\0') {
		/* an empty sub would leave the audit log's actor empty */
		fmt_trunc(why, whylen, "the token has no sub claim");
		return LAPS_ERR_AUTH;
	}
	fmt_trunc(id->actor, sizeof id->actor, "%.120s%s%.120s", sub,
			    cid != NULL && strcmp(cid, sub) != 0 ? " via " : "",
			    cid != NULL && strcmp(cid, sub) != 0 ? cid : "");
	return 0;
}

int
auth_token_verify(void *ctx, const char *token, size_t len, int64_t now, struct identity *id,
		  char *why, size_t whylen)
{
	struct auth_token *t = ctx;
	struct jwt_claims *c = NULL;
	char buf[256];
	int rc;

	laps_clearerr();
	if ((rc = jwt_verify(t->v, token, len, now, &c)) != 0) {
		fmt_trunc(why, whylen, "%s", laps_errstr(rc, buf, sizeof buf));
		return LAPS_ERR_AUTH;
	}
	rc = identity_of(t, c, id, why, whylen);
	jwt_claims_free(c);
	return rc;
}
