//! The image descriptor emitted by the compiler (`wafer_abi::image`).

use wafer_abi::image::{DEFAULT_STACK_SIZE, IMAGE_MAGIC, ImageField};

/// What the runtime needs to know about the compiled code it is linked with.
#[derive(Debug, Clone, Copy)]
pub struct Descriptor {
    /// Address of the first byte of compiled code.
    pub code_start: usize,
    /// Length of the compiled code.
    pub code_len: usize,
    /// The trap table.
    pub trap_table: &'static [u8],
    /// The grants.
    pub grants: &'static [u8],
    /// The exception table.
    pub exception_table: &'static [u8],
    /// The read-only file trees of a firmware image.
    pub files: &'static [u8],
    /// How many linear memories the image defines.
    pub memories: u64,
    /// Guest stack size in bytes.
    pub stack_size: u64,
    /// `wafer_abi::image::flags`.
    pub flags: u64,
    /// The instruction budget of `--fuel` (0: none).
    pub fuel: u64,
    /// The wall-clock limit of `--deadline`, in nanoseconds (0: none).
    pub deadline_nanos: u64,
}

impl Descriptor {
    #[cfg_attr(feature = "image", allow(dead_code, reason = "host builds only"))]
    const EMPTY: Descriptor = Descriptor {
        code_start: 0,
        code_len: 0,
        trap_table: &[],
        grants: &[],
        exception_table: &[],
        files: &[],
        memories: 0,
        stack_size: DEFAULT_STACK_SIZE,
        flags: 0,
        fuel: 0,
        deadline_nanos: 0,
    };

    /// Reads a descriptor from its fields.
    ///
    /// # Safety
    /// The pointer/length pairs in `fields` must describe static, immutable memory.
    unsafe fn from_fields(fields: &[usize; ImageField::COUNT as usize]) -> Option<Descriptor> {
        let field = |f: ImageField| fields[f as usize];
        if field(ImageField::Magic) as u64 != IMAGE_MAGIC as usize as u64 {
            return None;
        }
        let slice = |ptr: ImageField, len: ImageField| -> &'static [u8] {
            let (ptr, len) = (field(ptr), field(len));
            if ptr == 0 || len == 0 {
                &[]
            } else {
                // SAFETY: the caller guarantees the pair describes static memory.
                unsafe { core::slice::from_raw_parts(ptr as *const u8, len) }
            }
        };
        Some(Descriptor {
            code_start: field(ImageField::CodeStart),
            code_len: field(ImageField::CodeLen),
            trap_table: slice(ImageField::TrapTable, ImageField::TrapTableLen),
            grants: slice(ImageField::Grants, ImageField::GrantsLen),
            exception_table: slice(ImageField::ExceptionTable, ImageField::ExceptionTableLen),
            files: slice(ImageField::Files, ImageField::FilesLen),
            memories: field(ImageField::Memories) as u64,
            stack_size: field(ImageField::StackSize) as u64,
            flags: field(ImageField::Flags) as u64,
            fuel: field(ImageField::Fuel) as u64,
            deadline_nanos: field(ImageField::DeadlineNanos) as u64,
        })
    }
}

#[cfg(feature = "image")]
unsafe extern "C" {
    static wafer_image: [usize; ImageField::COUNT as usize];
}

/// The descriptor of the image this runtime is linked into. A mismatched descriptor (an
/// object from another wafer version) is fatal.
pub fn descriptor() -> Descriptor {
    #[cfg(feature = "image")]
    {
        // SAFETY: the compiler defines `wafer_image` with pointer/length pairs that
        // describe its own read-only sections.
        match unsafe { Descriptor::from_fields(&*core::ptr::addr_of!(wafer_image)) } {
            Some(descriptor) => descriptor,
            None => crate::fatal(b"image descriptor has the wrong version"),
        }
    }
    #[cfg(not(feature = "image"))]
    {
        let _ = Descriptor::from_fields;
        Descriptor::EMPTY
    }
}
