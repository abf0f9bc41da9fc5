/* Dense double-precision matrix multiply, i-k-j order (vectorisable inner loop). */
#include <stdio.h>
#include <stdlib.h>

#define N 960

int main(void) {
  double *a = malloc(sizeof(double) * N * N);
  double *b = malloc(sizeof(double) * N * N);
  double *c = calloc((size_t)N * N, sizeof(double));
  if (!a || !b || !c) return 1;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) {
      a[i * N + j] = (double)((i * 7 + j * 3) % 17) / 8.0 - 1.0;
      b[i * N + j] = (double)((i * 5 + j * 11) % 13) / 4.0 - 1.5;
    }
  for (int i = 0; i < N; i++)
    for (int k = 0; k < N; k++) {
      double aik = a[i * N + k];
      for (int j = 0; j < N; j++) c[i * N + j] += aik * b[k * N + j];
    }
  double sum = 0, diag = 0;
  for (int i = 0; i < N; i++) {
    diag += c[i * N + i];
    for (int j = 0; j < N; j++) sum += c[i * N + j] * (double)((i + j) % 3 - 1);
  }
  printf("matmul: %dx%d sum %.6f trace %.6f\n", N, N, sum, diag);
  free(a);
  free(b);
  free(c);
  return 0;
}
