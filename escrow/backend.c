/*
 * backend.c — argument checking wrappers around a backend's ops table.
 * The registry of backends lives in backends/registry.c (escrow/ knows
 * nothing about particular backends).
 */
#include "config.h"

#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "escrow/backend.h"
#include "escrow/err.h"
#include "escrow/fileio.h"

int
laps_backend_open(const struct laps_backend_ops *ops, const struct laps_conf *cfg,
		  enum laps_backend_role role, const struct laps_backend_env *env,
		  struct laps_backend **out)
{
	struct laps_backend *b = NULL;
	int rc;

	if (out == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "backend open: no result pointer");
	*out = NULL;
	if (ops == NULL || cfg == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "backend open: no backend or config");
	if (ops->open == NULL || ops->close == NULL || ops->read == NULL ||
	    (!(ops->caps & LAPS_BCAP_READONLY) && (ops->write == NULL || ops->confirm == NULL)))
		return laps_seterr(LAPS_ERR_INTERNAL, "backend %s lacks a required operation",
				   ops->name ? ops->name : "?");
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return laps_seterr(LAPS_ERR_NOMEM, "backend open: out of memory");
	b->ops = ops;
	b->cfg = cfg;
	if (env != NULL)
		b->env = *env;
	if ((rc = ops->open(cfg, role, &b->env, &b->ctx)) != 0) {
		free(b);
		return rc;
	}
	*out = b;
	return 0;
}

void
laps_backend_close(struct laps_backend *b)
{
	if (b == NULL)
		return;
	b->ops->close(b->ctx);
	free(b);
}

unsigned
laps_backend_caps(const struct laps_backend *b)
{
	if (b == NULL)
		return 0;
	if (b->ops->caps_of != NULL)
		return b->ops->caps_of(b->ctx);
	return b->ops->caps;
}

const char *
laps_backend_describe(const struct laps_backend *b)
{
	const char *d = NULL;

	if (b == NULL)
		return "none";
	if (b->ops->describe != NULL)
		d = b->ops->describe(b->ctx);
	return d != NULL ? d : b->ops->name;
}

/* Validate and lower-case a device name into buf. */
static int
norm_device(const char *device, char buf[LAPS_DEVICE_MAX + 1])
{
	size_t n;

	if (device == NULL || (n = strlen(device)) == 0)
		return laps_seterr(LAPS_ERR_INVALID, "empty device name");
	if (n > LAPS_DEVICE_MAX)
		return laps_seterr(LAPS_ERR_INVALID, "device name longer than %d characters",
				   LAPS_DEVICE_MAX);
	memcpy(buf, device, n + 1);
	laps_hostname_lower(buf);
	return 0;
}

static int
check_account(const char *account)
{
	size_t n;

	if (account == NULL || (n = strlen(account)) == 0 || n > LAPS_ACCOUNT_MAX)
		return laps_seterr(LAPS_ERR_INVALID, "bad account name");
	return 0;
}

/*
 * A record is bound to its place: the one read for dev/account must name
 * that device (case-insensitively; records hold it lower-case) and that
 * account (case-sensitively).  A directory administrator can copy a sealed
 * value from host2's entry into host1's; its envelope opens (it is bound to
 * the record's own names), so without this check laps-get would print
 * host2's password as host1's.  Checked here, once, for every backend.
 */
/* dev names the record's device: the same name, or dev is a short host name
 * (no dot) and the record's device is an FQDN whose first label it is -- the
 * host-name semantics of the find slot (laps-get HOST reads the entry of a
 * device that escrows under its FQDN). */
static bool
same_device(const char *recdev, const char *dev)
{
	size_t n = strlen(dev);

	if (strcasecmp(recdev, dev) == 0)
		return true;
	return strchr(dev, '.') == NULL && strncasecmp(recdev, dev, n) == 0 && recdev[n] == '.';
}

