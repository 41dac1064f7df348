/*
 * read.c — laps-get: find a host, read its record(s) through an escrow
 * backend and open them with the administrator's private key.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/keys.h"
#include "escrow/secret.h"
#include "laps-get/lapsget.h"

#define LG_FIND_MAX 16 /* matches listed in "several hosts match" */

void
lg_entry_clear(struct lg_entry *e)
{
	if (e == NULL)
		return;
	laps_secret_free(e->password);
	memset(e, 0, sizeof *e);
}

int
lg_seterr_prefix(int err, const char *prefix)
{
	if (prefix == NULL || prefix[0] == '\0')
		return err;
	return laps_seterr_prefix(err, "%s", prefix);
}

void
lg_result_init(struct lg_result *r)
{
	memset(r, 0, sizeof *r);
}

void
lg_result_clear(struct lg_result *r)
{
	size_t i;

	if (r == NULL)
		return;
	lg_entry_clear(&r->cur);
	lg_entry_clear(&r->prev);
	for (i = 0; i < r->n_hist; i++)
		lg_entry_clear(&r->hist[i]);
	free(r->hist);
	memset(r, 0, sizeof *r);
}

void
lg_keysrc_init(struct lg_keysrc *ks, const char *path, int passphrase_fd)
{
	memset(ks, 0, sizeof *ks);
	ks->path = path;
	ks->passphrase_fd = passphrase_fd;
}

void
lg_keysrc_clear(struct lg_keysrc *ks)
{
	if (ks == NULL)
		return;
	if (ks->loaded)
		laps_privkey_clear(&ks->key);
	memset(ks, 0, sizeof *ks);
}

int
lg_keysrc_load(struct lg_keysrc *ks)
{
	char errbuf[512], prompt[LAPS_DEVICE_MAX + 64];
	char *pass = NULL;
	bool prot = false;
	int rc;

	if (ks->loaded)
		return 0;
	if (ks->load_rc != 0) /* failed before: do not ask again */
		return laps_seterr(ks->load_rc, "%s", ks->load_err);
	if (ks->path == NULL) {
		rc = laps_seterr(LAPS_ERR_CONFIG, "no admin private key (use --key)");
		goto out;
	}
	if ((rc = laps_privkey_file_protected(ks->path, &prot)) != 0)
		goto out;
	if (prot) {
		if (laps_snprintf(prompt, sizeof prompt, "Passphrase for %s: ", ks->path) != 0)
			(void)snprintf(prompt, sizeof prompt, "Passphrase: ");
		if ((rc = lg_read_passphrase(ks->passphrase_fd, prompt, &pass)) != 0)
			goto out;
	}
	if ((rc = laps_privkey_load(ks->path, pass, &ks->key)) != 0)
		goto out;
	ks->loaded = true;
out:
	laps_secret_free(pass);
	if (rc != 0) {
		/* A missing or unsafe key file is a setup problem, not a record
		 * problem: report it as such (exit status 2), keep PASSPHRASE. */
		if (rc != LAPS_ERR_PASSPHRASE && rc != LAPS_ERR_NOMEM) {
			laps_errstr(rc, errbuf, sizeof errbuf);
			rc = laps_seterr(LAPS_ERR_CONFIG, "admin key %s: %s",
					 ks->path ? ks->path : "(none)", errbuf);
		} else if (rc == LAPS_ERR_PASSPHRASE) {
			/* the detail names the problem once ("PATH: wrong
			 * passphrase"); the caller prints it as a sentence */
			const char *d = laps_errdetail();
			size_t pl = ks->path != NULL ? strlen(ks->path) : 0;

			if (pl > 0 && strncmp(d, ks->path, pl) == 0 && d[pl] == ':')
				d += pl + 1 + (d[pl + 1] == ' ');
			(void)snprintf(errbuf, sizeof errbuf, "%s",
				       d[0] ? d : "wrong or missing passphrase");
			rc = laps_seterr(rc, "admin key %s: %s", ks->path, errbuf);
		}
		ks->load_rc = rc;
		(void)snprintf(ks->load_err, sizeof ks->load_err, "%s", laps_errdetail());
	}
	return rc;
}

