/* Startup and size probe: the smallest useful program. */
#include <stdio.h>

int main(void) {
  printf("hello, world\n");
  return 0;
}
