/*
 * lwip_* sockets on gonetif. Go answers every call at once ("would block"
 * included); the waiting happens here, on the wait slot Go bumps whenever
 * the socket's readiness changes, so a blocked C thread never sits inside
 * Go (docs/DESIGN.md D2). Descriptors that are not ours go to the kernel,
 * so host sockets work through these names too and any other descriptor
 * gets the kernel's own errno.
 */
#define GONETIF_HOST_SOCKETS 1
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "glue.h"
#include "lwip/sockets.h"
#include "net/if.h"
#include "port.h"

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t deadline_after(int64_t timeout_us)
{
    return timeout_us > 0 ? now_us() + timeout_us : 0;
}

static int wait_slot(struct gonetif_wait_slot *s, uint32_t seen, int64_t deadline_us)
{
    /* How a blocked caller waits is the port's (capi/port/): a futex for
     * plain threads, FreeRTOS-friendly under IDF. */
    return gonetif_port_wait(&s->seq, &s->waiters, seen, deadline_us);
}

static uint32_t seq_of(struct gonetif_wait_slot *s)
{
    return __atomic_load_n(&s->seq, __ATOMIC_SEQ_CST);
}

/* The placeholder descriptor is made close-on-exec; a socket is not
 * unless asked. */
static void set_cloexec(int fd, int on)
{
    if (!on) {
        syscall(SYS_fcntl, fd, F_SETFD, 0);
    }
}

static void open_slot(int fd, int type)
{
    struct gonetif_wait_slot *s = &gonetif_slots[fd];
    s->nonblock = (type & SOCK_NONBLOCK) != 0;
    s->stream = (type & 0xf) == SOCK_STREAM;
    s->rcvtimeo_us = 0;
    s->sndtimeo_us = 0;
    s->linger_s = 0;
    __atomic_store_n(&s->open, 1, __ATOMIC_RELEASE);
}

int lwip_socket(int domain, int type, int protocol)
{
    /* The stack speaks IP; AF_UNIX, AF_NETLINK ... are the kernel's. */
    if (domain != AF_INET && domain != AF_INET6) {
        return (int)syscall(SYS_socket, domain, type, protocol);
    }
    if (gonetif_glue_init() != 0) {
        errno = ENOMEM;
        return -1;
    }
    int fd = gonetif_sock_socket(domain, type, protocol);
    if (fd < 0) {
        return gonetif_fail(fd);
    }
    set_cloexec(fd, type & SOCK_CLOEXEC);
    open_slot(fd, type);
    return fd;
}

int lwip_bind(int s, const struct sockaddr *name, socklen_t namelen)
{
    if (!gonetif_slot(s)) {
        return (int)syscall(SYS_bind, s, name, namelen);
    }
    int r = gonetif_sock_bind(s, (void *)name, namelen);
    return r < 0 ? gonetif_fail(r) : 0;
}

int lwip_listen(int s, int backlog)
{
    if (!gonetif_slot(s)) {
        return (int)syscall(SYS_listen, s, backlog);
    }
    int r = gonetif_sock_listen(s, backlog);
    return r < 0 ? gonetif_fail(r) : 0;
}

int lwip_connect(int s, const struct sockaddr *name, socklen_t namelen)
{
    struct gonetif_wait_slot *slot = gonetif_slot(s);
    if (!slot) {
        return (int)syscall(SYS_connect, s, name, namelen);
    }
    int r = gonetif_sock_connect(s, (void *)name, namelen);
    if (r != -EINPROGRESS || slot->nonblock) {
        return r < 0 ? gonetif_fail(r) : 0;
    }
    /* A blocking connect waits for the handshake; SO_SNDTIMEO bounds it
     * and then reports EINPROGRESS, as Linux does. */
    int64_t deadline = deadline_after(slot->sndtimeo_us);
    for (;;) {
        uint32_t seen = seq_of(slot);
        r = gonetif_sock_connect_result(s);
        if (r != -EINPROGRESS) {
            return r < 0 ? gonetif_fail(r) : 0;
        }
        if (wait_slot(slot, seen, deadline) < 0) {
            errno = EINPROGRESS;
            return -1;
        }
    }
}

