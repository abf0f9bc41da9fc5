/* Boot code for qemu's riscv64 `virt`, using the bare-metal layout's symbols: set gp,
   copy .data from its load address, clear .bss, set the stack, call main. */
.option norelax
.section .text.boot, "ax"
.globl _start
_start:
    lla gp, __global_pointer$
    lla a0, __wafer_data_load
    lla a1, __wafer_data_start
    lla a2, __wafer_data_end
1:  bgeu a1, a2, 2f
    ld a3, 0(a0)
    ld a4, 8(a0)
    sd a3, 0(a1)
    sd a4, 8(a1)
    addi a0, a0, 16
    addi a1, a1, 16
    j 1b
2:  lla a1, __wafer_bss_start
    lla a2, __wafer_bss_end
3:  bgeu a1, a2, 4f
    sd zero, 0(a1)
    sd zero, 8(a1)
    addi a1, a1, 16
    j 3b
4:  lla sp, __wafer_stack_top
    call main
5:  j 5b
