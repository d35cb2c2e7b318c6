/*
 * es_ids.h - validation of every identifier that becomes part of a key.
 *
 * Redis keys are built only from values that passed these checks, so no
 * input can reach another tenant's keys, break the `{tag}` hash-tag syntax or
 * smuggle a separator. Each check is strict about its alphabet and length.
 */
#ifndef ES_IDS_H
#define ES_IDS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Subreddit names: 2-21 characters of [A-Za-z0-9_], not starting with '_'
 * (Reddit's own rule), or the pseudo-subreddit "all". Writes the lower-case
 * form (how Reddit compares them) into out (size >= 22). Returns 0 or -1.
 */
int es_subreddit_normalize(const char *s, size_t n, char *out);

/*
 * Comment ids: base-36 ([0-9a-z]), 1-12 characters, optionally prefixed with
 * "t1_". Stores the numeric value (sequential on Reddit) in *num.
 */
int es_comment_id_parse(const char *s, size_t n, uint64_t *num);

/* Writes the base-36 form of num into out (size >= 14). */
void es_comment_id_format(uint64_t num, char *out);

/* Tenant ids: 1-64 characters of [A-Za-z0-9_-]. Returns 0 or -1. */
int es_tenant_id_valid(const char *s, size_t n);

/*
 * User ids (the token's "sub"; a Cognito user's is a UUID): 1-128
 * characters of letters, digits and "-_.:@+", so a sub in a key can never
 * open or close its hash tag, nor carry a space or a control character.
 * Returns 0 or -1.
 */
#define ES_USER_SUB_MAX 128
int es_user_sub_valid(const char *s, size_t n);

#endif