/* "a, b, c" of the recipients an envelope is sealed to. */
static void
recipient_list(const struct laps_record *rec, char *buf, size_t len)
{
	char ids[LAPS_MAX_RECIPIENTS][LAPS_KEYID_MAX + 1];
	size_t n = 0, i, off = 0;

	buf[0] = '\0';
	if (laps_seal_key_ids(rec->envelope, rec->envelope_len, ids, LAPS_MAX_RECIPIENTS, &n) !=
	    0) {
		n = rec->n_key_ids;
		for (i = 0; i < n && i < LAPS_MAX_RECIPIENTS; i++)
			memcpy(ids[i], rec->key_ids[i], sizeof ids[i]);
	}
	for (i = 0; i < n && off < len; i++) {
		int w = snprintf(buf + off, len - off, "%s%s", i ? ", " : "", ids[i]);

		if (w < 0)
			break;
		off += (size_t)w;
	}
	if (n == 0)
		(void)snprintf(buf, len, "(none)");
}

/* e cleared, then the record's metadata (no password) copied in. */
static void
entry_meta(struct lg_entry *e, const struct laps_record *rec, const char *source)
{
	lg_entry_clear(e);
	(void)snprintf(e->host, sizeof e->host, "%s", rec->device);
	(void)snprintf(e->account, sizeof e->account, "%s", rec->account);
	(void)snprintf(e->source, sizeof e->source, "%s",
		       rec->source[0] ? rec->source : (source ? source : ""));
	e->rotated = rec->rotated_at;
	e->expires = rec->expires_at;
	e->rotate_by = rec->rotate_by;
	e->pending = rec->state == LAPS_STATE_PENDING;
	e->encrypted = rec->encrypted;
}

int
lg_open_record(const struct laps_record *rec, struct lg_keysrc *ks, const char *source,
	       struct lg_entry *e)
{
	struct laps_seal_ad ad;
	char *pw = NULL, ids[LAPS_MAX_RECIPIENTS * (LAPS_KEYID_MAX + 2) + 8];
	size_t pwlen = 0;
	int rc;

	entry_meta(e, rec, source);
	if (rec->password != NULL) { /* clear-text schema modes */
		if (strlen(rec->password) > LAPS_PASSWORD_MAX) {
			rc = laps_seterr(LAPS_ERR_FORMAT, "record of %s/%s: password too long",
					 rec->device, rec->account);
			goto out;
		}
		if ((e->password = laps_secret_strdup(rec->password)) == NULL) {
			rc = LAPS_ERR_NOMEM;
			goto out;
		}
		rc = 0;
		goto out;
	}
	if (rec->envelope == NULL || rec->envelope_len == 0) {
		rc = laps_seterr(LAPS_ERR_FORMAT,
				 "record of %s/%s has neither a sealed nor a "
				 "clear-text password",
				 rec->device, rec->account);
		goto out;
	}
	if ((rc = lg_keysrc_load(ks)) != 0)
		goto out;
	laps_seal_ad_from_record(&ad, rec);
	rc = laps_seal_open(&ks->key, &ad, rec->envelope, rec->envelope_len, &pw, &pwlen);
	if (rc == LAPS_ERR_NOTRECIPIENT) {
		recipient_list(rec, ids, sizeof ids);
		rc = laps_seterr(rc,
				 "this key (id %s) cannot open the record of %s/%s: it is "
				 "sealed to key id(s) %s",
				 ks->key.id, rec->device, rec->account, ids);
		goto out;
	}
	if (rc == LAPS_ERR_CRYPTO) {
		rc = laps_seterr(LAPS_ERR_CRYPTO,
				 "the record of %s/%s does not open: it was "
				 "altered or copied from another host/account",
				 rec->device, rec->account);
		goto out;
	}
	if (rc != 0)
		goto out;
	if (pwlen == 0 || pwlen > LAPS_PASSWORD_MAX || strlen(pw) != pwlen) {
		rc = laps_seterr(LAPS_ERR_FORMAT,
				 "record of %s/%s: the sealed password is "
				 "empty, too long or contains a NUL byte",
				 rec->device, rec->account);
		goto out;
	}
	e->password = pw; /* success */
	pw = NULL;
	(void)snprintf(e->key_id, sizeof e->key_id, "%s", ks->key.id);
out:
	laps_secret_free(pw);
	if (rc != 0) {
		char buf[512];

		e->open_rc = rc;
		(void)snprintf(e->error, sizeof e->error, "%s", laps_errstr(rc, buf, sizeof buf));
		rc = lg_seterr_prefix(rc, NULL); /* keep the detail for the caller */
	}
	return rc;
}

