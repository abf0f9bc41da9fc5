/* Archive member compiled -fPIC -fno-plt: a global read through the GOT and a call
   through the GOT (x86_64 relaxes these to direct references). */
extern int shared_value;
extern int lib_add(int a, int b);

int got_read(void) { return shared_value; }

int got_call(void) { return lib_add(40, 2); }
