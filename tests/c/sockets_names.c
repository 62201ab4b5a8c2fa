/*
 * The socket names an IDF app reaches through gonetif's headers, compiled
 * with -Werror and run: each resolves to the lwip_* function or the
 * archive's routing, with the host's types.
 */
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "lwip/inet.h"
#include "lwip/sockets.h"

int main(void)
{
    struct in6_addr a6;
    char buf[INET6_ADDRSTRLEN];
    int fails = 0;
    fails += inet6_aton("fe80::1", &a6) != 1;
    fails += inet6_aton("fe80:::1", &a6) != 0;
    inet6_aton("2001:db8::5", &a6);
    fails += strcmp(inet6_ntoa_r(a6, buf, sizeof(buf)), "2001:db8::5") != 0;
    fails += if_nametoindex("nosuch0") != 0;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    fails += s < 0;
    int one = 1;
    fails += setsockopt(s, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) != 0;
    fails += closesocket(s) != 0;
    fails += lwip_close(s) != -1; /* closed: the kernel says EBADF */
    printf("%s sockets_names (%d failures)\n", fails ? "FAIL" : "PASS", fails);
    return fails != 0;
}
