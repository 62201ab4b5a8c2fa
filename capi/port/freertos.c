/*
 * FreeRTOS port (IDF linux target). A task blocked in a native wait is
 * still the running task to FreeRTOS, so lower-priority tasks would starve:
 * a blocked caller first waits natively for a short slice (fast answers
 * cost no tick), then sleeps one tick at a time with vTaskDelay, checking
 * the wait word in between. Only ever called on FreeRTOS task threads.
 *
 * Host descriptors: the glue's raw syscall() is redirected here
 * (-Dsyscall=gonetif_port_syscall), so waits on host descriptors
 * (ppoll, pselect6) become the same slice-then-yield loop, and on the
 * cooperative port of IDF master reads, writes and the rest go through its
 * syscall layer instead of straight to the kernel.
 */
#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "gonetif_abi.h"
#include "port.h"
#include "sdkconfig.h"

#if defined(__has_include)
#if __has_include("esp_private/freertos_linux_coop_syscalls.h")
#include "esp_private/freertos_linux_coop_syscalls.h"
#define GONETIF_COOP_PORT 1
#include <stdbool.h>
/* The layer's descriptor table (linux_port_coop_syscalls.c). */
bool linux_coop_get_user_flags(int fd, int *flags);
#endif
#endif

#ifndef CONFIG_GONETIF_WAIT_SPIN_US
#define CONFIG_GONETIF_WAIT_SPIN_US 500
#endif

#undef syscall

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static volatile int spin_us = CONFIG_GONETIF_WAIT_SPIN_US;

int gonetif_port_configure(int us)
{
    int old = spin_us;
    if (us >= 0) {
        spin_us = us;
    }
    return old;
}

static int on_task(void)
{
    return xTaskGetSchedulerState() == taskSCHEDULER_RUNNING;
}

/* Native futex wait on word for at most us microseconds (0 = forever). */
static void futex_slice(uint32_t *word, uint32_t *waiters, uint32_t seen, int64_t us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    __atomic_add_fetch(waiters, 1, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, seen, us ? &ts : NULL, NULL, 0);
    __atomic_sub_fetch(waiters, 1, __ATOMIC_SEQ_CST);
}

int gonetif_port_wait(uint32_t *word, uint32_t *waiters, uint32_t seen, int64_t deadline_us)
{
    int64_t start = mono_us();
    if (!on_task()) {
        /* Before the scheduler runs (constructors, main): plain waits. */
        int64_t left = deadline_us ? deadline_us - start : 0;
        if (deadline_us && left <= 0) {
            return -1;
        }
        futex_slice(word, waiters, seen, left);
        return deadline_us && __atomic_load_n(word, __ATOMIC_SEQ_CST) == seen && mono_us() >= deadline_us ? -1 : 0;
    }
    int64_t slice = spin_us;
    if (deadline_us && deadline_us - start < slice) {
        slice = deadline_us - start;
    }
    if (slice > 0) {
        futex_slice(word, waiters, seen, slice);
    }
    for (;;) {
        if (__atomic_load_n(word, __ATOMIC_SEQ_CST) != seen) {
            return 0;
        }
        if (deadline_us && mono_us() >= deadline_us) {
            return -1;
        }
        vTaskDelay(1);
    }
}

/* Run-to-completion receive would have a task block in ppoll(2), outside
 * the tick rules above: Go never asks for it under this port (it logs that
 * GONETIF_TCP_RTC is ignored), and if asked the task waits as usual. */
int gonetif_port_wait_fds(uint32_t *word, uint32_t *waiters, uint32_t seen, int64_t deadline_us, int fd_a, int fd_b)
{
    (void)fd_a;
    (void)fd_b;
    return gonetif_port_wait(word, waiters, seen, deadline_us);
}

/* ---- no task switch in the middle of a call into gonetif ---------------
 * IDF v5.5 and v6.0 switch tasks inside their SIGALRM handler, on whatever
 * task thread the tick lands. A task switched out in the middle of Go code
 * keeps what it holds of the Go runtime (its P while the world is being
 * stopped, a runtime lock); when a higher-priority task then calls Go, it
 * waits natively for the one switched out, FreeRTOS still counts it as
 * running and never switches back: the app hangs (once in CI, in a poll).
 * So the tick is held while a task is inside gonetif: runtime/cgo calls the
 * context hook as each C->Go call starts and ends, the glue brackets its
 * own locks with enter/leave, and a tick that lands inside is replayed on
 * the same thread when the outermost call returns. IDF master's port never
 * switches a thread out asynchronously and installs no SIGALRM handler:
 * nothing is held there. */

static __thread int calls_inside __attribute__((tls_model("initial-exec")));
static __thread volatile sig_atomic_t tick_held __attribute__((tls_model("initial-exec")));
static struct sigaction host_tick;

static void tick_gate(int sig, siginfo_t *info, void *uc)
{
    if (calls_inside > 0) {
        tick_held = 1;
        return;
    }
    if (host_tick.sa_flags & SA_SIGINFO) {
        host_tick.sa_sigaction(sig, info, uc);
    } else {
        host_tick.sa_handler(sig);
    }
}

void gonetif_port_enter(void)
{
    calls_inside++;
}

void gonetif_port_leave(void)
{
    if (--calls_inside > 0) {
        return;
    }
    calls_inside = 0;
    /* A tick after the decrement runs at once; only one held before it is
     * replayed. */
    if (tick_held) {
        tick_held = 0;
        pthread_kill(pthread_self(), SIGALRM);
    }
}

/* The cgo context hook: Context 0 as a call starts, our 1 as it ends. */
struct cgo_context_arg {
    uintptr_t context;
};