static int
check_place(const struct laps_backend *b, const struct laps_record *r, const char *dev,
	    const char *account)
{
	if (same_device(r->device, dev) &&
	    (account == NULL || strcmp(r->account, account) == 0 ||
	     ((laps_backend_caps(b) & LAPS_BCAP_ANYACCOUNT) && strcasecmp(r->account, account) == 0)))
		return 0;
	return laps_seterr(LAPS_ERR_FORMAT,
			   "%s: record for %s/%s found in %s's entry for %s (moved or copied "
			   "from another device or account?); refusing it",
			   laps_backend_describe(b), r->device, r->account, dev,
			   account ? account : "any account");
}

/* account, or NULL when the backend reads the newest record of any account. */
static int
check_read_account(const struct laps_backend *b, const char *account)
{
	if (account == NULL && (laps_backend_caps(b) & LAPS_BCAP_ANYACCOUNT))
		return 0;
	return check_account(account);
}

int
laps_backend_read(struct laps_backend *b, const char *device, const char *account,
		  struct laps_record *out, struct laps_version *ver)
{
	char dev[LAPS_DEVICE_MAX + 1];
	struct laps_version dummy;
	int rc;

	if (b == NULL || out == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "backend read: bad arguments");
	if ((rc = norm_device(device, dev)) != 0 || (rc = check_read_account(b, account)) != 0)
		return rc;
	if (ver == NULL)
		ver = &dummy;
	ver->tag[0] = '\0';
	if ((rc = b->ops->read(b->ctx, dev, account, out, ver)) != 0)
		return rc;
	if ((rc = check_place(b, out, dev, account)) != 0) {
		laps_record_clear(out);
		ver->tag[0] = '\0';
		return rc;
	}
	return 0;
}

int
laps_backend_write(struct laps_backend *b, const struct laps_record *rec, const char *password,
		   const struct laps_version *expected, struct laps_version *newver)
{
	struct laps_version dummy;
	int rc;

	if (b == NULL || rec == NULL || expected == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "backend write: bad arguments");
	if ((rc = laps_record_validate(rec)) != 0)
		return rc;
	if (b->ops->write == NULL)
		return laps_seterr(LAPS_ERR_UNSUPPORTED, "backend %s is read-only", b->ops->name);
	if ((laps_backend_caps(b) & LAPS_BCAP_CLEARTEXT) && password == NULL)
		return laps_seterr(LAPS_ERR_INVALID,
				   "backend %s stores the password in clear: password required",
				   b->ops->name);
	if (newver == NULL)
		newver = &dummy;
	return b->ops->write(b->ctx, rec, password, expected, newver);
}

int
laps_backend_confirm(struct laps_backend *b, const char *device, const char *account,
		     const char *rotation_id, int64_t expires_at)
{
	char dev[LAPS_DEVICE_MAX + 1];
	int rc;

	if (b == NULL || rotation_id == NULL || strlen(rotation_id) != LAPS_ROTID_HEX)
		return laps_seterr(LAPS_ERR_INVALID, "backend confirm: bad arguments");
	if (b->ops->confirm == NULL)
		return laps_seterr(LAPS_ERR_UNSUPPORTED, "backend %s is read-only", b->ops->name);
	if ((rc = norm_device(device, dev)) != 0 || (rc = check_account(account)) != 0)
		return rc;
	return b->ops->confirm(b->ctx, dev, account, rotation_id, expires_at);
}

int
laps_backend_history(struct laps_backend *b, const char *device, const char *account, size_t n,
		     struct laps_record_list *out)
{
	char dev[LAPS_DEVICE_MAX + 1];
	size_t i;
	int rc;

