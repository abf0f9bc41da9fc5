/* Archive member compiled -fPIC (and, on x86_64, without relaxable GOT relocations)
   so real GOT slots are needed. */
extern int shared_value;
extern int common_var;

int *got_address(void) { return &shared_value; }

int got_common(void) { return common_var; }
