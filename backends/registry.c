/*
 * registry.c — the compiled-in escrow backends, found by name.
 */
#include "config.h"

#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "backends/registry.h"

/* One include and one line per backend. */
#include "backends/file_backend.h"
#include "backends/graph_backend.h"
#include "backends/ldap_backend.h"

const struct laps_backend_ops *const laps_backend_registry[] = {
    &laps_backend_file,
    &laps_backend_ldap,
    &laps_backend_graph,
    NULL,
};

const struct laps_backend_ops *
laps_backend_lookup(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; laps_backend_registry[i] != NULL; i++) {
		if (strcmp(laps_backend_registry[i]->name, name) == 0)
			return laps_backend_registry[i];
	}
	return NULL;
}

static char backend_names[256];
static pthread_once_t backend_names_once = PTHREAD_ONCE_INIT;

static void
backend_names_build(void)
{
	size_t i, off = 0, n;

	for (i = 0; laps_backend_registry[i] != NULL; i++) {
		n = strlen(laps_backend_registry[i]->name);
		if (off + n + 2 > sizeof(backend_names))
			break; /* cannot happen with a handful of short names */
		if (off > 0)
			backend_names[off++] = ' ';
		memcpy(backend_names + off, laps_backend_registry[i]->name, n);
		off += n;
	}
	backend_names[off] = '\0';
}

const char *
laps_backend_names(void)
{
	(void)pthread_once(&backend_names_once, backend_names_build);
	return backend_names;
}
