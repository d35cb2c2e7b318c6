/*
 * ngx_http_echostream_series_json.h - the JSON text of a
 * /topics/{id}/series answer: its head and its points.
 *
 * Apart from series.c because printing is its own concern: the route reads
 * Redis and talks to the cache, this prints numbers by hand into a buffer
 * the caller sized from the bounds below (no jansson values per point, the
 * route being the one `make bench` measures). The points' text is what the
 * series cache holds, so it is printed apart from the head, which can
 * differ between requests of the same points ("to").
 */

#ifndef _NGX_HTTP_ECHOSTREAM_SERIES_JSON_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_SERIES_JSON_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>

/* counters per point, in the order of the values (n pos neg neu mix cs) */
#define NGX_HTTP_ECHOSTREAM_SERIES_NFIELDS 6
/* a point's JSON never exceeds this (seven numbers of at most 20 digits) */
#define NGX_HTTP_ECHOSTREAM_SERIES_POINT_MAX 256
/* the head before the points: topic id (64), step, two times */
#define NGX_HTTP_ECHOSTREAM_SERIES_HEAD_MAX 256

/*
 * Prints the answer's head at p, up to the points: {"topic":…,"points":
 * topic must be a validated id ([A-Za-z0-9_-]), printed unescaped. Returns
 * the end; at most NGX_HTTP_ECHOSTREAM_SERIES_HEAD_MAX bytes.
 */
u_char *ngx_http_echostream_series_json_head(u_char *p, ngx_str_t *topic,
                                             const char *step, int64_t from,
                                             int64_t to);

/*
 * Prints the points at p, from the opening bracket to the answer's end
 * ("]}\n"): npoints points starting at from, step ms apart, each with the
 * NGX_HTTP_ECHOSTREAM_SERIES_NFIELDS counters of values. Returns the end;
 * at most npoints * NGX_HTTP_ECHOSTREAM_SERIES_POINT_MAX bytes.
 */
u_char *ngx_http_echostream_series_json_points(u_char *p, const int64_t *values,
                                               ngx_uint_t npoints, int64_t from,
                                               int64_t step);

#endif /* _NGX_HTTP_ECHOSTREAM_SERIES_JSON_H_INCLUDED_ */
