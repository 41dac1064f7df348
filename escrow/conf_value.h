/*
 * conf_value.h — what the parser (conf.c) takes from conf_value.c beyond
 * the public checks of conf.h.  Private to escrow/conf*.c.
 */
#ifndef LAPS_CONF_VALUE_H
#define LAPS_CONF_VALUE_H

#include <stddef.h>

/* "no", "yes", NULL: the values of a LAPS_CONF_YESNO key. */
extern const char *const laps_conf_yesno_names[];

/* Digits only (n of them), no sign, no overflow.  0 or LAPS_ERR_INVALID. */
int laps_conf_parse_digits(const char *s, size_t n, long long *out)
    __attribute__((warn_unused_result));

#endif
