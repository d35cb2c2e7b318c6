/*
 * es_req_email.c - the e-mail address check (es_req_email.h).
 *
 * One pass copies and lower-cases while it checks the characters, so out
 * is written only within the n <= ES_REQ_EMAIL_MAX bytes checked first;
 * a second pass over the copy checks the domain's labels.
 */
#include "es_req_email.h"

#include <string.h>

size_t es_req_email_normalize(const char *s, size_t n, char *out)
{
    size_t i, at, label;
    unsigned char c;

    if (n < 3 || n > ES_REQ_EMAIL_MAX) {
        return 0;
    }

    at = n;
    for (i = 0; i < n; i++) {
        c = (unsigned char)s[i];
        /* c > 0x20 first: strchr would find the terminator of a NUL */
        if (c <= 0x20 || c == 0x7f || strchr("\"(),:;<>[\\]/", c) != NULL) {
            return 0;
        }
        if (c == '@') {
            if (at != n) {
                return 0;
            }
            at = i;
        }
        out[i] = (char)((c >= 'A' && c <= 'Z') ? (c | 0x20) : c);
    }
    out[n] = '\0';

    if (at == 0 || at > 64 || at + 1 >= n) {
        return 0;
    }

    label = 0;
    for (i = at + 1; i < n; i++) {
        c = (unsigned char)out[i];
        if (c == '.') {
            if (label == 0 || out[i - 1] == '-') {
                return 0;
            }
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              (c == '-' && label > 0)) ||
            ++label > 63) {
            return 0;
        }
    }

    if (label == 0 || out[n - 1] == '-') {
        return 0;
    }

    return n;
}
