/*
 * tlsfiles.h — laps-escrowd check-config: the files a start opens.
 */
#ifndef LAPS_SERVER_TLSFILES_H
#define LAPS_SERVER_TLSFILES_H

#include "escrow/conf.h"

/* Called once per refused file with its error (the detail names the key
 * and the file). */
typedef void (*escrowd_check_cb)(void *arg, int rc);

/*
 * As the running user: [server] cert_file holds a certificate, key_file
 * its key (owned by root or this user, no group/other access) and they
 * match; [server] client_ca and [oidc] ca_file hold at least one CA
 * certificate; a sqlite: store's folder exists and is writable.
 * 0 or the first error (LAPS_ERR_CONFIG, LAPS_ERR_PERM, LAPS_ERR_NOTFOUND...).
 */
int escrowd_check_files(const struct laps_conf *cfg, escrowd_check_cb cb, void *arg)
    __attribute__((warn_unused_result));

#endif