int lwip_accept(int s, struct sockaddr *addr, socklen_t *addrlen)
{
    struct gonetif_wait_slot *slot = gonetif_slot(s);
    if (!slot) {
        return (int)syscall(SYS_accept4, s, addr, addrlen, 0);
    }
    /* Linux finds a NULL addrlen only when it copies the address out. */
    int bad_len = addr && !addrlen;
    int64_t deadline = deadline_after(slot->rcvtimeo_us);
    for (;;) {
        uint32_t seen = seq_of(slot);
        int r = gonetif_sock_accept(s, bad_len ? NULL : addr, addr ? addrlen : NULL);
        if (r >= 0) {
            if (bad_len) {
                gonetif_sock_close(r);
                errno = EFAULT;
                return -1;
            }
            set_cloexec(r, 0);
            open_slot(r, SOCK_STREAM);
            return r;
        }
        if (r != -EAGAIN || slot->nonblock) {
            return gonetif_fail(r);
        }
        if (wait_slot(slot, seen, deadline) < 0) {
            errno = EAGAIN;
            return -1;
        }
    }
}

int lwip_accept4(int s, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
    if (!gonetif_slot(s)) {
        return (int)syscall(SYS_accept4, s, addr, addrlen, flags);
    }
    if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) {
        errno = EINVAL;
        return -1;
    }
    int fd = lwip_accept(s, addr, addrlen);
    if (fd >= 0) {
        gonetif_slots[fd].nonblock = (flags & SOCK_NONBLOCK) != 0;
        if (flags & SOCK_CLOEXEC) {
            syscall(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC);
        }
    }
    return fd;
}

int lwip_shutdown(int s, int how)
{
    if (!gonetif_slot(s)) {
        return (int)syscall(SYS_shutdown, s, how);
    }
    int r = gonetif_sock_shutdown(s, how);
    return r < 0 ? gonetif_fail(r) : 0;
}

/* SO_LINGER with a time: close sends the FIN and waits until it is
 * acknowledged or the time is up, as Linux does. */
static void linger_wait(int s, struct gonetif_wait_slot *slot)
{
    if (gonetif_sock_fin_pending(s) != 1) {
        return;
    }
    gonetif_sock_shutdown(s, SHUT_WR);
    int64_t deadline = now_us() + (int64_t)slot->linger_s * 1000000;
    for (;;) {
        uint32_t seen = seq_of(slot);
        if (gonetif_sock_fin_pending(s) != 1 || now_us() >= deadline) {
            return;
        }
        /* Not every state change is signalled: look again every 20 ms. */
        int64_t step = now_us() + 20000;
        wait_slot(slot, seen, step < deadline ? step : deadline);
    }
}

int lwip_close(int s)
{
    struct gonetif_wait_slot *slot = gonetif_slot(s);
    if (!slot) {
        return (int)syscall(SYS_close, s);
    }
    if (slot->stream && slot->linger_s > 0) {
        linger_wait(s, slot);
    }
    __atomic_store_n(&slot->open, 0, __ATOMIC_RELEASE);
    int r = gonetif_sock_close(s);
    return r < 0 ? gonetif_fail(r) : 0;
}

static int name_of(int s, int peer, struct sockaddr *name, socklen_t *namelen)
{
    if (!gonetif_slot(s)) {
        return (int)syscall(peer ? SYS_getpeername : SYS_getsockname, s, name, namelen);
    }
    int r = gonetif_sock_name(s, peer, name, namelen);
    return r < 0 ? gonetif_fail(r) : 0;
}

int lwip_getsockname(int s, struct sockaddr *name, socklen_t *namelen)
{
    return name_of(s, 0, name, namelen);
}

int lwip_getpeername(int s, struct sockaddr *name, socklen_t *namelen)
{
    return name_of(s, 1, name, namelen);
}

