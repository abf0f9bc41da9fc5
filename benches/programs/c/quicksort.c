/* Quicksort (median of three, insertion sort for short runs) of pseudo-random 32-bit
 * integers: compares, swaps, recursion. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define COUNT 6000000

static void insertion(uint32_t *a, long n) {
  for (long i = 1; i < n; i++) {
    uint32_t v = a[i];
    long j = i - 1;
    for (; j >= 0 && a[j] > v; j--) a[j + 1] = a[j];
    a[j + 1] = v;
  }
}

static void swap(uint32_t *a, uint32_t *b) {
  uint32_t t = *a;
  *a = *b;
  *b = t;
}

static void quicksort(uint32_t *a, long n) {
  while (n > 16) {
    long mid = n / 2;
    if (a[mid] < a[0]) swap(&a[mid], &a[0]);
    if (a[n - 1] < a[0]) swap(&a[n - 1], &a[0]);
    if (a[n - 1] < a[mid]) swap(&a[n - 1], &a[mid]);
    uint32_t pivot = a[mid];
    long i = 0, j = n - 1;
    for (;;) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i >= j) break;
      swap(&a[i], &a[j]);
      i++;
      j--;
    }
    /* Recurse into the smaller half, loop on the larger: O(log n) stack. */
    if (j + 1 < n - j - 1) {
      quicksort(a, j + 1);
      a += j + 1;
      n -= j + 1;
    } else {
      quicksort(a + j + 1, n - j - 1);
      n = j + 1;
    }
  }
  insertion(a, n);
}

int main(void) {
  uint32_t *a = malloc(sizeof(uint32_t) * COUNT);
  if (!a) return 1;
  uint64_t state = 88172645463325252ull;
  for (long i = 0; i < COUNT; i++) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    a[i] = (uint32_t)(state >> 33);
  }
  quicksort(a, COUNT);
  uint64_t sum = 0;
  for (long i = 0; i < COUNT; i++) {
    if (i > 0 && a[i - 1] > a[i]) {
      printf("quicksort: not sorted at %ld\n", i);
      return 1;
    }
    sum = sum * 31 + a[i];
  }
  printf("quicksort: %d sorted, min %u max %u checksum %016llx\n", COUNT, a[0], a[COUNT - 1],
         (unsigned long long)sum);
  free(a);
  return 0;
}
