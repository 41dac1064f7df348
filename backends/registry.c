/*
 * registry.c — the escrow backends, found by name: `file` compiled in, the
 * others loaded from their module (backends/module.h, docs/BACKENDS.md).
 *
 * Where modules come from: LAPS_BACKEND_DIR_DEFAULT ($(pkglibdir)/backends),
 * or the LAPS_BACKEND_DIR environment variable, which is read with
 * secure_getenv(): ignored when the process runs set-user-id, set-group-id
 * or with file capabilities (AT_SECURE), honoured otherwise — with the same
 * trust as LD_LIBRARY_PATH, which such a caller could set anyway.  The test
 * suite points it at the build tree.  Wherever it points, the directory and
 * the module must be owned by root or by the effective user, writable by
 * nobody else, and the module a regular file (not a symbolic link); so only
 * that owner could swap it between the check and dlopen().
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/module.h"
#include "backends/registry.h"
#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/log.h"

/* One include and one line per compiled-in backend. */
#include "backends/file_backend.h"

const struct laps_backend_ops *const laps_backend_registry[] = {
    &laps_backend_file,
    NULL,
};

/* One line per backend built as a module (backends/Makemodule.am). */
static const char *const module_names[] = {"ldap", "graph", "rest", NULL};

#ifndef LAPS_BACKEND_DIR_DEFAULT
#define LAPS_BACKEND_DIR_DEFAULT "/usr/local/lib/laps/backends"
#endif
#define NAME_MAX_ 32

/* Modules loaded so far (never unloaded: NSS and PAM keep theirs too). */
static const struct laps_backend_ops *loaded[sizeof module_names / sizeof module_names[0]];

static const struct laps_backend_ops *
builtin(const char *name)
{
	for (size_t i = 0; laps_backend_registry[i] != NULL; i++)
		if (strcmp(laps_backend_registry[i]->name, name) == 0)
			return laps_backend_registry[i];
	return NULL;
}

static int
module_index(const char *name)
{
	for (int i = 0; module_names[i] != NULL; i++)
		if (strcmp(module_names[i], name) == 0)
			return i;
	return -1;
}

const char *
laps_backend_module_dir(void)
{
	const char *d = secure_getenv("LAPS_BACKEND_DIR");

	return d != NULL && d[0] == '/' ? d : LAPS_BACKEND_DIR_DEFAULT;
}

/* Owned by root or by us, writable by nobody else; a directory or a regular
 * file as want says (lstat: a symbolic link is neither). */
static int
check_path(const char *path, mode_t want)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return laps_seterr(errno == ENOENT ? LAPS_ERR_NOTFOUND : LAPS_ERR_IO, "%s: %s", path,
				   strerror(errno));
	if ((st.st_mode & S_IFMT) != want)
		return laps_seterr(LAPS_ERR_PERM, "%s: not a %s", path,
				   want == S_IFDIR ? "directory" : "regular file");
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return laps_seterr(LAPS_ERR_PERM, "%s: owned by uid %u, not by root", path,
				   (unsigned)st.st_uid);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return laps_seterr(LAPS_ERR_PERM, "%s: group- or world-writable", path);
	return 0;
}

/* dlopen dir/name.so after the checks; the ops it defines. */
static int
load_module(const char *name, const struct laps_backend_ops **out)
{
	const char *dir = laps_backend_module_dir();
	const struct laps_backend_module *m;
	char path[PATH_MAX];
	void *h;
	int rc;

	if ((rc = laps_snprintf(path, sizeof path, "%s/%s.so", dir, name)) != 0)
		return rc;
	if ((rc = check_path(dir, S_IFDIR)) != 0 || (rc = check_path(path, S_IFREG)) != 0)
		return rc == LAPS_ERR_NOTFOUND
			   ? laps_seterr(LAPS_ERR_CONFIG, "backend %s is not installed (%s)", name,
					 path)
			   : rc;
	log_debug("loading backend module %s", path);
	/* RTLD_LAZY binds each library the way linking it would: the module
	 * and every library built with -z now (libcurl, OpenSSL, GnuTLS,
	 * libldap, json-c, libsodium: DT_BIND_NOW) are still bound at once and
	 * get full RELRO; only libraries built without it (Kerberos, libz,
	 * nghttp2, ...) bind on first call, as they do under /usr/bin/curl.
	 * RTLD_NOW would force those too: 18.6 M of the REST no-op run's 48 M
	 * instructions, with no RELRO gain (their GOT is writable either way). */
	if ((h = dlopen(path, RTLD_LAZY | RTLD_LOCAL)) == NULL)
		return laps_seterr(LAPS_ERR_CONFIG, "backend %s: %s", name, dlerror());
	m = dlsym(h, LAPS_BACKEND_MODULE_SYMBOL);
	if (m == NULL || m->ops == NULL || m->abi == NULL)
		return laps_seterr(LAPS_ERR_CONFIG, "%s: not a laps backend module", path);
	if (strcmp(m->abi, LAPS_BACKEND_ABI) != 0 || m->ops_size != sizeof(struct laps_backend_ops))
		return laps_seterr(LAPS_ERR_VERSION, "%s: built for laps %s, this is %s", path,
				   m->abi, LAPS_BACKEND_ABI);
	if (m->ops->name == NULL || strcmp(m->ops->name, name) != 0)
		return laps_seterr(LAPS_ERR_CONFIG, "%s: defines backend '%s'", path,
				   m->ops->name ? m->ops->name : "");
	*out = m->ops; /* success: h stays open for the life of the process */
	return 0;
}

int
laps_backend_load(const char *name, const struct laps_backend_ops **out)
{
	int i, rc;

	*out = NULL;
	if (name == NULL)
		return laps_seterr(LAPS_ERR_CONFIG, "no backend configured");
	if ((*out = builtin(name)) != NULL)
		return 0;
	/* names are a fixed list: nothing from the configuration becomes a path */
	if (strlen(name) > NAME_MAX_ || (i = module_index(name)) < 0)
		return laps_seterr(LAPS_ERR_CONFIG, "unknown backend '%.*s' (known: %s)", NAME_MAX_,
				   name, laps_backend_names());
	if (loaded[i] == NULL && (rc = load_module(name, &loaded[i])) != 0)
		return rc;
	*out = loaded[i];
	return 0;
}

const struct laps_backend_ops *
laps_backend_lookup(const char *name)
{
	const struct laps_backend_ops *ops;

	return laps_backend_load(name, &ops) == 0 ? ops : NULL;
}

static char backend_names[256];
static pthread_once_t backend_names_once = PTHREAD_ONCE_INIT;

static void
names_add(size_t *off, const char *name)
{
	size_t n = strlen(name);

	if (*off + n + 2 > sizeof(backend_names))
		return; /* cannot happen with a handful of short names */
	if (*off > 0)
		backend_names[(*off)++] = ' ';
	memcpy(backend_names + *off, name, n);
	*off += n;
	backend_names[*off] = '\0';
}

static void
backend_names_build(void)
{
	size_t i, off = 0;

	for (i = 0; laps_backend_registry[i] != NULL; i++)
		names_add(&off, laps_backend_registry[i]->name);
	for (i = 0; module_names[i] != NULL; i++)
		names_add(&off, module_names[i]);
}

const char *
laps_backend_names(void)
{
	(void)pthread_once(&backend_names_once, backend_names_build);
	return backend_names;
}
