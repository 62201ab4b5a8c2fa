/*
 * How a C caller blocked on a gonetif socket waits: the port. Standalone
 * builds link futex.c (plain threads); IDF builds link freertos.c, so a
 * waiting task lets lower-priority tasks run. Private to gonetif.
 */
#ifndef GONETIF_PORT_H
#define GONETIF_PORT_H

#include <stdint.h>

/* Waits until *word differs from `seen` or CLOCK_MONOTONIC passes
 * deadline_us (0 = no deadline). *waiters counts sleepers so that Go wakes
 * the futex only when someone sleeps on it. Returns 0 when woken (or
 * spuriously), -1 on timeout. */
int gonetif_port_wait(uint32_t *word, uint32_t *waiters, uint32_t seen, int64_t deadline_us);

/* As gonetif_port_wait, and also until fd_a is readable or fd_b (an
 * eventfd, read here to reset it) is; counts GONETIF_POLL_WAITER in
 * *waiters. The FreeRTOS port waits as gonetif_port_wait. */
int gonetif_port_wait_fds(uint32_t *word, uint32_t *waiters, uint32_t seen, int64_t deadline_us, int fd_a, int fd_b);

/* FreeRTOS port: how long a blocked task first waits natively before it
 * sleeps tick by tick (microseconds; < 0 only reads it). Returns the
 * previous value. */
int gonetif_port_configure(int spin_us);

/* FreeRTOS port: raise() for the socket glue; SIGPIPE is not raised under
 * IDF (lwIP raises none), EPIPE is still returned. */
int gonetif_port_raise(int sig);

/* Calls into gonetif from a task: between enter and leave the scheduler's
 * tick is held, so FreeRTOS never switches the task out while it holds a
 * lock another task may need (the glue's locks; Go calls are counted by
 * the cgo hook). Nested pairs count. No-ops in the plain-thread port. */
void gonetif_port_enter(void);
void gonetif_port_leave(void);

/* Once the host's scheduler and handlers are set up (signals.c calls it):
 * the FreeRTOS port starts holding ticks over calls into gonetif. */
void gonetif_port_started(void);

/* Signals (signals.c). Called once the Go runtime runs and the host
 * (IDF) has installed its own handlers: puts the main thread's signal mask
 * back and re-installs Go's fault handlers where the host replaced them. */
void gonetif_signals_after_start(void);

#endif
