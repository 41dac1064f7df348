/*
 * authz.c — identities and rights (docs/REST-API.md §3).
 */
#include "config.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "escrow/err.h"
#include "escrow/fileio.h"
#include "server/fmt.h"
#include "escrow/record.h"
#include "server/authz.h"
#include "server/escrowd_conf.h"

int
authz_init(struct authz *a, const struct laps_conf *cfg)
{
	size_t i, j, len;
	const char *u;

	memset(a, 0, sizeof *a);
	a->cfg = cfg;
	for (i = 0; i < laps_authz_conf(cfg)->n_units; i++) {
		u = laps_authz_conf(cfg)->units[i];
		len = strcspn(u, ":");
		if (len == 0 || len >= sizeof a->unit_names[0] || u[len] != ':')
			return laps_seterr(LAPS_ERR_CONFIG, "[authz] units: bad item '%.64s'", u);
		for (j = 0; j < a->n_units; j++)
			if (strncmp(a->unit_names[j], u, len) == 0 && a->unit_names[j][len] == '\0')
				break;
		if (j == a->n_units) {
			memcpy(a->unit_names[j], u, len);
			a->unit_names[j][len] = '\0';
			a->n_units++;
		}
	}
	return 0;
}

static unsigned
imply(unsigned r)
{
	return (r & (AUTHZ_SECRET | AUTHZ_EXPIRE)) ? (r | AUTHZ_READ) : r;
}

bool
authz_rights_from(const struct authz *a, authz_has_fn has, void *ctx, struct identity *id)
{
	const struct laps_authz_conf *c = laps_authz_conf(a->cfg);
	const char *values[6] = {c->read_value, c->secret_value, c->expire_value, c->audit_value,
				 c->enroll_value, c->approve_value};
	const unsigned bits[6] = {AUTHZ_READ,	AUTHZ_SECRET, AUTHZ_EXPIRE,
				  AUTHZ_AUDIT, AUTHZ_ENROLL, AUTHZ_APPROVE};
	char v[AUTHZ_NAME_MAX];
	size_t i, u;

	id->global = 0;
	memset(id->unit_rights, 0, sizeof id->unit_rights);
	if (c->device_value != NULL && has(ctx, c->device_value))
		return true;
	for (i = 0; i < sizeof bits / sizeof bits[0]; i++) {
		if (values[i] == NULL)
			continue;
		if (has(ctx, values[i]))
			id->global |= bits[i];
		for (u = 0; u < a->n_units; u++) {
			if (laps_snprintf(v, sizeof v, "%s@%s", values[i], a->unit_names[u]) != 0)
				continue;
			if (has(ctx, v))
				id->unit_rights[u] |= bits[i];
		}
	}
	id->global = imply(id->global);
	for (u = 0; u < a->n_units; u++)
		id->unit_rights[u] = imply(id->unit_rights[u]);
	return false;
}

int
authz_device_name(const char *value, const char *prefix, char out[LAPS_DEVICE_MAX + 1])
{
	size_t plen = prefix != NULL ? strlen(prefix) : 0;
	size_t len;

	if (value == NULL)
		return laps_seterr(LAPS_ERR_AUTH, "no device name");
	if (plen > 0 && strncmp(value, prefix, plen) != 0)
		return laps_seterr(LAPS_ERR_AUTH, "the device name lacks the configured prefix");
	value += plen;
	len = strlen(value);
	if (len == 0 || len > LAPS_DEVICE_MAX)
		return laps_seterr(LAPS_ERR_AUTH, "not a device name");
	memcpy(out, value, len + 1);
	laps_hostname_lower(out);
	if (!laps_record_device_ok(out))
		return laps_seterr(LAPS_ERR_AUTH, "not a valid device name");
	return 0;
}

struct cert_values {
	const char *list; /* "v1,v2" */
};

static bool
cert_has(void *ctx, const char *value)
{
	const struct cert_values *cv = ctx;
	const char *p = cv->list;
	size_t n = strlen(value), len;

	while (*p != '\0') {
		len = strcspn(p, ",");
		if (len == n && strncmp(p, value, n) == 0)
			return true;
		p += len;
		if (*p == ',')
			p++;
	}
	return false;
}

int
authz_from_cert(const struct authz *a, const char *name, const char *subject, struct identity *id)
{
	const struct laps_authz_conf *c = laps_authz_conf(a->cfg);
	struct cert_values cv;
	size_t i, n = strlen(name);

	memset(id, 0, sizeof *id);
	for (i = 0; i < c->n_cert_admins; i++) {
		const char *item = c->cert_admins[i];
		if (strncmp(item, name, n) != 0 || item[n] != '=')
			continue;
		cv.list = item + n + 1;
		id->kind = ID_ADMIN;
		(void)authz_rights_from(a, cert_has, &cv, id); /* device_value ignored */
		fmt_trunc(id->actor, sizeof id->actor, "cert:%s", subject);
		return 0;
	}
	if (authz_device_name(name, NULL, id->device) != 0)
		return LAPS_ERR_AUTH;
	id->kind = ID_DEVICE;
	fmt_trunc(id->actor, sizeof id->actor, "device:%s", id->device);
	return 0;
}

/* Does device match one of unit u's patterns? */
static bool
in_unit(const struct authz *a, size_t u, const char *device)
{
	const char *name = a->unit_names[u];
	size_t i, n = strlen(name);

	for (i = 0; i < laps_authz_conf(a->cfg)->n_units; i++) {
		const char *item = laps_authz_conf(a->cfg)->units[i];
		if (strncmp(item, name, n) == 0 && item[n] == ':' &&
		    fnmatch(item + n + 1, device, FNM_CASEFOLD) == 0)
			return true;
	}
	return false;
}

bool
authz_device_in_unit(const struct authz *a, const char *unit, const char *device)
{
	size_t u;

	for (u = 0; u < a->n_units; u++)
		if (strcmp(a->unit_names[u], unit) == 0)
			return in_unit(a, u, device);
	return false;
}

unsigned
authz_rights_on(const struct authz *a, const struct identity *id, const char *device)
{
	unsigned r;
	size_t u;

	if (id->kind != ID_ADMIN)
		return 0;
	r = id->global;
	for (u = 0; u < a->n_units; u++)
		if (id->unit_rights[u] != 0 && in_unit(a, u, device))
			r |= id->unit_rights[u];
	return r;
}

unsigned
authz_rights_any(const struct identity *id, size_t n_units)
{
	unsigned r;
	size_t u;

	if (id->kind != ID_ADMIN)
		return 0;
	r = id->global;
	for (u = 0; u < n_units; u++)
		r |= id->unit_rights[u];
	return r;
}
