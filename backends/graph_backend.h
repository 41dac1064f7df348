/*
 * graph_backend.h — the `graph` backend: Windows LAPS passwords backed up to
 * Microsoft Entra ID, read through Microsoft Graph ([graph] in laps.conf).
 * Read-only: it has read and history, no write, confirm or set_expiry.
 *
 *   POST token_url   grant_type=client_credentials (client id + secret in the form)
 *   GET  {url}/directory/deviceLocalCredentials?$filter=deviceName eq '<name>'
 *   GET  {url}/directory/deviceLocalCredentials/{id}?$select=credentials
 */
#ifndef LAPS_BACKEND_GRAPH_H
#define LAPS_BACKEND_GRAPH_H

#include <stddef.h>

#include "escrow/backend.h"

extern const struct laps_backend_ops laps_backend_graph;

/* Exposed for the unit tests and the fuzz target. */

/* Decode passwordBase64: UTF-8, or UTF-16LE when every odd byte is zero.
 * *out is laps_secret memory. */
int laps_graph_decode_password(const char *b64, char **out) __attribute__((warn_unused_result));
/* Escape a device name for an OData string literal and percent-encode the
 * whole $filter value into buf. */
int laps_graph_filter_query(const char *device, char *buf, size_t len)
    __attribute__((warn_unused_result));
/* Parse the $filter response: the one device id (LAPS_ERR_NOTFOUND /
 * LAPS_ERR_AMBIGUOUS / LAPS_ERR_FORMAT). */
int laps_graph_parse_lookup(const char *json, size_t len, char *id, size_t idlen, char *name,
			    size_t namelen) __attribute__((warn_unused_result));
/*
 * Parse the credentials response (wrapped in "value" or flat): every
 * credential of account (NULL = any), newest first, as records with the
 * clear-text password (laps_secret memory), state confirmed, expires_at =
 * refreshDateTime for the newest and the next one's backup time for the
 * others, device = the response's deviceName or "".  An older credential
 * whose password does not decode keeps password NULL; the newest one's
 * failure is returned.  LAPS_ERR_NOTFOUND (no credential of account),
 * LAPS_ERR_FORMAT.  out is emptied first; free with laps_record_list_free.
 */
int laps_graph_parse_credentials(const char *json, size_t len, const char *account,
				 struct laps_record_list *out) __attribute__((warn_unused_result));

#endif
