/*
 * gonetif — lwip/err.h
 *
 * lwIP's err_t and its values, for code written against lwIP (tapif-style
 * netif init functions return err_t).  There is no lwIP inside gonetif;
 * only the names and numbers are kept.
 */
#ifndef GONETIF_LWIP_ERR_H
#define GONETIF_LWIP_ERR_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One signed byte, as lwIP's s8_t. */
typedef int8_t err_t;

typedef enum {
    ERR_OK         =   0,   /* no error */
    ERR_MEM        =  -1,   /* out of memory */
    ERR_BUF        =  -2,   /* buffer error */
    ERR_TIMEOUT    =  -3,   /* timeout */
    ERR_RTE        =  -4,   /* routing problem */
    ERR_INPROGRESS =  -5,   /* operation in progress */
    ERR_VAL        =  -6,   /* illegal value */
    ERR_WOULDBLOCK =  -7,   /* operation would block */
    ERR_USE        =  -8,   /* address in use */
    ERR_ALREADY    =  -9,   /* already connecting */
    ERR_ISCONN     = -10,   /* already connected */
    ERR_CONN       = -11,   /* not connected */
    ERR_IF         = -12,   /* low-level netif error */
    ERR_ABRT       = -13,   /* connection aborted */
    ERR_RST        = -14,   /* connection reset */
    ERR_CLSD       = -15,   /* connection closed */
    ERR_ARG        = -16    /* illegal argument */
} err_enum_t;

#ifdef __cplusplus
}
#endif

#endif /* GONETIF_LWIP_ERR_H */
