/*
 * es_req_entry_id.c - stream entry ids (es_req_entry_id.h).
 */
#include "es_req_entry_id.h"

int es_req_entry_id_valid(const char *s, size_t n)
{
    size_t i, dash, digits;

    dash = 0;
    digits = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == '-') {
            if (dash || digits == 0) {
                return 0;
            }
            dash = 1;
            digits = 0;
            continue;
        }

        if (s[i] < '0' || s[i] > '9' || ++digits > 20) {
            return 0;
        }
    }

    return dash && digits > 0;
}
