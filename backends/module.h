/*
 * module.h — escrow backends as loadable modules.
 *
 * The `file` backend is compiled into every program; the others (ldap,
 * graph, later rest) are shared objects in one fixed, root-owned directory,
 * $(pkglibdir)/backends/NAME.so, loaded on first use the way PAM and NSS
 * load theirs, so a program maps libldap or libcurl only when its
 * configuration names that backend (docs/BACKENDS.md).
 *
 * A module defines exactly one exported symbol, laps_backend_module (use
 * LAPS_BACKEND_MODULE), and takes the libescrow functions it calls from the
 * program that loads it: every such program links all of libescrow and
 * exports its laps_* symbols (backends/host.dynlist).
 */
#ifndef LAPS_BACKEND_MODULE_H
#define LAPS_BACKEND_MODULE_H

#include <stddef.h>

#include "escrow/backend.h"

/* A module matches the program exactly: same release, same ops table. */
#define LAPS_BACKEND_ABI PACKAGE_VERSION
#define LAPS_BACKEND_MODULE_SYMBOL "laps_backend_module"

struct laps_backend_module {
	const char *abi;  /* LAPS_BACKEND_ABI of the tree it was built in */
	size_t ops_size;  /* sizeof(struct laps_backend_ops) there */
	const struct laps_backend_ops *ops;
};

#define LAPS_BACKEND_MODULE(ops_)                                                                  \
	extern const struct laps_backend_module laps_backend_module;                               \
	const struct laps_backend_module laps_backend_module = {                                   \
	    LAPS_BACKEND_ABI, sizeof(struct laps_backend_ops), &(ops_)}

#endif
