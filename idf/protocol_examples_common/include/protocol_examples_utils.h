/* URI percent-encoding helpers IDF's HTTP examples use. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Percent-encodes len bytes of src into dest (room for 3 * len + 1 bytes:
 * unreserved characters stay, everything else becomes %XX); returns the
 * encoded length. */
uint32_t example_uri_encode(char *dest, const char *src, size_t len);

/* Decodes up to len characters of src (%XX and '+' for space) into dest,
 * NUL-terminated. */
void example_uri_decode(char *dest, const char *src, size_t len);

#ifdef __cplusplus
}
#endif
