/*
 * ratelimit.c — token buckets per identity.
 */
#include "config.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/err.h"
#include "server/ratelimit.h"

#define SLOTS 4096

struct bucket {
	uint8_t id[16]; /* keyed hash of the key */
	double tokens;
	int64_t last_ms;
};

struct ratelimit {
	pthread_mutex_t mu;
	double rate, burst;
	uint8_t hkey[crypto_generichash_KEYBYTES];
	struct bucket b[SLOTS];
};

int
ratelimit_new(unsigned rate, unsigned burst, struct ratelimit **out)
{
	struct ratelimit *rl;

	*out = NULL;
	if (sodium_init() < 0 || (rl = calloc(1, sizeof *rl)) == NULL)
		return LAPS_ERR_NOMEM;
	pthread_mutex_init(&rl->mu, NULL);
	rl->rate = rate > 0 ? rate : 1;
	rl->burst = burst >= rate ? burst : rate;
	randombytes_buf(rl->hkey, sizeof rl->hkey);
	*out = rl;
	return 0;
}

void
ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	pthread_mutex_destroy(&rl->mu);
	free(rl);
}

unsigned
ratelimit_take(struct ratelimit *rl, const char *key, int64_t now_ms)
{
	uint8_t h[16];
	struct bucket *b;
	double wait;
	unsigned slot, retry = 0;

	crypto_generichash(h, sizeof h, (const uint8_t *)key, strlen(key), rl->hkey,
			   sizeof rl->hkey);
	slot = ((unsigned)h[0] | (unsigned)h[1] << 8) % SLOTS;
	pthread_mutex_lock(&rl->mu);
	b = &rl->b[slot];
	if (memcmp(b->id, h, sizeof h) != 0) {
		memcpy(b->id, h, sizeof h);
		b->tokens = rl->burst;
		b->last_ms = now_ms;
	}
	if (now_ms > b->last_ms) {
		b->tokens += (double)(now_ms - b->last_ms) * rl->rate / 1000.0;
		if (b->tokens > rl->burst)
			b->tokens = rl->burst;
		b->last_ms = now_ms;
	}
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
	} else {
		wait = (1.0 - b->tokens) / rl->rate;
		retry = (unsigned)wait + 1;
	}
	pthread_mutex_unlock(&rl->mu);
	return retry;
}
