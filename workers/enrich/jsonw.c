/*
 * jsonw.c - JSON text appending (see jsonw.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es_utf8.h"
#include "jsonw.h"

void es_jsonw_raw(es_jsonw *w, const char *p, size_t n)
{
    if (w->oom) {
        return;
    }
    if (w->len + n + 1 > w->cap) {
        size_t nc = w->cap ? w->cap : 4096;
        char *nb;
        while (nc < w->len + n + 1) {
            nc *= 2;
        }
        nb = realloc(w->buf, nc);
        if (nb == NULL) {
            w->oom = 1;
            return;
        }
        w->buf = nb;
        w->cap = nc;
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

/* s is valid UTF-8: escape quotes, backslashes and control characters. */
static void str_valid(es_jsonw *w, const char *s, size_t n)
{
    size_t run = 0;

    es_jsonw_raw(w, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }
        es_jsonw_raw(w, s + run, i - run);
        switch (c) {
        case '"':
            snprintf(esc, sizeof(esc), "\\\"");
            break;
        case '\\':
            snprintf(esc, sizeof(esc), "\\\\");
            break;
        case '\n':
            snprintf(esc, sizeof(esc), "\\n");
            break;
        case '\r':
            snprintf(esc, sizeof(esc), "\\r");
            break;
        case '\t':
            snprintf(esc, sizeof(esc), "\\t");
            break;
        default:
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            break;
        }
        es_jsonw_raw(w, esc, strlen(esc));
        run = i + 1;
    }
    es_jsonw_raw(w, s + run, n - run);
    es_jsonw_raw(w, "\"", 1);
}

void es_jsonw_str(es_jsonw *w, const char *s, size_t n)
{
    char *fixed;
    size_t fl;

    if (es_utf8_valid(s, n)) {
        str_valid(w, s, n);
        return;
    }
    fixed = malloc(3 * n + 1);
    if (fixed == NULL) {
        w->oom = 1;
        return;
    }
    fl = es_utf8_repair(s, n, fixed, 3 * n + 1);
    if (fl == (size_t)-1) {
        w->oom = 1;
    } else {
        str_valid(w, fixed, fl);
    }
    free(fixed);
}

void es_jsonw_key(es_jsonw *w, const char *name)
{
    str_valid(w, name, strlen(name));
    es_jsonw_raw(w, ":", 1);
}

void es_jsonw_free(es_jsonw *w)
{
    free(w->buf);
    memset(w, 0, sizeof(*w));
}
