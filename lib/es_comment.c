/*
 * es_comment.c - helpers for the comment model (see es_comment.h).
 */
#include <string.h>

#include "es_comment.h"

int es_comment_body_is_deleted(const char *s, size_t n)
{
    static const char *const markers[] = {"[deleted]", "[removed]",
                                          "[ Removed by Reddit ]", NULL};

    for (const char *const *m = markers; *m; m++) {
        size_t len = strlen(*m);
        if (n == len && memcmp(s, *m, len) == 0) {
            return 1;
        }
    }
    return 0;
}
