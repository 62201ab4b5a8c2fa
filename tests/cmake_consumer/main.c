/* Links against gonetif and uses both halves: esp_netif and a socket. Built
 * through the CMake target (cmake_consumer) and, copied, against an installed
 * tree by find_package, pkg-config and a plain gcc line (install_consumer). */
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
