/*
 * notify.c — webhook notifications (notify.h): a bounded queue and one
 * sender thread posting with libcurl.
 */
#include "config.h"

#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "escrow/err.h"
#include "escrow/fileio.h"
#include "escrow/events.h"
#include "escrow/log.h"
#include "escrow/secret.h"
#include "server/notify.h"

#define KEY_MIN 16
#define KEY_MAX 4096
#define BACKOFF_MAX_S 60

/* clang-format off */
#define S struct laps_notify_conf
static const struct laps_conf_key notify_keys[] = {
    LAPS_CONF_KEY_STR("webhook", LAPS_CONF_URL, S, webhook, NULL),
    LAPS_CONF_KEY_STR("secret_file", LAPS_CONF_PATH, S, secret_file, NULL),
    LAPS_CONF_KEY_STR("ca_file", LAPS_CONF_PATH, S, ca_file, NULL),
    LAPS_CONF_KEY_UINT("queue", S, queue, 1, 100000),
    LAPS_CONF_KEY_UINT("retries", S, retries, 0, 20),
    LAPS_CONF_KEY_DURATION("timeout", S, timeout, 1, 60),
};
#undef S
/* clang-format on */

static int
notify_defaults(void *p)
{
	struct laps_notify_conf *n = p;

	n->queue = 1000;
	n->retries = 5;
	n->timeout = 5;
	return 0;
}

const struct laps_conf_section laps_notify_section = {
    "notify", notify_keys, sizeof notify_keys / sizeof notify_keys[0],
    sizeof(struct laps_notify_conf), notify_defaults};

int
notify_conf_validate(const struct laps_conf *c)
{
	const struct laps_notify_conf *n = laps_notify_conf(c);

	if (n == NULL || (n->webhook == NULL && n->secret_file == NULL))
		return 0;
	if (n->webhook == NULL)
		return laps_conf_err(c, "notify", "secret_file", "needs [notify] webhook");
	if (n->secret_file == NULL)
		return laps_conf_err(c, "notify", "webhook",
				     "needs [notify] secret_file (the HMAC key)");
	return 0;
}

/* ------------------------------------------------------------------ */
/* The queue                                                           */

struct event {
	char *body; /* JSON (no secret) */
	char name[32];
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	bool running, stopping;
	struct event *q;
	size_t cap, head, n;
	char *url, *ca_file;
	unsigned char *key;
	size_t key_len;
	unsigned retries;
	long timeout_s;
	int64_t deadline_ms; /* stop: give up sending after this */
	unsigned long long seq;
} nq = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

static unsigned long long m_sent, m_failed, m_dropped, m_retried;
#define ADD(x) __atomic_add_fetch(&(x), 1, __ATOMIC_RELAXED)
#define GET(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The notified actions and their event names. */
static const char *
event_name(const struct store_audit *a)
{
	static const char *const names[][2] = {
	    {"read_secret", "secret_read"},	      {"read_history", "secret_read"},
	    {"break_glass_read", "break_glass_read"}, {"approval_request", "approval_requested"},
	    {"approval_approve", "approval_decided"}, {"approval_deny", "approval_decided"},
	};
	size_t i;

	if (strcmp(a->outcome, "allowed") != 0)
		return NULL;
	if (strcmp(a->action, "expire") == 0)
		return a->detail != NULL && strcmp(a->detail, "bulk expiry") == 0 ? "bulk_expiry"
										  : NULL;
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(a->action, names[i][0]) == 0)
			return names[i][1];
	return NULL;
}

static char *
event_body(const char *name, const struct store_audit *a, unsigned long long id)
{
	json_object *o = json_object_new_object();
	char *out = NULL;

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "event", json_object_new_string(name));
	json_object_object_add(o, "id", json_object_new_int64((int64_t)id));
	json_object_object_add(o, "time", json_object_new_int64(a->time));
	json_object_object_add(o, "action", json_object_new_string(a->action));
	json_object_object_add(o, "actor", json_object_new_string(a->actor));
	json_object_object_add(o, "device", a->device ? json_object_new_string(a->device) : NULL);
	json_object_object_add(o, "account",
			       a->account ? json_object_new_string(a->account) : NULL);
	json_object_object_add(o, "detail", a->detail ? json_object_new_string(a->detail) : NULL);
	json_object_object_add(o, "peer", a->peer ? json_object_new_string(a->peer) : NULL);
	out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return out;
}

