/*
 * json_secret.h — json-c for documents that hold secrets.
 *
 * json_object_put() frees strings without wiping them, and json-c's
 * tokenizer collects every string it reads in a printbuf that grows with
 * realloc() (leaving stale copies in freed memory) and is freed unwiped.
 * These helpers keep a password, token or client secret that passed
 * through json-c from surviving in freed memory.
 */
#ifndef LAPS_JSON_SECRET_H
#define LAPS_JSON_SECRET_H

#include <stddef.h>

#include <json-c/json.h>

/* Wipe every string in a json-c tree (keys are not secrets). NULL is fine. */
void laps_json_wipe(struct json_object *o);

/* laps_json_wipe, then json_object_put.  NULL is fine. */
void laps_json_free_secret(struct json_object *o);

/*
 * Parse exactly one JSON object from json[0..len) (trailing white space
 * allowed) with at most depth levels of nesting.  The tokenizer's buffer is
 * sized for the whole input before parsing so it never reallocates, and it
 * and any partial objects are wiped before being freed.  *out (free with
 * laps_json_free_secret) is set only on success.
 * Errors: LAPS_ERR_NOMEM; LAPS_ERR_TOOBIG (len > max); LAPS_ERR_FORMAT with
 * the detail "<what>: malformed JSON (...)", "<what>: trailing data after
 * the JSON" or "<what>: not a JSON object".
 */
int laps_json_parse_secret(const char *json, size_t len, size_t max, int depth, const char *what,
			   struct json_object **out) __attribute__((warn_unused_result));

#endif
