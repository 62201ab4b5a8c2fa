/*
 * gonetif — esp_err.c
 *
 * esp_err_to_name(), esp_err_to_name_r() and the ESP_ERROR_CHECK failure
 * reporters declared in include/esp_err.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* GNU strerror_r (returns char *) */
#endif

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_err.h"
#include "esp_netif_types.h"

/* One entry per code declared in gonetif's headers. */
struct err_name {
    esp_err_t   code;
    const char *name;
};

#define ERR_NAME(c) { (c), #c }

static const struct err_name s_err_names[] = {
    /* esp_err.h */
    ERR_NAME(ESP_OK),
    ERR_NAME(ESP_FAIL),
    ERR_NAME(ESP_ERR_NO_MEM),
    ERR_NAME(ESP_ERR_INVALID_ARG),
    ERR_NAME(ESP_ERR_INVALID_STATE),
    ERR_NAME(ESP_ERR_INVALID_SIZE),
    ERR_NAME(ESP_ERR_NOT_FOUND),
    ERR_NAME(ESP_ERR_NOT_SUPPORTED),
    ERR_NAME(ESP_ERR_TIMEOUT),
    ERR_NAME(ESP_ERR_INVALID_RESPONSE),
    ERR_NAME(ESP_ERR_INVALID_CRC),
    ERR_NAME(ESP_ERR_INVALID_VERSION),
    ERR_NAME(ESP_ERR_INVALID_MAC),
    ERR_NAME(ESP_ERR_NOT_FINISHED),
    ERR_NAME(ESP_ERR_NOT_ALLOWED),
    ERR_NAME(ESP_ERR_WIFI_BASE),
    ERR_NAME(ESP_ERR_MESH_BASE),
    ERR_NAME(ESP_ERR_FLASH_BASE),
    ERR_NAME(ESP_ERR_HW_CRYPTO_BASE),
    ERR_NAME(ESP_ERR_MEMPROT_BASE),
    /* esp_netif_types.h */
    ERR_NAME(ESP_ERR_ESP_NETIF_BASE),
    ERR_NAME(ESP_ERR_ESP_NETIF_INVALID_PARAMS),
    ERR_NAME(ESP_ERR_ESP_NETIF_IF_NOT_READY),
    ERR_NAME(ESP_ERR_ESP_NETIF_DHCPC_START_FAILED),
    ERR_NAME(ESP_ERR_ESP_NETIF_DHCP_ALREADY_STARTED),
    ERR_NAME(ESP_ERR_ESP_NETIF_DHCP_ALREADY_STOPPED),
    ERR_NAME(ESP_ERR_ESP_NETIF_NO_MEM),
    ERR_NAME(ESP_ERR_ESP_NETIF_DHCP_NOT_STOPPED),
    ERR_NAME(ESP_ERR_ESP_NETIF_DRIVER_ATTACH_FAILED),
    ERR_NAME(ESP_ERR_ESP_NETIF_INIT_FAILED),
    ERR_NAME(ESP_ERR_ESP_NETIF_DNS_NOT_CONFIGURED),
    ERR_NAME(ESP_ERR_ESP_NETIF_MLD6_FAILED),
    ERR_NAME(ESP_ERR_ESP_NETIF_IP6_ADDR_FAILED),
    ERR_NAME(ESP_ERR_ESP_NETIF_DHCPS_START_FAILED),
    ERR_NAME(ESP_ERR_ESP_NETIF_TX_FAILED),
};

static const char s_unknown[] = "UNKNOWN ERROR";

static const char *lookup(esp_err_t code)
{
    for (size_t i = 0; i < sizeof(s_err_names) / sizeof(s_err_names[0]); i++) {
        if (s_err_names[i].code == code) {
            return s_err_names[i].name;
        }
    }
    return NULL;
}

const char *esp_err_to_name(esp_err_t code)
{
    const char *name = lookup(code);
    return name != NULL ? name : s_unknown;
}

/* Copy src into buf (size len > 0), truncating, always terminated. */
static void copy_str(char *buf, size_t len, const char *src)
{
    size_t n = strlen(src);
    if (n >= len) {
        n = len - 1;
    }
    memcpy(buf, src, n);
    buf[n] = '\0';
}

const char *esp_err_to_name_r(esp_err_t code, char *buf, size_t buflen)
{
    if (buf == NULL || buflen == 0) {
        return buf;
    }

    const char *name = lookup(code);
    if (name != NULL) {
        copy_str(buf, buflen, name);
        return buf;
    }

    /* Maybe an errno value.  strerror_r answers "Unknown error N" (glibc,
     * which never fails) or fails for numbers it does not know; both count
     * as a miss. */
    if (code > 0) {
        char tmp[128];
#if defined(__GLIBC__)
        const char *msg = strerror_r(code, tmp, sizeof(tmp));
#else
        const char *msg = strerror_r(code, tmp, sizeof(tmp)) == 0 ? tmp : NULL;
#endif
        if (msg != NULL && msg[0] != '\0' && strncmp(msg, "Unknown error", 13) != 0) {
            copy_str(buf, buflen, msg);
            return buf;
        }
    }

    snprintf(buf, buflen, "ERROR 0x%x(%d)", (unsigned)code, code);
    return buf;
}

static void report(const char *prefix, esp_err_t rc, const char *file, int line,
                   const char *function, const char *expression, const void *addr)
{
    /* One buffered block so the report is not split by other output. */
    char text[1024];
    int n = snprintf(text, sizeof(text),
                     "%s failed: esp_err_t 0x%x (%s) at 0x%" PRIxPTR "\n"
                     "file: \"%s\" line %d\n"
                     "func: %s\n"
                     "expression: %s\n",
                     prefix, (unsigned)rc, esp_err_to_name(rc), (uintptr_t)addr,
                     file != NULL ? file : "?", line,
                     function != NULL ? function : "?",
                     expression != NULL ? expression : "?");
    if (n < 0) {
        return;
    }
    fflush(stdout);
    fputs(text, stderr);
    fflush(stderr);
}

void _esp_error_check_failed(esp_err_t rc, const char *file, int line,
                             const char *function, const char *expression)
{
    report("ESP_ERROR_CHECK", rc, file, line, function, expression,
           __builtin_return_address(0));
    abort();
}

void _esp_error_check_failed_without_abort(esp_err_t rc, const char *file, int line,
                                           const char *function, const char *expression)
{
    report("ESP_ERROR_CHECK_WITHOUT_ABORT", rc, file, line, function, expression,
           __builtin_return_address(0));
}
