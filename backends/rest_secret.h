/*
 * rest_secret.h — the REST backend's secret files (client secret, bearer
 * token, private key): read with owner and mode checks.  A leaf: used by
 * rest_auth.c and rest_keystore.c, using neither.
 */
#ifndef LAPS_BACKEND_REST_SECRET_H
#define LAPS_BACKEND_REST_SECRET_H

#include <stddef.h>

/* The flags a secret file is read and freed with: root-owned when we are
 * root (the agent), the user's own otherwise (laps-get); never readable by
 * group or others. */
unsigned rest_secret_flags(void);

/* A secret file (trailing white space dropped) into laps_secret memory
 * (free with laps_file_free(*out, *len, rest_secret_flags())), with the
 * owner and mode checks above; the detail names [rest] key. */
int rest_auth_read_secret(const char *path, const char *key, size_t max, char **out,
			  size_t *len) __attribute__((warn_unused_result));

#endif
