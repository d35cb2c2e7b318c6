/*
 * es_mime_test.c - unit tests for workers/common/es_mime*.c.
 *
 * Built messages are checked the way a reader sees them: every line ends
 * in CRLF, is 7-bit and within 78 columns; headers are unfolded and their
 * encoded words decoded by a small independent decoder here, which also
 * checks each word's own limits (75 characters, whole UTF-8 characters);
 * bodies are decoded from quoted-printable and compared with the input.
 * The table of hostile inputs must each be refused, never cleaned up.
 * (The integration suite tests/integration/alert/mail_smtp.test.mjs
 * parses real messages with mailparser.)
 */
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

static const char *const one_to[] = {"ops@example.com"};

static es_mime_message base_message(void)
{
    es_mime_message m = {0};

    m.from = "EchoStream <alerts@echostream.example>";
    m.to = one_to;
    m.nto = 1;
    m.subject = "Alert: volume up";
    m.text = "Hello\nworld\n";
    m.message_id = "fixed.1@echostream.example";
    m.date_s = 1709647380; /* Tue, 05 Mar 2024 14:03:00 UTC */
    return m;
}

/* every line ends in CRLF, holds 7-bit bytes only and fits max columns */
static void assert_lines_ok(const char *msg, size_t len, size_t max)
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
static char *header(const char *msg, const char *name)
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
static char *decode_words(const char *v)
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

static int hexval(char c)
{
    return c <= '9' ? c - '0' : c - 'A' + 10;
}

/* quoted-printable back to bytes (hard breaks stay CRLF) */
static char *qp_decode(const char *s, size_t n)
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

static char *qp_of(const char *in)
{
    es_mbuf b = {0};
    char *out;

    assert_int_equal(es_mime_qp(&b, in, strlen(in)), 0);
    assert_false(b.oom);
    es_mbuf_put(&b, "\r\n", 2);
    assert_lines_ok(b.p, b.len, 76);
    out = qp_decode(b.p, b.len - 2);
    free(b.p);
    return out;
}

