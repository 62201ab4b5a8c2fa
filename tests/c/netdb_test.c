/*
 * getaddrinfo & co without a network: numeric hosts and services, the
 * wildcard and loopback for a NULL host, socket type expansion, flags and
 * bad arguments (glibc's EAI_* values), gethostbyname_r's buffer check.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>

#include "check.h"
#include <string.h>
#include <sys/socket.h>


static int count(struct addrinfo *ai)
{
    int n = 0;
    for (; ai; ai = ai->ai_next) {
        n++;
    }
    return n;
}

static const char *text(struct addrinfo *ai, char *buf)
{
    const void *a = ai->ai_family == AF_INET ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                                             : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
    return inet_ntop(ai->ai_family, a, buf, INET6_ADDRSTRLEN);
}

int main(void)
{
    struct addrinfo *res = NULL, hints;
    char buf[INET6_ADDRSTRLEN];

    /* Numeric IPv4, service number, one socket type. */
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_CANONNAME;
    CHECK(getaddrinfo("192.168.5.7", "3333", &hints, &res) == 0);
    CHECK(res && count(res) == 1 && res->ai_family == AF_INET && res->ai_protocol == IPPROTO_TCP);
    CHECK(res && !strcmp(text(res, buf), "192.168.5.7") &&
          ntohs(((struct sockaddr_in *)res->ai_addr)->sin_port) == 3333);
    CHECK(res && res->ai_canonname && !strcmp(res->ai_canonname, "192.168.5.7"));
    freeaddrinfo(res);

    /* IPv6 with a scope; no socket type: stream, datagram and raw, as
     * glibc answers a numeric service. */
    memset(&hints, 0, sizeof(hints));
    CHECK(getaddrinfo("fe80::1%2", "53", &hints, &res) == 0);
    CHECK(res && count(res) == 3 && res->ai_family == AF_INET6 &&
          ((struct sockaddr_in6 *)res->ai_addr)->sin6_scope_id == 2);
    CHECK(res && res->ai_socktype == SOCK_STREAM && res->ai_next->ai_socktype == SOCK_DGRAM &&
          res->ai_next->ai_next->ai_socktype == SOCK_RAW);
    freeaddrinfo(res);

    /* NULL host: the wildcard with AI_PASSIVE (0.0.0.0 first, as glibc orders it), else loopback. */
    hints.ai_flags = AI_PASSIVE;
    hints.ai_socktype = SOCK_DGRAM;
    CHECK(getaddrinfo(NULL, "68", &hints, &res) == 0);
    CHECK(res && count(res) == 2 && !strcmp(text(res, buf), "0.0.0.0") && !strcmp(text(res->ai_next, buf), "::"));
    freeaddrinfo(res);
    hints.ai_flags = 0;
    hints.ai_family = AF_INET6;
    CHECK(getaddrinfo(NULL, "68", &hints, &res) == 0);
    CHECK(res && count(res) == 1 && !strcmp(text(res, buf), "::1"));
    freeaddrinfo(res);

    /* Named service from /etc/services, when the host has one. */
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo("10.0.0.1", "http", &hints, &res);
    CHECK(rc == 0 || rc == EAI_SERVICE);
    if (rc == 0) {
        CHECK(ntohs(((struct sockaddr_in *)res->ai_addr)->sin_port) == 80);
        freeaddrinfo(res);
    }

    /* Errors. */
    memset(&hints, 0, sizeof(hints));
    CHECK(getaddrinfo(NULL, NULL, &hints, &res) == EAI_NONAME);
    hints.ai_flags = AI_NUMERICHOST;
    CHECK(getaddrinfo("not.numeric", NULL, &hints, &res) == EAI_NONAME);
    hints.ai_flags = AI_NUMERICSERV;
    CHECK(getaddrinfo("10.0.0.1", "http", &hints, &res) == EAI_NONAME);
    hints.ai_flags = 0x4000000;
    CHECK(getaddrinfo("10.0.0.1", NULL, &hints, &res) == EAI_BADFLAGS);
    hints.ai_flags = AI_CANONNAME;
    CHECK(getaddrinfo(NULL, "80", &hints, &res) == EAI_BADFLAGS);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNIX;
    CHECK(getaddrinfo("10.0.0.1", NULL, &hints, &res) == EAI_FAMILY);
    hints.ai_family = AF_INET6;
    CHECK(getaddrinfo("10.0.0.1", NULL, &hints, &res) == EAI_ADDRFAMILY);
    hints.ai_family = 0;
    hints.ai_socktype = 99;
    CHECK(getaddrinfo("10.0.0.1", NULL, &hints, &res) == EAI_SOCKTYPE);
    hints.ai_socktype = 0;
    /* glibc keeps a numeric service in 16 bits (70000 is port 4464) and
     * refuses a negative one. */
    hints.ai_socktype = SOCK_DGRAM;
    CHECK(getaddrinfo("10.0.0.1", "70000", &hints, &res) == 0);
    CHECK(res && ntohs(((struct sockaddr_in *)res->ai_addr)->sin_port) == 4464);
    freeaddrinfo(res);
    CHECK(getaddrinfo("10.0.0.1", "-1", &hints, &res) == EAI_SERVICE);
    hints.ai_socktype = 0;
    CHECK(getaddrinfo("10.0.0.1", NULL, &hints, NULL) == EAI_FAIL);
    /* No DNS server configured: a name cannot be resolved (try again). */
    CHECK(getaddrinfo("example.test", NULL, &hints, &res) == EAI_AGAIN);
    CHECK(!strcmp(gai_strerror(EAI_NONAME), "Name or service not known"));
    freeaddrinfo(NULL);

    /* gethostbyname(_r) on numeric names. */
    struct hostent he, *r = NULL;
    char small[8], big[256];
    int herr = 0;
    CHECK(gethostbyname_r("10.1.2.3", &he, small, sizeof(small), &r, &herr) == ERANGE && !r);
    CHECK(gethostbyname_r("10.1.2.3", &he, big, sizeof(big), &r, &herr) == 0 && r == &he);
    CHECK(r && r->h_addrtype == AF_INET && r->h_length == 4 && r->h_addr_list[0] && !r->h_addr_list[1] &&
          !strcmp(inet_ntop(AF_INET, r->h_addr_list[0], buf, sizeof(buf)), "10.1.2.3"));
    /* No DNS server: h_errno TRY_AGAIN and EAGAIN, as glibc. */
    CHECK(gethostbyname_r("example.test", &he, big, sizeof(big), &r, &herr) == EAGAIN && !r && herr == TRY_AGAIN);
    struct hostent *h = gethostbyname("localhost");
    CHECK(h && !strcmp(inet_ntop(AF_INET, h->h_addr_list[0], buf, sizeof(buf)), "127.0.0.1"));

    return check_summary("netdb");
}
