/* Archive member: pulled in because main.o calls lib_add. */
static int counter = 4;

int lib_add(int a, int b) { return a + b; }

int lib_counter_bump(void) { return ++counter; }
