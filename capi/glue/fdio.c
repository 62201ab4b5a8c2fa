/*
 * The POSIX descriptor calls, process-wide: gonetif descriptors go to the
 * stack, every other descriptor straight to the kernel. IDF's Linux port
 * gets the same effect with --wrap or its VFS; providing the names in the
 * archive needs no special link flags.
 */
#define GONETIF_HOST_SOCKETS 1
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/uio.h>
#include <time.h>

#include "glue.h"
#include "lwip/sockets.h"

/* The lwip_* names route descriptors that are not ours to the kernel's
 * same call already; read and write do not (they are recv and send). */
int close(int fd)
{
    return lwip_close(fd);
}

ssize_t read(int fd, void *buf, size_t count)
{
    if (gonetif_slot(fd)) {
        return lwip_read(fd, buf, count);
    }
    return syscall(SYS_read, fd, buf, count);
}

ssize_t write(int fd, const void *buf, size_t count)
{
    if (gonetif_slot(fd)) {
        return lwip_write(fd, buf, count);
    }
    return syscall(SYS_write, fd, buf, count);
}

ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
    return lwip_readv(fd, iov, iovcnt);
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
    return lwip_writev(fd, iov, iovcnt);
}

int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    /* Every fcntl argument fits in a long (int or pointer). */
    long arg = va_arg(ap, long);
    va_end(ap);
    if (gonetif_slot(fd)) {
        return lwip_fcntl(fd, cmd, (int)arg);
    }
    return (int)syscall(SYS_fcntl, fd, cmd, arg);
}

/* With _FILE_OFFSET_BITS=64 glibc's headers rename fcntl to fcntl64. */
int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    long arg = va_arg(ap, long);
    va_end(ap);
    return fcntl(fd, cmd, arg);
}

int ioctl(int fd, unsigned long request, ...)
{
    va_list ap;
    va_start(ap, request);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (gonetif_slot(fd)) {
        return lwip_ioctl(fd, (long)request, arg);
    }
    return (int)syscall(SYS_ioctl, fd, request, arg);
}

/* _FORTIFY_SOURCE turns read() into __read_chk(), which would reach the
 * kernel directly; route it the same way. */
ssize_t __read_chk(int fd, void *buf, size_t nbytes, size_t buflen)
{
    if (nbytes > buflen) {
        abort();
    }
    return read(fd, buf, nbytes);
}

/* ---- select and poll over host descriptors and ours ---------------------
 * Host descriptors are polled by the kernel. Ours are asked of Go in one
 * call per round, which also arms this thread's eventfd on them; the
 * kernel then waits on the host descriptors plus that eventfd, so either
 * kind wakes the caller and nothing blocks inside Go. */

static pthread_key_t efd_key;
static pthread_once_t efd_once = PTHREAD_ONCE_INIT;
static __thread int tls_efd = -1;

static void efd_release(void *p)
{
    int fd = (int)(intptr_t)p - 1;
    if (fd >= 0) {
        syscall(SYS_close, fd);
    }
}

static void efd_key_init(void)
{
    pthread_key_create(&efd_key, efd_release);
}

static int thread_efd(void)
{
    if (tls_efd < 0) {
        int fd = (int)syscall(SYS_eventfd2, 0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (fd < 0) {
            return -1;
        }
        pthread_once(&efd_once, efd_key_init);
        pthread_setspecific(efd_key, (void *)(intptr_t)(fd + 1));
        tls_efd = fd;
    }
    return tls_efd;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#define SMALL_POLL 32

/* The kernel refuses more poll entries than RLIMIT_NOFILE; asked only for
 * large arrays, so the common call costs no extra syscall. */
static int too_many_for_poll(nfds_t nfds)
{
    if (nfds <= 1024) {
        return 0;
    }
    struct rlimit rl;
    return getrlimit(RLIMIT_NOFILE, &rl) != 0 || nfds > rl.rlim_cur;
}

static int any_ours(const struct pollfd *fds, nfds_t nfds)
{
    for (nfds_t i = 0; i < nfds; i++) {
        if (gonetif_slot(fds[i].fd)) {
            return 1;
        }
    }
    return 0;
}

/* poll(2) over any mix; timeout NULL = forever. */
static int mixed_poll(struct pollfd *fds, nfds_t nfds_arg, const struct timespec *timeout, const sigset_t *sigmask)
{
    /* The kernel takes nfds as an unsigned int. A NULL array or one longer
     * than the limit is the kernel's to refuse (EFAULT, EINVAL): no entry
     * is read here first. */
    nfds_t nfds = (unsigned int)nfds_arg;
    if ((!fds && nfds) || too_many_for_poll(nfds) || !any_ours(fds, nfds)) {
        return (int)syscall(SYS_ppoll, fds, nfds, timeout, sigmask, _NSIG / 8);
    }
    if (timeout && (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000)) {
        errno = EINVAL;
        return -1;
    }
    int efd = thread_efd();
    if (efd < 0) {
        return -1;
    }
    struct pollfd small_host[SMALL_POLL + 1];
    struct pollfd *hfd = nfds <= SMALL_POLL ? small_host : malloc((nfds + 1) * sizeof(*hfd));
    if (!hfd) {
        errno = ENOMEM;
        return -1;
    }
    int h = gonetif_poll_split(fds, (int)nfds, hfd, efd);
    int64_t deadline = timeout ? mono_ns() + timeout->tv_sec * 1000000000LL + timeout->tv_nsec : 0;
    int result;
    uint64_t drain;
    for (;;) {
        while (syscall(SYS_read, efd, &drain, sizeof(drain)) == sizeof(drain)) {
        }
        int ready = gonetif_poll_arm(fds, (int)nfds, hfd, h, efd);
        struct timespec left = {0, 0}, *lp = &left;
        if (ready == 0) {
            if (!timeout) {
                lp = NULL;
            } else {
                int64_t ns = deadline - mono_ns();
                if (ns > 0) {
                    left.tv_sec = ns / 1000000000;
                    left.tv_nsec = ns % 1000000000;
                }
            }
        }
        for (int i = 0; i <= h; i++) {
            hfd[i].revents = 0;
        }
        long r = syscall(SYS_ppoll, hfd, h + 1, lp, sigmask, _NSIG / 8);
        if (r < 0) {
            result = -1;
            break;
        }
        int host_ready = (int)r - (hfd[h].revents != 0);
        if (ready + host_ready > 0 || (lp && left.tv_sec == 0 && left.tv_nsec == 0) ||
            (timeout && mono_ns() >= deadline)) {
            /* A host descriptor may have become ready meanwhile too. */
            result = ready + host_ready;
            break;
        }
    }
    int saved = errno;
    gonetif_poll_done(fds, (int)nfds, hfd, h, efd, result >= 0);
    if (hfd != small_host) {
        free(hfd);
    }
    errno = saved;
    return result;
}

int poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
    struct timespec ts = {timeout / 1000, (long)(timeout % 1000) * 1000000};
    return mixed_poll(fds, nfds, timeout < 0 ? NULL : &ts, NULL);
}

int __poll_chk(struct pollfd *fds, nfds_t nfds, int timeout, size_t fdslen)
{
    if (fdslen / sizeof(*fds) < nfds) {
        abort();
    }
    return poll(fds, nfds, timeout);
}

int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *tmo, const sigset_t *sigmask)
{
    return mixed_poll(fds, nfds, tmo, sigmask);
}

