/*
 * ratelimit.h — token buckets per identity (docs/REST-API.md §8).
 *
 * A fixed table of buckets indexed by a keyed hash of the identity (random
 * key per process, so callers cannot aim collisions at someone else's
 * bucket); a colliding newcomer takes the slot over.  Thread-safe.
 */
#ifndef LAPS_SERVER_RATELIMIT_H
#define LAPS_SERVER_RATELIMIT_H

#include <stdint.h>

struct ratelimit;

/* rate tokens per second, at most burst; 0 or LAPS_ERR_NOMEM. */
int ratelimit_new(unsigned rate, unsigned burst, struct ratelimit **out)
    __attribute__((warn_unused_result));
void ratelimit_free(struct ratelimit *rl);
/* Take one token for key at now_ms; 0 when allowed, else the seconds
 * (>= 1) after which to retry. */
unsigned ratelimit_take(struct ratelimit *rl, const char *key, int64_t now_ms);

#endif
