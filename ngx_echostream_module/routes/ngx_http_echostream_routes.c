/*
 * ngx_http_echostream_routes.c - the route table of /api/v1.
 *
 * Patterns are matched segment by segment; "{…}" matches one id segment
 * ([A-Za-z0-9_-]{1,64}, or an e-mail address / user sub for the members
 * routes, checked by the handler). Literal segments win over parameters,
 * so "/alerts/rules" never reads as an alert id. A path that matches a
 * pattern with another method gets 405 with Allow; none at all, 404.
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
#define ROUTE(m, p, n, role, body, h)                                          \
    {                                                                          \
        m, p, n, role, body, ngx_http_echostream_route_##h                     \
    }

const ngx_http_echostream_route_t ngx_http_echostream_routes[] = {
    ROUTE(GET, "/me", "me", R, 0, me),

    ROUTE(GET, "/topics", "topics.list", R, 0, topics_list),
    ROUTE(POST, "/topics", "topics.create", O, 1, topics_create),
    ROUTE(GET, "/topics/{id}", "topics.get", R, 0, topics_get),
    ROUTE(PUT, "/topics/{id}", "topics.put", O, 1, topics_put),
    ROUTE(PATCH, "/topics/{id}", "topics.patch", O, 1, topics_patch),
    ROUTE(DELETE, "/topics/{id}", "topics.delete", O, 0, topics_delete),
    ROUTE(GET, "/topics/{id}/series", "topics.series", R, 0, topic_series),
    ROUTE(GET, "/topics/{id}/comments", "topics.comments", R, 0,
          topic_comments),
    ROUTE(GET, "/topics/{id}/terms", "topics.terms", R, 0, topic_terms),

    ROUTE(GET, "/share-of-voice", "share_of_voice", R, 0, share_of_voice),
    ROUTE(GET, "/usage", "usage", R, 0, usage),
    ROUTE(GET, "/settings", "settings.get", R, 0, settings_get),
    ROUTE(PATCH, "/settings", "settings.patch", O, 1, settings_patch),

    ROUTE(GET, "/summaries", "summaries.list", R, 0, summaries_list),
    ROUTE(POST, "/summaries", "summaries.request", O, 1, summaries_request),
    ROUTE(GET, "/summaries/{id}", "summaries.get", R, 0, summaries_get),

    ROUTE(GET, "/alerts", "alerts", R, 0, alerts_get),
    ROUTE(GET, "/alerts/rules", "alerts.rules.list", R, 0, rules_list),
    ROUTE(POST, "/alerts/rules", "alerts.rules.create", O, 1, rules_create),
    ROUTE(GET, "/alerts/rules/{id}", "alerts.rules.get", R, 0, rules_get),
    ROUTE(PUT, "/alerts/rules/{id}", "alerts.rules.put", O, 1, rules_put),
    ROUTE(PATCH, "/alerts/rules/{id}", "alerts.rules.patch", O, 1, rules_patch),
    ROUTE(DELETE, "/alerts/rules/{id}", "alerts.rules.delete", O, 0,
          rules_delete),
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
};

const ngx_uint_t ngx_http_echostream_nroutes =
    sizeof(ngx_http_echostream_routes) / sizeof(ngx_http_echostream_routes[0]);
