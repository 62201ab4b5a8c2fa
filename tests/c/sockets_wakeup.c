/*
 * Lost wake-ups in the socket wait protocol, through the C API (futex
 * waits on the descriptors' wait slots), no privileges needed: TCP pairs
 * on the stack's loopback, each direction a sender thread doing blocking
 * sends of jittered small writes (and bursts that fill the buffers) and a
 * receiver thread doing blocking receives, some of them through poll()
 * over the socket and a host pipe. Every call has a 2 s timeout, and the
 * peers never pause for more than a few ms: a call that waits over 1 s,
 * times out, or a poll that finds nothing, was left asleep while it could
 * have gone on. The stream's bytes are checked in order.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lwip/sockets.h"

#define PAIRS 6
#define RUN_S 3.0
#define STALL_S 1.0
#define TIMEOUT_S 2
#define MAX_BYTES (8 << 20)

static atomic_int failures;
static atomic_long moved, long_calls; /* calls that waited over 0.5 ms */

#define FAIL(...)                                                                                            \
    do {                                                                                                     \
        printf("FAIL: " __VA_ARGS__);                                                                        \
        printf("\n");                                                                                        \
        atomic_fetch_add(&failures, 1);                                                                      \
    } while (0)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned char at(size_t off)
{
    return (unsigned char)(off * 7 + (off >> 8));
}

struct flow {
    char name[32];
    int from, to;
    int use_poll; /* the receiver waits in poll() with a host pipe */
    int pipe_rd;
    double stop;
    size_t sent;
    unsigned seed;
};

static void *sender(void *arg)
{
    struct flow *f = arg;
    static __thread unsigned char buf[16384];
    while (now_s() < f->stop && f->sent < MAX_BYTES) {
        size_t size = 1 + rand_r(&f->seed) % 300;
        if (rand_r(&f->seed) % 16 == 0) {
            size = 4096 + rand_r(&f->seed) % 8192; /* a burst that fills small buffers */
        }
        for (size_t i = 0; i < size; i++) {
            buf[i] = at(f->sent + i);
        }
        double t0 = now_s();
        ssize_t r = send(f->from, buf, size, MSG_NOSIGNAL);
        double took = now_s() - t0;
        if (r > 0) {
            f->sent += (size_t)r;
        }
        if (r != (ssize_t)size) {
            FAIL("%s: send of %zu after %zu bytes gave %zd (%s) after %.3f s", f->name, size, f->sent, r,
                 strerror(errno), took);
            break;
        }
        if (took > STALL_S) {
            FAIL("%s: blocking send of %zu after %zu bytes took %.3f s", f->name, size, f->sent, took);
            break;
        }
        if (took > 0.0005) {
            atomic_fetch_add(&long_calls, 1);
        }
        if (rand_r(&f->seed) % 4 == 0) {
            usleep(rand_r(&f->seed) % 300);
        }
    }
    shutdown(f->from, SHUT_WR);
    return NULL;
}

static void *receiver(void *arg)
{
    struct flow *f = arg;
    unsigned char buf[2048];
    size_t got = 0;
    for (;;) {
        double t0 = now_s();
        ssize_t r;
        if (f->use_poll) {
            struct pollfd p[2] = {{.fd = f->pipe_rd, .events = POLLIN}, {.fd = f->to, .events = POLLIN}};
            int n = poll(p, 2, TIMEOUT_S * 1000);
            if (n != 1 || !(p[1].revents & POLLIN)) {
                FAIL("%s: poll after %zu bytes gave %d (revents %#x, %s) after %.3f s", f->name, got, n, p[1].revents,
                     strerror(errno), now_s() - t0);
                break;
            }
            r = recv(f->to, buf, 1 + rand_r(&f->seed) % sizeof(buf), MSG_DONTWAIT);
        } else {
            r = recv(f->to, buf, 1 + rand_r(&f->seed) % sizeof(buf), 0);
        }
        double took = now_s() - t0;
        if (r < 0) {
            int queued = -1;
            ioctl(f->to, FIONREAD, &queued);
            FAIL("%s: recv after %zu bytes: %s after %.3f s (bytes queued now: %d)", f->name, got, strerror(errno),
                 took, queued);
            break;
        }
        if (took > STALL_S) {
            FAIL("%s: blocking recv after %zu bytes took %.3f s", f->name, got, took);
            break;
        }
        if (took > 0.0005) {
            atomic_fetch_add(&long_calls, 1);
        }
        if (r == 0) {
            break;
        }
        for (ssize_t i = 0; i < r; i++) {
            if (buf[i] != at(got + (size_t)i)) {
                FAIL("%s: byte %zu is %#x, want %#x", f->name, got + (size_t)i, buf[i], at(got + (size_t)i));
                return NULL;
            }
        }
        got += (size_t)r;
        atomic_fetch_add(&moved, r);
        if (rand_r(&f->seed) % 64 == 0) {
            usleep(rand_r(&f->seed) % 5000); /* a slow reader */
        }
    }
    return (void *)got;
}

