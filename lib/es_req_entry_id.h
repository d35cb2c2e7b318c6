/*
 * es_req_entry_id.h - Redis stream entry ids ("<ms>-<seq>") as the API
 * takes them from clients: the alert history's cursor and the live
 * stream's Last-Event-ID.
 *
 * Both end up in an XRANGE / XREVRANGE bound, so they are held to the one
 * form Redis prints, decimal digits on both sides of one '-', instead of
 * every form Redis would parse ("-", "+", "<ms>" alone, "<ms>-*").
 */
#ifndef ES_REQ_ENTRY_ID_H
#define ES_REQ_ENTRY_ID_H

#include <stddef.h>

/* "<20 digits>-<20 digits>" */
#define ES_REQ_ENTRY_ID_LEN 41

/* 1 when s[0..n) is 1-20 digits, '-', 1-20 digits; else 0. */
int es_req_entry_id_valid(const char *s, size_t n);

#endif