void
notify_audit(const struct store_audit *a)
{
	const char *name;
	struct event *e;
	char *body;

	if (!nq.running || (name = event_name(a)) == NULL)
		return;
	pthread_mutex_lock(&nq.mu);
	if (nq.stopping || nq.n == nq.cap) {
		pthread_mutex_unlock(&nq.mu);
		ADD(m_dropped);
		log_event(LAPS_EV_WEBHOOK_DROPPED, "webhook queue full: %s event about %s dropped",
			  name, a->device != NULL ? a->device : "-");
		return;
	}
	body = event_body(name, a, ++nq.seq);
	if (body == NULL) {
		pthread_mutex_unlock(&nq.mu);
		ADD(m_dropped);
		return;
	}
	e = &nq.q[(nq.head + nq.n) % nq.cap];
	e->body = body;
	snprintf(e->name, sizeof e->name, "%s", name);
	nq.n++;
	pthread_cond_signal(&nq.cv);
	pthread_mutex_unlock(&nq.mu);
}

/* ------------------------------------------------------------------ */
/* The sender                                                          */

static size_t
discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p, (void)ctx;
	return size * n;
}

/* One attempt: 0 on a 2xx answer. */
static int
post_once(CURL *c, const struct event *e, long *status)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char hex[2 * sizeof mac + 1], sig[sizeof hex + 40], ev[64];
	struct curl_slist *h = NULL;
	crypto_auth_hmacsha256_state st;
	CURLcode cc;

	crypto_auth_hmacsha256_init(&st, nq.key, nq.key_len);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)e->body, strlen(e->body));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
	snprintf(sig, sizeof sig, "X-Laps-Signature: sha256=%s", hex);
	snprintf(ev, sizeof ev, "X-Laps-Event: %s", e->name);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, sig);
	h = curl_slist_append(h, ev);
	h = curl_slist_append(h, "Expect:");
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, nq.url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, nq.timeout_s);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, nq.timeout_s);
	if (nq.ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, nq.ca_file);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, e->body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	cc = curl_easy_perform(c);
	*status = 0;
	if (cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(h);
	sodium_memzero(&st, sizeof st);
	return cc == CURLE_OK && *status >= 200 && *status < 300 ? 0 : -1;
}

/* Sleep ms unless stopping past the deadline; false to give up. */
static bool
backoff(int64_t ms)
{
	struct timespec ts;
	int64_t until = now_ms() + ms;
	bool go = true;

	pthread_mutex_lock(&nq.mu);
	while (now_ms() < until && !(nq.stopping && now_ms() >= nq.deadline_ms)) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&nq.cv, &nq.mu, &ts);
	}
	if (nq.stopping && now_ms() >= nq.deadline_ms)
		go = false;
	pthread_mutex_unlock(&nq.mu);
	return go;
}

static void
deliver(CURL *c, struct event *e)
{
	unsigned attempt;
	int64_t wait_ms = 1000;
	long status = 0;

	for (attempt = 0;; attempt++) {
		if (post_once(c, e, &status) == 0) {
			ADD(m_sent);
			return;
		}
		if (attempt == nq.retries || !backoff(wait_ms))
			break;
		ADD(m_retried);
		wait_ms = wait_ms * 2 > BACKOFF_MAX_S * 1000 ? BACKOFF_MAX_S * 1000 : wait_ms * 2;
	}
	ADD(m_failed);
	log_event(LAPS_EV_WEBHOOK_FAILED,
		  "webhook: %s event not delivered after %u attempt(s) (last status %ld)", e->name,
		  attempt + 1, status);
}

static void *
sender(void *arg)
{
	CURL *c = curl_easy_init();
	struct event e;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&nq.mu);
		while (nq.n == 0 && !nq.stopping)
			pthread_cond_wait(&nq.cv, &nq.mu);
		if (nq.n == 0 || (nq.stopping && now_ms() >= nq.deadline_ms)) {
			pthread_mutex_unlock(&nq.mu);
			break;
		}
		e = nq.q[nq.head];
		nq.head = (nq.head + 1) % nq.cap;
		nq.n--;
		pthread_mutex_unlock(&nq.mu);
		if (c != NULL)
			deliver(c, &e);
		else
			ADD(m_failed);
		free(e.body);
	}
	curl_easy_cleanup(c);
	return NULL;
}

