//! AArch64 without an OS: boot, the MMU, exception vectors, semihosting.
//!
//! Boot (`_start`): cores other than core 0 park (raspi3b starts all four at the entry
//! of an ELF image); a core entered at EL3 or EL2 drops to EL1 (AArch64, no traps of FP
//! or the counter); then the stack is set, `.bss` cleared and `.data` copied, FP/SIMD
//! enabled, and Rust runs. Rust turns the MMU on with an identity map (RAM normal and
//! cached, everything else device memory) because compiled wasm code makes unaligned
//! accesses, which fault on device memory, and with the MMU off all memory is device
//! memory. The runtime itself is built for `aarch64-unknown-none`, which assumes strict
//! alignment, so it is safe before that.

use core::arch::{asm, global_asm};

global_asm!(
    // A harness image enters here instead: the same boot, then the harness. Its own
    // section, so ordinary images (whose linker keeps what `_start` reaches) leave the
    // harness out.
    ".pushsection .text.wafer_harness_start,\"ax\",%progbits",
    ".globl wafer_harness_start",
    ".type wafer_harness_start,%function",
    "wafer_harness_start:",
    "adrp x19, {harness}",
    "add x19, x19, :lo12:{harness}",
    "b wafer_rt_boot",
    ".popsection",
    ".pushsection .text._start,\"ax\",%progbits",
    // The exception vector table starts here too (see below): VBAR_EL1 needs 2 KiB
    // alignment.
    ".balign 2048",
    ".globl wafer_rt_vectors",
    "wafer_rt_vectors:",
    ".globl _start",
    ".type _start,%function",
    "_start:",
    // x19 (kept through the boot) holds what Rust runs once booted.
    "adrp x19, {guest}",
    "add x19, x19, :lo12:{guest}",
    "wafer_rt_boot:",
    // Park every core but core 0.
    "mrs x9, mpidr_el1",
    "and x9, x9, #0xff",
    "cbnz x9, 9f",
    "mrs x9, CurrentEL",
    "lsr x9, x9, #2",
    "cmp x9, #3",
    "b.ne 2f",
    // EL3 -> EL2: the lower levels are non-secure and AArch64.
    "mov x10, #0x5b1",
    "msr scr_el3, x10",
    "mov x10, #0x3c9",
    "msr spsr_el3, x10",
    "adr x10, 2f",
    "msr elr_el3, x10",
    "eret",
    "2:",
    "mrs x9, CurrentEL",
    "lsr x9, x9, #2",
    "cmp x9, #2",
    "b.ne 3f",
    // EL2 -> EL1: EL1 is AArch64, reads the counter and uses FP without traps.
    "mov x10, #0x80000000",
    "msr hcr_el2, x10",
    "mrs x10, cnthctl_el2",
    "orr x10, x10, #3",
    "msr cnthctl_el2, x10",
    "msr cntvoff_el2, xzr",
    "mov x10, #0x33ff",
    "msr cptr_el2, x10",
    "ldr x10, =0x30d00800",
    "msr sctlr_el1, x10",
    "mov x10, #0x3c5",
    "msr spsr_el2, x10",
    "adr x10, 3f",
    "msr elr_el2, x10",
    "eret",
    "3:",
    "adrp x9, __wafer_stack_top",
    "add x9, x9, :lo12:__wafer_stack_top",
    "mov sp, x9",
    // FP and SIMD: compiled code and Rust use them.
    "mov x9, #0x300000",
    "msr cpacr_el1, x9",
    "isb",
    // Clear .bss.
    "adrp x9, __wafer_bss_start",
    "add x9, x9, :lo12:__wafer_bss_start",
    "adrp x10, __wafer_bss_end",
    "add x10, x10, :lo12:__wafer_bss_end",
    "4:",
    "cmp x9, x10",
    "b.hs 5f",
    "strb wzr, [x9], #1",
    "b 4b",
    "5:",
    // Copy .data from where it was loaded, if that is elsewhere.
    "adrp x9, __wafer_data_start",
    "add x9, x9, :lo12:__wafer_data_start",
    "adrp x10, __wafer_data_end",
    "add x10, x10, :lo12:__wafer_data_end",
    "adrp x11, __wafer_data_load",
    "add x11, x11, :lo12:__wafer_data_load",
    "cmp x9, x11",
    "b.eq 7f",
    "6:",
    "cmp x9, x10",
    "b.hs 7f",
    "ldrb w12, [x11], #1",
    "strb w12, [x9], #1",
    "b 6b",
    "7:",
    "mov x29, #0",
    "mov x30, #0",
    "mov x0, x19",
    "bl {boot}",
    // Parked cores wait for an interrupt, which never comes: `wfi` stops an emulated
    // core where `wfe` would spin (QEMU treats it as a yield), taking host time from
    // the boot core.
    "9:",
    "wfi",
    "b 9b",
    ".ltorg",
    // The vectors' common path: saves the rest of the registers, calls `on_exception`
    // with the frame, restores (the frame may have been changed to resume elsewhere) and
    // returns. It fits in the unused SP_EL0 vectors' place, after the boot code.
    "wafer_rt_exception:",
    "stp x2, x3, [sp, #16]",
    "stp x4, x5, [sp, #32]",
    "stp x6, x7, [sp, #48]",
    "stp x8, x9, [sp, #64]",
    "stp x10, x11, [sp, #80]",
    "stp x12, x13, [sp, #96]",
    "stp x14, x15, [sp, #112]",
    "stp x16, x17, [sp, #128]",
    "stp x18, x19, [sp, #144]",
    "stp x20, x21, [sp, #160]",
    "stp x22, x23, [sp, #176]",
    "stp x24, x25, [sp, #192]",
    "stp x26, x27, [sp, #208]",
    "stp x28, x29, [sp, #224]",
    "mrs x9, elr_el1",
    "stp x30, x9, [sp, #240]",
    "mrs x9, spsr_el1",
    "mrs x10, esr_el1",
    "stp x9, x10, [sp, #256]",
    "mrs x9, far_el1",
    "str x9, [sp, #272]",
    "mov x0, sp",
    "bl {handler}",
    "ldp x9, x10, [sp, #256]",
    "msr spsr_el1, x9",
    "ldp x30, x9, [sp, #240]",
    "msr elr_el1, x9",
    "ldp x2, x3, [sp, #16]",
    "ldp x4, x5, [sp, #32]",
    "ldp x6, x7, [sp, #48]",
    "ldp x8, x9, [sp, #64]",
    "ldp x10, x11, [sp, #80]",
    "ldp x12, x13, [sp, #96]",
    "ldp x14, x15, [sp, #112]",
    "ldp x16, x17, [sp, #128]",
    "ldp x18, x19, [sp, #144]",
    "ldp x20, x21, [sp, #160]",
    "ldp x22, x23, [sp, #176]",
    "ldp x24, x25, [sp, #192]",
    "ldp x26, x27, [sp, #208]",
    "ldp x28, x29, [sp, #224]",
    "ldp x0, x1, [sp, #0]",
    "add sp, sp, #{frame}",
    "eret",
    // The vectors of exceptions taken at EL1 on SP_EL1: the only ones that can happen
    // (the runtime never selects SP_EL0 and nothing runs at EL0), at their offsets from
    // the table's base, `_start`; the boot code and the common path above fill the first
    // 0x200 bytes, where the SP_EL0 vectors would be (the assembler fails if they
    // outgrow it), and code after them the lower-EL vectors' place. Each saves x0 and
    // x1, loads its number and joins the common path.
    ".org 0x200",
    ".set vector, 4",
    ".rept 4",
    ".balign 128",
    "sub sp, sp, #{frame}",
    "stp x0, x1, [sp, #0]",
    "mov x1, #vector",
    "b wafer_rt_exception",
    ".set vector, vector + 1",
    ".endr",
    ".popsection",
    frame = const FRAME_BYTES,
    handler = sym on_exception,
    boot = sym super::boot,
    guest = sym crate::entry::run_guest,
    harness = sym crate::harness::run,
);

