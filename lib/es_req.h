/*
 * es_req.h - what an API route reads from a request, checked without nginx.
 *
 * Every check a route of /api/v1 makes on outside input before it builds
 * a key or touches Redis lives in lib/es_req*.c as plain C over the query
 * string and the parsed JSON body. The nginx module calls these checks and
 * answers the error they fill in (ngx_http_echostream_api_req_fail); the
 * fuzz targets of tests/fuzz call the very same code with arbitrary bytes,
 * which they could not do with code that needs an nginx request.
 *
 * One error shape for every check: an HTTP status, a code of the API's
 * error enum, the member or argument at fault, a message, and, for a
 * query, where in it. Checks return 0 or -1 (with *err filled in); none
 * allocates except where it says so, so a check that fails leaks nothing.
 */
#ifndef ES_REQ_H
#define ES_REQ_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* a field name is cut to this many bytes (on a character boundary) */
#define ES_REQ_FIELD_MAX 64
#define ES_REQ_MSG_MAX   320

typedef struct {
    int status;       /* 400, 413, 422; 0 while there is no error */
    const char *code; /* "bad_request", "validation_failed", … (static) */
    char field[ES_REQ_FIELD_MAX + 1]; /* "" when none */
    char message[ES_REQ_MSG_MAX];
    long position; /* byte offset in the value at fault, or -1 */
    long column;   /* 1-based character in it, or -1 */
} es_req_err;

/*
 * Fills *err (field may be NULL; it is copied, cut to ES_REQ_FIELD_MAX
 * bytes) and returns -1, so a check can `return es_req_fail(…)`.
 */
int es_req_fail(es_req_err *err, int status, const char *code,
                const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* ---- query strings ---------------------------------------------------- */

enum { ES_ARG_ABSENT = 0, ES_ARG_OK = 1, ES_ARG_BAD = -1 };

/*
 * The value of argument name in the query string qs[0..len) (without the
 * '?'): the first "name=value" pair, the name compared without regard to
 * case (as nginx's $arg_ variables do). The value is percent-decoded and
 * '+' read as a space into out (size > max), NUL-terminated, its length in
 * *outlen. ES_ARG_ABSENT when there is no such pair, ES_ARG_BAD when the
 * value decodes to more than max bytes, holds a '%' not followed by two
 * hex digits, or decodes to a NUL byte.
 */
int es_req_arg(const char *qs, size_t len, const char *name, char *out,
               size_t max, size_t *outlen);

/* ---- JSON bodies -------------------------------------------------------- */

/*
 * 1 when a Content-Type names JSON: "application/json", any case, alone
 * or followed by parameters (";" or " ").
 */
int es_req_json_type(const char *ct, size_t n);

/*
 * Parses a request body text[0..n) into *out (a new reference): JSON as
 * jansson reads it (UTF-8 checked, no NUL in strings), duplicate members
 * rejected, and the whole an object. Else 400 invalid_json, with the byte
 * "position" of a syntax error, or 500 internal when memory ran out.
 */
int es_req_body_parse(const char *text, size_t n, json_t **out,
                      es_req_err *err);

/*
 * The body must be an object whose members are all in allowed (a NULL-
 * terminated list). Else 400 invalid_json (not an object) or 422
 * validation_failed naming the first unknown member.
 */
int es_req_members(json_t *body, const char *const *allowed, es_req_err *err);

/*
 * A JSON number that is a whole number (an integer, or a real without a
 * fraction within ±2^53): 0 with the value, else -1.
 */
int es_req_json_int(json_t *v, json_int_t *out);

/* Item ids of the API (topics, rules, summaries): 1-64 of [A-Za-z0-9_-]. */
#define ES_REQ_ID_MAX 64
int es_req_id_valid(const char *s, size_t n);

/*
 * The "id" member of a create or replace body: when present it must be a
 * valid id, and equal to path_id when one is given (PUT). The id to use,
 * NUL-terminated, goes into out (size > ES_REQ_ID_MAX): the body's, else
 * path_id, else "" (the caller makes one up). 422 validation_failed "id"
 * otherwise.
 */
int es_req_body_id(json_t *body, const char *path_id, char *out,
                   es_req_err *err);

#endif
