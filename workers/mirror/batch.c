/*
 * batch.c - message bodies from stream entries and batch sizing (see
 * batch.h).
 *
 * Values are repaired into private copies first; the JSON object is then
 * rebuilt from those copies while the longest one is shortened, because
 * JSON escaping makes the encoded size only predictable from below (each
 * raw byte encodes to at least one byte): cutting k raw bytes shrinks the
 * JSON by at least k, so one cut normally suffices.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "batch.h"
#include "es_utf8.h"

#define ES_MIRROR_MAX_CUTS 64

typedef struct {
    char *s;
    size_t n;
} val;

/* Replaces U+FFFE and U+FFFF (EF BF BE/BF) by U+FFFD in place. */
static void strip_nonchars(char *s, size_t n)
{
    for (size_t i = 0; i + 2 < n; i++) {
        unsigned char a = (unsigned char)s[i];
        unsigned char b = (unsigned char)s[i + 1];
        unsigned char c = (unsigned char)s[i + 2];
        if (a == 0xEF && b == 0xBF && (c == 0xBE || c == 0xBF)) {
            s[i + 2] = (char)0xBD;
        }
    }
}

/* A repaired copy of s[0..n) (new, caller frees), or NULL. */
static char *repaired(const char *s, size_t n, size_t *out_n)
{
    size_t cap = 3 * n + 1;
    char *out = malloc(cap);

    if (out == NULL) {
        return NULL;
    }
    *out_n = es_utf8_repair(s, n, out, cap);
    if (*out_n == (size_t)-1) {
        free(out);
        return NULL;
    }
    strip_nonchars(out, *out_n);
    return out;
}

/* Dumps the object of names/values; new string or NULL. */
static char *dump(const char *stream_id, val *names, val *vals, size_t nv,
                  int truncated, size_t *len)
{
    json_t *o = json_object(); /* new */
    char *text = NULL;

    if (o == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < nv; i++) {
        json_t *v = json_stringn(vals[i].s, vals[i].n);
        char *k = strndup(names[i].s, names[i].n);
        if (v == NULL || k == NULL ||
            json_object_set_new(o, k, v) != 0) { /* steals v */
            free(k);
            goto cleanup;
        }
        free(k);
    }
    if (json_object_set_new(o, "stream_id", json_string(stream_id)) != 0) {
        goto cleanup;
    }
    if (truncated && json_object_set_new(o, "truncated", json_true()) != 0) {
        goto cleanup;
    }
    text = json_dumps(o, JSON_COMPACT);
    if (text) {
        *len = strlen(text);
    }

cleanup:
    json_decref(o);
    return text;
}

char *es_mirror_body(const char *stream_id, const char *const *fv,
                     const size_t *fvlen, size_t nfv, size_t max_bytes,
                     size_t *len, int *truncated)
{
    size_t nv = nfv / 2;
    val *names = calloc(nv ? nv : 1, sizeof(*names));
    val *vals = calloc(nv ? nv : 1, sizeof(*vals));
    char *text = NULL;

    *truncated = 0;
    if (names == NULL || vals == NULL) {
        goto cleanup;
    }
    for (size_t i = 0; i < nv; i++) {
        names[i].s = repaired(fv[2 * i], fvlen[2 * i], &names[i].n);
        vals[i].s = repaired(fv[2 * i + 1], fvlen[2 * i + 1], &vals[i].n);
        if (names[i].s == NULL || vals[i].s == NULL) {
            goto cleanup;
        }
        /* a NUL in a name would cut the key short: it was repaired away */
    }
    text = dump(stream_id, names, vals, nv, 0, len);
    for (int cut = 0; text && *len > max_bytes; cut++) {
        size_t longest = 0, over, keep;

        free(text);
        text = NULL;
        *truncated = 1;
        if (cut == ES_MIRROR_MAX_CUTS) {
            goto cleanup;
        }
        /* measure with the marker in place, then cut the longest value */
        text = dump(stream_id, names, vals, nv, 1, len);
        if (text == NULL || *len <= max_bytes) {
            break;
        }
        for (size_t i = 1; i < nv; i++) {
            if (vals[i].n > vals[longest].n) {
                longest = i;
            }
        }
        if (nv == 0 || vals[longest].n == 0) {
            free(text);
            text = NULL;
            goto cleanup;
        }
        over = *len - max_bytes;
        keep = vals[longest].n > over ? vals[longest].n - over : 0;
        vals[longest].n = es_utf8_cut(vals[longest].s, vals[longest].n, keep);
        free(text);
        text = dump(stream_id, names, vals, nv, 1, len);
    }

cleanup:
    for (size_t i = 0; names && vals && i < nv; i++) {
        free(names[i].s);
        free(vals[i].s);
    }
    free(names);
    free(vals);
    return text;
}

size_t es_mirror_batch_take(const es_mirror_msg *msgs, size_t n,
                            size_t max_bytes)
{
    size_t k = 0, total = 0;

    while (k < n && k < ES_SQS_MAX_ENTRIES) {
        if (k > 0 && total + msgs[k].body_len > max_bytes) {
            break;
        }
        total += msgs[k].body_len;
        k++;
    }
    return k;
}

void es_mirror_msg_free(es_mirror_msg *m)
{
    free(m->body);
    memset(m, 0, sizeof(*m));
}
