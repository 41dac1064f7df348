/*
 * file_backend.h — the `file` escrow backend: records as files in a local directory
 * ([file] dir).  Same semantics as the network backends (compare-and-set,
 * history, expiry, find), no network.  For development, tests and demos.
 * On-disk layout: docs/FORMAT.md section 1.
 */
#ifndef LAPS_BACKEND_FILE_H
#define LAPS_BACKEND_FILE_H

#include "escrow/backend.h"

extern const struct laps_backend_ops laps_backend_file;

#endif
