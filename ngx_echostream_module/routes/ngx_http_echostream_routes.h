/*
 * ngx_http_echostream_routes.h - the route handlers of /api/v1, one group
 * per file (topics.c, series.c, comments.c, …), dispatched by the table in
 * ngx_http_echostream_routes.c. Each follows the contract of
 * ngx_http_echostream_api.h.
 */

#ifndef _NGX_HTTP_ECHOSTREAM_ROUTES_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_ROUTES_H_INCLUDED_

#include "api/ngx_http_echostream_api.h"
#include "api/ngx_http_echostream_items.h"

#define NGX_HTTP_ECHOSTREAM_ROUTE(name)                                        \
    void ngx_http_echostream_route_##name(ngx_http_echostream_api_ctx_t *ctx)

/* me.c */
NGX_HTTP_ECHOSTREAM_ROUTE(me);
NGX_HTTP_ECHOSTREAM_ROUTE(me_patch);

/*
 * The item kinds (api/ngx_http_echostream_items.h), each the descriptor
 * its file defines: ITEM_ROUTES (routes.c) gives it six routes.
 */
#define NGX_HTTP_ECHOSTREAM_ITEM_KIND(name)                                    \
    extern const ngx_http_echostream_item_kind_t ngx_http_echostream_item_##name

NGX_HTTP_ECHOSTREAM_ITEM_KIND(topics); /* topics.c */
NGX_HTTP_ECHOSTREAM_ITEM_KIND(rules);  /* alerts.c */

/* series.c, comments.c, terms.c */
NGX_HTTP_ECHOSTREAM_ROUTE(topic_series);
NGX_HTTP_ECHOSTREAM_ROUTE(topic_comments);
NGX_HTTP_ECHOSTREAM_ROUTE(topic_terms);

/* insights.c, usage.c */
NGX_HTTP_ECHOSTREAM_ROUTE(share_of_voice);
NGX_HTTP_ECHOSTREAM_ROUTE(usage);

/* settings.c, webhook_secret.c */
NGX_HTTP_ECHOSTREAM_ROUTE(settings_get);
NGX_HTTP_ECHOSTREAM_ROUTE(settings_patch);
NGX_HTTP_ECHOSTREAM_ROUTE(webhook_secret_get);
NGX_HTTP_ECHOSTREAM_ROUTE(webhook_secret_rotate);

/* summaries.c, summary_requests.c */
NGX_HTTP_ECHOSTREAM_ROUTE(summaries_list);
NGX_HTTP_ECHOSTREAM_ROUTE(summaries_get);
NGX_HTTP_ECHOSTREAM_ROUTE(summaries_request);
NGX_HTTP_ECHOSTREAM_ROUTE(summary_request_get);

/* alerts.c */
NGX_HTTP_ECHOSTREAM_ROUTE(alerts_get);
NGX_HTTP_ECHOSTREAM_ROUTE(alerts_history);

/* members.c */
NGX_HTTP_ECHOSTREAM_ROUTE(members_list);
NGX_HTTP_ECHOSTREAM_ROUTE(members_invite);
NGX_HTTP_ECHOSTREAM_ROUTE(members_remove);
NGX_HTTP_ECHOSTREAM_ROUTE(invites_remove);

/* invites.c */
NGX_HTTP_ECHOSTREAM_ROUTE(invites_list);
NGX_HTTP_ECHOSTREAM_ROUTE(invites_accept);
NGX_HTTP_ECHOSTREAM_ROUTE(invites_decline);

/* export.c */
NGX_HTTP_ECHOSTREAM_ROUTE(export_csv);

/* stream.c */
NGX_HTTP_ECHOSTREAM_ROUTE(stream);

/* unsubscribe.c */
NGX_HTTP_ECHOSTREAM_ROUTE(unsubscribe_page);
NGX_HTTP_ECHOSTREAM_ROUTE(unsubscribe);

#endif /* _NGX_HTTP_ECHOSTREAM_ROUTES_H_INCLUDED_ */