/* A name with a dot is no device's first label: with exact device names
 * (LAPS_BCAP_EXACTNAME) find could only answer it with itself.  main.c reads
 * it directly and resolves it only when that read finds nothing (for the
 * usual "no host matches" answer). */
bool
lg_host_exact(struct laps_backend *b, const char *host, char *device, size_t len)
{
	if (!(laps_backend_caps(b) & LAPS_BCAP_EXACTNAME) || host == NULL ||
	    strchr(host, '.') == NULL || strlen(host) > LAPS_DEVICE_MAX ||
	    laps_snprintf(device, len, "%s", host) != 0)
		return false;
	laps_hostname_lower(device);
	return laps_record_device_ok(device); /* anything else: find decides, as before */
}

int
lg_resolve_host(struct laps_backend *b, const char *host, char *device, size_t len)
{
	char(*devs)[LAPS_DEVICE_MAX + 1] = NULL;
	char list[1024];
	size_t n = 0, i, off = 0;
	int rc;

	if (host == NULL || host[0] == '\0' || strlen(host) > LAPS_DEVICE_MAX)
		return laps_seterr(LAPS_ERR_INVALID, "bad host name");
	if (!(laps_backend_caps(b) & LAPS_BCAP_FIND)) {
		if ((rc = laps_snprintf(device, len, "%s", host)) != 0)
			return rc;
		laps_hostname_lower(device);
		return 0;
	}
	if ((devs = calloc(LG_FIND_MAX, sizeof *devs)) == NULL)
		return LAPS_ERR_NOMEM;
	rc = laps_backend_find(b, host, devs, LG_FIND_MAX, &n);
	if (rc == LAPS_ERR_UNSUPPORTED) {
		rc = laps_snprintf(device, len, "%s", host);
		if (rc == 0)
			laps_hostname_lower(device);
		goto out;
	}
	if (rc != 0)
		goto out;
	if (n == 0) {
		rc = laps_seterr(LAPS_ERR_NOTFOUND, "no host matches '%s'", host);
		goto out;
	}
	if (n > 1) {
		list[0] = '\0';
		for (i = 0; i < n && i < LG_FIND_MAX && off < sizeof list; i++) {
			int w =
			    snprintf(list + off, sizeof list - off, "%s%s", i ? ", " : "", devs[i]);

			if (w < 0)
				break;
			off += (size_t)w;
		}
		rc = laps_seterr(LAPS_ERR_AMBIGUOUS, "several hosts match '%s': %s%s", host, list,
				 n >= LG_FIND_MAX ? ", ..." : "");
		goto out;
	}
	devs[0][LAPS_DEVICE_MAX] = '\0';
	if ((rc = laps_snprintf(device, len, "%s", devs[0])) != 0)
		goto out;
	laps_hostname_lower(device);
out:
	free(devs);
	return rc;
}