/* Timeouts are about waiting, so they live here, not in Go. */
static int set_timeout(int64_t *dst, const void *optval, socklen_t optlen)
{
    struct timeval tv;
    if (optlen < sizeof(tv)) {
        errno = EINVAL;
        return -1;
    }
    memcpy(&tv, optval, sizeof(tv));
    if (tv.tv_usec < 0 || tv.tv_usec >= 1000000) {
        errno = EDOM;
        return -1;
    }
    *dst = tv.tv_sec < 0 ? 0 : (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
    return 0;
}

static int get_timeout(int64_t us, void *optval, socklen_t *optlen)
{
    struct timeval tv = {.tv_sec = us / 1000000, .tv_usec = us % 1000000};
    socklen_t n = *optlen < sizeof(tv) ? *optlen : sizeof(tv);
    memcpy(optval, &tv, n);
    *optlen = n;
    return 0;
}

/* SO_BINDTODEVICE speaks interface names; Go takes the index. */
static int bind_to_device(int s, const void *optval, socklen_t optlen)
{
    char name[IF_NAMESIZE];
    size_t n = optlen < IF_NAMESIZE - 1 ? optlen : IF_NAMESIZE - 1;
    if ((int)optlen < 0) {
        errno = EINVAL;
        return -1;
    }
    memcpy(name, optval, n);
    name[n] = 0;
    int index = 0;
    if (name[0]) {
        index = (int)lwip_if_nametoindex(name);
        if (index == 0) {
            errno = ENODEV;
            return -1;
        }
    }
    int r = gonetif_sock_setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, &index, sizeof(index));
    return r < 0 ? gonetif_fail(r) : 0;
}

static int bound_device(int s, void *optval, socklen_t *optlen)
{
    int index = 0;
    uint32_t n = sizeof(index);
    int r = gonetif_sock_getsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, &index, &n);
    if (r < 0) {
        return gonetif_fail(r);
    }
    if (index == 0) {
        *optlen = 0;
        return 0;
    }
    char name[IF_NAMESIZE];
    if (!lwip_if_indextoname((unsigned)index, name)) {
        errno = ENODEV;
        return -1;
    }
    size_t len = strlen(name) + 1;
    if (*optlen < len) {
        errno = EINVAL;
        return -1;
    }
    memcpy(optval, name, len);
    *optlen = (socklen_t)len;
    return 0;
}

int lwip_setsockopt(int s, int level, int optname, const void *optval, socklen_t optlen)
{
    struct gonetif_wait_slot *slot = gonetif_slot(s);
    if (!slot) {
        return (int)syscall(SYS_setsockopt, s, level, optname, optval, optlen);
    }
    if ((int)optlen < 0) { /* Linux takes the length as an int */
        errno = EINVAL;
        return -1;
    }
    if (!optval && optlen) {
        errno = EFAULT;
        return -1;
    }
    if (level == SOL_SOCKET && (optname == SO_RCVTIMEO || optname == SO_SNDTIMEO)) {
        if (!optval) {
            errno = EFAULT;
            return -1;
        }
        return set_timeout(optname == SO_RCVTIMEO ? &slot->rcvtimeo_us : &slot->sndtimeo_us, optval, optlen);
    }
    if (level == SOL_SOCKET && optname == SO_BINDTODEVICE) {
        return bind_to_device(s, optval, optlen);
    }
    int r = gonetif_sock_setsockopt(s, level, optname, (void *)optval, optlen);
    if (r == 0 && level == SOL_SOCKET && optname == SO_LINGER) {
        const struct linger *l = optval;
        slot->linger_s = l->l_onoff && l->l_linger > 0 ? (uint32_t)l->l_linger : 0;
    }
    return r < 0 ? gonetif_fail(r) : 0;
}

