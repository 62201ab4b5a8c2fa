/*
 * gonetif — esp_compiler.h
 *
 * The few compiler helpers of ESP-IDF's esp_compiler.h that the esp_netif
 * headers (and common application code) rely on.
 */
#ifndef GONETIF_ESP_COMPILER_H
#define GONETIF_ESP_COMPILER_H

/* Branch prediction hints. */
#ifndef likely
#define likely(x)      __builtin_expect(!!(x), 1)
#endif
#ifndef unlikely
#define unlikely(x)    __builtin_expect(!!(x), 0)
#endif

/*
 * Designated initializers of aggregate members that are to stay zero.
 * C lets them be left out; C++ (which requires every designator to follow
 * declaration order and complains less when the member is named) gets an
 * explicit empty initializer.  Used as:
 *     { .a = 1, ESP_COMPILER_DESIGNATED_INIT_AGGREGATE_TYPE_EMPTY(arr) .b = 2 }
 */
#ifdef __cplusplus
#define ESP_COMPILER_DESIGNATED_INIT_AGGREGATE_TYPE_EMPTY(member)  .member = { },
#define ESP_COMPILER_DESIGNATED_INIT_AGGREGATE_TYPE_STR(member, value)  .member = value,
#else
#define ESP_COMPILER_DESIGNATED_INIT_AGGREGATE_TYPE_EMPTY(member)
#define ESP_COMPILER_DESIGNATED_INIT_AGGREGATE_TYPE_STR(member, value)  .member = value,
#endif

#endif /* GONETIF_ESP_COMPILER_H */
