/*
 * gonetif — esp_log.c
 *
 * ESP-IDF style logging for a Linux process (declarations and line format
 * in include/esp_log.h).
 *
 * - Run-time levels: a default level plus a small table of per-tag levels,
 *   all behind one mutex.  A cached maximum over all of them lets messages
 *   that nobody wants be dropped without taking the lock.
 * - Initial default level from GONETIF_LOG_LEVEL (names or 0..5), else INFO.
 *   Read here, in C, because apps log before the Go runtime has started
 *   (constructors): a call into Go then would wait for it forever. The
 *   syntax is the row of gonetif/config.Table; a bad value gets one E line
 *   here, and esp_netif_init() refuses it too (tests/settings checks both).
 * - Colours when the app was compiled with CONFIG_LOG_COLORS: its
 *   esp_log.h turns them on at start-up (gonetif_log_colors), since this
 *   file is compiled once, without the app's sdkconfig.h.
 * - Each message is formatted into one buffer first and then written with
 *   one write(2) to stdout under the lock, so lines from different threads
 *   (C threads, FreeRTOS task threads, Go threads through gonetif_log_line)
 *   never interleave.  stdout may be non-blocking (IDF's simulator sets it
 *   so): EAGAIN is waited out with poll().
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "esp_log.h"

/* ---- state ------------------------------------------------------------------ */

struct tag_level {
    char           *tag;
    esp_log_level_t level;
};

static pthread_once_t   s_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t  s_lock;                 /* recursive; set up in log_init() */
static esp_log_level_t  s_default_level = ESP_LOG_INFO;
static struct tag_level *s_tags;
static size_t           s_tag_count;
static size_t           s_tag_cap;
static int              s_max_level = ESP_LOG_VERBOSE;  /* atomic; highest level in use */
static int              s_colors;               /* atomic; set from the app's CONFIG_LOG_COLORS */
static int              s_level_error;          /* atomic; GONETIF_LOG_LEVEL was bad, not yet said */
static char             s_level_error_text[160];

static int builtin_vprintf(const char *format, va_list args);
static vprintf_like_t   s_vprintf = builtin_vprintf;

/* ---- GONETIF_LOG_LEVEL ------------------------------------------------------ */

static const char *const s_level_names[] = { "none", "error", "warn", "info", "debug", "verbose" };

/* A name (any case) or its number, surrounding blanks ignored: 0 on
 * success. */
static int parse_level(const char *s, esp_log_level_t *out)
{
    while (*s == ' ' || *s == '\t' || *s == '\n') {
        s++;
    }
    size_t len = strlen(s);
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n')) {
        len--;
    }
    if (len == 1 && s[0] >= '0' && s[0] <= '5') {
        *out = (esp_log_level_t)(s[0] - '0');
        return 0;
    }
    for (size_t i = 0; i < sizeof(s_level_names) / sizeof(s_level_names[0]); i++) {
        if (strlen(s_level_names[i]) == len && strncasecmp(s, s_level_names[i], len) == 0) {
            *out = (esp_log_level_t)i;
            return 0;
        }
    }
    return -1;
}

static esp_log_level_t clamp_level(int level)
{
    if (level < ESP_LOG_NONE) {
        return ESP_LOG_NONE;
    }
    if (level > ESP_LOG_VERBOSE) {
        return ESP_LOG_VERBOSE;
    }
    return (esp_log_level_t)level;
}

/* Caller holds s_lock. */
static void update_max_level(void)
{
    int max = s_default_level;
    for (size_t i = 0; i < s_tag_count; i++) {
        if ((int)s_tags[i].level > max) {
            max = s_tags[i].level;
        }
    }
    __atomic_store_n(&s_max_level, max, __ATOMIC_RELEASE);
}

static void log_init(void)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    /* Recursive: a custom vprintf that logs must not deadlock. */
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&s_lock, &attr);
    pthread_mutexattr_destroy(&attr);

    const char *env = getenv("GONETIF_LOG_LEVEL");
    esp_log_level_t level;
    if (env != NULL && env[strspn(env, " \t\n")] != '\0') {
        if (parse_level(env, &level) == 0) {
            s_default_level = level;
        } else {
            snprintf(s_level_error_text, sizeof(s_level_error_text),
                     "GONETIF_LOG_LEVEL=\"%.64s\": want one of none|error|warn|info|debug|verbose (or 0..5)", env);
            __atomic_store_n(&s_level_error, 1, __ATOMIC_RELEASE); /* said once the lock works */
        }
    }
    update_max_level();
}

