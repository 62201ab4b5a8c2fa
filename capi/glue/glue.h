/*
 * Private declarations shared by the C glue files. The glue turns IDF types
 * into the plain values of gonetif_abi.h; it holds no networking logic.
 */
#ifndef GONETIF_GLUE_H
#define GONETIF_GLUE_H

#include <stdint.h>

#include "esp_netif.h"
#include "esp_netif_net_stack.h"
#include "lwip/esp_netif_net_stack.h"
#include "gonetif_abi.h"

#define GONETIF_NETIF_MAGIC 0x676e6966u /* "gnif" */

/* What an esp_netif_t is: a Go handle plus the C-side things C callers
 * need stable pointers to (strings) or that are C code (driver callbacks). */
struct esp_netif_obj {
    uint32_t magic;
    int id; /* Go netif handle */
    char *if_key;
    char *if_desc;
    char *hostname;
    esp_netif_flags_t flags;
    uint32_t get_ip_event;
    uint32_t lost_ip_event;
    esp_netif_driver_ifconfig_t driver;
    struct esp_netif_netstack_config stack;
    esp_netif_ip_info_t old_ip_info;
    struct esp_netif_obj *next;
};

void gonetif_log_line(int level, const char *tag, const char *msg);

/* Starts the Go side once (callbacks, wait slots, settings checked):
 * ESP_OK, or ESP_ERR_INVALID_ARG for a bad GONETIF_* setting (logged). */
int gonetif_glue_init(void);

/* Per-descriptor wait slots shared with Go. */
extern struct gonetif_wait_slot gonetif_slots[GONETIF_MAX_FDS];

/* esp_netif's own list, unlocked (IDF's esp_netif_objects.c, whose header
 * is private to esp_netif, or capi/standalone's stand-in). */
esp_err_t esp_netif_add_to_list_unsafe(esp_netif_t *netif);
esp_err_t esp_netif_remove_from_list_unsafe(esp_netif_t *netif);

/* The netif list under gonetif's lock (netif_list.c). */
void gonetif_list_add(esp_netif_t *netif);
void gonetif_list_remove(esp_netif_t *netif);
esp_netif_t *gonetif_list_by_id(int id);

/* True when p is a live esp_netif_t created by us. */
int gonetif_netif_valid(const esp_netif_t *p);

/* A received frame into the stack of netif h (netif_list.c): what every
 * input_fn gonetif provides does. */
esp_err_t gonetif_stack_input(void *h, void *buffer, size_t len);

/* The end of an input_fn: its result, or none where IDF 5.x wants void. */
#if ESP_NETIF_RECV_RET_T_IS_VOID
#define GONETIF_RECV_RETURN(err) ((void)(err))
#else
#define GONETIF_RECV_RETURN(err) return (err)
#endif

/* Our TAP driver handle (tapio.c). */
int gonetif_tapio_link_of(void *handle); /* link id, or 0 if not ours */
/* esp_netif_destroy: the handle goes back to the free ones, its link is
 * closed if no interface took it; not ours or already free: nothing. */
void gonetif_tapio_release(void *handle);

/* Turn an "id or -err" into an esp_err_t. */
static inline esp_err_t gonetif_err_of(int rc) { return rc < 0 ? (esp_err_t)-rc : ESP_OK; }

#endif

/* ---- descriptors ------------------------------------------------------ */

#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The slot of a gonetif descriptor, or NULL for any other number. */
static inline struct gonetif_wait_slot *gonetif_slot(int fd)
{
    if (fd < 0 || fd >= GONETIF_MAX_FDS || !__atomic_load_n(&gonetif_slots[fd].open, __ATOMIC_ACQUIRE)) {
        return NULL;
    }
    return &gonetif_slots[fd];
}

/* errno for a socket call on a descriptor that is not ours: ENOTSOCK for
 * an open host descriptor, EBADF otherwise (as Linux). Returns -1. */
static inline int gonetif_not_ours(int fd)
{
    errno = syscall(SYS_fcntl, fd, F_GETFD) >= 0 ? ENOTSOCK : EBADF;
    return -1;
}

/* Set errno from a negated errno result; returns -1. */
static inline int gonetif_fail(long neg_errno)
{
    errno = (int)-neg_errno;
    return -1;
}

/* ---- the glue's own locks ---------------------------------------------- */

#include <pthread.h>

#include "port.h"

/* A glue lock is held with the scheduler's tick held too (port.h): under
 * IDF a task switched out while holding it would block every
 * higher-priority task that wants it, for good. */
static inline void gonetif_lock(pthread_mutex_t *m)
{
    gonetif_port_enter();
    pthread_mutex_lock(m);
}

static inline void gonetif_unlock(pthread_mutex_t *m)
{
    pthread_mutex_unlock(m);
    gonetif_port_leave();
}
