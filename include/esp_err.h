/*
 * gonetif — esp_err.h
 *
 * Error codes and the ESP_ERROR_CHECK helpers, with the names and values of
 * ESP-IDF's esp_err.h (IDF 6.x).  The functions are implemented in
 * capi/glue/esp_err.c.
 */
#ifndef GONETIF_ESP_ERR_H
#define GONETIF_ESP_ERR_H

#ifdef __has_include
#  if __has_include("sdkconfig.h")
#    include "sdkconfig.h"
#  endif
#endif

#include <stdint.h>
#include <stddef.h>
#if defined(CONFIG_COMPILER_OPTIMIZATION_ASSERTIONS_SILENT) && !defined(NDEBUG)
#include <stdlib.h>     /* abort() used by ESP_ERROR_CHECK */
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef int esp_err_t;

/* Generic codes. */
#define ESP_OK                  0       /* success */
#define ESP_FAIL                -1      /* generic failure */

#define ESP_ERR_NO_MEM              0x101   /* out of memory */
#define ESP_ERR_INVALID_ARG         0x102   /* invalid argument */
#define ESP_ERR_INVALID_STATE       0x103   /* invalid state */
#define ESP_ERR_INVALID_SIZE        0x104   /* invalid size */
#define ESP_ERR_NOT_FOUND           0x105   /* requested resource not found */
#define ESP_ERR_NOT_SUPPORTED       0x106   /* operation or feature not supported */
#define ESP_ERR_TIMEOUT             0x107   /* operation timed out */
#define ESP_ERR_INVALID_RESPONSE    0x108   /* received response was invalid */
#define ESP_ERR_INVALID_CRC         0x109   /* CRC or checksum was invalid */
#define ESP_ERR_INVALID_VERSION     0x10A   /* version was invalid */
#define ESP_ERR_INVALID_MAC         0x10B   /* MAC address was invalid */
#define ESP_ERR_NOT_FINISHED        0x10C   /* operation has not fully completed */
#define ESP_ERR_NOT_ALLOWED         0x10D   /* operation is not allowed */

/* First code of each component's range. */
#define ESP_ERR_WIFI_BASE           0x3000
#define ESP_ERR_MESH_BASE           0x4000
#define ESP_ERR_FLASH_BASE          0x6000
#define ESP_ERR_HW_CRYPTO_BASE      0xc000
#define ESP_ERR_MEMPROT_BASE        0xd000
/* ESP_ERR_ESP_NETIF_BASE (0x5000) lives in esp_netif_types.h, as in IDF. */

/**
 * Name of an error code ("ESP_ERR_NO_MEM", ...).  Codes this library does
 * not know give "UNKNOWN ERROR".  The returned string is static.
 */
const char *esp_err_to_name(esp_err_t code);

/**
 * Same as esp_err_to_name() but writes into buf (always NUL terminated when
 * buflen > 0) and returns buf.  An unknown code is looked up as an errno
 * value (strerror_r); failing that buf receives "ERROR 0x<hex>(<dec>)".
 */
const char *esp_err_to_name_r(esp_err_t code, char *buf, size_t buflen);

/**
 * Called by ESP_ERROR_CHECK on failure: prints
 *   ESP_ERROR_CHECK failed: esp_err_t 0x<hex> (<name>) at 0x<addr>
 *   file: "<file>" line <line>
 *   func: <function>
 *   expression: <expression>
 * to stderr and aborts.
 */
void _esp_error_check_failed(esp_err_t rc, const char *file, int line,
                             const char *function, const char *expression)
    __attribute__((__noreturn__));

/** Same report with the prefix ESP_ERROR_CHECK_WITHOUT_ABORT; returns. */
void _esp_error_check_failed_without_abort(esp_err_t rc, const char *file, int line,
                                           const char *function, const char *expression);

#ifndef __ASSERT_FUNC
/* Name of the enclosing function, as IDF's newlib assert.h provides it. */
#define __ASSERT_FUNC __func__
#endif

#if defined(__GNUC__) || defined(__clang__)
#define GONETIF_ERR_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define GONETIF_ERR_UNLIKELY(x) (x)
#endif

/*
 * ESP_ERROR_CHECK(x): evaluate x exactly once; when it is not ESP_OK print
 * the report above and abort().  With NDEBUG x is still evaluated but never
 * checked; with CONFIG_COMPILER_OPTIMIZATION_ASSERTIONS_SILENT a failure
 * aborts without printing.
 */
#if defined(NDEBUG)
#define ESP_ERROR_CHECK(x) do {                                             \
        esp_err_t esp_err_rc_ = (x);                                        \
        (void)esp_err_rc_;                                                  \
    } while (0)
#elif defined(CONFIG_COMPILER_OPTIMIZATION_ASSERTIONS_SILENT)
#define ESP_ERROR_CHECK(x) do {                                             \
        esp_err_t esp_err_rc_ = (x);                                        \
        if (GONETIF_ERR_UNLIKELY(esp_err_rc_ != ESP_OK)) {                  \
            abort();                                                        \
        }                                                                   \
    } while (0)
#else
#define ESP_ERROR_CHECK(x) do {                                             \
        esp_err_t esp_err_rc_ = (x);                                        \
        if (GONETIF_ERR_UNLIKELY(esp_err_rc_ != ESP_OK)) {                  \
            _esp_error_check_failed(esp_err_rc_, __FILE__, __LINE__,        \
                                    __ASSERT_FUNC, #x);                     \
        }                                                                   \
    } while (0)
#endif

/*
 * ESP_ERROR_CHECK_WITHOUT_ABORT(x): a GNU statement expression whose value
 * is the code x produced; on failure the report is printed (prefix
 * "ESP_ERROR_CHECK_WITHOUT_ABORT") and execution continues.
 */
#if defined(NDEBUG) || defined(CONFIG_COMPILER_OPTIMIZATION_ASSERTIONS_SILENT)
#define ESP_ERROR_CHECK_WITHOUT_ABORT(x) ({                                 \
        esp_err_t esp_err_rc_ = (x);                                        \
        esp_err_rc_;                                                        \
    })
#else
#define ESP_ERROR_CHECK_WITHOUT_ABORT(x) ({                                 \
        esp_err_t esp_err_rc_ = (x);                                        \
        if (GONETIF_ERR_UNLIKELY(esp_err_rc_ != ESP_OK)) {                  \
            _esp_error_check_failed_without_abort(esp_err_rc_, __FILE__,    \
                                    __LINE__, __ASSERT_FUNC, #x);           \
        }                                                                   \
        esp_err_rc_;                                                        \
    })
#endif

#ifdef __cplusplus
}
#endif

#endif /* GONETIF_ESP_ERR_H */
