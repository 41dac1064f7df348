/*
 * console.h — the admin web console's static files under /console/
 * (docs/CONSOLE.md): loaded once at start from [console] dir, served by
 * http.c with strict security headers, before any authentication (the
 * files are public code; every datum comes from /v1 with a bearer token).
 */
#ifndef LAPS_SERVER_CONSOLE_H
#define LAPS_SERVER_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

#include "escrow/conf.h"

#define CONSOLE_MAX_FILES 64
#define CONSOLE_FILE_MAX (8u * 1024 * 1024)
#define CONSOLE_TOTAL_MAX (32u * 1024 * 1024)

struct console;

/* A console answer: status, body (owned by the console, valid while it
 * lives), content type, Location for a redirect, Allow for a 405. */
struct console_answer {
	unsigned status;
	const char *body;
	size_t len;
	const char *content_type;
	const char *location;
	const char *allow;
};

/* Load [console] dir (when [console] enable = yes; *out NULL otherwise).
 * 0, or an error naming the file (unreadable, too large, too many). */
int console_load(const struct laps_conf *cfg, struct console **out)
    __attribute__((warn_unused_result));
void console_free(struct console *c);
/* Whether the path is the console's ("/console" or under "/console/"). */
bool console_path(const char *path);
/* The answer for method and path (a console path). */
void console_answer(const struct console *c, const char *method, const char *path,
		    struct console_answer *a);
/* The header lines every console answer carries: NULL-terminated pairs. */
const char *const *console_headers(const struct console *c);

#endif
