// A compute kernel with checksums: SHA-256 (FIPS 180-4) over a generated 4 MiB buffer,
// chained a few times, an integer matrix multiply and a small n-body simulation.
// The same file builds natively (gcc -O2) for speed comparisons.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---- SHA-256, FIPS 180-4 section 6.2 ----

// First 32 bits of the fractional parts of the cube roots of the first 64 primes (4.2.2).
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
};

// First 32 bits of the fractional parts of the square roots of the first 8 primes (5.3.3).
static const uint32_t H0[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

static uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

struct sha256 {
    uint32_t h[8];
    uint8_t block[64];
    size_t used;     // bytes in block
    uint64_t length; // message bytes so far
};

static void sha256_compress(uint32_t h[8], const uint8_t *p) {
    uint32_t w[64];
    for (int t = 0; t < 16; t++) {
        w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 |
               (uint32_t)p[4 * t + 2] << 8 | p[4 * t + 3];
    }
    for (int t = 16; t < 64; t++) {
        uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = s1 + w[t - 7] + s0 + w[t - 16];
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int t = 0; t < 64; t++) {
        uint32_t big1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = k + big1 + ch + K[t] + w[t];
        uint32_t big0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = big0 + maj;
        k = g; g = f; f = e; e = d + t1;
        d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d;
    h[4] += e; h[5] += f; h[6] += g; h[7] += k;
}

static void sha256_init(struct sha256 *s) {
    memcpy(s->h, H0, sizeof H0);
    s->used = 0;
    s->length = 0;
}

static void sha256_update(struct sha256 *s, const uint8_t *data, size_t n) {
    s->length += n;
    while (n > 0) {
        if (s->used == 0 && n >= 64) {
            sha256_compress(s->h, data);
            data += 64;
            n -= 64;
            continue;
        }
        size_t take = 64 - s->used < n ? 64 - s->used : n;
        memcpy(s->block + s->used, data, take);
        s->used += take;
        data += take;
        n -= take;
        if (s->used == 64) {
            sha256_compress(s->h, s->block);
            s->used = 0;
        }
    }
}

// Padding (5.1.1): a 1 bit, zeros to 56 mod 64 bytes, then the bit length, big-endian.
static void sha256_final(struct sha256 *s, uint8_t out[32]) {
    uint64_t bits = s->length * 8;
    uint8_t pad[72] = {0x80};
    size_t zeros = (s->used < 56 ? 56 : 120) - s->used;
    for (int i = 0; i < 8; i++) pad[zeros + i] = (uint8_t)(bits >> (56 - 8 * i));
    sha256_update(s, pad, zeros + 8);
    for (int i = 0; i < 8; i++) {
        for (int j = 0; j < 4; j++) out[4 * i + j] = (uint8_t)(s->h[i] >> (24 - 8 * j));
    }
}

static void print_digest(const char *label, const uint8_t d[32]) {
    printf("%-18s ", label);
    for (int i = 0; i < 32; i++) printf("%02x", d[i]);
    printf("\n");
}

static void digest_of(const char *label, const void *data, size_t n) {
    struct sha256 s;
    uint8_t d[32];
    sha256_init(&s);
    sha256_update(&s, data, n);
    sha256_final(&s, d);
    print_digest(label, d);
}

// ---- deterministic data ----

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t next_random(void) { // xorshift64*
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1du;
}

// ---- integer matrix multiply (wrapping arithmetic) ----

#define N 160

static uint32_t ma[N][N], mb[N][N], mc[N][N];

static void matrix_multiply(void) {
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            ma[i][j] = (uint32_t)next_random();
            mb[i][j] = (uint32_t)(next_random() >> 32);
        }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            uint32_t sum = 0;
            for (int k = 0; k < N; k++) sum += ma[i][k] * mb[k][j];
            mc[i][j] = sum;
        }
    uint64_t checksum = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) checksum = checksum * 31 + mc[i][j];
    printf("matrix %dx%d checksum %016llx\n", N, N, (unsigned long long)checksum);
}

// ---- n-body: five bodies, symplectic Euler steps ----

struct body { double x, y, z, vx, vy, vz, mass; };

static double energy(const struct body *b, int n) {
    double e = 0;
    for (int i = 0; i < n; i++) {
        e += 0.5 * b[i].mass * (b[i].vx * b[i].vx + b[i].vy * b[i].vy + b[i].vz * b[i].vz);
        for (int j = i + 1; j < n; j++) {
            double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
            e -= b[i].mass * b[j].mass / sqrt(dx * dx + dy * dy + dz * dz);
        }
    }
    return e;
}

static void n_body(int steps) {
    struct body b[5] = {
        {0, 0, 0, 0, 0, 0, 39.47841760435743},
        {4.84, -1.16, -0.10, 0.606, 2.81, -0.025, 0.0377},
        {8.34, 4.12, -0.40, -1.01, 1.82, 0.008, 0.0113},
        {12.89, -15.11, -0.22, 1.08, 0.868, -0.011, 0.0017},
        {15.38, -25.92, 0.18, 0.979, 0.594, -0.035, 0.0020},
    };
    double dt = 0.01;
    printf("n-body energy before %.9f\n", energy(b, 5));
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < 5; i++)
            for (int j = i + 1; j < 5; j++) {
                double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
                double d2 = dx * dx + dy * dy + dz * dz;
                double mag = dt / (d2 * sqrt(d2));
                b[i].vx -= dx * b[j].mass * mag; b[j].vx += dx * b[i].mass * mag;
                b[i].vy -= dy * b[j].mass * mag; b[j].vy += dy * b[i].mass * mag;
                b[i].vz -= dz * b[j].mass * mag; b[j].vz += dz * b[i].mass * mag;
            }
        for (int i = 0; i < 5; i++) {
            b[i].x += dt * b[i].vx;
            b[i].y += dt * b[i].vy;
            b[i].z += dt * b[i].vz;
        }
    }
    printf("n-body energy after  %.9f (%d steps)\n", energy(b, 5), steps);
}

int main(void) {
    digest_of("sha256(\"\")", "", 0);
    digest_of("sha256(\"abc\")", "abc", 3);
    const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    digest_of("sha256(448 bits)", two_blocks, strlen(two_blocks));

    size_t size = 4u << 20;
    uint8_t *buffer = malloc(size);
    for (size_t i = 0; i < size; i += 8) {
        uint64_t r = next_random();
        memcpy(buffer + i, &r, 8);
    }
    // Four rounds, each hashing the buffer with the previous digest written over its start,
    // fed in uneven pieces to exercise the partial-block path.
    uint8_t digest[32] = {0};
    for (int round = 0; round < 4; round++) {
        memcpy(buffer, digest, 32);
        struct sha256 s;
        sha256_init(&s);
        size_t done = 0, piece = 1;
        while (done < size) {
            size_t take = piece < size - done ? piece : size - done;
            sha256_update(&s, buffer + done, take);
            done += take;
            piece = piece * 3 % 100003 + 1;
        }
        sha256_final(&s, digest);
        char label[32];
        snprintf(label, sizeof label, "4 MiB round %d", round);
        print_digest(label, digest);
    }
    free(buffer);

    matrix_multiply();
    n_body(100000);
    return 0;
}