static void set_opts(int s, int small)
{
    struct timeval tv = {.tv_sec = TIMEOUT_S};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (small) {
        /* The receive buffer stays above one loopback segment (64 KiB
         * MTU): below it TCP waits for its persist timer, a stall that is
         * TCP's, not the wait protocol's. */
        int snd = 8192, rcv = 32768;
        setsockopt(s, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd));
        setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
    }
}

static void on_alarm(int sig)
{
    static const char msg[] = "FAIL: a call hung: the run did not end within 60 s\n";
    (void)sig;
    (void)!write(1, msg, sizeof(msg) - 1);
    _exit(1);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0); /* the lines reach ctest even if a hang ends the run */
    signal(SIGALRM, on_alarm);
    alarm(60); /* a hung call fails the test, before ctest's timeout */
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, PAIRS) ||
        getsockname(l, (struct sockaddr *)&a, &al)) {
        printf("FAIL: listener: %s\n", strerror(errno));
        return 1;
    }
    int pipes[2];
    if (pipe(pipes)) {
        printf("FAIL: pipe: %s\n", strerror(errno));
        return 1;
    }
    static struct flow flows[2 * PAIRS];
    double stop = now_s() + RUN_S;
    for (int i = 0; i < PAIRS; i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a))) {
            printf("FAIL: connect %d: %s\n", i, strerror(errno));
            return 1;
        }
        int s = accept(l, NULL, NULL);
        if (s < 0) {
            printf("FAIL: accept %d: %s\n", i, strerror(errno));
            return 1;
        }
        set_opts(c, i % 2 == 0);
        set_opts(s, i % 2 == 0);
        for (int d = 0; d < 2; d++) {
            struct flow *f = &flows[2 * i + d];
            snprintf(f->name, sizeof(f->name), "pair %d %s", i, d ? "B->A" : "A->B");
            f->from = d ? s : c;
            f->to = d ? c : s;
            f->use_poll = i % 3 == 2;
            f->pipe_rd = pipes[0];
            f->stop = stop;
            f->seed = (unsigned)(2 * i + d + 1);
        }
    }
    pthread_t st[2 * PAIRS], rt[2 * PAIRS];
    for (int i = 0; i < 2 * PAIRS; i++) {
        if (pthread_create(&st[i], NULL, sender, &flows[i]) || pthread_create(&rt[i], NULL, receiver, &flows[i])) {
            printf("FAIL: pthread_create\n");
            return 1;
        }
    }
    for (int i = 0; i < 2 * PAIRS; i++) {
        void *got;
        pthread_join(st[i], NULL);
        pthread_join(rt[i], &got);
        if ((size_t)got != flows[i].sent && atomic_load(&failures) == 0) {
            FAIL("%s: %zu bytes sent, %zu received", flows[i].name, flows[i].sent, (size_t)got);
        }
    }
    printf("sockets_wakeup: %ld bytes moved, %ld calls waited over 0.5 ms, %d failure(s)\n", atomic_load(&moved),
           atomic_load(&long_calls), atomic_load(&failures));
    if (atomic_load(&long_calls) < 50) {
        printf("FAIL: only %ld calls waited: the run did not exercise the wait protocol\n", atomic_load(&long_calls));
        return 1;
    }
    return atomic_load(&failures) ? 1 : 0;
}
