/*
 * registry.h — the table of compiled-in escrow backends.
 *
 * Adding a backend is adding its file, an `extern const struct
 * laps_backend_ops laps_backend_NAME;` in its own header, and one line in
 * backends/registry.c.
 *
 * (The lookup is called laps_backend_lookup() because laps_backend_find() is
 * already the backend `find` wrapper declared in escrow/backend.h.)
 */
#ifndef LAPS_BACKEND_REGISTRY_H
#define LAPS_BACKEND_REGISTRY_H

#include "escrow/backend.h"

/* NULL-terminated, in the order they are listed in messages. */
extern const struct laps_backend_ops *const laps_backend_registry[];

/* The backend called name (exact, as in `[escrow] backend`), or NULL.
 * The result is static; never free it. */
const struct laps_backend_ops *laps_backend_lookup(const char *name);

/* The registered names separated by single spaces ("file ldap rest"), for
 * messages such as "unknown backend 'x' (known: file ldap rest)".  Static
 * storage; never NULL. */
const char *laps_backend_names(void);

#endif