/// Bytes of the frame the vectors save: x0–x30, ELR, SPSR, ESR, FAR, padded to 16.
const FRAME_BYTES: usize = 288;

/// The registers saved by the exception vectors.
#[repr(C)]
#[derive(Debug)]
pub struct ExceptionFrame {
    /// x0–x30.
    pub x: [usize; 31],
    /// Where the exception returns to.
    pub elr: usize,
    /// The saved processor state.
    pub spsr: usize,
    /// Why it happened.
    pub esr: usize,
    /// The faulting address, for aborts.
    pub far: usize,
}

/// ESR exception classes.
const EC_UNKNOWN: usize = 0x00;
const EC_BRK: usize = 0x3c;

extern "C" fn on_exception(frame: &mut ExceptionFrame, vector: usize) {
    let class = frame.esr >> 26;
    let fault = crate::trap::Fault {
        pc: frame.elr,
        stack_overflow: false,
        fp: frame.x[29],
        signal: vector as i32,
    };
    // Trap instructions (`udf`, `brk`) at a trap site of compiled code are guest traps.
    let is_trap_instruction = matches!(class, EC_UNKNOWN | EC_BRK);
    if is_trap_instruction
        && let Some(kind) = crate::trap::kind_of(&fault)
        && let Some(saved) = crate::sys::catch::take()
    {
        // Resume in `wafer_rt_catch_landing(kind, buffer)`, which restores the catching
        // frame's registers and stack.
        frame.x[0] = kind as usize;
        frame.x[1] = saved as usize;
        frame.elr = crate::sys::isa::wafer_rt_catch_landing as *const () as usize;
        return;
    }
    super::report_fault(fault, frame.esr, frame.far)
}

