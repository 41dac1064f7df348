/*
 * isotime.h — ISO 8601 timestamps (UTC) in and out.
 */
#ifndef LAPS_ISOTIME_H
#define LAPS_ISOTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LAPS_ISOTIME_MAX 64 /* longest input accepted */

/*
 * Parse an ISO 8601 date or date-time: YYYY-MM-DD or
 * YYYY-MM-DDTHH:MM[:SS[.frac]](Z|+HH:MM|-HH:MM).  need_time: a time and a
 * zone are required (timestamps from servers); otherwise a bare date means
 * midnight UTC.  LAPS_ERR_INVALID naming the text.
 */
int laps_isotime_parse(const char *s, bool need_time, int64_t *out)
    __attribute__((warn_unused_result));

/* "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes; "" on failure).  Returns buf. */
const char *laps_isotime_format(int64_t t, char *buf, size_t len);

#endif
