/*
 * es_webhook_addr.c - which addresses a webhook may reach
 * (es_webhook_addr_class in es_webhook.h).
 *
 * An allow-list would be wrong for IPv4 (public space has no single
 * prefix), so IPv4 is a deny-list of every special-purpose block of the
 * IANA registry (RFC 6890 and later) that is not globally reachable, and
 * IPv6 is the other way round: only global unicast (2000::/3) is
 * considered at all, minus its special blocks, after unwrapping the forms
 * that carry an IPv4 address a host would end up connecting to (mapped,
 * translated, NAT64 well-known prefix, 6to4). A wrapped address is judged
 * by its IPv4 address, so [::ffff:127.0.0.1] is loopback like 127.0.0.1.
 * Teredo is refused whole: its client address is obfuscated and its use
 * as a webhook host is nil.
 */
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "es_webhook.h"

/* the classes of IPv4 space, in the order of the names below */
enum {
    C_UNSPECIFIED,
    C_PRIVATE,
    C_CGNAT,
    C_LOOPBACK,
    C_LINK_LOCAL,
    C_RESERVED,
    C_DOCUMENTATION,
    C_BENCHMARKING,
    C_MULTICAST,
    C_BROADCAST,
    C_COUNT
};

#define ES_CLASS_NAMES(how)                                                    \
    {                                                                          \
        how "unspecified", how "private", how "cgnat", how "loopback",         \
            how "link-local", how "reserved", how "documentation",             \
            how "benchmarking", how "multicast", how "broadcast"               \
    }

/* the wrappings an IPv4 address can come in, in the order of names[] */
enum { W_NONE, W_MAPPED, W_TRANSLATED, W_NAT64, W_6TO4 };

static const char *const names[][C_COUNT] = {
    ES_CLASS_NAMES(""),
    ES_CLASS_NAMES("ipv4-mapped "),
    ES_CLASS_NAMES("ipv4-translated "),
    ES_CLASS_NAMES("nat64 "),
    ES_CLASS_NAMES("6to4 "),
};

typedef struct {
    unsigned char net[4];
    int len;
    int cls;
} v4_block;

static const v4_block v4_refused[] = {
    {{0, 0, 0, 0}, 8, C_UNSPECIFIED},         /* "this network" */
    {{10, 0, 0, 0}, 8, C_PRIVATE},            /* RFC 1918 */
    {{100, 64, 0, 0}, 10, C_CGNAT},           /* RFC 6598 shared space */
    {{127, 0, 0, 0}, 8, C_LOOPBACK},          /* RFC 1122 */
    {{169, 254, 0, 0}, 16, C_LINK_LOCAL},     /* incl. 169.254.169.254 */
    {{172, 16, 0, 0}, 12, C_PRIVATE},         /* RFC 1918 */
    {{192, 0, 0, 0}, 24, C_RESERVED},         /* IETF protocol assignments */
    {{192, 0, 2, 0}, 24, C_DOCUMENTATION},    /* TEST-NET-1 */
    {{192, 31, 196, 0}, 24, C_RESERVED},      /* AS112 */
    {{192, 52, 193, 0}, 24, C_RESERVED},      /* AMT */
    {{192, 88, 99, 0}, 24, C_RESERVED},       /* 6to4 relay anycast */
    {{192, 168, 0, 0}, 16, C_PRIVATE},        /* RFC 1918 */
    {{192, 175, 48, 0}, 24, C_RESERVED},      /* direct delegation AS112 */
    {{198, 18, 0, 0}, 15, C_BENCHMARKING},    /* RFC 2544 */
    {{198, 51, 100, 0}, 24, C_DOCUMENTATION}, /* TEST-NET-2 */
    {{203, 0, 113, 0}, 24, C_DOCUMENTATION},  /* TEST-NET-3 */
    {{224, 0, 0, 0}, 4, C_MULTICAST},
    {{240, 0, 0, 0}, 4, C_RESERVED}, /* class E; the broadcast is apart */
};

static unsigned long v4_value(const unsigned char *a)
{
    return ((unsigned long)a[0] << 24) | ((unsigned long)a[1] << 16) |
           ((unsigned long)a[2] << 8) | a[3];
}