/// Installs the exception vectors.
pub fn install_vectors() {
    unsafe extern "C" {
        static wafer_rt_vectors: u8;
    }
    // SAFETY: the table is 2048-aligned code of the image, with an entry for every
    // vector that can be taken.
    unsafe {
        asm!(
            "msr vbar_el1, {table}",
            "isb",
            table = in(reg) core::ptr::addr_of!(wafer_rt_vectors),
        )
    };
}

/// The identity map: a level-1 table for the low 4 GiB, of 1 GiB blocks except where a
/// GiB holds both RAM and something else (devices, or nothing), which gets a level-2
/// table of 2 MiB blocks from a small pool: every board's RAM spans at most two such GiBs.
#[repr(C, align(4096))]
struct PageTables {
    level1: [u64; 512],
    level2: [[u64; 512]; LEVEL2_TABLES],
}

/// Level-2 tables in the pool.
const LEVEL2_TABLES: usize = 2;

static PAGE_TABLES: crate::global::Global<PageTables> = crate::global::Global::new(PageTables {
    level1: [0; 512],
    level2: [[0; 512]; LEVEL2_TABLES],
});

/// `MAIR_EL1`: attribute 0 device-nGnRnE, attribute 1 normal write-back.
const MAIR: u64 = 0xff << 8;
/// Block descriptor bits: valid block, access flag.
const BLOCK: u64 = 0b01 | 1 << 10;
/// Normal memory (attribute 1), inner shareable.
const NORMAL: u64 = 1 << 2 | 0b11 << 8;
/// Device memory (attribute 0), never executable.
const DEVICE: u64 = 3 << 53;
/// Table descriptor.
const TABLE: u64 = 0b11;

/// The block descriptor mapping `address` (its first byte) to itself: normal memory if
/// `ram` holds it, device memory otherwise.
fn block(address: u64, ram: &[(usize, usize)]) -> u64 {
    let normal = ram
        .iter()
        .any(|&(start, end)| address >= start as u64 && address < end as u64);
    address | BLOCK | if normal { NORMAL } else { DEVICE }
}