int lwip_getsockopt(int s, int level, int optname, void *optval, socklen_t *optlen)
{
    struct gonetif_wait_slot *slot = gonetif_slot(s);
    if (!slot) {
        return (int)syscall(SYS_getsockopt, s, level, optname, optval, optlen);
    }
    if (!optval || !optlen) {
        errno = EFAULT;
        return -1;
    }
    if ((int)*optlen < 0) {
        errno = EINVAL;
        return -1;
    }
    if (level == SOL_SOCKET && (optname == SO_RCVTIMEO || optname == SO_SNDTIMEO)) {
        return get_timeout(optname == SO_RCVTIMEO ? slot->rcvtimeo_us : slot->sndtimeo_us, optval, optlen);
    }
    if (level == SOL_SOCKET && optname == SO_BINDTODEVICE) {
        return bound_device(s, optval, optlen);
    }
    int r = gonetif_sock_getsockopt(s, level, optname, optval, optlen);
    return r < 0 ? gonetif_fail(r) : 0;
}

ssize_t lwip_sendto(int s, const void *data, size_t size, int flags, const struct sockaddr *to, socklen_t tolen)
{
    struct gonetif_wait_slot *slot = gonetif_slot(s);
    if (!slot) {
        return syscall(SYS_sendto, s, data, size, flags, to, tolen);
    }
    int nonblock = slot->nonblock || (flags & MSG_DONTWAIT);
    int goflags = flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL);
    int64_t deadline = nonblock ? 0 : deadline_after(slot->sndtimeo_us);
    size_t done = 0;
    for (;;) {
        uint32_t seen = seq_of(slot);
        ssize_t r = gonetif_sock_send(s, (char *)data + done, size - done, goflags, (void *)to, tolen);
        if (r >= 0) {
            done += (size_t)r;
            /* A blocking stream send returns only when all is queued. */
            if (done == size || nonblock || !slot->stream) {
                return (ssize_t)done;
            }
            continue;
        }
        if (r == -EAGAIN && !nonblock) {
            if (wait_slot(slot, seen, deadline) == 0) {
                continue;
            }
        }
        if (done) {
            return (ssize_t)done;
        }
        if (r == -EPIPE && slot->stream && !(flags & MSG_NOSIGNAL)) {
            raise(SIGPIPE);
        }
        return gonetif_fail(r);
    }
}

ssize_t lwip_send(int s, const void *data, size_t size, int flags)
{
    return lwip_sendto(s, data, size, flags, NULL, 0);
}

ssize_t lwip_recvfrom(int s, void *mem, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen)
{
    struct gonetif_wait_slot *slot = gonetif_slot(s);
    if (!slot) {
        return syscall(SYS_recvfrom, s, mem, len, flags, from, fromlen);
    }
    if (from && !fromlen) {
        errno = EFAULT;
        return -1;
    }
    int nonblock = slot->nonblock || (flags & MSG_DONTWAIT);
    int waitall = (flags & MSG_WAITALL) && slot->stream && !(flags & MSG_PEEK);
    int goflags = (flags & ~(MSG_DONTWAIT | MSG_WAITALL)) | (nonblock ? MSG_DONTWAIT : 0);
    int64_t deadline = nonblock ? 0 : deadline_after(slot->rcvtimeo_us);
    size_t done = 0;
    for (;;) {
        uint32_t seen = seq_of(slot);
        ssize_t r = gonetif_sock_recv(s, (char *)mem + done, len - done, goflags, from, from ? fromlen : NULL);
        if (r > 0 && waitall && done + (size_t)r < len && !nonblock) {
            done += (size_t)r;
            continue;
        }
        if (r >= 0) {
            return (ssize_t)(done + (size_t)r);
        }
        if (r == -EAGAIN && !nonblock && wait_slot(slot, seen, deadline) == 0) {
            continue;
        }
        if (done) {
            return (ssize_t)done;
        }
        return gonetif_fail(r);
    }
}

ssize_t lwip_recv(int s, void *mem, size_t len, int flags)
{
    return lwip_recvfrom(s, mem, len, flags, NULL, NULL);
}

ssize_t lwip_read(int s, void *mem, size_t len)
{
    /* Linux's read of nothing returns at once, whatever the socket's state. */
    if (len == 0 && gonetif_slot(s)) {
        return 0;
    }
    return lwip_recvfrom(s, mem, len, 0, NULL, NULL);
}

