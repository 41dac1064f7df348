/*
 * rest_backend.h — the REST escrow backend (laps-escrowd, docs/REST-API.md).
 * Configuration: [rest] in laps.conf(5); transport in rest_http.h,
 * authentication in rest_auth.h, answer parsing in rest_json.h.
 */
#ifndef LAPS_BACKEND_REST_H
#define LAPS_BACKEND_REST_H

#include "escrow/backend.h"

extern const struct laps_backend_ops laps_backend_rest;

#endif
