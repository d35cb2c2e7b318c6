/*
 * es_req.c - the error shape, query-string access and the body checks
 * every route shares (es_req.h).
 *
 * The query-string reader is written here instead of calling nginx's
 * ngx_http_arg() and ngx_unescape_uri() so that the fuzz targets reach
 * the very code the module runs. It is stricter than nginx's unescaping:
 * a broken escape or an encoded NUL is an error, never a value silently
 * cut short.
 */
#include "es_req.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "es_utf8.h"

int es_req_fail(es_req_err *err, int status, const char *code,
                const char *field, const char *fmt, ...)
{
    va_list ap;
    size_t n;

    err->status = status;
    err->code = code;
    err->position = -1;
    err->column = -1;

    err->field[0] = '\0';
    if (field != NULL) {
        n = es_utf8_cut(field, strlen(field), ES_REQ_FIELD_MAX);
        memcpy(err->field, field, n);
        err->field[n] = '\0';
    }

    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);

    /* a message cut inside a character stays valid UTF-8 */
    n = strlen(err->message);
    err->message[es_utf8_cut(err->message, n, n)] = '\0';

    return -1;
}

static int es_req_hex(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Decodes v[0..n) into out (size > max); ES_ARG_OK or ES_ARG_BAD. */
static int es_req_unescape(const char *v, size_t n, char *out, size_t max,
                           size_t *outlen)
{
    size_t i, o;
    int hi, lo;
    char c;

    o = 0;
    for (i = 0; i < n; i++) {
        c = v[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (n - i < 3 || (hi = es_req_hex((unsigned char)v[i + 1])) < 0 ||
                (lo = es_req_hex((unsigned char)v[i + 2])) < 0) {
                return ES_ARG_BAD;
            }
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0' || o == max) {
            return ES_ARG_BAD;
        }
        out[o++] = c;
    }

    out[o] = '\0';
    *outlen = o;

    return ES_ARG_OK;
}

int es_req_arg(const char *qs, size_t len, const char *name, char *out,
               size_t max, size_t *outlen)
{
    const char *p, *end, *amp, *eq;
    size_t nlen;

    nlen = strlen(name);
    p = qs;
    end = qs + len;

    while (p < end) {
        amp = memchr(p, '&', (size_t)(end - p));
        if (amp == NULL) {
            amp = end;
        }

        eq = memchr(p, '=', (size_t)(amp - p));
        if (eq != NULL && (size_t)(eq - p) == nlen &&
            strncasecmp(p, name, nlen) == 0) {
            return es_req_unescape(eq + 1, (size_t)(amp - eq - 1), out, max,
                                   outlen);
        }

        p = amp + 1;
    }

    return ES_ARG_ABSENT;
}

int es_req_json_type(const char *ct, size_t n)
{
    return n >= 16 && strncasecmp(ct, "application/json", 16) == 0 &&
           (n == 16 || ct[16] == ';' || ct[16] == ' ');
}

int es_req_body_parse(const char *text, size_t n, json_t **out, es_req_err *err)
{
    char text_ok[3 * JSON_ERROR_TEXT_LENGTH + 1];
    json_error_t jerr;
    json_t *body;

    *out = NULL;

    body = json_loadb(text, n, JSON_REJECT_DUPLICATES, &jerr);
    if (body == NULL) {
        if (json_error_code(&jerr) == json_error_out_of_memory) {
            return es_req_fail(err, 500, "internal", NULL, "out of memory");
        }
        /* jansson quotes the input near the error, which may cut a
         * character or be invalid UTF-8 itself: the answer is JSON */
        es_utf8_repair(jerr.text, strnlen(jerr.text, sizeof(jerr.text)),
                       text_ok, sizeof(text_ok));
        es_req_fail(err, 400, "invalid_json", NULL, "malformed JSON body: %s",
                    text_ok);
        err->position = (long)jerr.position;
        return -1;
    }

    if (!json_is_object(body)) {
        json_decref(body);
        return es_req_fail(err, 400, "invalid_json", NULL,
                           "the body must be a JSON object");
    }

    *out = body;
    return 0;
}

int es_req_members(json_t *body, const char *const *allowed, es_req_err *err)
{
    const char *key;
    json_t *value;
    size_t i;

    if (!json_is_object(body)) {
        return es_req_fail(err, 400, "invalid_json", NULL,
                           "the body must be a JSON object");
    }

    json_object_foreach(body, key, value)
    {
        for (i = 0; allowed[i] != NULL; i++) {
            if (strcmp(key, allowed[i]) == 0) {
                break;
            }
        }

        if (allowed[i] == NULL) {
            return es_req_fail(err, 422, "validation_failed", key,
                               "unknown member \"%.*s\"",
                               (int)es_utf8_cut(key, strlen(key), 64), key);
        }
    }

    return 0;
}

int es_req_json_int(json_t *v, json_int_t *out)
{
    double d;

    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 0;
    }

    if (json_is_real(v)) {
        d = json_real_value(v);
        if (d >= -9007199254740992.0 && d <= 9007199254740992.0 &&
            d == (double)(json_int_t)d) {
            *out = (json_int_t)d;
            return 0;
        }
    }

    return -1;
}

int es_req_id_valid(const char *s, size_t n)
{
    size_t i;
    char c;

    if (n == 0 || n > ES_REQ_ID_MAX) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-')) {
            return 0;
        }
    }

    return 1;
}

int es_req_body_id(json_t *body, const char *path_id, char *out,
                   es_req_err *err)
{
    const char *s;
    json_t *v;
    size_t n;

    v = json_object_get(body, "id"); /* borrowed */
    if (v == NULL) {
        s = path_id != NULL ? path_id : "";
        n = strlen(s);
        if (n > ES_REQ_ID_MAX) {
            return es_req_fail(err, 422, "validation_failed", "id",
                               "id must be 1 to 64 characters of A-Z, a-z, "
                               "0-9, '_' and '-'");
        }
        memcpy(out, s, n + 1);
        return 0;
    }

    s = json_string_value(v);
    n = json_string_length(v);
    if (s == NULL || !es_req_id_valid(s, n)) {
        return es_req_fail(err, 422, "validation_failed", "id",
                           "id must be 1 to 64 characters of A-Z, a-z, 0-9, "
                           "'_' and '-'");
    }

    if (path_id != NULL && strcmp(path_id, s) != 0) {
        return es_req_fail(err, 422, "validation_failed", "id",
                           "id differs from the path");
    }

    memcpy(out, s, n + 1);
    return 0;
}
