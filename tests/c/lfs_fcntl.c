/*
 * Built with -D_FILE_OFFSET_BITS=64, where glibc's <fcntl.h> turns fcntl()
 * into fcntl64(): O_NONBLOCK set that way must still reach gonetif's
 * socket (a recv must not block).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "esp_netif.h"

int main(void)
{
    alarm(10); /* a blocking recv would be the bug: fail instead of hanging */
    if (esp_netif_init() != ESP_OK) {
        return 1;
    }
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(4242)};
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) != 0) {
        perror("socket/bind");
        return 1;
    }
    int fl = fcntl(s, F_GETFL);
    if (fl < 0 || fcntl(s, F_SETFL, fl | O_NONBLOCK) != 0 || !(fcntl(s, F_GETFL) & O_NONBLOCK)) {
        fprintf(stderr, "FAIL: O_NONBLOCK did not stick\n");
        return 1;
    }
    char b[8];
    if (recv(s, b, sizeof(b), 0) != -1 || errno != EAGAIN) {
        fprintf(stderr, "FAIL: recv on an empty non-blocking socket: errno %d\n", errno);
        return 1;
    }
    close(s);
    printf("lfs_fcntl: 1 passed, 0 failed\n");
    return 0;
}
