/*
 * Plain-thread port: a blocked caller sleeps on the wait word's futex,
 * which Go wakes on every readiness change.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "gonetif_abi.h"
#include "port.h"

/* Time left to deadline_us into *ts; 0 when none, -1 when passed. */
static int time_left(int64_t deadline_us, struct timespec *ts)
{
    if (!deadline_us) {
        return 0;
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t left = deadline_us - ((int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000);
    if (left <= 0) {
        return -1;
    }
    ts->tv_sec = left / 1000000;
    ts->tv_nsec = (left % 1000000) * 1000;
    return 1;
}

int gonetif_port_wait(uint32_t *word, uint32_t *waiters, uint32_t seen, int64_t deadline_us)
{
    struct timespec ts;
    int limited = time_left(deadline_us, &ts);
    if (limited < 0) {
        return -1;
    }
    __atomic_add_fetch(waiters, 1, __ATOMIC_SEQ_CST);
    long r = syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, seen, limited ? &ts : NULL, NULL, 0);
    int err = errno;
    __atomic_sub_fetch(waiters, 1, __ATOMIC_SEQ_CST);
    return r == -1 && err == ETIMEDOUT ? -1 : 0;
}

/* Run-to-completion receive: the word cannot be polled, so Go writes fd_b
 * (the socket's descriptor, an eventfd) for waiters counted this way; the
 * count goes up before the word is looked at, as Go bumps the word before
 * it looks at the count. */
int gonetif_port_wait_fds(uint32_t *word, uint32_t *waiters, uint32_t seen, int64_t deadline_us, int fd_a, int fd_b)
{
    struct timespec ts;
    int limited = time_left(deadline_us, &ts);
    if (limited < 0) {
        return -1;
    }
    __atomic_add_fetch(waiters, GONETIF_POLL_WAITER, __ATOMIC_SEQ_CST);
    int r = 1;
    struct pollfd p[2] = {{.fd = fd_a, .events = POLLIN}, {.fd = fd_b, .events = POLLIN}};
    if (__atomic_load_n(word, __ATOMIC_SEQ_CST) == seen) {
        /* The raw call: the glue's ppoll() takes fd_b for the socket. */
        r = (int)syscall(SYS_ppoll, p, 2, limited ? &ts : NULL, NULL, _NSIG / 8);
    }
    __atomic_sub_fetch(waiters, GONETIF_POLL_WAITER, __ATOMIC_SEQ_CST);
    if (p[1].revents & POLLIN) {
        /* The raw call: the glue's read() is the socket's own. */
        uint64_t v;
        (void)syscall(SYS_read, fd_b, &v, sizeof v);
    }
    return r == 0 ? -1 : 0;
}

/* Plain threads are never switched out by a scheduler of the host's. */
void gonetif_port_enter(void)
{
}

void gonetif_port_leave(void)
{
}

void gonetif_port_started(void)
{
}