	if (b == NULL || out == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "backend history: bad arguments");
	out->v = NULL;
	out->n = 0;
	if (b->ops->history == NULL)
		return laps_seterr(LAPS_ERR_UNSUPPORTED, "backend %s keeps no history",
				   b->ops->name);
	if ((rc = norm_device(device, dev)) != 0 || (rc = check_read_account(b, account)) != 0)
		return rc;
	if ((rc = b->ops->history(b->ctx, dev, account, n, out)) != 0)
		return rc;
	for (i = 0; i < out->n; i++) {
		if ((rc = check_place(b, &out->v[i], dev, account)) != 0) {
			laps_record_list_free(out);
			return rc;
		}
	}
	laps_record_list_sort(out);
	return 0;
}

int
laps_backend_set_expiry(struct laps_backend *b, const char *device, const char *account,
			int64_t when)
{
	char dev[LAPS_DEVICE_MAX + 1];
	int rc;

	if (b == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "backend set_expiry: bad arguments");
	if (b->ops->set_expiry == NULL)
		return laps_seterr(LAPS_ERR_UNSUPPORTED, "backend %s cannot set the expiry",
				   b->ops->name);
	if ((rc = norm_device(device, dev)) != 0 || (rc = check_account(account)) != 0)
		return rc;
	return b->ops->set_expiry(b->ctx, dev, account, when);
}

int
laps_backend_find(struct laps_backend *b, const char *name, char (*devices)[LAPS_DEVICE_MAX + 1],
		  size_t max, size_t *n)
{
	char dev[LAPS_DEVICE_MAX + 1];
	int rc;

	if (b == NULL || devices == NULL || n == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "backend find: bad arguments");
	*n = 0;
	if (b->ops->find == NULL)
		return laps_seterr(LAPS_ERR_UNSUPPORTED, "backend %s cannot look hosts up",
				   b->ops->name);
	if ((rc = norm_device(name, dev)) != 0)
		return rc;
	return b->ops->find(b->ctx, dev, devices, max, n);
}

int
laps_backend_report(struct laps_backend *b, laps_report_cb cb, void *arg)
{
	if (b == NULL || cb == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "backend report: bad arguments");
	if (b->ops->report == NULL)
		return laps_seterr(LAPS_ERR_UNSUPPORTED, "backend %s cannot list its devices",
				   b->ops->name);
	return b->ops->report(b->ctx, cb, arg);
}

int
laps_backend_expire_many(struct laps_backend *b, const struct laps_expire_filter *f,
			 laps_report_cb cb, void *arg, size_t *count)
{
	if (b == NULL || f == NULL || cb == NULL || count == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "backend expire_many: bad arguments");
	*count = 0;
	if (b->ops->expire_many == NULL)
		return laps_seterr(LAPS_ERR_UNSUPPORTED,
				   "backend %s cannot expire accounts in bulk (only rest can)",
				   b->ops->name);
	return b->ops->expire_many(b->ctx, f, cb, arg, count);
}

int
laps_backend_approval(struct laps_backend *b, const struct laps_approval_op *op, char **answer)
{
	if (b == NULL || op == NULL || op->verb == NULL || answer == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "backend approval: bad arguments");
	*answer = NULL;
	if (b->ops->approval == NULL)
		return laps_seterr(LAPS_ERR_UNSUPPORTED,
				   "backend %s has no approvals (only rest against laps-escrowd)",
				   b->ops->name);
	return b->ops->approval(b->ctx, op, answer);
}

int
laps_backend_admin(struct laps_backend *b, const char *method, const char *path, const char *body,
		   char **answer, size_t *len)
{
	if (answer != NULL)
		*answer = NULL;
	if (len != NULL)
		*len = 0;
	if (b == NULL || method == NULL || path == NULL || path[0] != '/' || answer == NULL ||
	    len == NULL)
		return laps_seterr(LAPS_ERR_INVALID, "backend admin: bad arguments");
	if (b->ops->admin == NULL)
		return laps_seterr(LAPS_ERR_UNSUPPORTED,
				   "backend %s has no administration API (this command needs "
				   "[escrow] backend = rest, laps-escrowd)",
				   b->ops->name);
	return b->ops->admin(b->ctx, method, path, body, answer, len);
}
