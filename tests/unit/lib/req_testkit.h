/*
 * req_testkit.h - what the unit tests of lib/es_req_*.c share: checking a
 * refused request the way the module answers it (status, code, field, a
 * message a JSON answer can carry).
 *
 * Include after cmocka.h. Functions are static inline, so a test binary
 * that includes this file uses what it needs.
 */
#ifndef REQ_TESTKIT_H
#define REQ_TESTKIT_H

#include <string.h>

#include "es_req.h"
#include "es_utf8.h"

/* A failed check: -1, 400 bad_request, field, a non-empty UTF-8 message. */
#define assert_bad_request(rc, err, fieldname)                                 \
    do {                                                                       \
        assert_int_equal((rc), -1);                                            \
        assert_int_equal((err).status, 400);                                   \
        assert_string_equal((err).code, "bad_request");                        \
        assert_string_equal((err).field, (fieldname));                         \
        assert_true(strlen((err).message) > 0);                                \
        assert_true(es_utf8_valid((err).message, strlen((err).message)));      \
    } while (0)

/* A query string as the tests write them: a C string */
#define QS(s) (s), strlen(s)

#endif
