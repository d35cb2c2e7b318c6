/*
 * ngx_http_echostream_routes.c - the route table of /api/v1.
 *
 * Patterns are matched segment by segment; "{…}" matches one id segment
 * ([A-Za-z0-9_-]{1,64}, or an e-mail address / user sub for the members
 * routes, checked by the handler). Literal segments win over parameters,
 * so "/alerts/rules" never reads as an alert id. A path that matches a
 * pattern with another method gets 405 with Allow; none at all, 404.
 *
 * Roles: N open to a user without a tenant, R any member, O owners, P
 * public (no token at all: the request proves itself). Bodies: 0 none,
 * 1 a JSON object, RAW as sent (the route reads it).
 */

#include "routes/ngx_http_echostream_routes.h"

#define GET    NGX_HTTP_GET
#define POST   NGX_HTTP_POST
#define PUT    NGX_HTTP_PUT
#define PATCH  NGX_HTTP_PATCH
#define DELETE NGX_HTTP_DELETE
#define N      NGX_HTTP_ECHOSTREAM_ROLE_NONE
#define R      NGX_HTTP_ECHOSTREAM_ROLE_MEMBER
#define O      NGX_HTTP_ECHOSTREAM_ROLE_OWNER
#define P      NGX_HTTP_ECHOSTREAM_ROLE_PUBLIC
#define RAW    NGX_HTTP_ECHOSTREAM_BODY_RAW
#define ROUTE(m, p, n, role, body, h)                                          \
    {                                                                          \
        m, p, n, role, body, ngx_http_echostream_route_##h, NULL               \
    }
/* the six routes of an item kind: members read, owners write */
#define ITEM(m, p, n, role, body, h, kind)                                     \
    {                                                                          \
        m, p, n, role, body, ngx_http_echostream_item_##h,                     \
            &ngx_http_echostream_item_##kind                                   \
    }
#define ITEM_ROUTES(p, n, kind)                                                \
    ITEM(GET, p, n ".list", R, 0, list, kind),                                 \
        ITEM(POST, p, n ".create", O, 1, create, kind),                        \
        ITEM(GET, p "/{id}", n ".get", R, 0, get, kind),                       \
        ITEM(PUT, p "/{id}", n ".put", O, 1, put, kind),                       \
        ITEM(PATCH, p "/{id}", n ".patch", O, 1, patch, kind),                 \
        ITEM(DELETE, p "/{id}", n ".delete", O, 0, delete, kind)

const ngx_http_echostream_route_t ngx_http_echostream_routes[] = {
    ROUTE(GET, "/me", "me", R, 0, me),
    /* the caller's own mail opt-ins */
    ROUTE(PATCH, "/me", "me.patch", R, 1, me_patch),

    ITEM_ROUTES("/topics", "topics", topics),
    ROUTE(GET, "/topics/{id}/series", "topics.series", R, 0, topic_series),
    ROUTE(GET, "/topics/{id}/comments", "topics.comments", R, 0,
          topic_comments),
    ROUTE(GET, "/topics/{id}/terms", "topics.terms", R, 0, topic_terms),

    ROUTE(GET, "/share-of-voice", "share_of_voice", R, 0, share_of_voice),
    ROUTE(GET, "/usage", "usage", R, 0, usage),
    ROUTE(GET, "/settings", "settings.get", R, 0, settings_get),
    ROUTE(PATCH, "/settings", "settings.patch", O, 1, settings_patch),
    ROUTE(GET, "/settings/webhook-secret", "settings.webhook_secret", O, 0,
          webhook_secret_get),
    ROUTE(POST, "/settings/webhook-secret", "settings.webhook_secret.rotate", O,
          0, webhook_secret_rotate),

    ROUTE(GET, "/summaries", "summaries.list", R, 0, summaries_list),
    ROUTE(POST, "/summaries", "summaries.request", O, 1, summaries_request),
    ROUTE(GET, "/summaries/{id}", "summaries.get", R, 0, summaries_get),
    ROUTE(GET, "/summaries/requests/{id}", "summaries.requests.get", R, 0,
          summary_request_get),

    ROUTE(GET, "/alerts", "alerts", R, 0, alerts_get),
    ITEM_ROUTES("/alerts/rules", "alerts.rules", rules),
    ROUTE(GET, "/alerts/history", "alerts.history", R, 0, alerts_history),

    ROUTE(GET, "/members", "members.list", R, 0, members_list),
    ROUTE(POST, "/members", "members.invite", O, 1, members_invite),
    ROUTE(DELETE, "/members/invites/{email}", "members.invites.delete", O, 0,
          invites_remove),
    /* a member may remove themself (leave): the handler checks */
    ROUTE(DELETE, "/members/{sub}", "members.delete", R, 0, members_remove),

    /* open to a user without a tenant too: the way back in */
    ROUTE(GET, "/invites", "invites.list", N, 0, invites_list),
    ROUTE(POST, "/invites/{id}/accept", "invites.accept", N, 1, invites_accept),
    ROUTE(POST, "/invites/{id}/decline", "invites.decline", N, 0,
          invites_decline),

    ROUTE(GET, "/export.csv", "export", R, 0, export_csv),
    ROUTE(GET, "/stream", "stream", R, 0, stream),

    /* the link in a mail: no token, its signature is the proof */
    ROUTE(GET, "/unsubscribe", "unsubscribe.page", P, 0, unsubscribe_page),
    ROUTE(POST, "/unsubscribe", "unsubscribe", P, RAW, unsubscribe),
};

const ngx_uint_t ngx_http_echostream_nroutes =
    sizeof(ngx_http_echostream_routes) / sizeof(ngx_http_echostream_routes[0]);
