// Arguments and environment: what the guest sees must be exactly what the image grants.
// argv[0] is not printed (runtimes disagree on it). Exits 3 by returning from main.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static int compare(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
    printf("argc=%d\n", argc);
    for (int i = 1; i < argc; i++) {
        printf("argv[%d]=[%s] (%zu bytes)\n", i, argv[i], strlen(argv[i]));
    }
    static const char *names[] = {"GREETING", "HOME", "SECRET", "PATH", "LANG"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *value = getenv(names[i]);
        printf("getenv(%s)=%s\n", names[i], value ? value : "(unset)");
    }
    size_t count = 0;
    while (environ[count]) count++;
    char **sorted = malloc((count + 1) * sizeof *sorted);
    memcpy(sorted, environ, count * sizeof *sorted);
    qsort(sorted, count, sizeof *sorted, compare);
    printf("environ has %zu entries\n", count);
    for (size_t i = 0; i < count; i++) {
        printf("  %s\n", sorted[i]);
    }
    free(sorted);
    return 3;
}