static void test_plain_message_has_exact_headers(void **state)
{
    es_mime_message m = base_message();
    size_t len = 0;
    char *msg;

    (void)state;
    msg = es_mime_build(&m, &len);
    assert_non_null(msg);
    assert_int_equal(len, strlen(msg));
    assert_lines_ok(msg, len, 78);
    assert_non_null(strstr(msg, "Date: Tue, 05 Mar 2024 14:03:00 +0000\r\n"));
    assert_true(strncmp(msg, "Date: ", 6) == 0);
    assert_non_null(
        strstr(msg, "\r\nFrom: EchoStream <alerts@echostream.example>\r\n"));
    assert_non_null(strstr(msg, "\r\nTo: ops@example.com\r\n"));
    assert_non_null(strstr(msg, "\r\nSubject: Alert: volume up\r\n"));
    assert_non_null(
        strstr(msg, "\r\nMessage-ID: <fixed.1@echostream.example>\r\n"));
    assert_non_null(strstr(msg, "\r\nMIME-Version: 1.0\r\n"));
    assert_non_null(strstr(msg,
                           "\r\nContent-Type: text/plain; charset=utf-8\r\n"
                           "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                           "Hello\r\nworld\r\n"));
    assert_null(strstr(msg, "List-Unsubscribe"));
    assert_null(strstr(msg, "multipart"));
    free(msg);
}

static void test_multipart_alternative_holds_both_parts(void **state)
{
    es_mime_message m = base_message();
    char *msg, *ct, *b, *boundary, *p;
    size_t len;

    (void)state;
    m.html = "<p>Hello <b>world</b></p>";
    msg = es_mime_build(&m, &len);
    assert_non_null(msg);
    assert_lines_ok(msg, len, 78);
    ct = header(msg, "Content-Type");
    assert_non_null(ct);
    assert_true(strncmp(ct, "multipart/alternative;", 22) == 0);
    b = strstr(ct, "boundary=\"");
    assert_non_null(b);
    boundary = strdup(b + 10);
    *strchr(boundary, '"') = '\0';
    assert_true(strncmp(boundary, "=_", 2) == 0);

    p = strstr(msg, "\r\n\r\n");
    assert_non_null(p);
    /* the parts in order: plain first (least preferred), then html */
    p = strstr(p, boundary);
    assert_non_null(p);
    p = strstr(p, "Content-Type: text/plain; charset=utf-8\r\n");
    assert_non_null(p);
    p = strstr(p, "Hello\r\nworld\r\n\r\n--");
    assert_non_null(p);
    p = strstr(p, "Content-Type: text/html; charset=utf-8\r\n");
    assert_non_null(p);
    p = strstr(p, "<p>Hello <b>world</b></p>\r\n--");
    assert_non_null(p);
    p += strlen("<p>Hello <b>world</b></p>\r\n--");
    assert_int_equal(strncmp(p, boundary, strlen(boundary)), 0);
    assert_string_equal(p + strlen(boundary), "--\r\n");
    free(boundary);
    free(ct);
    free(msg);
}

static void test_list_unsubscribe_headers_for_one_click(void **state)
{
    es_mime_message m = base_message();
    char *msg, *v;

    (void)state;
    m.list_unsubscribe_url = "https://es.example/api/v1/unsubscribe?t=acme&"
                             "s=u1&l=alerts&sig=00ff";
    msg = es_mime_build(&m, NULL);
    assert_non_null(msg);
    v = header(msg, "List-Unsubscribe");
    assert_string_equal(v, "<https://es.example/api/v1/unsubscribe?t=acme&"
                           "s=u1&l=alerts&sig=00ff>");
    free(v);
    v = header(msg, "List-Unsubscribe-Post");
    assert_string_equal(v, "List-Unsubscribe=One-Click");
    free(v);
    free(msg);
}

static void test_generated_message_id_is_unique_at_sender_domain(void **state)
{
    es_mime_message m = base_message();
    char *a, *b, *ida, *idb;

    (void)state;
    m.message_id = NULL;
    a = es_mime_build(&m, NULL);
    b = es_mime_build(&m, NULL);
    assert_non_null(a);
    assert_non_null(b);
    ida = header(a, "Message-ID");
    idb = header(b, "Message-ID");
    assert_string_not_equal(ida, idb);
    assert_true(ida[0] == '<');
    assert_non_null(strstr(ida, "@echostream.example>"));
    assert_non_null(strstr(ida, "1709647380."));
    free(ida);
    free(idb);
    free(a);
    free(b);
}

static void test_non_ascii_subject_is_encoded_words(void **state)
{
    static const char *const subjects[] = {
        "Alerte: sentiment négatif ↑ 東京 🚨",
        "🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨",
        "東京東京東京東京東京東京東京東京東京東京東京東京東京東京東京東京東京東"
        "京東京東京東京東京東京東京東京東京東京東京",
        "x=?UTF-8?B?QQ==?= looks encoded",
        " leading and trailing ",
        "tab\there",
        "a_very_long_word_without_any_space_that_cannot_be_folded_anywhere_"
        "at_all_in_a_header",
        "é",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++) {
        es_mime_message m = base_message();
        char *msg, *v, *d;
        size_t len;

        m.subject = subjects[i];
        msg = es_mime_build(&m, &len);
        assert_non_null(msg);
        assert_lines_ok(msg, len, 78);
        v = header(msg, "Subject");
        assert_non_null(strstr(v, "=?UTF-8?B?"));
        d = decode_words(v);
        assert_string_equal(d, subjects[i]);
        free(d);
        free(v);
        free(msg);
    }
}

static void test_long_ascii_subject_folds_and_unfolds_exactly(void **state)
{
    es_mime_message m = base_message();
    char subject[600];
    char *msg, *v;
    size_t len;

    (void)state;
    subject[0] = '\0';
    for (int i = 0; i < 40; i++) {
        strcat(subject, i % 7 == 3 ? "word  " : "words ");
    }
    strcat(subject, "end");
    m.subject = subject;
    msg = es_mime_build(&m, &len);
    assert_non_null(msg);
    assert_lines_ok(msg, len, 78);
    v = header(msg, "Subject");
    assert_string_equal(v, subject);
    assert_null(strstr(v, "=?"));
    free(v);
    free(msg);
}

static void test_display_names_atoms_quoted_or_encoded(void **state)
{
    static const struct {
        const char *mailbox;
        const char *header; /* exact unfolded To value, or NULL */
        const char *name;   /* decoded display name */
    } cases[] = {
        {"plain@example.com", "plain@example.com", ""},
        {"Ops Team <ops@example.com>", "Ops Team <ops@example.com>", NULL},
        {"Doe, Jane <jane@example.com>", "\"Doe, Jane\" <jane@example.com>",
         NULL},
        {"\"Doe, Jane\" <jane@example.com>", "\"Doe, Jane\" <jane@example.com>",
         NULL},
        {"\"say \\\"hi\\\" \\\\\" <q@example.com>",
         "\"say \\\"hi\\\" \\\\\" <q@example.com>", NULL},
        {"  <bare@example.com>  ", "bare@example.com", ""},
        {"Zoë Ünïcode <zoe@example.com>", NULL, "Zoë Ünïcode"},
        {"\"東京 チーム, 🚨\" <tokyo@example.jp>", NULL, "東京 チーム, 🚨"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        es_mime_message m = base_message();
        const char *to[1] = {cases[i].mailbox};
        char *msg, *v;

        m.to = to;
        msg = es_mime_build(&m, NULL);
        assert_non_null(msg);
        v = header(msg, "To");
        if (cases[i].header != NULL) {
            assert_string_equal(v, cases[i].header);
        } else {
            char *d = decode_words(v);
            char *lt = strrchr(d, '<');

            assert_non_null(strstr(v, "=?UTF-8?B?"));
            assert_non_null(lt);
            assert_true(lt > d && lt[-1] == ' ');
            lt[-1] = '\0';
            assert_string_equal(d, cases[i].name);
            free(d);
        }
        free(v);
        free(msg);
    }
}

static void test_many_recipients_fold_between_mailboxes(void **state)
{
    es_mime_message m = base_message();
    const char *to[30];
    char names[30][64];
    char *msg, *v;
    size_t len;

    (void)state;
    for (int i = 0; i < 30; i++) {
        snprintf(names[i], sizeof(names[i]),
                 i % 3 == 0   ? "Member Number %d <member%d@example.com>"
                 : i % 3 == 1 ? "Mitglied Nr. %d Müller <m%d@example.de>"
                              : "member%d-%d@example.org",
                 i, i);
        to[i] = names[i];
    }
    m.to = to;
    m.nto = 30;
    msg = es_mime_build(&m, &len);
    assert_non_null(msg);
    assert_lines_ok(msg, len, 78);
    v = header(msg, "To");
    assert_non_null(strstr(v, "Member Number 0 <member0@example.com>, "));
    assert_non_null(strstr(v, "member29-29@example.org"));
    assert_null(strstr(v, "member29-29@example.org,"));
    free(v);
    free(msg);
}

static void test_quoted_printable_round_trips(void **state)
{
    static const char *const texts[] = {
        "plain text",
        "a=b == c",
        "trailing space \nand tab\t\nend ",
        ".leading dot\n.\nFrom the start\nFrom here",
        "line one\r\nline two\rline three\n",
        "négatif ↑ 東京 🚨 and a long line that goes on and on and on past "
        "the seventy-six character limit of quoted-printable, twice over, "
        "with 🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨🚨 in it",
        "\x01\x7f control",
        "",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        char *d = qp_of(texts[i]);
        char want[1024];
        size_t o = 0;
        const char *s = texts[i];

        /* the input with every line break as CRLF */
        for (size_t j = 0; s[j]; j++) {
            if (s[j] == '\r' || s[j] == '\n') {
                want[o++] = '\r';
                want[o++] = '\n';
                if (s[j] == '\r' && s[j + 1] == '\n') {
                    j++;
                }
            } else {
                want[o++] = s[j];
            }
        }
        want[o] = '\0';
        assert_string_equal(d, want);
        free(d);
    }
}

static void test_quoted_printable_escapes_what_transport_breaks(void **state)
{
    es_mbuf b = {0};
    const char *in = "end \n.dot\nFrom x\na=b";

    (void)state;
    assert_int_equal(es_mime_qp(&b, in, strlen(in)), 0);
    assert_string_equal(b.p, "end=20\r\n=2Edot\r\n=46rom x\r\na=3Db");
    free(b.p);
}

static void test_addr_spec_and_validity(void **state)
{
    char out[ES_MIME_ADDR_MAX + 1];

    (void)state;
    assert_int_equal(
        es_mime_addr_spec("EchoStream <es@localhost>", out, sizeof(out)), 0);
    assert_string_equal(out, "es@localhost");
    assert_int_equal(
        es_mime_addr_spec("x.y+tag@sub.example.com", out, sizeof(out)), 0);
    assert_string_equal(out, "x.y+tag@sub.example.com");
    assert_int_equal(es_mime_addr_spec("a@b.c", out, 5), -1);
    assert_true(es_mime_addr_valid("o'brien+x/y=z@mail-1.example.org"));
    assert_false(es_mime_addr_valid("a..b@example.com"));
    assert_false(es_mime_addr_valid(".a@example.com"));
    assert_false(es_mime_addr_valid("a.@example.com"));
    assert_false(es_mime_addr_valid("a@example..com"));
    assert_false(es_mime_addr_valid("a@-example.com"));
    assert_false(es_mime_addr_valid("a@example-.com"));
    assert_false(es_mime_addr_valid("a@b@example.com"));
    assert_false(es_mime_addr_valid("@example.com"));
    assert_false(es_mime_addr_valid("a@"));
}

/* every one of these must make the build fail */
static void test_hostile_inputs_are_refused(void **state)
{
    enum { FROM, TO, SUBJECT, TEXT, HTML, ID, UNSUB };
    static const struct {
        int field;
        const char *value;
    } bad[] = {
        {SUBJECT, "hi\r\nBcc: victim@example.com"},
        {SUBJECT, "hi\nBcc: victim@example.com"},
        {SUBJECT, "hi\rthere"},
        {SUBJECT, "bad \xff utf-8"},
        {SUBJECT, "overlong \xc0\xaf"},
        {SUBJECT, "surrogate \xed\xa0\x80"},
        {SUBJECT, "truncated \xe6\x9d"},
        {FROM, "Evil\r\nBcc: x@example.com <a@example.com>"},
        {FROM, "a@example.com\r\nBcc: x@example.com"},
        {FROM, "no-at-sign"},
        {FROM, "Name <a@example.com"},
        {FROM, "Na<me <a@example.com>"},
        {FROM, "Name> <a@example.com>"},
        {FROM, "\"unterminated <a@example.com>"},
        {FROM, "John \"JJ\" Doe <a@example.com>"},
        {FROM, "\"bad \" quote\" <a@example.com>"},
        {FROM, "\"trailing backslash\\\" <a@example.com>"},
        {FROM, "\xff\xfe <a@example.com>"},
        {TO, "a@example.com, b@example.com"},
        {TO, "a b@example.com"},
        {TO, "<a@example.com>>"},
        {TO, "a@[127.0.0.1]"},
        {TO, "\"quoted local\"@example.com"},
        {TO, "a@exa_mple.com"},
        {TO, "a@example.com."},
        {TO, "ünïcode@example.com"},
        {TO, "a@bücher.example"},
        {TO, "a@example.com\n"},
        {TO, "Name <a@example.com>, Other <b@example.com>"},
        {TO, "Name <>"},
        {TO, ""},
        {TEXT, "bad \xff body"},
        {HTML, "<p>\xc3</p>"},
        {ID, "no-at-sign"},
        {ID, "a@b>\r\nBcc: x@example.com"},
        {ID, "<a@b>"},
        {ID, "a b@c"},
        {ID, "a@b..c"},
        {UNSUB, "javascript:alert(1)"},
        {UNSUB, "https://x.example/u>\r\nBcc: x@example.com"},
        {UNSUB, "https://x.example/a b"},
        {UNSUB, "https://x.example/<x>"},
        {UNSUB, "https://x.example/\xc3\xa9"},
        {UNSUB, "mailto:x@example.com"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        es_mime_message m = base_message();
        const char *to[2] = {"ok@example.com", bad[i].value};
        char *msg;

        switch (bad[i].field) {
        case FROM:
            m.from = bad[i].value;
            break;
        case TO:
            m.to = to;
            m.nto = 2;
            break;
        case SUBJECT:
            m.subject = bad[i].value;
            break;
        case TEXT:
            m.text = bad[i].value;
            break;
        case HTML:
            m.html = bad[i].value;
            break;
        case ID:
            m.message_id = bad[i].value;
            break;
        default:
            m.list_unsubscribe_url = bad[i].value;
            break;
        }
        msg = es_mime_build(&m, NULL);
        if (msg != NULL) {
            fail_msg("accepted hostile input %zu: %s", i, bad[i].value);
        }
    }
}

static void test_missing_parts_are_refused(void **state)
{
    es_mime_message m;
    char long_subject[ES_MIME_SUBJECT_MAX + 2];
    char long_name[ES_MIME_NAME_MAX + 32];

    (void)state;
    assert_null(es_mime_build(NULL, NULL));
    m = base_message();
    m.nto = 0;
    assert_null(es_mime_build(&m, NULL));
    m = base_message();
    m.from = NULL;
    assert_null(es_mime_build(&m, NULL));
    m = base_message();
    m.text = NULL;
    assert_null(es_mime_build(&m, NULL));
    m = base_message();
    m.subject = NULL;
    assert_null(es_mime_build(&m, NULL));

    m = base_message();
    memset(long_subject, 'a', sizeof(long_subject) - 1);
    long_subject[sizeof(long_subject) - 1] = '\0';
    m.subject = long_subject;
    assert_null(es_mime_build(&m, NULL));

    m = base_message();
    memset(long_name, 'n', sizeof(long_name));
    strcpy(long_name + ES_MIME_NAME_MAX + 1, " <a@example.com>");
    m.from = long_name;
    assert_null(es_mime_build(&m, NULL));
}

static void test_date_zero_means_now(void **state)
{
    es_mime_message m = base_message();
    char *msg, *v;

    (void)state;
    m.date_s = 0;
    msg = es_mime_build(&m, NULL);
    assert_non_null(msg);
    v = header(msg, "Date");
    assert_null(strstr(v, "1970"));
    assert_true(strlen(v) == strlen("Tue, 05 Mar 2024 14:03:00 +0000"));
    free(v);
    free(msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_message_has_exact_headers),
        cmocka_unit_test(test_multipart_alternative_holds_both_parts),
        cmocka_unit_test(test_list_unsubscribe_headers_for_one_click),
        cmocka_unit_test(test_generated_message_id_is_unique_at_sender_domain),
        cmocka_unit_test(test_non_ascii_subject_is_encoded_words),
        cmocka_unit_test(test_long_ascii_subject_folds_and_unfolds_exactly),
        cmocka_unit_test(test_display_names_atoms_quoted_or_encoded),
        cmocka_unit_test(test_many_recipients_fold_between_mailboxes),
        cmocka_unit_test(test_quoted_printable_round_trips),
        cmocka_unit_test(test_quoted_printable_escapes_what_transport_breaks),
        cmocka_unit_test(test_addr_spec_and_validity),
        cmocka_unit_test(test_hostile_inputs_are_refused),
        cmocka_unit_test(test_missing_parts_are_refused),
        cmocka_unit_test(test_date_zero_means_now),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
