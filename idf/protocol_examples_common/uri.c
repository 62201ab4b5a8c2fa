/* URI percent-encoding for the examples (RFC 3986 unreserved set). */
#include <ctype.h>
#include <string.h>

#include "protocol_examples_utils.h"

static int unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

uint32_t example_uri_encode(char *dest, const char *src, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    uint32_t n = 0;
    for (size_t i = 0; i < len && src[i]; i++) {
        unsigned char c = (unsigned char)src[i];
        if (unreserved(c)) {
            dest[n++] = (char)c;
        } else {
            dest[n++] = '%';
            dest[n++] = hex[c >> 4];
            dest[n++] = hex[c & 15];
        }
    }
    dest[n] = '\0';
    return n;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

void example_uri_decode(char *dest, const char *src, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len && src[i]; i++) {
        if (src[i] == '%' && i + 2 < len && src[i + 1] && src[i + 2] && hexval(src[i + 1]) >= 0 &&
            hexval(src[i + 2]) >= 0) {
            dest[o++] = (char)(hexval(src[i + 1]) * 16 + hexval(src[i + 2]));
            i += 2;
        } else if (src[i] == '+') {
            dest[o++] = ' ';
        } else {
            dest[o++] = src[i];
        }
    }
    dest[o] = '\0';
}
