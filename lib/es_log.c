/*
 * es_log.c - structured log lines (see es_log.h).
 *
 * The formatter writes into a fixed stack buffer: a logger that can fail to
 * allocate is a logger that goes quiet exactly when things break. Strings are
 * escaped for JSON in both formats (a logfmt quoted value takes the same
 * escapes), and invalid UTF-8 is replaced by U+FFFD so a hostile comment
 * body can never corrupt a log line or a log shipper's parser. Where lines
 * go (stderr or log.file) is es_log_out.c's concern.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "es_log.h"
#include "es_log_out.h"
#include "es_utf8.h"

#define ES_LOG_LINE_MAX   4096
#define ES_LOG_FIELDS_MAX 32

/*
 * Set at start and again by a reload (SIGHUP) from the main thread while
 * other threads may be logging: each is one word, read once per line, so a
 * line is written wholly in the old or wholly in the new setting.
 */
static char es_log_component[32] = "echostream";
static volatile es_log_format es_log_fmt = ES_LOG_TEXT;
static volatile es_level es_log_min = ES_INFO;

static const char *es_level_names[] = {"debug", "info", "warn", "error"};

/* syslog priorities (sd-daemon.h's SD_DEBUG ... SD_ERR) */
static const char *es_level_prio[] = {"<7>", "<6>", "<4>", "<3>"};

void es_log_init(const char *component, es_log_format format, es_level min)
{
    snprintf(es_log_component, sizeof(es_log_component), "%s", component);
    es_log_fmt = format;
    es_log_min = min;
}

int es_log_parse_format(const char *s, es_log_format *out)
{
    if (strcmp(s, "text") == 0) {
        *out = ES_LOG_TEXT;
        return 0;
    }
    if (strcmp(s, "json") == 0) {
        *out = ES_LOG_JSON;
        return 0;
    }
    if (strcmp(s, "journal") == 0) {
        *out = ES_LOG_JOURNAL;
        return 0;
    }
    return -1;
}

int es_log_parse_level(const char *s, es_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, es_level_names[i]) == 0) {
            *out = (es_level)i;
            return 0;
        }
    }
    return -1;
}

typedef struct {
    char *buf;
    size_t size;
    size_t len;
    size_t value_max; /* bytes of one string value kept; 0 = no limit */
    int cut;          /* set when anything did not fit */
} es_out;

static void out_raw(es_out *o, const char *s, size_t n)
{
    /* keep one byte for the newline and one for the NUL */
    if (o->len + n + 2 > o->size) {
        n = o->size > o->len + 2 ? o->size - o->len - 2 : 0;
        o->cut = 1;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void out_str(es_out *o, const char *s)
{
    out_raw(o, s, strlen(s));
}

/*
 * Appends s escaped as the inside of a JSON string. Control characters become
 * \u00XX, invalid UTF-8 becomes U+FFFD; a value cut by the buffer end is cut
 * before a whole character, never inside one.
 */
static void out_escaped(es_out *o, const char *s)
{
    size_t n = strlen(s);

    if (o->value_max && n > o->value_max) {
        /* cut before a whole character so no U+FFFD is made up */
        n = es_utf8_cut(s, n, o->value_max);
    }
    size_t i = 0;
    char tmp[8];

    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t room = o->size - o->len;

        if (room < 10) {
            o->cut = 1;
            return;
        }
        if (c == '"' || c == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)c;
            out_raw(o, tmp, 2);
            i++;
        } else if (c == '\n') {
            out_raw(o, "\\n", 2);
            i++;
        } else if (c == '\t') {
            out_raw(o, "\\t", 2);
            i++;
        } else if (c == '\r') {
            out_raw(o, "\\r", 2);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(tmp, sizeof(tmp), "\\u%04x", c);
            out_raw(o, tmp, 6);
            i++;
        } else if (c < 0x80) {
            out_raw(o, (const char *)&s[i], 1);
            i++;
        } else {
            size_t len = es_utf8_char_len((const unsigned char *)s + i, n - i);
            if (len == 0) {
                out_raw(o, "\xef\xbf\xbd", 3);
                i++;
            } else {
                out_raw(o, s + i, len);
                i += len;
            }
        }
    }
}

/*
 * logfmt: a value is bare unless empty or holding a byte a reader would
 * split or misread on (space, '=', '"', a control byte); backslashes and
 * non-ASCII are quoted too, so a bare value is always plain ASCII and
 * every escape sits inside quotes.
 */
static int needs_quotes(const char *s)
{
    if (*s == '\0') {
        return 1;
    }
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f) {
            return 1;
        }
    }
    return 0;
}

/* A text string value: bare when safe, else quoted and escaped. */
static void out_logfmt_str(es_out *o, const char *s)
{
    if (needs_quotes(s)) {
        out_raw(o, "\"", 1);
        out_escaped(o, s);
        out_raw(o, "\"", 1);
    } else {
        out_escaped(o, s);
    }
}

/*
 * A logfmt key is an identifier: the workers' keys are constants, but a
 * byte that would end or split the key becomes '_' rather than a broken
 * line.
 */
