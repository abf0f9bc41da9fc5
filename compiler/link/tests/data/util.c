/* A second object (not in an archive): strong definitions and helpers. */
#include "sys.h"

int shared_value = 1234;

/* Overrides main.c's weak definition. */
int overridden(void) { return 2; }

/* A common symbol, also declared common in main.c. */
int common_var __attribute__((common));

int bump_common(void) { return ++common_var; }

void *memset(void *dst, int c, size_t n) {
    unsigned char *d = dst;
    for (size_t i = 0; i < n; i++) d[i] = (unsigned char)c;
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    for (size_t i = 0; i < n; i++) d[i] = s[i];
    return dst;
}

size_t str_len(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

void put_str(const char *s) { sys_write(s, str_len(s)); }

void put_num(long v) {
    char buf[24];
    int i = sizeof buf;
    int negative = v < 0;
    unsigned long u = negative ? -(unsigned long)v : (unsigned long)v;
    do {
        buf[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (negative) buf[--i] = '-';
    sys_write(buf + i, sizeof buf - i);
}
