/*
 * store.c — store registry (by url scheme): store_open picks the
 * implementation, store_close closes it.  The helpers the implementations
 * share are in store_util.c, so that none of them calls back into this file.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "escrow/err.h"
#include "server/store.h"

static const struct store_ops *const stores[] = {
    &store_sqlite_ops,
#ifdef HAVE_LIBPQ
    &store_pg_ops,
#endif
    NULL,
};

int
store_open(const char *url, unsigned nconn, unsigned history_size, struct store **out)
{
	const struct store_ops *ops = NULL;
	struct store *s = NULL;
	size_t i, n;
	int rc;

	*out = NULL;
	for (i = 0; stores[i] != NULL; i++) {
		n = strlen(stores[i]->scheme);
		if (strncmp(url, stores[i]->scheme, n) == 0 && url[n] == ':') {
			ops = stores[i];
			break;
		}
	}
	if (ops == NULL)
		return laps_seterr(LAPS_ERR_CONFIG, "store: unsupported url scheme in '%.40s'",
				   url);
	if ((s = calloc(1, sizeof *s)) == NULL)
		return LAPS_ERR_NOMEM;
	s->ops = ops;
	if ((rc = ops->open(url + strlen(ops->scheme) + 1, nconn, history_size, &s->ctx)) != 0) {
		free(s);
		return rc;
	}
	*out = s; /* success */
	return 0;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	s->ops->close(s->ctx);
	free(s);
}