int lwip_poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
    return poll(fds, nfds, timeout);
}

/* select over the same core: Go turns the sets into a pollfd array and
 * the results back, with Linux's rules (socket.SelectReady). */
static int mixed_select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, const struct timespec *timeout,
                        const sigset_t *sigmask, struct timespec *left_out)
{
    int any_ours = 0;
    if (nfds > FD_SETSIZE) {
        nfds = FD_SETSIZE;
    }
    for (int fd = 0; nfds > 0 && fd < nfds && !any_ours; fd++) {
        if (((rd && FD_ISSET(fd, rd)) || (wr && FD_ISSET(fd, wr)) || (ex && FD_ISSET(fd, ex))) && gonetif_slot(fd)) {
            any_ours = 1;
        }
    }
    if (!any_ours) {
        struct {
            const sigset_t *ss;
            size_t len;
        } sm = {sigmask, _NSIG / 8};
        struct timespec ts, *tsp = NULL;
        if (timeout) {
            ts = *timeout;
            tsp = &ts;
        }
        int r = (int)syscall(SYS_pselect6, nfds, rd, wr, ex, tsp, sigmask ? &sm : NULL);
        if (left_out && tsp) {
            *left_out = ts;
        }
        return r;
    }
    struct pollfd pf[FD_SETSIZE];
    int n = gonetif_select_to_poll(nfds > 0 ? nfds : 0, rd, wr, ex, pf);
    int64_t start = mono_ns();
    int r = mixed_poll(pf, (nfds_t)n, timeout, sigmask);
    if (r < 0) {
        return -1;
    }
    if (left_out && timeout) {
        int64_t ns = timeout->tv_sec * 1000000000LL + timeout->tv_nsec - (mono_ns() - start);
        if (ns < 0) {
            ns = 0;
        }
        left_out->tv_sec = ns / 1000000000;
        left_out->tv_nsec = ns % 1000000000;
    }
    r = gonetif_select_from_poll(pf, n, rd, wr, ex);
    return r < 0 ? gonetif_fail(r) : r;
}

int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *timeout)
{
    if (nfds < 0 || (timeout && (timeout->tv_sec < 0 || timeout->tv_usec < 0))) {
        errno = EINVAL;
        return -1;
    }
    struct timespec ts, left;
    if (timeout) {
        /* Linux normalizes tv_usec >= 1 s rather than failing. */
        ts.tv_sec = timeout->tv_sec + timeout->tv_usec / 1000000;
        ts.tv_nsec = (timeout->tv_usec % 1000000) * 1000;
    }
    int r = mixed_select(nfds, rd, wr, ex, timeout ? &ts : NULL, NULL, &left);
    if (timeout && (r >= 0 || errno == EINTR)) {
        timeout->tv_sec = left.tv_sec;
        timeout->tv_usec = left.tv_nsec / 1000;
    }
    return r;
}

int pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, const struct timespec *timeout, const sigset_t *sigmask)
{
    if (nfds < 0 || (timeout && (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000))) {
        errno = EINVAL;
        return -1;
    }
    return mixed_select(nfds, rd, wr, ex, timeout, sigmask, NULL);
}

int lwip_select(int maxfdp1, fd_set *readset, fd_set *writeset, fd_set *exceptset, struct timeval *timeout)
{
    return select(maxfdp1, readset, writeset, exceptset, timeout);
}
