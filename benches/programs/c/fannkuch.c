/* fannkuch-redux: flip prefixes of every permutation of 1..N (after the Computer
 * Language Benchmarks Game). Small arrays, data-dependent branches. */
#include <stdio.h>

#define N 10
#define REPEAT 3

static void fannkuch(int n, int *checksum, int *max_flips) {
  int perm[16], perm1[16], count[16];
  int r = n, sign = 1, perm_count = 0;
  *checksum = 0;
  *max_flips = 0;
  for (int i = 0; i < n; i++) perm1[i] = i;
  for (;;) {
    for (; r != 1; r--) count[r - 1] = r;
    for (int i = 0; i < n; i++) perm[i] = perm1[i];
    int flips = 0;
    for (int k; (k = perm[0]) != 0;) {
      for (int i = 0, j = k; i < j; i++, j--) {
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
      }
      flips++;
    }
    if (flips > *max_flips) *max_flips = flips;
    *checksum += sign * flips;
    sign = -sign;
    perm_count++;
    for (;;) {
      if (r == n) return;
      int first = perm1[0];
      for (int i = 0; i < r; i++) perm1[i] = perm1[i + 1];
      perm1[r] = first;
      if (--count[r] > 0) break;
      r++;
    }
  }
}

int main(void) {
  int checksum = 0, max_flips = 0;
  long total = 0;
  for (int rep = 0; rep < REPEAT; rep++) {
    fannkuch(N, &checksum, &max_flips);
    total += checksum + max_flips;
  }
  printf("fannkuch: %d Pfannkuchen(%d) = %d (total %ld)\n", checksum, N, max_flips, total);
  return 0;
}
