/*
 * getaddrinfo and gethostbyname on gonetif's resolver. Go (gonetif/dns)
 * holds every rule: hints, services, numeric hosts, order, EAI_* codes.
 * This file checks pointers, waits for a lookup outside Go, and turns
 * Go's flat answer into the C structures.
 */
#define GONETIF_HOST_SOCKETS 1
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "gonetif_abi.h"
#include "port.h"

int gonetif_glue_init(void);

static struct addrinfo *new_entry(const struct gonetif_gai_entry *e)
{
    size_t salen = e->addrlen < sizeof(e->addr) ? e->addrlen : sizeof(e->addr);
    struct addrinfo *ai = calloc(1, sizeof(*ai) + salen);
    if (!ai) {
        return NULL;
    }
    ai->ai_family = e->family;
    ai->ai_socktype = e->socktype;
    ai->ai_protocol = e->protocol;
    ai->ai_addrlen = (socklen_t)salen;
    ai->ai_addr = (struct sockaddr *)(ai + 1);
    memcpy(ai->ai_addr, e->addr, salen);
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

int lwip_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res)
{
    if (!res) {
        return EAI_FAIL;
    }
    *res = NULL;
    if (gonetif_glue_init() != 0) {
        return EAI_SYSTEM;
    }
    struct gonetif_gai_wait *wait = NULL;
    int job = gonetif_gai_begin((char *)node, (char *)service, hints != NULL, hints ? hints->ai_flags : 0,
                                hints ? hints->ai_family : 0, hints ? hints->ai_socktype : 0,
                                hints ? hints->ai_protocol : 0, &wait);
    if (job < 0) {
        return job;
    }
    /* A name is being looked up; the resolver bounds the time itself. */
    while (wait && !__atomic_load_n(&wait->done, __ATOMIC_ACQUIRE)) {
        gonetif_port_wait(&wait->done, &wait->waiters, 0, 0);
    }
    struct gonetif_gai_entry *entries = NULL;
    char *canon = NULL;
    int n = gonetif_gai_result(job, &entries, &canon);
    if (n < 0) {
        return n;
    }
    int rc = 0;
    struct addrinfo **tail = res;
    for (int i = 0; i < n; i++) {
        if (!(*tail = new_entry(&entries[i]))) {
            rc = EAI_MEMORY;
            break;
        }
        tail = &(*tail)->ai_next;
    }
    if (!rc && canon && *res) {
        (*res)->ai_canonname = canon;
        canon = NULL;
    }
    free(entries);
    free(canon);
    if (rc) {
        lwip_freeaddrinfo(*res);
        *res = NULL;
    }
    return rc;
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
        int herr;
        int err = gonetif_host_error(rc, &herr);
        if (h_errnop) {
            *h_errnop = herr;
        }
        return err;
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
