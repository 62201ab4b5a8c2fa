/* Links against an installed gonetif (find_package, pkg-config or a plain
 * gcc line) and uses both halves: esp_netif and a socket. */
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "esp_netif.h"

int main(void)
{
    if (esp_netif_init() != ESP_OK) {
        return 1;
    }
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0 || close(s) != 0) {
        return 1;
    }
    printf("consumer: esp_netif_init and a gonetif socket work\n");
    return 0;
}
