/*
 * settings_app: starts gonetif the way an app does and says what it got,
 * for tests/settings/bad_values.sh.  Exit 3 when esp_netif_init() refused
 * the settings and tapio_create() gave no handle, 0 when init worked.
 * Built twice: plain, and with CONFIG_LOG_COLORS=1 (as an app's sdkconfig.h
 * would set it) to show that the library's own lines follow the app.
 */
#include <stdio.h>

#include "esp_err.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "tapio.h"

int main(void)
{
    esp_err_t err = esp_netif_init();
    printf("esp_netif_init: %s\n", esp_err_to_name(err));
    void *h = tapio_create();
    printf("tapio_create: %s\n", h ? "handle" : "NULL");
    fflush(stdout);
    if (err == ESP_ERR_INVALID_ARG && h == NULL) {
        return 3;
    }
    return err == ESP_OK ? 0 : 1;
}
