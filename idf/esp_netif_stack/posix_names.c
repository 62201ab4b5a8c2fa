/*
 * The BSD socket and resolver names at link level. IDF code that includes
 * only the host's <sys/socket.h> or <netdb.h> (IDF's tcp_client does) calls
 * socket(), connect(), getaddrinfo() ... by their plain names: these
 * definitions take them to gonetif, which passes any descriptor that is not
 * its own on to the kernel. read/write/close/select/poll come from fdio.c.
 */
#define GONETIF_HOST_SOCKETS 1
#include <netdb.h>
#include <sys/select.h>

#include "lwip/sockets.h"

int lwip_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res);
void lwip_freeaddrinfo(struct addrinfo *ai);
const char *lwip_gai_strerror(int errcode);
struct hostent *lwip_gethostbyname(const char *name);
int lwip_gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t buflen, struct hostent **result,
                         int *h_errnop);

int socket(int domain, int type, int protocol) { return lwip_socket(domain, type, protocol); }
int bind(int s, const struct sockaddr *a, socklen_t l) { return lwip_bind(s, a, l); }
int listen(int s, int backlog) { return lwip_listen(s, backlog); }
int accept(int s, struct sockaddr *a, socklen_t *l) { return lwip_accept(s, a, l); }
int accept4(int s, struct sockaddr *a, socklen_t *l, int flags) { return lwip_accept4(s, a, l, flags); }
int connect(int s, const struct sockaddr *a, socklen_t l) { return lwip_connect(s, a, l); }
int shutdown(int s, int how) { return lwip_shutdown(s, how); }
int getsockname(int s, struct sockaddr *a, socklen_t *l) { return lwip_getsockname(s, a, l); }
int getpeername(int s, struct sockaddr *a, socklen_t *l) { return lwip_getpeername(s, a, l); }
int getsockopt(int s, int level, int name, void *v, socklen_t *l) { return lwip_getsockopt(s, level, name, v, l); }
int setsockopt(int s, int level, int name, const void *v, socklen_t l)
{
    return lwip_setsockopt(s, level, name, v, l);
}
ssize_t send(int s, const void *b, size_t n, int flags) { return lwip_send(s, b, n, flags); }
ssize_t sendto(int s, const void *b, size_t n, int flags, const struct sockaddr *to, socklen_t tl)
{
    return lwip_sendto(s, b, n, flags, to, tl);
}
ssize_t sendmsg(int s, const struct msghdr *m, int flags) { return lwip_sendmsg(s, m, flags); }
ssize_t recv(int s, void *b, size_t n, int flags) { return lwip_recv(s, b, n, flags); }
ssize_t recvfrom(int s, void *b, size_t n, int flags, struct sockaddr *from, socklen_t *fl)
{
    return lwip_recvfrom(s, b, n, flags, from, fl);
}
ssize_t recvmsg(int s, struct msghdr *m, int flags) { return lwip_recvmsg(s, m, flags); }

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res)
{
    return lwip_getaddrinfo(node, service, hints, res);
}
void freeaddrinfo(struct addrinfo *ai) { lwip_freeaddrinfo(ai); }
const char *gai_strerror(int errcode) { return lwip_gai_strerror(errcode); }
struct hostent *gethostbyname(const char *name) { return lwip_gethostbyname(name); }
int gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t buflen, struct hostent **result,
                    int *h_errnop)
{
    return lwip_gethostbyname_r(name, ret, buf, buflen, result, h_errnop);
}

#ifdef GONETIF_WRAP_SELECT
/* IDF v5.5/v6.0's FreeRTOS defines its own select(); the link wraps the
 * name (--wrap=select) and fdio.c's select is renamed to this one. */
int gonetif_fdio_select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *timeout);
int __wrap_select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *timeout)
{
    return gonetif_fdio_select(nfds, rd, wr, ex, timeout);
}
#endif

#include <net/if.h>
unsigned int if_nametoindex(const char *ifname) { return lwip_if_nametoindex(ifname); }
char *if_indextoname(unsigned int ifindex, char ifname[IF_NAMESIZE]) { return lwip_if_indextoname(ifindex, ifname); }
