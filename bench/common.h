/*
 * bench/common.h — what netbench (every stack) and peer (the kernel side)
 * agree on: ports, the bulk data pattern, a streaming checksum, the UDP
 * message layout and a clock. Header-only so that each build of netbench
 * stays one translation unit plus its stack.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Ports, relative to the base port (default 5201). */
enum {
    PORT_SINK = 0,   /* client sends, peer counts; on EOF peer answers 24 bytes */
    PORT_SOURCE = 1, /* client sends u32 ms; peer streams, then its u64 count */
    PORT_ECHO = 2,   /* echo everything back (request/response, RSS checks) */
    PORT_CRR = 3,    /* echo one byte, then the peer closes */
    PORT_UDP = 4,    /* UDP counter */
    PORT_UDP_ECHO = 5, /* UDP echo: every datagram goes back to its sender */
};
#define BENCH_BASE_PORT 5201

/* The bulk pattern repeats every PAT_PERIOD bytes (a prime, so it never
 * lines up with write sizes); the buffer holds one extra 64 KiB so that
 * any chunk up to CHUNK_MAX starting at (offset % PAT_PERIOD) is one
 * contiguous run. */
#define PAT_PERIOD 65521u
#define CHUNK_MAX 65536u

static inline uint8_t *pattern_new(void)
{
    uint8_t *p = malloc(PAT_PERIOD + CHUNK_MAX);
    if (!p) {
        abort();
    }
    for (uint32_t i = 0; i < PAT_PERIOD + CHUNK_MAX; i++) {
        uint32_t k = i % PAT_PERIOD;
        p[i] = (uint8_t)(k * 151u + (k >> 9) * 13u + 7u);
    }
    return p;
}

/* A position-sensitive 64-bit Fletcher-style sum over little-endian words,
 * fed in arbitrary pieces. */
struct cks {
    uint64_t a, b, n;
    uint8_t pend[8];
    unsigned np;
};

static inline void cks_word(struct cks *c, uint64_t w)
{
    c->a += w;
    c->b += c->a;
}

static inline void cks_feed(struct cks *c, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    c->n += len;
    while (c->np && len) {
        c->pend[c->np++ & 7] = *p++;
        len--;
        if (c->np == 8) {
            uint64_t w;
            memcpy(&w, c->pend, 8);
            cks_word(c, w);
            c->np = 0;
        }
    }
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        cks_word(c, w);
        p += 8;
        len -= 8;
    }
    if (len) { /* fewer than 8 left, and nothing pending */
        memcpy(c->pend, p, len & 7);
        c->np = (unsigned)(len & 7);
    }
}

/* The final value: the partial word is zero-padded. */
static inline void cks_final(const struct cks *c, uint64_t out[3])
{
    struct cks t = *c;
    if (t.np) {
        uint64_t w = 0;
        memcpy(&w, t.pend, t.np);
        cks_word(&t, w);
    }
    out[0] = t.n;
    out[1] = t.a;
    out[2] = t.b;
}

/* Checksum of the first n bytes of the pattern stream. */
static inline void cks_pattern(const uint8_t *pat, uint64_t n, uint64_t out[3])
{
    struct cks c = {0};
    uint64_t off = 0;
    while (off < n) {
        uint64_t k = n - off < CHUNK_MAX ? n - off : CHUNK_MAX;
        cks_feed(&c, pat + off % PAT_PERIOD, k);
        off += k;
    }
    cks_final(&c, out);
}

/* UDP messages: 64 bytes, host byte order (both ends are this machine). */
#define UDP_MAGIC 0x31424e47u /* "GNB1" */
#define UDP_SIZE 64
struct udp_msg {
    uint32_t magic;
    uint32_t type; /* 'S' start (answer 'A'), 'D' data, 'Q' query (answer 'R') */
    uint64_t token;
    uint64_t seq;   /* data: sequence number; 'R': datagrams counted */
    uint8_t pad[UDP_SIZE - 24];
};

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

#endif /* BENCH_COMMON_H */
