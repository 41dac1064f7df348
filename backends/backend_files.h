/*
 * backend_files.h — the files a backend's section names (check-config).
 */
#ifndef LAPS_BACKENDS_BACKEND_FILES_H
#define LAPS_BACKENDS_BACKEND_FILES_H

#include "escrow/conf.h"

/* Called once per refused file: what is "[ldap] ca_file", rc its error. */
typedef void (*laps_backend_file_cb)(void *arg, const char *what, int rc);

/*
 * Every file the configured backend ([escrow] backend) names opens as this
 * user (exists, readable); secret files (keys, bind and client secrets,
 * bearer tokens) pass the owner/mode checks of escrow/fileio; certificate
 * and CA files hold a PEM certificate.  cb is called for each refused
 * file; 0 or the first error.  (Not here: parsing the certificates,
 * matching a certificate with its key, a CA file holding a CA: the rest
 * module checks the pair when it opens, before any request.)
 */
int laps_backend_check_files(const struct laps_conf *cfg, laps_backend_file_cb cb, void *arg)
    __attribute__((warn_unused_result));

#endif
