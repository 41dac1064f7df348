/*
 * device_api.h — enrolled devices (server/device_api.c): list, disable,
 * enable, allow re-enrollment (/v1/enrolled-devices, docs/REST-API.md
 * §11.2), and the refusal of a disabled device on every request.
 */
#ifndef LAPS_SERVER_DEVICE_API_H
#define LAPS_SERVER_DEVICE_API_H

#include <stdbool.h>

#include "server/api.h"

bool device_path(const char *path);
void device_handle(struct api *api, const struct api_request *req, struct api_response *resp);
/* A device identity whose enrollment is disabled in the store: answered
 * 403 (audited) and -1; 0 to go on (enabled, never enrolled, or not a
 * device).  The store is asked on every request: every instance sees a
 * disable at once. */
int device_gate(struct api *api, const struct api_request *req, struct api_response *resp);

#endif
