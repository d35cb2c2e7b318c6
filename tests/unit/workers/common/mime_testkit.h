/*
 * mime_testkit.h - what the unit tests of workers/common/es_mime*.c share:
 * a valid message to vary, the checks every built message must pass (CRLF
 * lines, 7-bit, a column limit) and a reader's view of it: a header
 * unfolded, its B encoded words decoded by an independent decoder that
 * also checks each word's own limits (75 characters, whole UTF-8
 * characters), quoted-printable decoded.
 *
 * Functions are static inline, so a test binary that includes this file
 * uses what it needs.
 */
#ifndef MIME_TESTKIT_H
#define MIME_TESTKIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "es_mime.h"
#include "es_mime_int.h"
#include "es_utf8.h"

/* the one recipient of base_message() */
static const char *const mime_one_to[] = {"ops@example.com"};

static inline es_mime_message base_message(void)
{
    es_mime_message m = {0};

    m.from = "EchoStream <alerts@echostream.example>";
    m.to = mime_one_to;
    m.nto = 1;
    m.subject = "Alert: volume up";
    m.text = "Hello\nworld\n";
    m.message_id = "fixed.1@echostream.example";
    m.date_s = 1709647380; /* Tue, 05 Mar 2024 14:03:00 UTC */
    return m;
}

/* every line ends in CRLF, holds 7-bit bytes only and fits max columns */
static inline void assert_lines_ok(const char *msg, size_t len, size_t max)
{
    size_t col = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)msg[i];

        assert_true(c < 0x80);
        if (c == '\r') {
            assert_true(i + 1 < len && msg[i + 1] == '\n');
            col = 0;
            i++;
            continue;
        }
        assert_true(c != '\n');
        col++;
        if (col > max) {
            fail_msg("line longer than %zu at offset %zu", max, i);
        }
    }
    assert_int_equal(col, 0); /* ends with CRLF */
}

/* the unfolded value of header name (malloc'd), or NULL */
static inline char *header(const char *msg, const char *name)
{
    size_t nl = strlen(name);
    const char *p = msg;
    char *out;
    size_t o = 0;

    for (;;) {
        if (strncmp(p, "\r\n", 2) == 0) {
            return NULL; /* end of the header block */
        }
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            break;
        }
        p = strstr(p, "\r\n");
        assert_non_null(p);
        p += 2;
        while (*p == ' ' || *p == '\t') {
            p = strstr(p, "\r\n") + 2;
        }
    }
    p += nl + 1;
    out = malloc(strlen(p) + 1);
    assert_non_null(out);
    for (;;) {
        if (p[0] == '\r' && p[1] == '\n') {
            if (p[2] != ' ' && p[2] != '\t') {
                break;
            }
            p += 2; /* unfold: CRLF goes, the white space stays */
            continue;
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
    /* the one space after the colon */
    if (out[0] == ' ') {
        memmove(out, out + 1, o);
    }
    return out;
}

/*
 * Decodes the B encoded words of an unfolded header value, dropping white
 * space between adjacent words; checks each word's limits on the way.
 */
static inline char *decode_words(const char *v)
{
    size_t n = strlen(v), o = 0;
    char *out = malloc(n + 1);
    int prev_word = 0;
    size_t pending_ws = 0;
    const char *ws_start = NULL;

    assert_non_null(out);
    for (size_t i = 0; i < n;) {
        if (strncmp(v + i, "=?UTF-8?B?", 10) == 0) {
            const char *end = strstr(v + i + 10, "?=");
            unsigned char dec[80];
            size_t blen, dlen;
            int r;

            assert_non_null(end);
            assert_true((size_t)(end + 2 - (v + i)) <= 75);
            blen = (size_t)(end - (v + i + 10));
            assert_int_equal(blen % 4, 0);
            r = EVP_DecodeBlock(dec, (const unsigned char *)v + i + 10,
                                (int)blen);
            assert_true(r >= 0);
            dlen = (size_t)r;
            while (blen > 0 && v[i + 10 + blen - 1] == '=') {
                blen--;
                dlen--;
            }
            /* each word decodes to whole characters on its own */
            assert_true(es_utf8_valid((const char *)dec, dlen));
            if (!prev_word && pending_ws) {
                memcpy(out + o, ws_start, pending_ws);
                o += pending_ws;
            }
            memcpy(out + o, dec, dlen);
            o += dlen;
            pending_ws = 0;
            prev_word = 1;
            i = (size_t)(end + 2 - v);
            continue;
        }
        if (v[i] == ' ' || v[i] == '\t') {
            if (pending_ws == 0) {
                ws_start = v + i;
            }
            pending_ws++;
            i++;
            continue;
        }
        if (pending_ws) {
            memcpy(out + o, ws_start, pending_ws);
            o += pending_ws;
            pending_ws = 0;
        }
        prev_word = 0;
        out[o++] = v[i++];
    }
    if (pending_ws) {
        memcpy(out + o, ws_start, pending_ws);
        o += pending_ws;
    }
    out[o] = '\0';
    return out;
}

static inline int hexval(char c)
{
    return c <= '9' ? c - '0' : c - 'A' + 10;
}

/* quoted-printable back to bytes (hard breaks stay CRLF) */
static inline char *qp_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    size_t o = 0;

    assert_non_null(out);
    for (size_t i = 0; i < n;) {
        if (s[i] == '=' && i + 2 < n + 1 && s[i + 1] == '\r') {
            assert_int_equal(s[i + 2], '\n');
            i += 3;
        } else if (s[i] == '=') {
            assert_true(i + 2 < n);
            out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 3;
        } else {
            out[o++] = s[i++];
        }
    }
    out[o] = '\0';
    return out;
}

#endif
