/*
 * Keeps host signals off Go's threads. IDF's FreeRTOS port (v5.5, v6.0)
 * ticks with a process-wide SIGALRM whose handler has no SA_ONSTACK and
 * switches tasks on whatever thread it lands: on a Go thread that corrupts
 * the Go runtime. This constructor runs before the Go runtime's (priority
 * 101 < the runtime's unprioritised one) and blocks SIGALRM and SIGUSR1
 * (the port's resume signal), so every thread Go creates inherits the
 * block; FreeRTOS task threads set their own masks, so the scheduler still
 * gets every tick.
 *
 * At esp_netif_init the host's SIGALRM and SIGUSR1 handlers get
 * SA_ONSTACK (Go's rule for foreign handlers), for the threads that do run
 * Go code while they take a tick.
 *
 * IDF also replaces SIGSEGV/SIGBUS/SIGFPE with its own handlers after
 * start-up; Go's are re-installed then (saved by the Go side at its init),
 * so a fault in Go is still reported as Go's panic.
 */
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "port.h"

static sigset_t main_mask;
static pthread_t main_thread;
static int blocked_here[2];
static const int host_signals[2] = {SIGALRM, SIGUSR1};

__attribute__((constructor(101))) static void block_host_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    for (int i = 0; i < 2; i++) {
        sigaddset(&set, host_signals[i]);
    }
    main_thread = pthread_self();
    pthread_sigmask(SIG_BLOCK, &set, &main_mask);
    for (int i = 0; i < 2; i++) {
        blocked_here[i] = !sigismember(&main_mask, host_signals[i]);
    }
}

/* Go's fault handlers as the Go side found them at its init (capi). */
extern struct sigaction gonetif_go_fault_handlers[3];
extern int gonetif_go_fault_signals[3];

void gonetif_signals_after_start(void)
{
    if (pthread_equal(pthread_self(), main_thread)) {
        sigset_t set;
        sigemptyset(&set);
        for (int i = 0; i < 2; i++) {
            if (blocked_here[i]) {
                sigaddset(&set, host_signals[i]);
                blocked_here[i] = 0;
            }
        }
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    }
    /* The main thread (and any thread calling into Go) can still take a
     * tick while it runs Go code: a handler installed without SA_ONSTACK
     * then runs on the goroutine's stack and corrupts it (seen in CI: a
     * "traceback did not unwind completely" crash in one run of thirty).
     * With SA_ONSTACK it runs on the signal stack Go gives such threads;
     * elsewhere the flag changes nothing. */
    for (int i = 0; i < 2; i++) {
        struct sigaction now;
        if (sigaction(host_signals[i], NULL, &now) != 0 || (now.sa_flags & SA_ONSTACK)) {
            continue;
        }
        if (!(now.sa_flags & SA_SIGINFO) && (now.sa_handler == SIG_DFL || now.sa_handler == SIG_IGN)) {
            continue;
        }
        now.sa_flags |= SA_ONSTACK;
        sigaction(host_signals[i], &now, NULL);
    }
    gonetif_port_started();
    for (int i = 0; i < 3; i++) {
        struct sigaction now;
        int sig = gonetif_go_fault_signals[i];
        if (sig == 0 || sigaction(sig, NULL, &now) != 0) {
            continue;
        }
        if (now.sa_sigaction != gonetif_go_fault_handlers[i].sa_sigaction) {
            sigaction(sig, &gonetif_go_fault_handlers[i], NULL);
        }
    }
}