static void log_prefixed(esp_log_level_t level, const char *tag, const char *msg, size_t msg_len);

static void report_level_error(void)
{
    log_prefixed(ESP_LOG_ERROR, "gonetif", s_level_error_text, strlen(s_level_error_text));
}

static inline void ensure_init(void)
{
    pthread_once(&s_once, log_init);
    if (__atomic_load_n(&s_level_error, __ATOMIC_ACQUIRE) && __atomic_exchange_n(&s_level_error, 0, __ATOMIC_ACQ_REL)) {
        report_level_error();
    }
}

/* Caller holds s_lock. */
static struct tag_level *find_tag(const char *tag)
{
    for (size_t i = 0; i < s_tag_count; i++) {
        if (strcmp(s_tags[i].tag, tag) == 0) {
            return &s_tags[i];
        }
    }
    return NULL;
}

/* Caller holds s_lock. */
static esp_log_level_t level_of(const char *tag)
{
    if (tag != NULL && s_tag_count > 0) {
        const struct tag_level *t = find_tag(tag);
        if (t != NULL) {
            return t->level;
        }
    }
    return s_default_level;
}

static int enabled(esp_log_level_t level, const char *tag)
{
    ensure_init();
    if ((int)level > __atomic_load_n(&s_max_level, __ATOMIC_ACQUIRE)) {
        return 0;
    }
    pthread_mutex_lock(&s_lock);
    int ok = level <= level_of(tag);
    pthread_mutex_unlock(&s_lock);
    return ok;
}

/* ---- levels API -------------------------------------------------------------- */

void esp_log_level_set(const char *tag, esp_log_level_t level)
{
    if (tag == NULL) {
        return;
    }
    ensure_init();
    level = clamp_level(level);

    pthread_mutex_lock(&s_lock);
    if (strcmp(tag, "*") == 0) {
        s_default_level = level;
        for (size_t i = 0; i < s_tag_count; i++) {
            free(s_tags[i].tag);
        }
        s_tag_count = 0;
    } else {
        struct tag_level *t = find_tag(tag);
        if (t != NULL) {
            t->level = level;
        } else {
            if (s_tag_count == s_tag_cap) {
                size_t cap = s_tag_cap ? s_tag_cap * 2 : 16;
                struct tag_level *grown = realloc(s_tags, cap * sizeof(*grown));
                if (grown != NULL) {
                    s_tags = grown;
                    s_tag_cap = cap;
                }
            }
            char *copy = s_tag_count < s_tag_cap ? strdup(tag) : NULL;
            if (copy != NULL) {
                s_tags[s_tag_count].tag = copy;
                s_tags[s_tag_count].level = level;
                s_tag_count++;
            }
        }
    }
    update_max_level();
    pthread_mutex_unlock(&s_lock);
}

esp_log_level_t esp_log_level_get(const char *tag)
{
    ensure_init();
    pthread_mutex_lock(&s_lock);
    esp_log_level_t level = level_of(tag);
    pthread_mutex_unlock(&s_lock);
    return level;
}

vprintf_like_t esp_log_set_vprintf(vprintf_like_t func)
{
    ensure_init();
    pthread_mutex_lock(&s_lock);
    vprintf_like_t old = s_vprintf;
    s_vprintf = func != NULL ? func : builtin_vprintf;
    pthread_mutex_unlock(&s_lock);
    return old;
}

/* ---- time ---------------------------------------------------------------------- */

uint32_t esp_log_timestamp(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    return (uint32_t)ms;
}

uint32_t esp_log_early_timestamp(void)
{
    return esp_log_timestamp();
}

/* ---- output -------------------------------------------------------------------- */

/* Write all of p to stdout, waiting out EAGAIN (non-blocking stdout). */
static void write_stdout(const char *p, size_t n)
{
    int waits = 0;

    /* Whatever the program printed with stdio comes first. */
    fflush(stdout);
    while (n > 0) {
        ssize_t w = write(STDOUT_FILENO, p, n);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && waits < 100) {
            struct pollfd pfd = { .fd = STDOUT_FILENO, .events = POLLOUT, .revents = 0 };
            (void)poll(&pfd, 1, 50);
            waits++;
            continue;
        }
        return;     /* closed or broken stdout: drop the rest */
    }
}

