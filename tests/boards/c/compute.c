// A compute kernel with a checksum: CRC-32 over a generated buffer, a small matrix
// product and a sieve, printed so the same numbers are expected on every board and
// under every runtime.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint32_t crc_table[256];

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32(const uint8_t *data, size_t len) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < len; i++) c = crc_table[(c ^ data[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 4;
    crc_init();
    size_t len = 1 << 18;
    uint8_t *buffer = malloc(len);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buffer[i] = (uint8_t)x;
    }
    uint32_t crc = 0;
    for (int r = 0; r < rounds; r++) {
        buffer[r] ^= (uint8_t)crc;
        crc = crc32(buffer, len);
    }
    printf("crc32 after %d rounds: %08x\n", rounds, crc);

    enum { N = 48 };
    static double a[N][N], b[N][N], c[N][N];
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            a[i][j] = (i * 7 + j * 3) % 11 - 5;
            b[i][j] = (i * 5 + j * 13) % 7 - 3;
        }
    for (int i = 0; i < N; i++)
        for (int k = 0; k < N; k++)
            for (int j = 0; j < N; j++) c[i][j] += a[i][k] * b[k][j];
    double trace = 0;
    for (int i = 0; i < N; i++) trace += c[i][i];
    printf("matrix trace: %.1f\n", trace);

    enum { LIMIT = 100000 };
    static char composite[LIMIT];
    int primes = 0;
    for (int i = 2; i < LIMIT; i++) {
        if (composite[i]) continue;
        primes++;
        for (int j = 2 * i; j < LIMIT; j += i) composite[j] = 1;
    }
    printf("primes below %d: %d\n", LIMIT, primes);
    free(buffer);
    return 0;
}
