/*
 * dynlib.h — a library the agent loads only when a run needs it.
 *
 * libpam (with libaudit and libcap-ng) is needed only by `method = pam`,
 * libcrypt only when `method = shadow` hashes a new password; a run with
 * nothing due needs neither, and every library mapped costs start-up time
 * and resident pages (bench/README.md, issue 10).  Loading them here binds
 * the same functions (their default symbol versions) as linking would; for
 * libpam through the global scope, so an LD_PRELOADed wrapper (pam_wrapper
 * in the tests) interposes exactly as it does on a linked library.  docs/AGENT.md says
 * which library each method loads.
 */
#ifndef LAPS_DYNLIB_H
#define LAPS_DYNLIB_H

#include <stddef.h>

/* One function: its name and where its address goes (a pointer to a
 * function pointer declared with the library header's own prototype,
 * e.g. `static __typeof__(crypt_r) *fn_crypt_r;`). */
struct laps_dynsym {
	const char *name;
	void *slot;
};

/* Look the functions up in the global scope, so that an LD_PRELOADed
 * wrapper interposes as it would on a linked library (libpam: pam_wrapper in
 * the tests).  Without it they come from the library itself (libcrypt: a
 * sanitizer's crypt_r interceptor, set up at start-up when no libcrypt was
 * loaded, would call a null pointer). */
#define LAPS_DYNLIB_INTERPOSABLE 0x1

/*
 * dlopen(soname, RTLD_NOW, RTLD_GLOBAL with LAPS_DYNLIB_INTERPOSABLE), then
 * resolve every symbol (its default version) into its slot; nothing to do
 * when the first slot is already set (slots start NULL).  LAPS_ERR_CONFIG naming what
 * (the setting that needs the library) and dlerror()'s reason when the
 * library or a symbol is missing; no slot is written then.
 */
int laps_dynlib_load(const char *soname, const struct laps_dynsym *syms, size_t n, const char *what,
		     unsigned flags) __attribute__((warn_unused_result));

#endif
