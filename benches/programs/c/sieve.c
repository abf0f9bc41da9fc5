/* Sieve of Eratosthenes over a byte array, repeated: streaming stores and a tight
 * strided inner loop. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT 20000000
#define REPEAT 4

int main(void) {
  unsigned char *composite = malloc(LIMIT + 1);
  if (!composite) return 1;
  uint64_t total = 0, last = 0;
  for (int rep = 0; rep < REPEAT; rep++) {
    memset(composite, 0, LIMIT + 1);
    uint64_t count = 0;
    for (uint32_t i = 2; i <= LIMIT; i++) {
      if (composite[i]) continue;
      count++;
      last = i;
      if (i > LIMIT / i) continue;
      for (uint32_t j = i * i; j <= LIMIT; j += i) composite[j] = 1;
    }
    total += count;
  }
  printf("sieve: %llu primes below %d, largest %llu\n", (unsigned long long)(total / REPEAT), LIMIT,
         (unsigned long long)last);
  free(composite);
  return 0;
}
