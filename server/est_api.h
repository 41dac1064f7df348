/*
 * est_api.h — EST (RFC 7030) routes of laps-escrowd (server/est_api.c).
 */
#ifndef LAPS_SERVER_EST_API_H
#define LAPS_SERVER_EST_API_H

#include <stdbool.h>

#include "server/api.h"

/* Is path under /.well-known/est/? */
bool est_path(const char *path);
/* Answer an EST request (resp zeroed by the caller). */
void est_handle(struct api *api, const struct api_request *req, struct api_response *resp);

#endif
