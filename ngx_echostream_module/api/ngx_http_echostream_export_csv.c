/*
 * ngx_http_echostream_export_csv.c - the CSV text of /export.csv rows (see
 * export_csv.h).
 *
 * CSV (RFC 4180): CRLF line ends; cells with a comma, quote, CR or LF are
 * quoted, quotes doubled. A text cell whose first character other than
 * white space is = + - @ or their fullwidth forms (＝ ＋ － ＠), or that starts
 * with a tab or CR, gets a leading ' so a spreadsheet does not run it as a
 * formula: spreadsheets skip leading blanks and read fullwidth signs as
 * operators, so " =cmd" and "＝cmd" are formulas too. The text itself is
 * kept as it was. The numeric cells (printed here from numbers) are left as
 * numbers.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include <stdio.h>

#include "api/ngx_http_echostream_export_csv.h"

static u_char *ngx_http_echostream_export_csv_text(u_char *p, json_t *v,
                                                   ngx_uint_t guard);
static u_char *ngx_http_echostream_export_csv_num(u_char *p, json_t *v);
static ngx_uint_t ngx_http_echostream_export_csv_formula(const u_char *s,
                                                         const u_char *end);

size_t ngx_http_echostream_export_csv_bound(json_t *c)
{
    static const char *texts[] = {"id",     "created",   "subreddit", "author",
                                  "engine", "permalink", "body"};
    size_t size, i;

    /* label, 4 scores, the score: 32 each; 13 cells: separators, CRLF */
    size = 6 * 32 + 16;

    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        /* a quote, the formula guard, each byte doubled, a quote */
        size += 3 + 2 * json_string_length(json_object_get(c, texts[i]));
    }

    return size;
}

u_char *ngx_http_echostream_export_csv_row(u_char *p, json_t *c)
{
    json_t *s = json_object_get(c, "sentiment"); /* borrowed, as all below */

    p = ngx_http_echostream_export_csv_text(p, json_object_get(c, "id"), 1);
    *p++ = ',';
    p = ngx_http_echostream_export_csv_text(p, json_object_get(c, "created"),
                                            1);
    *p++ = ',';
    p = ngx_http_echostream_export_csv_text(p, json_object_get(c, "subreddit"),
                                            1);
    *p++ = ',';
    p = ngx_http_echostream_export_csv_text(p, json_object_get(c, "author"), 1);
    *p++ = ',';
    p = ngx_http_echostream_export_csv_text(p, json_object_get(s, "label"), 1);
    *p++ = ',';
    p = ngx_http_echostream_export_csv_num(p, json_object_get(s, "compound"));
    *p++ = ',';
    p = ngx_http_echostream_export_csv_num(p, json_object_get(s, "pos"));
    *p++ = ',';
    p = ngx_http_echostream_export_csv_num(p, json_object_get(s, "neg"));
    *p++ = ',';
    p = ngx_http_echostream_export_csv_num(p, json_object_get(s, "neu"));
    *p++ = ',';
    p = ngx_http_echostream_export_csv_text(p, json_object_get(c, "engine"), 1);
    *p++ = ',';
    p = ngx_http_echostream_export_csv_num(p, json_object_get(c, "score"));
    *p++ = ',';
    p = ngx_http_echostream_export_csv_text(p, json_object_get(c, "permalink"),
                                            1);
    *p++ = ',';
    p = ngx_http_echostream_export_csv_text(p, json_object_get(c, "body"), 1);
    *p++ = '\r';
    *p++ = '\n';

    return p;
}

/* A text cell: quoted when needed (RFC 4180), formula starts guarded. */
static u_char *ngx_http_echostream_export_csv_text(u_char *p, json_t *v,
                                                   ngx_uint_t guard)
{
    const u_char *s, *q, *end;
    ngx_uint_t quote;
    size_t len;

    s = (const u_char *)json_string_value(v);
    if (s == NULL) {
        return p;
    }

    len = json_string_length(v);
    end = s + len;

    quote = 0;
    for (q = s; q < end; q++) {
        if (*q == ',' || *q == '"' || *q == '\r' || *q == '\n') {
            quote = 1;
            break;
        }
    }

    if (quote) {
        *p++ = '"';
    }

    if (guard && ngx_http_echostream_export_csv_formula(s, end)) {
        *p++ = '\'';
    }

    for (; s < end; s++) {
        if (*s == '"') {
            *p++ = '"';
        }
        *p++ = *s;
    }

    if (quote) {
        *p++ = '"';
    }

    return p;
}

/*
 * True when a spreadsheet could read s..end as a formula: a tab or CR
 * first, or = + - @ (ASCII or fullwidth) after any leading white space,
 * ASCII or Unicode (no-break, ideographic, the U+2000 block, BOM).
 */
static ngx_uint_t ngx_http_echostream_export_csv_formula(const u_char *s,
                                                         const u_char *end)
{
    if (s < end && (*s == '\t' || *s == '\r')) {
        return 1;
    }

    while (s < end) {
        if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' || *s == '\v' ||
            *s == '\f') {
            s++;
        } else if (end - s >= 2 && s[0] == 0xc2 && s[1] == 0xa0) {
            s += 2; /* U+00A0 */
        } else if (end - s >= 3 &&
                   ((s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80) ||
                    (s[0] == 0xe2 && s[1] == 0x80 &&
                     (s[2] <= 0x8b || s[2] == 0xaf)) ||
                    (s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f) ||
                    (s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf))) {
            s += 3; /* U+3000, U+2000-200B, U+202F, U+205F, U+FEFF */
        } else {
            break;
        }
    }

    if (s == end) {
        return 0;
    }

    if (*s == '=' || *s == '+' || *s == '-' || *s == '@') {
        return 1;
    }

    /* fullwidth ＋ U+FF0B, － U+FF0D, ＝ U+FF1D, ＠ U+FF20 */
    return end - s >= 3 && s[0] == 0xef &&
           ((s[1] == 0xbc &&
             (s[2] == 0x8b || s[2] == 0x8d || s[2] == 0x9d || s[2] == 0xa0)));
}

/* A number cell: integers as they are, reals with at most 4 decimals. */
static u_char *ngx_http_echostream_export_csv_num(u_char *p, json_t *v)
{
    char buf[32];
    int n;

    if (json_is_integer(v)) {
        return ngx_sprintf(p, "%L", (int64_t)json_integer_value(v));
    }

    n = snprintf(buf, sizeof(buf), "%.4f", json_number_value(v));
    if (n <= 0 || (size_t)n >= sizeof(buf)) {
        *p++ = '0';
        return p;
    }

    /* 0.4200 → 0.42, 1.0000 → 1, -0.0000 → 0 */
    while (n > 0 && buf[n - 1] == '0') {
        n--;
    }
    if (n > 0 && buf[n - 1] == '.') {
        n--;
    }
    if (n == 2 && buf[0] == '-' && buf[1] == '0') {
        n = 1;
        buf[0] = '0';
    }

    return ngx_cpymem(p, buf, n);
}
