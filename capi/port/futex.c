/*
 * Plain-thread port: a blocked caller sleeps on the wait word's futex,
 * which Go wakes on every readiness change.
 */
#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "port.h"

int gonetif_port_wait(uint32_t *word, uint32_t *waiters, uint32_t seen, int64_t deadline_us)
{
    struct timespec ts, *tsp = NULL;
    if (deadline_us) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t left = deadline_us - ((int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000);
        if (left <= 0) {
            return -1;
        }
        ts.tv_sec = left / 1000000;
        ts.tv_nsec = (left % 1000000) * 1000;
        tsp = &ts;
    }
    __atomic_add_fetch(waiters, 1, __ATOMIC_SEQ_CST);
    long r = syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, seen, tsp, NULL, 0);
    int err = errno;
    __atomic_sub_fetch(waiters, 1, __ATOMIC_SEQ_CST);
    return r == -1 && err == ETIMEDOUT ? -1 : 0;
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