ssize_t lwip_write(int s, const void *data, size_t size)
{
    return lwip_sendto(s, data, size, 0, NULL, 0);
}

/* Vectored I/O through one bounce buffer; gonetif's path is a copy anyway. */

/* Linux's UIO_MAXIOV: longer iovec arrays are refused (readv/writev:
 * EINVAL, sendmsg/recvmsg: EMSGSIZE). */
#define MAX_IOV 1024

/* Checks an iovec array as the kernel does before it moves any data:
 * count, NULL array, NULL bases, a total above SSIZE_MAX. 0 with *total
 * set, or -1 with errno set. */
static int check_iov(const struct iovec *iov, size_t iovcnt, int too_many, size_t *total)
{
    if (iovcnt > MAX_IOV) {
        errno = too_many;
        return -1;
    }
    if (iovcnt && !iov) {
        errno = EFAULT;
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < iovcnt; i++) {
        if (iov[i].iov_len && !iov[i].iov_base) {
            errno = EFAULT;
            return -1;
        }
        if (iov[i].iov_len > (size_t)SSIZE_MAX - n) {
            errno = EINVAL;
            return -1;
        }
        n += iov[i].iov_len;
    }
    *total = n;
    return 0;
}

/* Checks an iovec array and allocates a bounce buffer for all of it;
 * NULL with errno set on failure. */
static char *bounce_for(const struct iovec *iov, size_t iovcnt, int too_many, size_t *total)
{
    if (check_iov(iov, iovcnt, too_many, total) != 0) {
        return NULL;
    }
    char *buf = malloc(*total ? *total : 1);
    if (!buf) {
        errno = ENOMEM;
    }
    return buf;
}

static void gather(char *buf, const struct iovec *iov, size_t iovcnt)
{
    size_t off = 0;
    for (size_t i = 0; i < iovcnt; i++) {
        if (iov[i].iov_len) {
            memcpy(buf + off, iov[i].iov_base, iov[i].iov_len);
            off += iov[i].iov_len;
        }
    }
}

static void scatter(const struct iovec *iov, size_t iovcnt, const char *buf, size_t n)
{
    size_t off = 0;
    for (size_t i = 0; i < iovcnt && off < n; i++) {
        size_t k = iov[i].iov_len < n - off ? iov[i].iov_len : n - off;
        if (k) {
            memcpy(iov[i].iov_base, buf + off, k);
            off += k;
        }
    }
}

ssize_t lwip_writev(int s, const struct iovec *iov, int iovcnt)
{
    if (!gonetif_slot(s)) {
        return syscall(SYS_writev, s, iov, iovcnt);
    }
    if (iovcnt < 0) {
        errno = EINVAL;
        return -1;
    }
    size_t total;
    char *buf = bounce_for(iov, (size_t)iovcnt, EINVAL, &total);
    if (!buf) {
        return -1;
    }
    gather(buf, iov, (size_t)iovcnt);
    ssize_t r = lwip_sendto(s, buf, total, 0, NULL, 0);
    free(buf);
    return r;
}

ssize_t lwip_readv(int s, const struct iovec *iov, int iovcnt)
{
    if (!gonetif_slot(s)) {
        return syscall(SYS_readv, s, iov, iovcnt);
    }
    if (iovcnt < 0) {
        errno = EINVAL;
        return -1;
    }
    size_t total;
    char *buf = bounce_for(iov, (size_t)iovcnt, EINVAL, &total);
    if (!buf) {
        return -1;
    }
    ssize_t r = lwip_read(s, buf, total);
    if (r > 0) {
        scatter(iov, (size_t)iovcnt, buf, (size_t)r);
    }
    free(buf);
    return r;
}

/* The checks the kernel makes on a msghdr before it moves data: a negative
 * name length is EINVAL, a longer one than any sockaddr is cut. */
static int check_msg(const struct msghdr *msg, socklen_t *namelen)
{
    if (!msg) {
        errno = EFAULT;
        return -1;
    }
    if ((int)msg->msg_namelen < 0) {
        errno = EINVAL;
        return -1;
    }
    *namelen = msg->msg_namelen < sizeof(struct sockaddr_storage) ? msg->msg_namelen
                                                                   : (socklen_t)sizeof(struct sockaddr_storage);
    return 0;
}

