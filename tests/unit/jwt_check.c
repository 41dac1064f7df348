/*
 * jwt_check.c — test helper for tests/integration/oidc_jwt.sh: verifies the
 * access token on stdin with server/jwt.c (discovery and JWKS over verified
 * TLS) and prints "sub=... scope=... client_id=..." on success.
 *
 *   jwt_check ISSUER AUDIENCE CA_FILE [CLAIM=VALUE]...
 *
 * Each CLAIM=VALUE must hold (jwt_claim_has).  Exit 0 verified, 1 refused
 * (the reason on stderr), 2 usage or a transient error (no keys).
 */
#include "config.h"

#include "escrow/err.h"
#include "server/jwt.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int
check_claims(const struct jwt_claims *c, int argc, char **argv)
{
	for (int i = 4; i < argc; i++) {
		char name[128];
		const char *eq = strchr(argv[i], '=');

		if (eq == NULL || (size_t)(eq - argv[i]) >= sizeof name)
			return 2;
		memcpy(name, argv[i], (size_t)(eq - argv[i]));
		name[eq - argv[i]] = '\0';
		if (!jwt_claim_has(c, name, eq + 1)) {
			fprintf(stderr, "jwt_check: claim %s does not hold %s\n", name, eq + 1);
			return 1;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct jwt_verifier_config cfg = {.leeway = 30, .timeout_ms = 10000,
					  .refresh_min_interval = 60, .require_at_jwt = true};
	struct jwt_verifier *v = NULL;
	struct jwt_claims *c = NULL;
	char tok[JWT_TOKEN_MAX + 2], buf[512];
	size_t n;
	int rc, ret = 2;

	if (argc < 4)
		return 2;
	cfg.issuer = argv[1];
	cfg.audience = argv[2];
	cfg.ca_file = argv[3];
	n = fread(tok, 1, sizeof tok - 1, stdin);
	while (n > 0 && (tok[n - 1] == '\n' || tok[n - 1] == '\r'))
		n--;
	tok[n] = '\0';
	if ((rc = jwt_verifier_new(&cfg, &v)) != 0) {
		fprintf(stderr, "jwt_check: %s\n", laps_errstr(rc, buf, sizeof buf));
		return 2;
	}
	rc = jwt_verify(v, tok, n, (int64_t)time(NULL), &c);
	if (rc != 0) {
		fprintf(stderr, "jwt_check: %s\n", laps_errstr(rc, buf, sizeof buf));
		ret = rc == LAPS_ERR_AUTH ? 1 : 2;
		goto out;
	}
	if ((ret = check_claims(c, argc, argv)) == 0)
		printf("sub=%s scope=%s client_id=%s\n", jwt_claim_str(c, "sub"),
		       jwt_claim_str(c, "scope"), jwt_claim_str(c, "client_id"));
out:
	jwt_claims_free(c);
	jwt_verifier_free(v);
	return ret;
}
