/*
 * gonetif — esp_log.h
 *
 * ESP-IDF's logging API (Log V1 line format), implemented for a Linux
 * process in capi/glue/esp_log.c.
 *
 * Line format:  <L> (<ms>) <tag>: <message>\n
 *   L   one of E W I D V
 *   ms  esp_log_timestamp(): CLOCK_MONOTONIC in milliseconds, as uint32
 * With CONFIG_LOG_COLORS the E/W/I lines are wrapped in ANSI colours, the
 * library's own lines too: an app compiled with it turns them on at
 * start-up (see gonetif_log_colors below).
 *
 * Filtering:
 *   - compile time: a message above LOG_LOCAL_LEVEL is compiled out.
 *     LOG_LOCAL_LEVEL defaults to CONFIG_LOG_MAXIMUM_LEVEL, which defaults
 *     to ESP_LOG_VERBOSE (5) in gonetif's standalone build so that DEBUG
 *     and VERBOSE can be enabled at run time.  Define either macro before
 *     including this header (or in sdkconfig.h) to change that.
 *   - run time: per tag (esp_log_level_set), else the default level.  The
 *     initial default level is read from the environment variable
 *     GONETIF_LOG_LEVEL (none|error|warn|info|debug|verbose or 0..5);
 *     INFO when unset.
 *
 * All functions are thread safe; every line reaches stdout in one write,
 * so lines logged by several threads never interleave.
 */
#ifndef GONETIF_ESP_LOG_H
#define GONETIF_ESP_LOG_H

#ifdef __has_include
#  if __has_include("sdkconfig.h")
#    include "sdkconfig.h"
#  endif
#endif

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <inttypes.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    ESP_LOG_NONE    = 0,    /* nothing is logged */
    ESP_LOG_ERROR   = 1,    /* unrecoverable errors */
    ESP_LOG_WARN    = 2,    /* recoverable problems */
    ESP_LOG_INFO    = 3,    /* normal flow of events */
    ESP_LOG_DEBUG   = 4,    /* details for debugging */
    ESP_LOG_VERBOSE = 5,    /* everything */
    ESP_LOG_MAX     = 6     /* number of levels */
} esp_log_level_t;

/* printf-like sink used by esp_log_set_vprintf(). */
typedef int (*vprintf_like_t)(const char *format, va_list args);

/**
 * Set the run-time level of one tag; tag "*" sets the default level for
 * every tag and forgets all per-tag settings made before.
 */
void esp_log_level_set(const char *tag, esp_log_level_t level);

/** Run-time level that applies to tag (the default level if none set). */
esp_log_level_t esp_log_level_get(const char *tag);

/**
 * Replace the output function (default: one write(2) per line to stdout).
 * Returns the previous one (NULL stands for the built-in writer).
 */
vprintf_like_t esp_log_set_vprintf(vprintf_like_t func);

/** Milliseconds of CLOCK_MONOTONIC, truncated to 32 bits. */
uint32_t esp_log_timestamp(void);

/** Same clock; kept for code written for the early-boot logger. */
uint32_t esp_log_early_timestamp(void);

/**
 * Write a message if level passes the run-time filter of tag.  The format
 * is printed as given: the ESP_LOGx macros supply the "<L> (<ms>) <tag>: "
 * prefix and the newline themselves.
 */