/// Turns the MMU and caches on with an identity map of the low 4 GiB in which `ram`
/// (start, end) ranges are normal memory and everything else device memory. RAM is
/// mapped in 2 MiB blocks, so ranges should be 2 MiB-aligned.
pub fn enable_mmu(ram: &[(usize, usize)]) {
    const GIB: u64 = 1 << 30;
    let level1 = PAGE_TABLES.with(|tables| {
        let mut pool = tables.level2.iter_mut();
        for gib in 0..4u64 {
            let (first, last) = (gib * GIB, (gib + 1) * GIB);
            let overlaps = ram
                .iter()
                .any(|&(start, end)| (start as u64) < last && (end as u64) > first);
            let covers = ram
                .iter()
                .any(|&(start, end)| start as u64 <= first && end as u64 >= last);
            let entry = if overlaps && !covers {
                let Some(table) = pool.next() else {
                    crate::fatal(b"the board's RAM spans more GiBs than the page tables map");
                };
                for (index, entry) in table.iter_mut().enumerate() {
                    *entry = block(first | (index as u64) << 21, ram);
                }
                table.as_ptr() as u64 | TABLE
            } else {
                block(first, ram)
            };
            tables.level1[gib as usize] = entry;
        }
        tables.level1.as_ptr() as u64
    });
    // TCR_EL1: 39-bit addresses from TTBR0 (T0SZ 25), walks cached and inner shareable,
    // 4 KiB granule, no TTBR1 walks, 40-bit physical addresses.
    let tcr: u64 = 25 | 0b01 << 8 | 0b01 << 10 | 0b11 << 12 | 1 << 23 | 0b010 << 32;
    // SAFETY: the tables map every address the image, its stack and devices use to
    // itself, so turning translation on changes no address; barriers order the table
    // writes before the walk and the enable before later instructions.
    unsafe {
        asm!(
            "msr mair_el1, {mair}",
            "msr tcr_el1, {tcr}",
            "msr ttbr0_el1, {ttbr}",
            "dsb ish",
            "tlbi vmalle1",
            "dsb ish",
            "isb",
            "mrs {tmp}, sctlr_el1",
            // M (MMU), C (data cache), I (instruction cache); A (alignment checks) and
            // SA (stack alignment checks) off.
            "orr {tmp}, {tmp}, #0x1",
            "orr {tmp}, {tmp}, #0x4",
            "orr {tmp}, {tmp}, #0x1000",
            "bic {tmp}, {tmp}, #0x2",
            "bic {tmp}, {tmp}, #0x8",
            "msr sctlr_el1, {tmp}",
            "isb",
            mair = in(reg) MAIR,
            tcr = in(reg) tcr,
            ttbr = in(reg) level1,
            tmp = out(reg) _,
        )
    };
}

/// The architected counter.
pub fn counter() -> u64 {
    let value: u64;
    // SAFETY: reading the virtual counter has no side effects; EL1 may read it.
    unsafe { asm!("isb", "mrs {}, cntvct_el0", out(reg) value) };
    value
}

/// The architected counter's frequency.
pub fn counter_frequency() -> u64 {
    let value: u64;
    // SAFETY: reading a system register with no side effects.
    unsafe { asm!("mrs {}, cntfrq_el0", out(reg) value) };
    value
}

/// Ends the program under a debugger or QEMU (`-semihosting`) with `code`.
pub fn semihosting_exit(code: i32) {
    // ADP_Stopped_ApplicationExit and the code.
    let block: [u64; 2] = [0x20026, code as u64];
    // SAFETY: SYS_EXIT (0x18) reads the two words `x1` points to; with semihosting on,
    // the host ends the program, and without it the trap lands in our vectors.
    unsafe {
        asm!(
            "hlt #0xf000",
            in("w0") 0x18u32,
            in("x1") block.as_ptr(),
        )
    };
}

/// Stops this core for good.
pub fn park() -> ! {
    loop {
        // SAFETY: masks interrupts and waits; nothing else is touched.
        unsafe { asm!("msr daifset, #0xf", "wfi") };
    }
}

#[allow(dead_code, reason = "only boards with PSCI firmware reset this way")]
/// Resets the machine through PSCI `SYSTEM_RESET` (QEMU virt, with its firmware
/// interface on `hvc`); returns if nothing answers.
pub fn psci_reset() {
    // SAFETY: a PSCI call; if it returns, nothing changed.
    unsafe { asm!("hvc #0", inout("x0") 0x8400_0009usize => _) };
}
