/*
 * log_ctor: an app that logs from a constructor, before main and possibly
 * before the Go runtime has started. esp_log must answer at once (it once
 * waited forever for Go here). Then esp_netif_init and a socket work.
 */
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "esp_log.h"
#include "esp_netif.h"

__attribute__((constructor)) static void early(void)
{
    ESP_LOGI("log_ctor", "logged from a constructor");
}

int main(void)
{
    ESP_LOGI("log_ctor", "main");
    if (esp_netif_init() != ESP_OK) {
        return 1;
    }
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0 || close(s) != 0) {
        return 1;
    }
    printf("log_ctor: done\n");
    return 0;
}
