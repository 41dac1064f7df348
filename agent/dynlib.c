/*
 * dynlib.c — load a library on first use (dynlib.h).
 */
#include "config.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <string.h>

#include "agent/dynlib.h"
#include "escrow/err.h"
#include "escrow/log.h"

/* dlsym() returns functions as void *: POSIX requires them to be the same size */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)), "function pointers fit a void *");

int
laps_dynlib_load(const char *soname, const struct laps_dynsym *syms, size_t n, const char *what,
		 unsigned flags)
{
	bool global = (flags & LAPS_DYNLIB_INTERPOSABLE) != 0;
	void *addr[16], *h;
	const char *e;
	size_t i;

	if (n == 0 || n > sizeof addr / sizeof addr[0])
		return laps_seterr(LAPS_ERR_INTERNAL, "%s: bad symbol count", soname);
	memcpy(&h, syms[0].slot, sizeof h);
	if (h != NULL)
		return 0; /* loaded before: every slot is set */
	/* the handle is never closed: the functions stay for the process */
	if ((h = dlopen(soname, RTLD_NOW | (global ? RTLD_GLOBAL : RTLD_LOCAL))) == NULL) {
		e = dlerror();
		return laps_seterr(LAPS_ERR_CONFIG, "%s needs %s: %s", what, soname,
				   e != NULL ? e : "cannot load it");
	}
	for (i = 0; i < n; i++) {
		(void)dlerror();
		/* the default version (crypt_r@@XCRYPT_2.0), as a link binds.
		 * RTLD_DEFAULT: the global scope, preloaded wrappers first.  Not
		 * dlvsym(): it refuses an unversioned definition (pam_wrapper's)
		 * where a linked reference accepts it. */
		if ((addr[i] = dlsym(global ? RTLD_DEFAULT : h, syms[i].name)) == NULL) {
			e = dlerror();
			return laps_seterr(LAPS_ERR_CONFIG, "%s needs %s from %s: %s", what,
					   syms[i].name, soname, e != NULL ? e : "not found");
		}
	}
	for (i = 0; i < n; i++)
		memcpy(syms[i].slot, &addr[i], sizeof addr[i]);
	log_debug("loaded %s for %s", soname, what);
	return 0;
}
