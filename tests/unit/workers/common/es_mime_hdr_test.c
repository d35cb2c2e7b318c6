/*
 * es_mime_hdr_test.c - unit tests for workers/common/es_mime_hdr.c, through
 * es_mime_build: subjects and display names in any script, unfolded and
 * decoded the way a reader does (mime_testkit.h) and compared with the
 * input exactly; folding of long headers and many recipients; addr-specs;
 * and a table of hostile inputs that must each be refused, never cleaned
 * up.
 */
#include "mime_testkit.h"

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
        {ID, "bare..local"},
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_non_ascii_subject_is_encoded_words),
        cmocka_unit_test(test_long_ascii_subject_folds_and_unfolds_exactly),
        cmocka_unit_test(test_display_names_atoms_quoted_or_encoded),
        cmocka_unit_test(test_many_recipients_fold_between_mailboxes),
        cmocka_unit_test(test_addr_spec_and_validity),
        cmocka_unit_test(test_hostile_inputs_are_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
