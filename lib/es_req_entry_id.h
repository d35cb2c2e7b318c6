/*
 * es_req_entry_id.h - Redis stream entry ids ("<ms>-<seq>") as the API
 * takes them from clients: the alert history's cursor and the live
 * stream's Last-Event-ID.
 *
 * Both end up in an XRANGE / XREVRANGE bound, so they are held to the one
 * form Redis prints, decimal digits on both sides of one '-', instead of
 * every form Redis would parse ("-", "+", "<ms>" alone, "<ms>-*"), and to
 * the ids Redis can hold (each part below 2^64): Redis refuses a bound
 * beyond them with an error, which a client's typing must never cause.
 */
#ifndef ES_REQ_ENTRY_ID_H
#define ES_REQ_ENTRY_ID_H

#include <stddef.h>
#include <stdint.h>

/* "<20 digits>-<20 digits>" */
#define ES_REQ_ENTRY_ID_LEN 41

/*
 * Reads s[0..n), 1-20 digits, '-', 1-20 digits, each part at most
 * UINT64_MAX, into *ms and *seq (either may be NULL). Returns 0 or -1.
 */
int es_req_entry_id(const char *s, size_t n, uint64_t *ms, uint64_t *seq);

/* 1 when es_req_entry_id() reads s[0..n); else 0. */
int es_req_entry_id_valid(const char *s, size_t n);

#endif
