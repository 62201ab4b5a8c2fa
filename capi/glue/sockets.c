/*
 * lwip_* sockets on gonetif: a translator. Every call on a gonetif
 * descriptor is one struct gonetif_call handed to Go, which holds all the
 * semantics (O_NONBLOCK, timeouts, linger, MSG_WAITALL, the checks of
 * every argument, SIGPIPE's decision). When Go answers "wait", the waiting
 * happens here, on the descriptor's wait slot, so a blocked C thread never
 * sits inside Go (docs/DESIGN.md D2). Descriptors that are not ours go to
 * the kernel, so host sockets work through these names too and any other
 * descriptor gets the kernel's own errno.
 */
#define GONETIF_HOST_SOCKETS 1
#include <signal.h>

#include "glue.h"
#include "lwip/sockets.h"
#include "port.h"

/* The one loop: call Go; while it says wait, wait on the slot (the port
 * decides how: a futex, or FreeRTOS-friendly under IDF) and call again.
 * An interrupted wait calls again too, as Linux restarts socket calls. */
static ssize_t call_go(struct gonetif_call *c)
{
    ssize_t r;
    while ((r = gonetif_sock_call(c)) == GONETIF_CALL_WAIT) {
        struct gonetif_wait_slot *slot = &gonetif_slots[c->fd];
        if (c->poll_fd > 0) {
            gonetif_port_wait_fds(&slot->seq, &slot->waiters, c->seq, c->until_us, c->poll_fd - 1, c->fd);
        } else {
            gonetif_port_wait(&slot->seq, &slot->waiters, c->seq, c->until_us);
        }
    }
    if (c->sigpipe) {
        raise(SIGPIPE); /* under IDF redirected: lwIP raises none */
    }
    return r < 0 ? gonetif_fail(r) : r;
}

int lwip_socket(int domain, int type, int protocol)
{
    if (!gonetif_sock_domain_ours(domain)) {
        return (int)syscall(SYS_socket, domain, type, protocol);
    }
    if (gonetif_glue_init() != 0) {
        errno = ENOMEM;
        return -1;
    }
    struct gonetif_call c = {.op = GONETIF_OP_SOCKET, .level = domain, .flags = type, .name = protocol};
    return (int)call_go(&c);
}

int lwip_bind(int s, const struct sockaddr *name, socklen_t namelen)
{
    if (!gonetif_slot(s)) {
        return (int)syscall(SYS_bind, s, name, namelen);
    }
    struct gonetif_call c = {.op = GONETIF_OP_BIND, .fd = s, .addr = (void *)name, .addrlen = namelen};
    return (int)call_go(&c);
}

int lwip_listen(int s, int backlog)
{
    if (!gonetif_slot(s)) {
        return (int)syscall(SYS_listen, s, backlog);
    }
    struct gonetif_call c = {.op = GONETIF_OP_LISTEN, .fd = s, .flags = backlog};
    return (int)call_go(&c);
}

int lwip_connect(int s, const struct sockaddr *name, socklen_t namelen)
{
    if (!gonetif_slot(s)) {
        return (int)syscall(SYS_connect, s, name, namelen);
    }
    struct gonetif_call c = {.op = GONETIF_OP_CONNECT, .fd = s, .addr = (void *)name, .addrlen = namelen};
    return (int)call_go(&c);
}

int lwip_accept(int s, struct sockaddr *addr, socklen_t *addrlen)
{
    if (!gonetif_slot(s)) {
        return (int)syscall(SYS_accept4, s, addr, addrlen, 0);
    }
    struct gonetif_call c = {.op = GONETIF_OP_ACCEPT, .fd = s, .addr = addr, .lenp = addrlen};
    return (int)call_go(&c);
}

int lwip_accept4(int s, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
    if (!gonetif_slot(s)) {
        return (int)syscall(SYS_accept4, s, addr, addrlen, flags);
    }
    struct gonetif_call c = {.op = GONETIF_OP_ACCEPT4, .fd = s, .addr = addr, .lenp = addrlen, .flags = flags};
    return (int)call_go(&c);
}

int lwip_shutdown(int s, int how)
{
    if (!gonetif_slot(s)) {
        return (int)syscall(SYS_shutdown, s, how);
    }
    struct gonetif_call c = {.op = GONETIF_OP_SHUTDOWN, .fd = s, .flags = how};
    return (int)call_go(&c);
}

int lwip_close(int s)
{
    if (!gonetif_slot(s)) {
        return (int)syscall(SYS_close, s);
    }
    struct gonetif_call c = {.op = GONETIF_OP_CLOSE, .fd = s};
    return (int)call_go(&c);
}

static int name_of(int s, int peer, struct sockaddr *name, socklen_t *namelen)
{
    if (!gonetif_slot(s)) {
        return (int)syscall(peer ? SYS_getpeername : SYS_getsockname, s, name, namelen);
    }
    struct gonetif_call c = {.op = GONETIF_OP_NAME, .fd = s, .flags = peer, .addr = name, .lenp = namelen};
    return (int)call_go(&c);
}

int lwip_getsockname(int s, struct sockaddr *name, socklen_t *namelen)
{
    return name_of(s, 0, name, namelen);
}

