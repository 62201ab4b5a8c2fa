/*
 * getaddrinfo and gethostbyname on gonetif's resolver. Numeric hosts,
 * services and the addrinfo list are handled here; names go to the Go
 * resolver, and this thread waits on an eventfd (not inside Go) until the
 * lookup is done.
 */
#define GONETIF_HOST_SOCKETS 1
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "esp_log.h"
#include "gonetif_abi.h"

int gonetif_glue_init(void);

#define MAX_ADDRS 16

struct found {
    int n;
    int fam[MAX_ADDRS];
    uint8_t addr[MAX_ADDRS][16];
    uint32_t scope[MAX_ADDRS];
    char canon[256];
};

static void add_addr(struct found *f, int fam, const void *a, uint32_t scope)
{
    if (f->n < MAX_ADDRS) {
        f->fam[f->n] = fam;
        memcpy(f->addr[f->n], a, fam == AF_INET ? 4 : 16);
        f->scope[f->n] = scope;
        f->n++;
    }
}

/* Numeric IPv4 (inet_aton forms too, as glibc) or IPv6 (with %scope).
 * 1 if numeric, 0 if not, an EAI code if numeric of the wrong family. */
static int numeric_host(const char *node, int family, struct found *f)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_aton(node, &a4)) {
        if (family == AF_INET6) {
            return EAI_ADDRFAMILY;
        }
        add_addr(f, AF_INET, &a4, 0);
        return 1;
    }
    char buf[64];
    const char *pct = strchr(node, '%');
    size_t len = pct ? (size_t)(pct - node) : strlen(node);
    if (len >= sizeof(buf)) {
        return 0;
    }
    memcpy(buf, node, len);
    buf[len] = 0;
    if (inet_pton(AF_INET6, buf, &a6) == 1) {
        if (family == AF_INET) {
            return EAI_ADDRFAMILY;
        }
        uint32_t scope = 0;
        if (pct) {
            char *end;
            unsigned long v = strtoul(pct + 1, &end, 10);
            if (*end || end == pct + 1) {
                return EAI_NONAME; /* interface names: our indexes are numbers */
            }
            scope = (uint32_t)v;
        }
        add_addr(f, AF_INET6, &a6, scope);
        return 1;
    }
    return 0;
}

/* Lookup through the Go resolver; returns 0 or an EAI code. */
static int resolve(const char *node, int family, struct found *f)
{
    if (gonetif_glue_init() != 0) {
        return EAI_SYSTEM;
    }
    int efd = eventfd(0, EFD_CLOEXEC);
    if (efd < 0) {
        return EAI_SYSTEM;
    }
    int fam = family == AF_INET ? 4 : family == AF_INET6 ? 6 : 0;
    int job = gonetif_dns_lookup_start((char *)node, fam, efd);
    if (job < 0) {
        close(efd);
        return job;
    }
    /* The resolver bounds the lookup itself (timeouts × servers). Close
     * efd only once Go has written it, or the number could be reused under
     * Go's feet. If someone else closed it (POLLNVAL), give the lookup up:
     * Go is told not to write, and the caller gets EAI_SYSTEM. */
    struct pollfd p = {.fd = efd, .events = POLLIN};
    for (;;) {
        int r = poll(&p, 1, -1);
        if (r > 0 && (p.revents & POLLIN)) {
            break;
        }
        if ((r > 0 && (p.revents & (POLLNVAL | POLLERR))) || (r < 0 && errno != EINTR)) {
            gonetif_dns_lookup_abandon(job);
            ESP_LOGE("netdb", "getaddrinfo(%s): its wake-up descriptor %d was closed by someone else", node, efd);
            errno = EBADF;
            return EAI_SYSTEM;
        }
    }
    close(efd);
    int fams[MAX_ADDRS];
    uint8_t addrs[MAX_ADDRS][16];
    int n = gonetif_dns_lookup_result(job, &addrs[0][0], fams, MAX_ADDRS, f->canon, sizeof(f->canon));
    if (n < 0) {
        return n;
    }
    for (int i = 0; i < n; i++) {
        add_addr(f, fams[i] == 4 ? AF_INET : AF_INET6, addrs[i], 0);
    }
    return n ? 0 : EAI_NONAME;
}

