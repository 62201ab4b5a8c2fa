/*
 * gonetif — lwip/sockets.h
 *
 * The BSD socket API of gonetif. Types, constants and errno values are the
 * host's (Linux), so gonetif sockets mix with host code; the functions are
 * gonetif's lwip_* functions. As with lwIP's own compatibility names, the
 * standard names (socket, connect, send, ...) are mapped to them by
 * function-like macros when this header is included through <sys/socket.h>,
 * <netinet/in.h>, <arpa/inet.h>, <netdb.h> or directly.
 *
 * read, write, readv, writev, close, fcntl, ioctl, select and poll are not
 * mapped here: gonetif's archive provides those names themselves, routing
 * gonetif descriptors to the stack and every other descriptor to the kernel.
 *
 * Define GONETIF_HOST_SOCKETS (or IDF's LWIP_HDR_LINUX_SYS_SOCKETS_H) before
 * including <sys/socket.h> to get the host's sockets without the mapping.
 */
#ifndef GONETIF_LWIP_SOCKETS_H
#define GONETIF_LWIP_SOCKETS_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#ifdef __cplusplus
extern "C" {
#endif

int lwip_socket(int domain, int type, int protocol);
int lwip_bind(int s, const struct sockaddr *name, socklen_t namelen);
int lwip_listen(int s, int backlog);
int lwip_accept(int s, struct sockaddr *addr, socklen_t *addrlen);
/* Linux's accept4 (flags SOCK_NONBLOCK, SOCK_CLOEXEC); not an lwIP name. */
int lwip_accept4(int s, struct sockaddr *addr, socklen_t *addrlen, int flags);
int lwip_connect(int s, const struct sockaddr *name, socklen_t namelen);
int lwip_shutdown(int s, int how);
int lwip_close(int s);
int lwip_getsockname(int s, struct sockaddr *name, socklen_t *namelen);
int lwip_getpeername(int s, struct sockaddr *name, socklen_t *namelen);
int lwip_getsockopt(int s, int level, int optname, void *optval, socklen_t *optlen);
int lwip_setsockopt(int s, int level, int optname, const void *optval, socklen_t optlen);
ssize_t lwip_send(int s, const void *dataptr, size_t size, int flags);
ssize_t lwip_sendto(int s, const void *dataptr, size_t size, int flags, const struct sockaddr *to, socklen_t tolen);
ssize_t lwip_sendmsg(int s, const struct msghdr *message, int flags);
ssize_t lwip_recv(int s, void *mem, size_t len, int flags);
ssize_t lwip_recvfrom(int s, void *mem, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen);
ssize_t lwip_recvmsg(int s, struct msghdr *message, int flags);
ssize_t lwip_read(int s, void *mem, size_t len);
ssize_t lwip_readv(int s, const struct iovec *iov, int iovcnt);
ssize_t lwip_write(int s, const void *dataptr, size_t size);
ssize_t lwip_writev(int s, const struct iovec *iov, int iovcnt);
int lwip_fcntl(int s, int cmd, int val);
int lwip_ioctl(int s, long cmd, void *argp);
int lwip_select(int maxfdp1, fd_set *readset, fd_set *writeset, fd_set *exceptset, struct timeval *timeout);
int lwip_poll(struct pollfd *fds, nfds_t nfds, int timeout);
int lwip_inet_pton(int af, const char *src, void *dst);
const char *lwip_inet_ntop(int af, const void *src, char *dst, socklen_t size);
uint16_t lwip_htons(uint16_t x);
uint32_t lwip_htonl(uint32_t x);
uint16_t lwip_ntohs(uint16_t x);
uint32_t lwip_ntohl(uint32_t x);
/* lwIP's per-thread socket set-up: nothing to do in gonetif. */
void lwip_socket_thread_init(void);
void lwip_socket_thread_cleanup(void);
#define lwip_socket_init()

#ifdef __cplusplus
}
#endif

#if !defined(GONETIF_HOST_SOCKETS) && !defined(LWIP_HDR_LINUX_SYS_SOCKETS_H)
#define socket(domain, type, protocol) lwip_socket(domain, type, protocol)
#define bind(s, name, namelen) lwip_bind(s, name, namelen)
#define listen(s, backlog) lwip_listen(s, backlog)
#define accept(s, addr, addrlen) lwip_accept(s, addr, addrlen)
#define accept4(s, addr, addrlen, flags) lwip_accept4(s, addr, addrlen, flags)
#define connect(s, name, namelen) lwip_connect(s, name, namelen)
#define shutdown(s, how) lwip_shutdown(s, how)
#define getsockname(s, name, namelen) lwip_getsockname(s, name, namelen)
#define getpeername(s, name, namelen) lwip_getpeername(s, name, namelen)
#define getsockopt(s, level, optname, optval, optlen) lwip_getsockopt(s, level, optname, optval, optlen)
#define setsockopt(s, level, optname, optval, optlen) lwip_setsockopt(s, level, optname, optval, optlen)
#define send(s, dataptr, size, flags) lwip_send(s, dataptr, size, flags)
#define sendto(s, dataptr, size, flags, to, tolen) lwip_sendto(s, dataptr, size, flags, to, tolen)
#define sendmsg(s, message, flags) lwip_sendmsg(s, message, flags)
#define recv(s, mem, len, flags) lwip_recv(s, mem, len, flags)
#define recvfrom(s, mem, len, flags, from, fromlen) lwip_recvfrom(s, mem, len, flags, from, fromlen)
#define recvmsg(s, message, flags) lwip_recvmsg(s, message, flags)
#define inet_pton(af, src, dst) lwip_inet_pton(af, src, dst)
#define inet_ntop(af, src, dst, size) lwip_inet_ntop(af, src, dst, size)
#define closesocket(s) lwip_close(s)
#endif

/* lwIP's IPv6 text helpers, on struct in6_addr (IDF's IPv6 examples use
 * inet6_aton): 1 on success, 0 otherwise, like inet_aton. */
#ifndef inet6_aton
#define inet6_aton(cp, addr) (lwip_inet_pton(AF_INET6, (cp), (addr)) == 1)
#define inet6_ntoa_r(addr, buf, buflen) lwip_inet_ntop(AF_INET6, &(addr), (buf), (buflen))
#endif

#endif /* GONETIF_LWIP_SOCKETS_H */