/*
 * Format into a stack buffer, or a heap one for long messages.  Returns the
 * text (free it with release_text when it differs from stack) and its
 * length through *len; NULL when formatting failed.
 */
static char *format_text(char *stack, size_t stack_size, size_t *len,
                         const char *format, va_list args)
{
    va_list again;
    va_copy(again, args);
    int n = vsnprintf(stack, stack_size, format, args);
    if (n < 0) {
        va_end(again);
        return NULL;
    }
    if ((size_t)n < stack_size) {
        va_end(again);
        *len = (size_t)n;
        return stack;
    }
    char *heap = malloc((size_t)n + 1);
    if (heap == NULL) {
        va_end(again);
        *len = stack_size - 1;      /* truncated, but still something */
        return stack;
    }
    vsnprintf(heap, (size_t)n + 1, format, again);
    va_end(again);
    *len = (size_t)n;
    return heap;
}

static char *format_textf(char *stack, size_t stack_size, size_t *len,
                          const char *format, ...) __attribute__((format(printf, 4, 5)));

static char *format_textf(char *stack, size_t stack_size, size_t *len,
                          const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *text = format_text(stack, stack_size, len, format, args);
    va_end(args);
    return text;
}

static int builtin_vprintf(const char *format, va_list args)
{
    char stack[512];
    size_t len = 0;
    char *text = format_text(stack, sizeof(stack), &len, format, args);
    if (text == NULL) {
        return -1;
    }
    pthread_mutex_lock(&s_lock);
    write_stdout(text, len);
    pthread_mutex_unlock(&s_lock);
    if (text != stack) {
        free(text);
    }
    return (int)len;
}

/* Call a vprintf-like sink with a ready string. */
static int call_sink(vprintf_like_t sink, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    int r = sink(format, args);
    va_end(args);
    return r;
}

/* Emit one finished text through the current sink. */
static void emit(const char *text, size_t len)
{
    pthread_mutex_lock(&s_lock);
    if (s_vprintf == builtin_vprintf) {
        write_stdout(text, len);
    } else {
        (void)call_sink(s_vprintf, "%.*s", (int)len, text);
    }
    pthread_mutex_unlock(&s_lock);
}

void esp_log_writev(esp_log_level_t level, const char *tag, const char *format, va_list args)
{
    int saved_errno = errno;
    if (format == NULL || !enabled(level, tag)) {
        errno = saved_errno;
        return;
    }

    vprintf_like_t sink;
    pthread_mutex_lock(&s_lock);
    sink = s_vprintf;
    if (sink != builtin_vprintf) {
        /* A custom sink formats by itself, as in IDF. */
        va_list copy;
        va_copy(copy, args);
        (void)sink(format, copy);
        va_end(copy);
        pthread_mutex_unlock(&s_lock);
        errno = saved_errno;
        return;
    }
    pthread_mutex_unlock(&s_lock);

    char stack[512];
    size_t len = 0;
    char *text = format_text(stack, sizeof(stack), &len, format, args);
    if (text != NULL) {
        emit(text, len);
        if (text != stack) {
            free(text);
        }
    }
    errno = saved_errno;
}

void esp_log_write(esp_log_level_t level, const char *tag, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    esp_log_writev(level, tag, format, args);
    va_end(args);
}

/* ---- prefixed lines ---------------------------------------------------------------- */

static const char *const s_color[] = { "", "\033[0;31m", "\033[0;33m", "\033[0;32m", "", "" };
static const char s_reset[] = "\033[0m";

void gonetif_log_colors(int on)
{
    __atomic_store_n(&s_colors, on != 0, __ATOMIC_RELEASE);
}
static const char s_letter[] = "NEWIDV";

/*
 * Write "<L> (<ms>) <tag>: <msg>\n" for an already formatted message (one
 * trailing newline of msg is dropped); the filter must have been checked.
 */
