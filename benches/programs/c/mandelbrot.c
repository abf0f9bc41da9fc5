/* Mandelbrot set as a 1-bit bitmap (after the Computer Language Benchmarks Game),
 * folded into an FNV-1a checksum: scalar double arithmetic and branches. */
#include <stdint.h>
#include <stdio.h>

#define SIZE 2400
#define ITER 50

int main(void) {
  uint64_t hash = 0xcbf29ce484222325ull;
  long inside = 0;
  for (int y = 0; y < SIZE; y++) {
    double ci = 2.0 * y / SIZE - 1.0;
    unsigned bits = 0;
    for (int x = 0; x < SIZE; x++) {
      double cr = 2.0 * x / SIZE - 1.5;
      double zr = 0, zi = 0, tr = 0, ti = 0;
      int i = 0;
      for (; i < ITER && tr + ti <= 4.0; i++) {
        zi = 2.0 * zr * zi + ci;
        zr = tr - ti + cr;
        tr = zr * zr;
        ti = zi * zi;
      }
      bits = bits << 1 | (i == ITER);
      inside += i == ITER;
      if ((x & 7) == 7 || x == SIZE - 1) {
        hash = (hash ^ bits) * 0x100000001b3ull;
        bits = 0;
      }
    }
  }
  printf("mandelbrot: %dx%d inside %ld hash %016llx\n", SIZE, SIZE, inside,
         (unsigned long long)hash);
  return 0;
}