static void out_logfmt_key(es_out *o, const char *k)
{
    for (; *k; k++) {
        unsigned char c = (unsigned char)*k;
        char ch = (char)c;

        if (c <= ' ' || c == '"' || c == '=' || c >= 0x7f) {
            ch = '_';
        }
        out_raw(o, &ch, 1);
    }
}

static void out_value(es_out *o, const es_kv *kv, int json)
{
    char num[64];

    switch (kv->type) {
    case ES_KV_INT:
        snprintf(num, sizeof(num), "%lld", kv->i);
        out_str(o, num);
        break;
    case ES_KV_DBL:
        if (json && !isfinite(kv->d)) {
            /* JSON has no NaN or infinity */
            out_str(o, "null");
        } else if (kv->d != kv->d) {
            out_str(o, "nan");
        } else {
            snprintf(num, sizeof(num), "%.6g", kv->d);
            out_str(o, num);
        }
        break;
    default: {
        const char *s = kv->s ? kv->s : "";
        if (json) {
            out_raw(o, "\"", 1);
            out_escaped(o, s);
            out_raw(o, "\"", 1);
        } else {
            out_logfmt_str(o, s);
        }
        break;
    }
    }
}

static void out_timestamp(es_out *o)
{
    struct timespec ts;
    struct tm tm;
    char tbuf[96];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(tbuf, sizeof(tbuf), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    out_str(o, tbuf);
}

static size_t format_once(es_out o, es_log_format format, const char *component,
                          es_level level, const char *event, const es_kv *kv,
                          int nkv, int *cut);

/*
 * A line that does not fit is formatted again with every string value cut to
 * a fixed length, so JSON output stays one well-formed object.
 */
size_t es_log_format_line(char *buf, size_t size, es_log_format format,
                          const char *component, es_level level,
                          const char *event, const es_kv *kv, int nkv)
{
    es_out o = {buf, size, 0, 0, 0};
    int cut = 0;
    size_t len, reserve;

    if (size < 64) {
        if (size > 0) {
            buf[0] = '\0';
        }
        return 0;
    }
    len = format_once(o, format, component, level, event, kv, nkv, &cut);
    if (cut) {
        /* room kept for the fixed parts; never more than the buffer */
        reserve = size > 512 ? 256 : size / 2;
        o.value_max = (size - reserve) / (size_t)(nkv + 2) / 6;
        if (o.value_max == 0) {
            o.value_max = 1; /* 0 would mean no limit */
        }
        len = format_once(o, format, component, level, event, kv, nkv, &cut);
    }
    return len;
}

static size_t format_once(es_out o, es_log_format format, const char *component,
                          es_level level, const char *event, const es_kv *kv,
                          int nkv, int *cut)
{
    es_level l = level <= ES_ERROR ? level : ES_ERROR;
    const char *lvl = es_level_names[l];

    if (format == ES_LOG_JSON) {
        out_str(&o, "{\"ts\":\"");
        out_timestamp(&o);
        out_str(&o, "\",\"level\":\"");
        out_str(&o, lvl);
        out_str(&o, "\",\"component\":\"");
        out_escaped(&o, component);
        out_str(&o, "\",\"msg\":\"");
        out_escaped(&o, event);
        out_str(&o, "\"");
        for (int i = 0; i < nkv; i++) {
            out_str(&o, ",\"");
            out_escaped(&o, kv[i].key);
            out_str(&o, "\":");
            out_value(&o, &kv[i], 1);
        }
        out_str(&o, "}");
    } else {
        if (format == ES_LOG_JOURNAL) {
            out_str(&o, es_level_prio[l]);
        }
        out_str(&o, "ts=");
        out_timestamp(&o);
        out_str(&o, " level=");
        out_str(&o, lvl);
        out_str(&o, " component=");
        out_logfmt_str(&o, component);
        out_str(&o, " msg=");
        out_logfmt_str(&o, event);
        for (int i = 0; i < nkv; i++) {
            out_str(&o, " ");
            out_logfmt_key(&o, kv[i].key);
            out_str(&o, "=");
            out_value(&o, &kv[i], 0);
        }
    }
    *cut = o.cut;
    o.buf[o.len++] = '\n';
    o.buf[o.len] = '\0';
    return o.len;
}

void es_log(es_level level, const char *event, ...)
{
    es_kv kv[ES_LOG_FIELDS_MAX];
    char line[ES_LOG_LINE_MAX];
    int n = 0;
    va_list ap;
    size_t len;

    if (level < es_log_min) {
        return;
    }
    va_start(ap, event);
    for (;;) {
        es_kv f = va_arg(ap, es_kv);
        if (f.type == ES_KV_END || f.key == NULL) {
            break;
        }
        if (n < ES_LOG_FIELDS_MAX) {
            kv[n++] = f;
        }
    }
    va_end(ap);

    len = es_log_format_line(line, sizeof(line), es_log_fmt, es_log_component,
                             level, event, kv, n);
    es_log_out_write(line, len);
}