ssize_t lwip_sendmsg(int s, const struct msghdr *msg, int flags)
{
    if (!gonetif_slot(s)) {
        return syscall(SYS_sendmsg, s, msg, flags);
    }
    socklen_t namelen;
    size_t total;
    if (check_msg(msg, &namelen) != 0 || check_iov(msg->msg_iov, msg->msg_iovlen, EMSGSIZE, &total) != 0) {
        return -1;
    }
    const struct sockaddr *name = msg->msg_name ? msg->msg_name : NULL;
    if (msg->msg_iovlen == 1) {
        return lwip_sendto(s, msg->msg_iov[0].iov_base, msg->msg_iov[0].iov_len, flags, name, namelen);
    }
    char *buf = malloc(total ? total : 1);
    if (!buf) {
        errno = ENOMEM;
        return -1;
    }
    gather(buf, msg->msg_iov, msg->msg_iovlen);
    ssize_t r = lwip_sendto(s, buf, total, flags, name, namelen);
    free(buf);
    return r;
}

ssize_t lwip_recvmsg(int s, struct msghdr *msg, int flags)
{
    if (!gonetif_slot(s)) {
        return syscall(SYS_recvmsg, s, msg, flags);
    }
    socklen_t namelen;
    size_t total;
    if (check_msg(msg, &namelen) != 0 || check_iov(msg->msg_iov, msg->msg_iovlen, EMSGSIZE, &total) != 0) {
        return -1;
    }
    char *buf = malloc(total ? total : 1);
    if (!buf) {
        errno = ENOMEM;
        return -1;
    }
    ssize_t r = lwip_recvfrom(s, buf, total, flags | MSG_TRUNC, msg->msg_name,
                              msg->msg_name ? &namelen : NULL);
    msg->msg_flags = 0;
    if (r >= 0) {
        size_t got = (size_t)r < total ? (size_t)r : total;
        if ((size_t)r > total && !gonetif_slots[s].stream) {
            msg->msg_flags |= MSG_TRUNC;
        }
        scatter(msg->msg_iov, msg->msg_iovlen, buf, got);
        if (!(flags & MSG_TRUNC)) {
            r = (ssize_t)got;
        }
        msg->msg_namelen = msg->msg_name ? namelen : 0;
        msg->msg_controllen = 0;
    }
    free(buf);
    return r;
}

int lwip_fcntl(int s, int cmd, int val)
{
    struct gonetif_wait_slot *slot = gonetif_slot(s);
    if (!slot) {
        return (int)syscall(SYS_fcntl, s, cmd, (long)val);
    }
    switch (cmd) {
    case F_GETFL:
        return O_RDWR | (slot->nonblock ? O_NONBLOCK : 0);
    case F_SETFL:
        slot->nonblock = (val & O_NONBLOCK) != 0;
        return 0;
    case F_GETFD:
    case F_SETFD:
        /* The placeholder descriptor carries FD_CLOEXEC for us. */
        return (int)syscall(SYS_fcntl, s, cmd, val);
    default:
        errno = EINVAL;
        return -1;
    }
}

int lwip_ioctl(int s, long cmd, void *argp)
{
    struct gonetif_wait_slot *slot = gonetif_slot(s);
    if (!slot) {
        return (int)syscall(SYS_ioctl, s, cmd, argp);
    }
    switch (cmd) {
    case FIONBIO:
        if (!argp) {
            errno = EFAULT;
            return -1;
        }
        slot->nonblock = *(int *)argp != 0;
        return 0;
    case FIONREAD: {
        if (!argp) {
            errno = EFAULT;
            return -1;
        }
        int r = gonetif_sock_fionread(s);
        if (r < 0) {
            return gonetif_fail(r);
        }
        *(int *)argp = r;
        return 0;
    }
    default:
        errno = ENOTTY;
        return -1;
    }
}