int
notify_start(const struct laps_conf *c)
{
	const struct laps_notify_conf *n = laps_notify_conf(c);
	char *key = NULL;
	size_t len = 0;
	int rc;

	if (n == NULL || n->webhook == NULL)
		return 0;
	if ((rc = laps_file_read(n->secret_file, KEY_MAX, LAPS_FILE_SECRET | LAPS_FILE_OWNER_ROOT,
				 &key, &len)) != 0)
		return laps_seterr_prefix(rc, "[notify] secret_file");
	while (len > 0 && (key[len - 1] == '\n' || key[len - 1] == '\r'))
		len--;
	if (len < KEY_MIN) {
		laps_file_free(key, len, LAPS_FILE_SECRET);
		return laps_seterr(LAPS_ERR_CONFIG, "[notify] secret_file: the key has fewer than "
						    "16 bytes");
	}
	nq.key = (unsigned char *)key;
	nq.key_len = len;
	nq.cap = n->queue;
	nq.retries = n->retries;
	nq.timeout_s = (long)n->timeout;
	if ((nq.q = calloc(nq.cap, sizeof *nq.q)) == NULL ||
	    (nq.url = strdup(n->webhook)) == NULL ||
	    (n->ca_file != NULL && (nq.ca_file = strdup(n->ca_file)) == NULL) ||
	    pthread_create(&nq.thread, NULL, sender, NULL) != 0) {
		notify_stop(0);
		return LAPS_ERR_NOMEM;
	}
	nq.running = true;
	return 0;
}

void
notify_stop(int64_t grace_ms)
{
	size_t i;

	if (nq.running) {
		pthread_mutex_lock(&nq.mu);
		nq.stopping = true;
		nq.deadline_ms = now_ms() + grace_ms;
		pthread_cond_broadcast(&nq.cv);
		pthread_mutex_unlock(&nq.mu);
		pthread_join(nq.thread, NULL);
		nq.running = false;
	}
	for (i = 0; i < nq.n; i++) {
		free(nq.q[(nq.head + i) % nq.cap].body);
		ADD(m_dropped);
	}
	nq.n = 0;
	free(nq.q);
	nq.q = NULL;
	free(nq.url);
	free(nq.ca_file);
	nq.url = nq.ca_file = NULL;
	if (nq.key != NULL)
		laps_file_free((char *)nq.key, nq.key_len, LAPS_FILE_SECRET);
	nq.key = NULL;
}

int
notify_check(const struct laps_conf *c)
{
	const struct laps_notify_conf *n = laps_notify_conf(c);
	char *key = NULL;
	size_t len = 0;
	int rc;

	if (n == NULL || n->webhook == NULL)
		return 0;
	if ((rc = laps_file_read(n->secret_file, KEY_MAX, LAPS_FILE_SECRET | LAPS_FILE_OWNER_ROOT,
				 &key, &len)) != 0)
		return laps_seterr_prefix(rc, "[notify] secret_file");
	laps_file_free(key, len, LAPS_FILE_SECRET);
	return 0;
}

void
notify_describe(const struct laps_conf *c, FILE *f)
{
	const struct laps_notify_conf *n = laps_notify_conf(c);

	if (n == NULL || n->webhook == NULL) {
		fprintf(f, "notify: webhook off\n");
		return;
	}
	fprintf(f, "notify: webhook %s (key %s, queue %u, retries %u, timeout %llds)\n", n->webhook,
		n->secret_file, n->queue, n->retries, (long long)n->timeout);
}

void
notify_metrics(char *buf, size_t len)
{
	snprintf(buf, len,
		 "# HELP laps_escrowd_webhook_deliveries_total Webhook notifications by outcome "
		 "(failed: every attempt failed; dropped: the queue was full).\n"
		 "# TYPE laps_escrowd_webhook_deliveries_total counter\n"
		 "laps_escrowd_webhook_deliveries_total{outcome=\"sent\"} %llu\n"
		 "laps_escrowd_webhook_deliveries_total{outcome=\"failed\"} %llu\n"
		 "laps_escrowd_webhook_deliveries_total{outcome=\"dropped\"} %llu\n"
		 "# HELP laps_escrowd_webhook_retries_total Webhook attempts repeated after a "
		 "failure.\n"
		 "# TYPE laps_escrowd_webhook_retries_total counter\n"
		 "laps_escrowd_webhook_retries_total %llu\n",
		 GET(m_sent), GET(m_failed), GET(m_dropped), GET(m_retried));
}