static void count_go_calls(struct cgo_context_arg *arg)
{
    if (arg->context == 0) {
        gonetif_port_enter();
        arg->context = 1;
    } else {
        gonetif_port_leave();
    }
}

void gonetif_port_started(void)
{
    static int done;
    if (__atomic_exchange_n(&done, 1, __ATOMIC_SEQ_CST)) {
        return;
    }
    struct sigaction now;
    if (sigaction(SIGALRM, NULL, &now) != 0 || (!(now.sa_flags & SA_SIGINFO) &&
                                                (now.sa_handler == SIG_DFL || now.sa_handler == SIG_IGN))) {
        return;
    }
    host_tick = now;
    struct sigaction gate = now;
    gate.sa_sigaction = tick_gate;
    gate.sa_flags = now.sa_flags | SA_SIGINFO | SA_ONSTACK;
    gonetif_port_count_calls((void *)count_go_calls);
    sigaction(SIGALRM, &gate, NULL);
}

/* ppoll/pselect6 as a poll-and-yield loop on a task; timeouts kept. */
static long friendly_wait(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
    const struct timespec *tmo = (const struct timespec *)(nr == SYS_ppoll ? a3 : a5);
    int64_t deadline = tmo ? mono_us() + tmo->tv_sec * 1000000 + tmo->tv_nsec / 1000 : 0;
    struct timespec zero = {0, 0};
    /* select's sets are in-out: keep the caller's copy for each round. */
    fd_set in_r, in_w, in_e;
    if (nr == SYS_pselect6) {
        if (a2) in_r = *(fd_set *)a2;
        if (a3) in_w = *(fd_set *)a3;
        if (a4) in_e = *(fd_set *)a4;
    }
    /* The first round waits natively for the spin slice, as for sockets. */
    int64_t first = spin_us;
    if (tmo && deadline - mono_us() < first) {
        first = deadline - mono_us() > 0 ? deadline - mono_us() : 0;
    }
    struct timespec slice = {first / 1000000, (first % 1000000) * 1000};
    for (int round = 0;; round++) {
        long r;
        struct timespec *wait = round == 0 ? &slice : &zero;
        if (nr == SYS_ppoll) {
            r = syscall(SYS_ppoll, a1, a2, wait, a4, a5);
        } else {
            if (a2) *(fd_set *)a2 = in_r;
            if (a3) *(fd_set *)a3 = in_w;
            if (a4) *(fd_set *)a4 = in_e;
            r = syscall(SYS_pselect6, a1, a2, a3, a4, wait, a6);
        }
        if (r != 0 && !(r < 0 && errno == EINTR)) {
            return r;
        }
        if (tmo && mono_us() >= deadline) {
            return 0;
        }
        vTaskDelay(1);
    }
}

long gonetif_port_syscall(long nr, ...)
{
    va_list ap;
    va_start(ap, nr);
    long a1 = va_arg(ap, long), a2 = va_arg(ap, long), a3 = va_arg(ap, long);
    long a4 = va_arg(ap, long), a5 = va_arg(ap, long), a6 = va_arg(ap, long);
    va_end(ap);
    if ((nr == SYS_ppoll || nr == SYS_pselect6) && on_task()) {
        const struct timespec *tmo = (const struct timespec *)(nr == SYS_ppoll ? a3 : a5);
        if (!tmo || tmo->tv_sec || tmo->tv_nsec) {
            return friendly_wait(nr, a1, a2, a3, a4, a5, a6);
        }
    }
#ifdef GONETIF_COOP_PORT
    /* Only descriptors the layer tracks (made through it: pipes, files,
     * host sockets); the glue's own eventfds and placeholders are raw and
     * non-blocking, and the layer would wait on them as if blocking. */
    int user_flags;
    if (on_task() && nr != SYS_ppoll && nr != SYS_pselect6 && linux_coop_get_user_flags((int)a1, &user_flags)) {
        switch (nr) {
        case SYS_read:
            return freertos_linux_coop_read((int)a1, (void *)a2, (size_t)a3);
        case SYS_write:
            return freertos_linux_coop_write((int)a1, (const void *)a2, (size_t)a3);
        case SYS_readv:
            return freertos_linux_coop_readv((int)a1, (const struct iovec *)a2, (int)a3);
        case SYS_writev:
            return freertos_linux_coop_writev((int)a1, (const struct iovec *)a2, (int)a3);
        case SYS_close:
            return freertos_linux_coop_close((int)a1);
        case SYS_fcntl:
            return freertos_linux_coop_fcntl((int)a1, (int)a2, (int)a3);
        case SYS_recvfrom:
            return freertos_linux_coop_recvfrom((int)a1, (void *)a2, (size_t)a3, (int)a4, (struct sockaddr *)a5,
                                                (socklen_t *)a6);
        case SYS_sendto:
            return freertos_linux_coop_sendto((int)a1, (const void *)a2, (size_t)a3, (int)a4,
                                              (const struct sockaddr *)a5, (socklen_t)a6);
        case SYS_connect:
            return freertos_linux_coop_connect((int)a1, (const struct sockaddr *)a2, (socklen_t)a3);
        case SYS_accept:
            return freertos_linux_coop_accept((int)a1, (struct sockaddr *)a2, (socklen_t *)a3);
        default:
            break;
        }
    }
#endif
    return syscall(nr, a1, a2, a3, a4, a5, a6);
}

/* lwIP raises no signals: under IDF a send after a reset or SHUT_WR gives
 * EPIPE alone, as on a device (the glue's raise() is redirected here). */
#undef raise
int gonetif_port_raise(int sig)
{
    return sig == SIGPIPE ? 0 : raise(sig);
}