/* Open every record of l into a new array of entries. */
static int
open_list(const struct laps_record_list *l, size_t max, struct lg_keysrc *ks, const char *source,
	  struct lg_entry **out, size_t *nout)
{
	struct lg_entry *v;
	size_t i, n = l->n < max ? l->n : max;

	*out = NULL;
	*nout = 0;
	if (n == 0)
		return 0;
	if ((v = calloc(n, sizeof *v)) == NULL)
		return LAPS_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		int rc = lg_open_record(&l->v[i], ks, source, &v[i]);

		if (rc == LAPS_ERR_NOMEM) {
			for (size_t j = 0; j <= i; j++)
				lg_entry_clear(&v[j]);
			free(v);
			return rc;
		}
		/* other failures stay in v[i].open_rc / v[i].error */
	}
	*out = v; /* success */
	*nout = n;
	return 0;
}

int
lg_read(struct laps_backend *b, const char *device, const char *account, struct lg_keysrc *ks,
	size_t history_n, bool want_history, struct lg_result *res)
{
	struct laps_record rec;
	struct laps_record_list list = {NULL, 0};
	const char *source;
	char errbuf[512];
	size_t need;
	int rc;

	laps_record_init(&rec);
	lg_result_clear(res);
	res->want_history = want_history;
	rc = laps_backend_read(b, device, account, &rec, NULL);
	if (rc == LAPS_ERR_NOTFOUND) {
		char what[LAPS_DEVICE_MAX + LAPS_ACCOUNT_MAX + 64];

		(void)snprintf(what, sizeof what, "no password escrowed for %s (account %s)",
			       device, account ? account : "any");
		rc = lg_seterr_prefix(rc, what);
		goto out;
	}
	if (rc != 0)
		goto out;
	source = laps_backend_describe(b);
	if ((rc = lg_open_record(&rec, ks, source, &res->cur)) != 0)
		goto out;

	if (want_history && !(laps_backend_caps(b) & LAPS_BCAP_HISTORY))
		fprintf(stderr, "laps-get: %s keeps no history\n", source);
	need = want_history ? history_n : 0;
	if (res->cur.pending && need == 0)
		need = 1;
	if (need == 0 || !(laps_backend_caps(b) & LAPS_BCAP_HISTORY)) {
		if (res->cur.pending) {
			res->has_prev = true;
			res->prev.open_rc = LAPS_ERR_NOTFOUND;
			(void)snprintf(res->prev.error, sizeof res->prev.error,
				       "the backend keeps no history");
		}
		rc = 0;
		goto out;
	}
	rc = laps_backend_history(b, device, account, need, &list);
	if (rc != 0 && rc != LAPS_ERR_NOTFOUND) {
		/* The current password is known: report the history problem
		 * inside the result instead of failing. */
		laps_errstr(rc, errbuf, sizeof errbuf);
		if (res->cur.pending) {
			res->has_prev = true;
			res->prev.open_rc = rc;
			(void)snprintf(res->prev.error, sizeof res->prev.error, "%s", errbuf);
		}
		fprintf(stderr, "laps-get: cannot read the history: %s\n", errbuf);
		rc = 0;
		goto out;
	}
	laps_record_list_sort(&list);
	if (res->cur.pending) {
		res->has_prev = true;
		if (list.n > 0) {
			rc = lg_open_record(&list.v[0], ks, source, &res->prev);
			if (rc == LAPS_ERR_NOMEM)
				goto out;
		} else {
			res->prev.open_rc = LAPS_ERR_NOTFOUND;
			(void)snprintf(res->prev.error, sizeof res->prev.error,
				       "no previous password is escrowed");
		}
	}
	if (want_history &&
	    (rc = open_list(&list, history_n, ks, source, &res->hist, &res->n_hist)) != 0)
		goto out;
	rc = 0;
out:
	laps_record_clear(&rec);
	laps_record_list_free(&list);
	return rc;
}