static int port_of(const char *service, int socktype, int flags, int *port)
{
    *port = 0;
    if (!service) {
        return 0;
    }
    char *end;
    unsigned long v = strtoul(service, &end, 10);
    if (*service && !*end) {
        if (v > 65535) {
            return EAI_SERVICE;
        }
        *port = (int)v;
        return 0;
    }
    if (flags & AI_NUMERICSERV) {
        return EAI_NONAME;
    }
    struct servent se, *r = NULL;
    char buf[1024];
    const char *proto = socktype == SOCK_DGRAM ? "udp" : "tcp";
    if (getservbyname_r(service, proto, &se, buf, sizeof(buf), &r) != 0 || !r) {
        return EAI_SERVICE;
    }
    *port = ntohs((uint16_t)r->s_port);
    return 0;
}

static struct addrinfo *new_entry(int fam, const uint8_t *a, uint32_t scope, int port, int socktype, int protocol)
{
    size_t salen = fam == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    struct addrinfo *ai = calloc(1, sizeof(*ai) + salen);
    if (!ai) {
        return NULL;
    }
    ai->ai_family = fam;
    ai->ai_socktype = socktype;
    ai->ai_protocol = socktype == SOCK_STREAM ? IPPROTO_TCP : socktype == SOCK_DGRAM ? IPPROTO_UDP : protocol;
    ai->ai_addrlen = (socklen_t)salen;
    ai->ai_addr = (struct sockaddr *)(ai + 1);
    if (fam == AF_INET) {
        struct sockaddr_in *s = (struct sockaddr_in *)ai->ai_addr;
        s->sin_family = AF_INET;
        s->sin_port = htons((uint16_t)port);
        memcpy(&s->sin_addr, a, 4);
    } else {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)ai->ai_addr;
        s->sin6_family = AF_INET6;
        s->sin6_port = htons((uint16_t)port);
        memcpy(&s->sin6_addr, a, 16);
        s->sin6_scope_id = scope;
    }
    return ai;
}

void lwip_freeaddrinfo(struct addrinfo *ai)
{
    while (ai) {
        struct addrinfo *next = ai->ai_next;
        free(ai->ai_canonname);
        free(ai);
        ai = next;
    }
}

#define KNOWN_FLAGS (AI_PASSIVE | AI_CANONNAME | AI_NUMERICHOST | AI_NUMERICSERV | AI_V4MAPPED | AI_ALL | AI_ADDRCONFIG)

int lwip_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res)
{
    if (!res) {
        return EAI_FAIL;
    }
    *res = NULL;
    struct addrinfo h = {.ai_family = AF_UNSPEC};
    if (hints) {
        h = *hints;
    }
    if (h.ai_flags & ~KNOWN_FLAGS) {
        return EAI_BADFLAGS;
    }
    if (!node && !service) {
        return EAI_NONAME;
    }
    if ((h.ai_flags & AI_CANONNAME) && !node) {
        return EAI_BADFLAGS;
    }
    if (h.ai_family != AF_UNSPEC && h.ai_family != AF_INET && h.ai_family != AF_INET6) {
        return EAI_FAMILY;
    }
    if (h.ai_socktype != 0 && h.ai_socktype != SOCK_STREAM && h.ai_socktype != SOCK_DGRAM &&
        h.ai_socktype != SOCK_RAW) {
        return EAI_SOCKTYPE;
    }
    if (h.ai_socktype == SOCK_RAW && service) {
        return EAI_SERVICE;
    }
    int port, rc = port_of(service, h.ai_socktype, h.ai_flags, &port);
    if (rc) {
        return rc;
    }
    struct found *f = calloc(1, sizeof(*f));
    if (!f) {
        return EAI_MEMORY;
    }
    if (!node) {
        /* No host: the wildcard to bind to, or loopback to connect to;
         * IPv4 first, as glibc orders them. */
        int passive = h.ai_flags & AI_PASSIVE;
        struct in_addr a4 = {.s_addr = htonl(passive ? INADDR_ANY : INADDR_LOOPBACK)};
        if (h.ai_family != AF_INET6) {
            add_addr(f, AF_INET, &a4, 0);
        }
        if (h.ai_family != AF_INET) {
            add_addr(f, AF_INET6, passive ? &in6addr_any : &in6addr_loopback, 0);
        }
    } else if ((rc = numeric_host(node, h.ai_family, f)) == 1) {
        rc = 0;
        snprintf(f->canon, sizeof(f->canon), "%s", node);
    } else if (rc == 0 && (h.ai_flags & AI_NUMERICHOST)) {
        rc = EAI_NONAME;
    } else if (rc == 0 && !strcasecmp(node, "localhost")) {
        struct in_addr lo = {.s_addr = htonl(INADDR_LOOPBACK)};
        if (h.ai_family != AF_INET6) {
            add_addr(f, AF_INET, &lo, 0);
        }
        if (h.ai_family != AF_INET) {
            add_addr(f, AF_INET6, &in6addr_loopback, 0);
        }
        snprintf(f->canon, sizeof(f->canon), "localhost");
    } else if (rc == 0) {
        rc = resolve(node, h.ai_family, f);
    }
    if (rc) {
        free(f);
        return rc;
    }
    int types[3], ntypes = 0;
    if (h.ai_socktype) {
        types[ntypes++] = h.ai_socktype;
    } else {
        types[ntypes++] = SOCK_STREAM;
        types[ntypes++] = SOCK_DGRAM;
        if (!service) {
            types[ntypes++] = SOCK_RAW;
        }
    }
    struct addrinfo **tail = res;
    for (int i = 0; i < f->n; i++) {
        for (int t = 0; t < ntypes; t++) {
            struct addrinfo *ai = new_entry(f->fam[i], f->addr[i], f->scope[i], port, types[t], h.ai_protocol);
            if (!ai) {
                lwip_freeaddrinfo(*res);
                *res = NULL;
                free(f);
                return EAI_MEMORY;
            }
            *tail = ai;
            tail = &ai->ai_next;
        }
    }
    if ((h.ai_flags & AI_CANONNAME) && *res) {
        (*res)->ai_canonname = strdup(f->canon[0] ? f->canon : node);
    }
    free(f);
    return 0;
}

