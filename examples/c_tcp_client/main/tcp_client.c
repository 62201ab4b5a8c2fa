/*
 * A TCP client in the style of IDF's sockets/tcp_client example: connect
 * to the host, send a message, print the reply, again and again. Written
 * against the plain BSD names; gonetif's headers route them to its stack.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "esp_log.h"
#include "sdkconfig.h"
#include "tcp_client.h"

static const char *TAG = "example";
static const char *payload = "Message from ESP32 ";

static void pause_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int tcp_client(const struct tcp_client_options *opt)
{
    char rx_buffer[128];
    int replies = 0, failures = 0;

    for (;;) {
        struct sockaddr_in dest = {0};
        inet_pton(AF_INET, opt->host, &dest.sin_addr);
        dest.sin_family = AF_INET;
        dest.sin_port = htons(opt->port);

        int sock = socket(AF_INET, SOCK_STREAM, IPPROTO_IP);
        if (sock < 0) {
            ESP_LOGE(TAG, "Unable to create socket: errno %d", errno);
            return 1;
        }
        ESP_LOGI(TAG, "Socket created, connecting to %s:%d", opt->host, opt->port);

        if (connect(sock, (struct sockaddr *)&dest, sizeof(dest)) != 0) {
            ESP_LOGE(TAG, "Socket unable to connect: errno %d (%s)", errno, strerror(errno));
        } else {
            ESP_LOGI(TAG, "Successfully connected");
            for (;;) {
                if (send(sock, payload, strlen(payload), 0) < 0) {
                    ESP_LOGE(TAG, "Error occurred during sending: errno %d", errno);
                    break;
                }
                ssize_t len = recv(sock, rx_buffer, sizeof(rx_buffer) - 1, 0);
                if (len < 0) {
                    ESP_LOGE(TAG, "recv failed: errno %d", errno);
                    break;
                }
                if (len == 0) {
                    ESP_LOGW(TAG, "Connection closed by the server");
                    break;
                }
                rx_buffer[len] = 0;
                ESP_LOGI(TAG, "Received %d bytes from %s:", (int)len, opt->host);
                ESP_LOGI(TAG, "%s", rx_buffer);
                if (opt->count > 0 && ++replies >= opt->count) {
                    shutdown(sock, SHUT_RDWR);
                    close(sock);
                    return 0;
                }
                pause_ms(opt->interval_ms);
            }
        }
        ESP_LOGE(TAG, "Shutting down socket and restarting...");
        shutdown(sock, SHUT_RDWR);
        close(sock);
        if (opt->count > 0 && ++failures >= opt->max_failures) {
            ESP_LOGE(TAG, "giving up after %d failed attempts", failures);
            return 1;
        }
        pause_ms(1000);
    }
}