/* the class of an IPv4 address, or -1 when it is public */
static int v4_class(const unsigned char *a)
{
    unsigned long x = v4_value(a);

    if (x == 0xffffffffUL) {
        return C_BROADCAST;
    }
    for (size_t i = 0; i < sizeof(v4_refused) / sizeof(v4_refused[0]); i++) {
        int len = v4_refused[i].len;
        unsigned long mask = (0xffffffffUL << (32 - len)) & 0xffffffffUL;

        if ((x & mask) == (v4_value(v4_refused[i].net) & mask)) {
            return v4_refused[i].cls;
        }
    }
    return -1;
}

/* the name for an IPv4 address in a wrapping, or NULL when public */
static const char *wrapped(const unsigned char *v4, int how)
{
    int c = v4_class(v4);

    return c < 0 ? NULL : names[how][c];
}

static int zero(const unsigned char *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i] != 0) {
            return 0;
        }
    }
    return 1;
}

static const char *v6_class(const unsigned char *a)
{
    static const unsigned char nat64[12] = {0x00, 0x64, 0xff, 0x9b};
    static const unsigned char nat64_local[6] = {0x00, 0x64, 0xff,
                                                 0x9b, 0x00, 0x01};

    if (zero(a, 10)) {
        if (a[10] == 0xff && a[11] == 0xff) {
            return wrapped(a + 12, W_MAPPED); /* ::ffff:a.b.c.d */
        }
        if (a[10] == 0 && a[11] == 0) {
            if (zero(a + 12, 3) && a[15] <= 1) {
                return a[15] ? "loopback" : "unspecified"; /* ::1, :: */
            }
            return "ipv4-compatible"; /* ::a.b.c.d, deprecated */
        }
    }
    if (zero(a, 8) && a[8] == 0xff && a[9] == 0xff && a[10] == 0 &&
        a[11] == 0) {
        return wrapped(a + 12, W_TRANSLATED); /* ::ffff:0:a.b.c.d */
    }
    if (memcmp(a, nat64, 12) == 0) {
        return wrapped(a + 12, W_NAT64); /* 64:ff9b::a.b.c.d */
    }
    if (memcmp(a, nat64_local, 6) == 0) {
        return "reserved"; /* 64:ff9b:1::/48, a local translator */
    }
    if (a[0] == 0x20 && a[1] == 0x02) {
        return wrapped(a + 2, W_6TO4); /* 2002:AABB:CCDD::/48 */
    }
    if (a[0] == 0xff) {
        return "multicast";
    }
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) {
        return "link-local"; /* fe80::/10 */
    }
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) {
        return "private"; /* fec0::/10, the old site-local */
    }
    if ((a[0] & 0xfe) == 0xfc) {
        return "private"; /* fc00::/7 unique local, incl. fd00:ec2::254 */
    }
    if ((a[0] & 0xe0) != 0x20) {
        return "reserved"; /* outside 2000::/3, the global unicast */
    }
    if (a[0] == 0x20 && a[1] == 0x01) {
        if (a[2] == 0 && a[3] == 0) {
            return "teredo"; /* 2001::/32 */
        }
        if (a[2] == 0x0d && a[3] == 0xb8) {
            return "documentation"; /* 2001:db8::/32 */
        }
        if (a[2] == 0 && a[3] == 2 && a[4] == 0 && a[5] == 0) {
            return "benchmarking"; /* 2001:2::/48 */
        }
        if (a[2] < 0x02) {
            return "reserved"; /* rest of 2001::/23, IETF assignments */
        }
    }
    if (a[0] == 0x3f && a[1] == 0xff && (a[2] & 0xf0) == 0) {
        return "documentation"; /* 3fff::/20 */
    }
    return NULL;
}

const char *es_webhook_addr_class(int family, const unsigned char *addr)
{
    if (family == AF_INET) {
        return wrapped(addr, W_NONE);
    }
    if (family == AF_INET6) {
        return v6_class(addr);
    }
    return "reserved";
}