static void log_prefixed(esp_log_level_t level, const char *tag, const char *msg, size_t msg_len)
{
    if (msg_len > 0 && msg[msg_len - 1] == '\n') {
        msg_len--;
        if (msg_len > 0 && msg[msg_len - 1] == '\r') {
            msg_len--;
        }
    }
    if (msg_len > (size_t)INT32_MAX) {
        msg_len = (size_t)INT32_MAX;
    }
    int idx = level >= ESP_LOG_ERROR && level <= ESP_LOG_VERBOSE ? (int)level : ESP_LOG_INFO;
    const char *color = __atomic_load_n(&s_colors, __ATOMIC_ACQUIRE) ? s_color[idx] : "";
    const char *reset = color[0] != '\0' ? s_reset : "";

    char stack[512];
    size_t len = 0;
    char *text = format_textf(stack, sizeof(stack), &len, "%s%c (%" PRIu32 ") %s: %.*s%s\n",
                              color, s_letter[idx], esp_log_timestamp(),
                              tag != NULL ? tag : "", (int)msg_len, msg, reset);
    if (text == NULL) {
        return;
    }
    if (text == stack && len == sizeof(stack) - 1) {
        stack[len - 1] = '\n';     /* truncated (out of memory): still end the line */
    }
    emit(text, len);
    if (text != stack) {
        free(text);
    }
}

void gonetif_log_line(int level, const char *tag, const char *msg)
{
    int saved_errno = errno;
    esp_log_level_t lvl = level < ESP_LOG_ERROR ? ESP_LOG_ERROR : clamp_level(level);
    if (enabled(lvl, tag)) {
        if (msg == NULL) {
            msg = "";
        }
        log_prefixed(lvl, tag, msg, strlen(msg));
    }
    errno = saved_errno;
}

/* ---- buffer dumps -------------------------------------------------------------------- */

#define BYTES_PER_LINE 16

void esp_log_buffer_hex_internal(const char *tag, const void *buffer, uint16_t buff_len,
                                 esp_log_level_t level)
{
    if (buffer == NULL || buff_len == 0 || !enabled(level, tag)) {
        return;
    }
    const uint8_t *p = buffer;
    char line[BYTES_PER_LINE * 3 + 1];
    for (size_t off = 0; off < buff_len; off += BYTES_PER_LINE) {
        size_t n = buff_len - off < BYTES_PER_LINE ? buff_len - off : BYTES_PER_LINE;
        size_t pos = 0;
        for (size_t i = 0; i < n; i++) {
            pos += (size_t)snprintf(line + pos, sizeof(line) - pos, i + 1 < n ? "%02x " : "%02x",
                                    p[off + i]);
        }
        log_prefixed(level, tag, line, pos);
    }
}

void esp_log_buffer_char_internal(const char *tag, const void *buffer, uint16_t buff_len,
                                  esp_log_level_t level)
{
    if (buffer == NULL || buff_len == 0 || !enabled(level, tag)) {
        return;
    }
    const char *p = buffer;
    for (size_t off = 0; off < buff_len; off += BYTES_PER_LINE) {
        size_t n = buff_len - off < BYTES_PER_LINE ? buff_len - off : BYTES_PER_LINE;
        log_prefixed(level, tag, p + off, n);
    }
}

void esp_log_buffer_hexdump_internal(const char *tag, const void *buffer, uint16_t buff_len,
                                     esp_log_level_t log_level)
{
    if (buffer == NULL || buff_len == 0 || !enabled(log_level, tag)) {
        return;
    }
    const uint8_t *p = buffer;
    /* "0x0123456789abcdef  " + 16 * "xx " + 1 gap + "|" + 16 chars + "|" */
    char line[24 + BYTES_PER_LINE * 3 + 2 + BYTES_PER_LINE + 3];
    for (size_t off = 0; off < buff_len; off += BYTES_PER_LINE) {
        size_t n = buff_len - off < BYTES_PER_LINE ? buff_len - off : BYTES_PER_LINE;
        size_t pos = (size_t)snprintf(line, sizeof(line), "0x%08" PRIxPTR "  ",
                                      (uintptr_t)(p + off));
        for (size_t i = 0; i < BYTES_PER_LINE; i++) {
            if (i == BYTES_PER_LINE / 2) {
                line[pos++] = ' ';
            }
            if (i < n) {
                pos += (size_t)snprintf(line + pos, sizeof(line) - pos, "%02x ", p[off + i]);
            } else {
                pos += (size_t)snprintf(line + pos, sizeof(line) - pos, "   ");
            }
        }
        line[pos++] = ' ';
        line[pos++] = '|';
        for (size_t i = 0; i < n; i++) {
            uint8_t c = p[off + i];
            line[pos++] = (c >= 0x20 && c < 0x7f) ? (char)c : '.';
        }
        line[pos++] = '|';
        line[pos] = '\0';
        log_prefixed(log_level, tag, line, pos);
    }
}
