/*
 * ngx_http_echostream_export_csv.h - one comment as a row of /export.csv.
 *
 * Apart from export.c, which pages through Redis and streams the file:
 * this is only the text format (RFC 4180 quoting, the spreadsheet formula
 * guard, numbers), printed into a buffer the caller sized with _bound(),
 * so a page's rows cost one allocation.
 */

#ifndef _NGX_HTTP_ECHOSTREAM_EXPORT_CSV_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_EXPORT_CSV_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>

#include <jansson.h>

/* the header row, the columns of every row below */
#define NGX_HTTP_ECHOSTREAM_EXPORT_HEADER                                      \
    "id,created_utc,subreddit,author,label,compound,pos,neg,neu,engine,"       \
    "score,permalink,body\r\n"

/* At least the bytes ngx_http_echostream_export_csv_row() writes for c. */
size_t ngx_http_echostream_export_csv_bound(json_t *c);

/*
 * Writes the CSV row (CRLF-terminated) of comment object c (borrowed; see
 * comment_json.h) at p; returns the end.
 */
u_char *ngx_http_echostream_export_csv_row(u_char *p, json_t *c);

#endif /* _NGX_HTTP_ECHOSTREAM_EXPORT_CSV_H_INCLUDED_ */
