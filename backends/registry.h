/*
 * registry.h — the escrow backends by name: `file` compiled in, the others
 * loadable modules (backends/module.h, docs/BACKENDS.md).
 *
 * Adding a backend is adding its file, an `extern const struct
 * laps_backend_ops laps_backend_NAME;` in its own header, a two-line
 * module_NAME.c, its rules in backends/Makemodule.am and one name in
 * module_names[] of backends/registry.c.
 *
 * (The lookup is called laps_backend_lookup() because laps_backend_find() is
 * already the backend `find` wrapper declared in escrow/backend.h.)
 */
#ifndef LAPS_BACKEND_REGISTRY_H
#define LAPS_BACKEND_REGISTRY_H

#include "escrow/backend.h"

/* The compiled-in backends, NULL-terminated. */
extern const struct laps_backend_ops *const laps_backend_registry[];

/*
 * The backend called name (exact, as in `[escrow] backend`): compiled in, or
 * loaded from laps_backend_module_dir()/NAME.so on first use.  *out is
 * static; never free it.  LAPS_ERR_CONFIG (unknown or not installed, the
 * detail says which), LAPS_ERR_PERM (unsafe owner or mode of the module or
 * its directory), LAPS_ERR_VERSION (a module of another release).
 */
int laps_backend_load(const char *name, const struct laps_backend_ops **out)
    __attribute__((warn_unused_result));

/* laps_backend_load() for callers that only need yes or no: NULL on any
 * failure (the detail is set). */
const struct laps_backend_ops *laps_backend_lookup(const char *name);

/* Where modules are loaded from: $LAPS_BACKEND_DIR when the process is not
 * set-id (secure_getenv), else the directory configured at build time. */
const char *laps_backend_module_dir(void);

/* The known names separated by single spaces ("file ldap graph"), for
 * messages such as "unknown backend 'x' (known: file ldap rest)".  Static
 * storage; never NULL. */
const char *laps_backend_names(void);

#endif
