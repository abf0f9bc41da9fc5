/* Boot code for qemu's aarch64 `virt`, using the bare-metal layout's symbols: copy
   .data from its load address, clear .bss, set the stack, call main. The first
   address comes from a literal (an absolute relocation), the rest PC-relative. */
.section .text.boot, "ax"
.globl _start
_start:
    ldr x0, =__wafer_data_load
    adrp x1, __wafer_data_start
    add x1, x1, :lo12:__wafer_data_start
    adrp x2, __wafer_data_end
    add x2, x2, :lo12:__wafer_data_end
1:  cmp x1, x2
    b.hs 2f
    ldp x3, x4, [x0], #16
    stp x3, x4, [x1], #16
    b 1b
2:  adrp x1, __wafer_bss_start
    add x1, x1, :lo12:__wafer_bss_start
    adrp x2, __wafer_bss_end
    add x2, x2, :lo12:__wafer_bss_end
3:  cmp x1, x2
    b.hs 4f
    stp xzr, xzr, [x1], #16
    b 3b
4:  adrp x0, __wafer_stack_top
    add x0, x0, :lo12:__wafer_stack_top
    mov sp, x0
    bl main
5:  b 5b
.ltorg
