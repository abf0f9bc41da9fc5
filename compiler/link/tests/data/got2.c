/* Archive member compiled -fPIC (and, on x86_64, without relaxable GOT relocations).
   The linker still relaxes the plain GOTPCREL loads it recognises, but the address of
   an undefined weak symbol needs a real GOT slot holding 0. */
extern int shared_value;
extern int common_var;
extern int weak_absent __attribute__((weak));

int *got_weak(void) { return &weak_absent; }

int *got_address(void) { return &shared_value; }

int got_common(void) { return common_var; }