const char *lwip_gai_strerror(int errcode)
{
    return gai_strerror(errcode); /* same codes as the host's */
}

int lwip_gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t buflen, struct hostent **result,
                         int *h_errnop)
{
    if (result) {
        *result = NULL;
    }
    if (!name || !ret || !buf || !result) {
        if (h_errnop) {
            *h_errnop = NO_RECOVERY;
        }
        return EINVAL;
    }
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM, .ai_flags = AI_CANONNAME}, *ai;
    int rc = lwip_getaddrinfo(name, NULL, &hints, &ai);
    if (rc) {
        if (h_errnop) {
            *h_errnop = rc == EAI_AGAIN ? TRY_AGAIN : rc == EAI_NODATA ? NO_DATA : HOST_NOT_FOUND;
        }
        return rc == EAI_AGAIN ? EAGAIN : ENOENT;
    }
    int n = 0;
    for (struct addrinfo *p = ai; p; p = p->ai_next) {
        n++;
    }
    /* Layout in buf: pointer arrays, then addresses, then the name. */
    const char *canon = ai->ai_canonname ? ai->ai_canonname : name;
    size_t ptrs = sizeof(char *) * (size_t)(n + 1 + 1), need = ptrs + 4 * (size_t)n + strlen(canon) + 1 + 8;
    if (buflen < need) {
        lwip_freeaddrinfo(ai);
        if (h_errnop) {
            *h_errnop = NETDB_INTERNAL;
        }
        return ERANGE;
    }
    char *p = buf + ((8 - ((uintptr_t)buf & 7)) & 7);
    char **addr_list = (char **)p, **aliases = addr_list + n + 1;
    char *addrs = (char *)(aliases + 1), *hname = addrs + 4 * n;
    int i = 0;
    for (struct addrinfo *q = ai; q; q = q->ai_next, i++) {
        memcpy(addrs + 4 * i, &((struct sockaddr_in *)q->ai_addr)->sin_addr, 4);
        addr_list[i] = addrs + 4 * i;
    }
    addr_list[n] = NULL;
    aliases[0] = NULL;
    strcpy(hname, canon);
    lwip_freeaddrinfo(ai);
    *ret = (struct hostent){.h_name = hname, .h_aliases = aliases, .h_addrtype = AF_INET, .h_length = 4,
                            .h_addr_list = addr_list};
    *result = ret;
    if (h_errnop) {
        *h_errnop = 0;
    }
    return 0;
}

struct hostent *lwip_gethostbyname(const char *name)
{
    static __thread struct hostent he;
    static __thread char buf[1024];
    struct hostent *r = NULL;
    int err = 0;
    lwip_gethostbyname_r(name, &he, buf, sizeof(buf), &r, &err);
    h_errno = err;
    return r;
}