int lwip_getpeername(int s, struct sockaddr *name, socklen_t *namelen)
{
    return name_of(s, 1, name, namelen);
}

int lwip_setsockopt(int s, int level, int optname, const void *optval, socklen_t optlen)
{
    if (!gonetif_slot(s)) {
        return (int)syscall(SYS_setsockopt, s, level, optname, optval, optlen);
    }
    struct gonetif_call c = {
        .op = GONETIF_OP_SETSOCKOPT, .fd = s, .level = level, .name = optname, .buf = (void *)optval, .len = optlen};
    return (int)call_go(&c);
}

int lwip_getsockopt(int s, int level, int optname, void *optval, socklen_t *optlen)
{
    if (!gonetif_slot(s)) {
        return (int)syscall(SYS_getsockopt, s, level, optname, optval, optlen);
    }
    struct gonetif_call c = {
        .op = GONETIF_OP_GETSOCKOPT, .fd = s, .level = level, .name = optname, .buf = optval, .lenp = optlen};
    return (int)call_go(&c);
}

ssize_t lwip_sendto(int s, const void *data, size_t size, int flags, const struct sockaddr *to, socklen_t tolen)
{
    if (!gonetif_slot(s)) {
        return syscall(SYS_sendto, s, data, size, flags, to, tolen);
    }
    struct gonetif_call c = {
        .op = GONETIF_OP_SEND, .fd = s, .buf = (void *)data, .len = size, .flags = flags, .addr = (void *)to, .addrlen = tolen};
    return call_go(&c);
}

ssize_t lwip_send(int s, const void *data, size_t size, int flags)
{
    return lwip_sendto(s, data, size, flags, NULL, 0);
}

ssize_t lwip_write(int s, const void *data, size_t size)
{
    return lwip_sendto(s, data, size, 0, NULL, 0);
}

ssize_t lwip_recvfrom(int s, void *mem, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen)
{
    if (!gonetif_slot(s)) {
        return syscall(SYS_recvfrom, s, mem, len, flags, from, fromlen);
    }
    struct gonetif_call c = {
        .op = GONETIF_OP_RECV, .fd = s, .buf = mem, .len = len, .flags = flags, .addr = from, .lenp = fromlen};
    return call_go(&c);
}

ssize_t lwip_recv(int s, void *mem, size_t len, int flags)
{
    return lwip_recvfrom(s, mem, len, flags, NULL, NULL);
}

ssize_t lwip_read(int s, void *mem, size_t len)
{
    if (!gonetif_slot(s)) {
        return syscall(SYS_recvfrom, s, mem, len, 0, NULL, NULL);
    }
    struct gonetif_call c = {.op = GONETIF_OP_READ, .fd = s, .buf = mem, .len = len};
    return call_go(&c);
}

ssize_t lwip_writev(int s, const struct iovec *iov, int iovcnt)
{
    if (!gonetif_slot(s)) {
        return syscall(SYS_writev, s, iov, iovcnt);
    }
    struct gonetif_call c = {.op = GONETIF_OP_WRITEV, .fd = s, .buf = (void *)iov, .len = (size_t)(ssize_t)iovcnt};
    return call_go(&c);
}

ssize_t lwip_readv(int s, const struct iovec *iov, int iovcnt)
{
    if (!gonetif_slot(s)) {
        return syscall(SYS_readv, s, iov, iovcnt);
    }
    struct gonetif_call c = {.op = GONETIF_OP_READV, .fd = s, .buf = (void *)iov, .len = (size_t)(ssize_t)iovcnt};
    return call_go(&c);
}

ssize_t lwip_sendmsg(int s, const struct msghdr *msg, int flags)
{
    if (!gonetif_slot(s)) {
        return syscall(SYS_sendmsg, s, msg, flags);
    }
    struct gonetif_call c = {.op = GONETIF_OP_SENDMSG, .fd = s, .buf = (void *)msg, .flags = flags};
    return call_go(&c);
}

ssize_t lwip_recvmsg(int s, struct msghdr *msg, int flags)
{
    if (!gonetif_slot(s)) {
        return syscall(SYS_recvmsg, s, msg, flags);
    }
    struct gonetif_call c = {.op = GONETIF_OP_RECVMSG, .fd = s, .buf = msg, .flags = flags};
    return call_go(&c);
}

int lwip_fcntl(int s, int cmd, int val)
{
    if (!gonetif_slot(s)) {
        return (int)syscall(SYS_fcntl, s, cmd, (long)val);
    }
    struct gonetif_call c = {.op = GONETIF_OP_FCNTL, .fd = s, .level = cmd, .flags = val};
    int r = (int)call_go(&c);
    /* F_GETOWN's answer comes back in flags: a process group is negative. */
    return cmd == F_GETOWN && r == 0 ? c.flags : r;
}

int lwip_ioctl(int s, long cmd, void *argp)
{
    if (!gonetif_slot(s)) {
        return (int)syscall(SYS_ioctl, s, cmd, argp);
    }
    struct gonetif_call c = {.op = GONETIF_OP_IOCTL, .fd = s, .len = (size_t)cmd, .buf = argp};
    return (int)call_go(&c);
}
