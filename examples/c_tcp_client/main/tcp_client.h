#pragma once

struct tcp_client_options {
    const char *host;
    int port;
    int count;        /* exit after this many replies; 0 = run forever */
    int interval_ms;  /* pause between messages */
    int max_failures; /* with count: give up after this many failed connections */
};

int tcp_client(const struct tcp_client_options *opt);