void esp_log_write(esp_log_level_t level, const char *tag, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/** va_list form of esp_log_write(). */
void esp_log_writev(esp_log_level_t level, const char *tag, const char *format, va_list args)
    __attribute__((format(printf, 3, 0)));

/** Log len bytes as hex, 16 per line, at the given level. */
void esp_log_buffer_hex_internal(const char *tag, const void *buffer, uint16_t buff_len,
                                 esp_log_level_t level);

/** Log len bytes as characters, 16 per line, at the given level. */
void esp_log_buffer_char_internal(const char *tag, const void *buffer, uint16_t buff_len,
                                  esp_log_level_t level);

/** Log a hexdump (address, hex, printable characters) at the given level. */
void esp_log_buffer_hexdump_internal(const char *tag, const void *buffer, uint16_t buff_len,
                                     esp_log_level_t log_level);

/**
 * gonetif extension: log one message that is already formatted (no
 * trailing newline needed).  Adds the usual prefix and obeys the same
 * filters; used by the Go side.
 */
void gonetif_log_line(int level, const char *tag, const char *msg);

/**
 * gonetif extension: colour the lines the library itself prints (on != 0).
 * The library is compiled without the app's sdkconfig.h, so an app
 * compiled with CONFIG_LOG_COLORS calls this before main (below).
 */
void gonetif_log_colors(int on);

#if defined(CONFIG_LOG_COLORS) && CONFIG_LOG_COLORS
__attribute__((constructor)) static void gonetif_log_colors_from_sdkconfig(void)
{
    gonetif_log_colors(1);
}
#endif

/* ---- compile-time configuration ---------------------------------------- */

#ifndef CONFIG_LOG_MAXIMUM_LEVEL
#define CONFIG_LOG_MAXIMUM_LEVEL 5
#endif

#ifndef LOG_LOCAL_LEVEL
#define LOG_LOCAL_LEVEL CONFIG_LOG_MAXIMUM_LEVEL
#endif

#if defined(CONFIG_LOG_COLORS) && CONFIG_LOG_COLORS
#define LOG_COLOR_BLACK   "30"
#define LOG_COLOR_RED     "31"
#define LOG_COLOR_GREEN   "32"
#define LOG_COLOR_BROWN   "33"
#define LOG_COLOR_BLUE    "34"
#define LOG_COLOR_PURPLE  "35"
#define LOG_COLOR_CYAN    "36"
#define LOG_COLOR(c)      "\033[0;" c "m"
#define LOG_BOLD(c)       "\033[1;" c "m"
#define LOG_RESET_COLOR   "\033[0m"
#define LOG_COLOR_E       LOG_COLOR(LOG_COLOR_RED)
#define LOG_COLOR_W       LOG_COLOR(LOG_COLOR_BROWN)
#define LOG_COLOR_I       LOG_COLOR(LOG_COLOR_GREEN)
#define LOG_COLOR_D
#define LOG_COLOR_V
#else
#define LOG_COLOR_E
#define LOG_COLOR_W
#define LOG_COLOR_I
#define LOG_COLOR_D
#define LOG_COLOR_V
#define LOG_RESET_COLOR
#endif

/* Full printf format of one line; the arguments are (timestamp, tag, ...). */
#define LOG_FORMAT(letter, format) \
    LOG_COLOR_ ## letter #letter " (%" PRIu32 ") %s: " format LOG_RESET_COLOR "\n"

/* ---- logging macros ------------------------------------------------------ */

/* Log at a level known only at run time; no compile-time filtering. */
#define ESP_LOG_LEVEL(level, tag, format, ...) do {                                         \
        esp_log_level_t esp_log_lvl_ = (esp_log_level_t)(level);                           \
        if (esp_log_lvl_ == ESP_LOG_ERROR) {                                                \
            esp_log_write(ESP_LOG_ERROR, tag, LOG_FORMAT(E, format),                        \
                          esp_log_timestamp(), tag, ##__VA_ARGS__);                         \
        } else if (esp_log_lvl_ == ESP_LOG_WARN) {                                          \
            esp_log_write(ESP_LOG_WARN, tag, LOG_FORMAT(W, format),                         \
                          esp_log_timestamp(), tag, ##__VA_ARGS__);                         \
        } else if (esp_log_lvl_ == ESP_LOG_DEBUG) {                                         \
            esp_log_write(ESP_LOG_DEBUG, tag, LOG_FORMAT(D, format),                        \
                          esp_log_timestamp(), tag, ##__VA_ARGS__);                         \
        } else if (esp_log_lvl_ == ESP_LOG_VERBOSE) {                                       \
            esp_log_write(ESP_LOG_VERBOSE, tag, LOG_FORMAT(V, format),                      \
                          esp_log_timestamp(), tag, ##__VA_ARGS__);                         \
        } else if (esp_log_lvl_ == ESP_LOG_INFO) {                                          \
            esp_log_write(ESP_LOG_INFO, tag, LOG_FORMAT(I, format),                         \
                          esp_log_timestamp(), tag, ##__VA_ARGS__);                         \
        }                                                                                   \
    } while (0)

/* Same, but compiled out when level is above LOG_LOCAL_LEVEL. */
#define ESP_LOG_LEVEL_LOCAL(level, tag, format, ...) do {                                   \
        if (LOG_LOCAL_LEVEL >= (level)) {                                                   \
            ESP_LOG_LEVEL(level, tag, format, ##__VA_ARGS__);                               \
        }                                                                                   \
    } while (0)

#define ESP_LOGE(tag, format, ...) ESP_LOG_LEVEL_LOCAL(ESP_LOG_ERROR,   tag, format, ##__VA_ARGS__)
#define ESP_LOGW(tag, format, ...) ESP_LOG_LEVEL_LOCAL(ESP_LOG_WARN,    tag, format, ##__VA_ARGS__)
#define ESP_LOGI(tag, format, ...) ESP_LOG_LEVEL_LOCAL(ESP_LOG_INFO,    tag, format, ##__VA_ARGS__)
#define ESP_LOGD(tag, format, ...) ESP_LOG_LEVEL_LOCAL(ESP_LOG_DEBUG,   tag, format, ##__VA_ARGS__)
#define ESP_LOGV(tag, format, ...) ESP_LOG_LEVEL_LOCAL(ESP_LOG_VERBOSE, tag, format, ##__VA_ARGS__)

/* There is no early-boot phase on Linux: these are the same as ESP_LOGx. */
#define ESP_EARLY_LOGE(tag, format, ...) ESP_LOGE(tag, format, ##__VA_ARGS__)
#define ESP_EARLY_LOGW(tag, format, ...) ESP_LOGW(tag, format, ##__VA_ARGS__)
#define ESP_EARLY_LOGI(tag, format, ...) ESP_LOGI(tag, format, ##__VA_ARGS__)
#define ESP_EARLY_LOGD(tag, format, ...) ESP_LOGD(tag, format, ##__VA_ARGS__)
#define ESP_EARLY_LOGV(tag, format, ...) ESP_LOGV(tag, format, ##__VA_ARGS__)

/* Nor a separate DRAM logger. */
#define ESP_DRAM_LOGE(tag, format, ...) ESP_LOGE(tag, format, ##__VA_ARGS__)
#define ESP_DRAM_LOGW(tag, format, ...) ESP_LOGW(tag, format, ##__VA_ARGS__)
#define ESP_DRAM_LOGI(tag, format, ...) ESP_LOGI(tag, format, ##__VA_ARGS__)
#define ESP_DRAM_LOGD(tag, format, ...) ESP_LOGD(tag, format, ##__VA_ARGS__)
#define ESP_DRAM_LOGV(tag, format, ...) ESP_LOGV(tag, format, ##__VA_ARGS__)

/* Buffer dumps. */
#define ESP_LOG_BUFFER_HEX_LEVEL(tag, buffer, buff_len, level) do {                         \
        if (LOG_LOCAL_LEVEL >= (level)) {                                                   \
            esp_log_buffer_hex_internal(tag, buffer, buff_len, level);                      \
        }                                                                                   \
    } while (0)
#define ESP_LOG_BUFFER_CHAR_LEVEL(tag, buffer, buff_len, level) do {                        \
        if (LOG_LOCAL_LEVEL >= (level)) {                                                   \
            esp_log_buffer_char_internal(tag, buffer, buff_len, level);                     \
        }                                                                                   \
    } while (0)
#define ESP_LOG_BUFFER_HEXDUMP(tag, buffer, buff_len, level) do {                           \
        if (LOG_LOCAL_LEVEL >= (level)) {                                                   \
            esp_log_buffer_hexdump_internal(tag, buffer, buff_len, level);                  \
        }                                                                                   \
    } while (0)
#define ESP_LOG_BUFFER_HEX(tag, buffer, buff_len) \
    ESP_LOG_BUFFER_HEX_LEVEL(tag, buffer, buff_len, ESP_LOG_INFO)
#define ESP_LOG_BUFFER_CHAR(tag, buffer, buff_len) \
    ESP_LOG_BUFFER_CHAR_LEVEL(tag, buffer, buff_len, ESP_LOG_INFO)

#ifdef __cplusplus
}
#endif

#endif /* GONETIF_ESP_LOG_H */
