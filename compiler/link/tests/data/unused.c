/* Archive member nobody references: must not be loaded, and its symbol must not
   appear in the output. */
static const char big_table[8192] = {1, 2, 3};

int unused_function(int i) { return big_table[i & 8191]; }
