/*
 * req_testkit.h - what the unit tests of lib/es_req_*.c share: a body
 * parsed the way the module parses it, a query string as the tests write
 * it, and checking a refused request the way the module answers it
 * (status, code, field, a message a JSON answer can carry).
 *
 * Functions are static inline, so a test binary that includes this file
 * uses what it needs.
 */
#ifndef REQ_TESTKIT_H
#define REQ_TESTKIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "es_req.h"
#include "es_utf8.h"

/* The JSON object text as a body (a new reference), as the module reads it. */
static inline json_t *req_body(const char *text)
{
    es_req_err err;
    json_t *body;

    if (es_req_body_parse(text, strlen(text), &body, &err) != 0) {
        fail_msg("test body does not parse: %s (%s)", err.message, text);
    }
    return body;
}

/*
 * Asserts that err is status/code/field (field NULL: none), with a
 * non-empty, valid UTF-8 message.
 */
static inline void req_assert_err(const es_req_err *err, int status,
                                  const char *code, const char *field)
{
    assert_int_equal(err->status, status);
    assert_string_equal(err->code, code);
    assert_string_equal(err->field, field ? field : "");
    assert_true(err->message[0] != '\0');
    assert_true(es_utf8_valid(err->message, strlen(err->message)));
}

/* A failed query check: -1, 400 bad_request, field, a UTF-8 message. */
#define assert_bad_request(rc, err, fieldname)                                 \
    do {                                                                       \
        assert_int_equal((rc), -1);                                            \
        req_assert_err(&(err), 400, "bad_request", (fieldname));               \
    } while (0)

/* A query string as the tests write them: a C string and its length */
#define QS(s) (s), strlen(s)

#endif
