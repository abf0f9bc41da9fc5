//! `wasi:cli`: environment, exit, stdio and terminals.
//!
//! Arguments and the environment come from the host core's grants, exactly as for
//! preview1.

use wafer_abi::wasi_p2::resource;

use super::io::Stream;
use super::objects::Object;
use super::{Call, HostResult, host_fns};

/// `list<string>`: allocates the array and each string, then stores (pointer, count)
/// at `ret`.
fn lower_strings<'a>(
    call: &Call,
    ret: i32,
    strings: impl Iterator<Item = &'a [u8]> + Clone,
) -> HostResult<()> {
    let count = strings.clone().count() as u32;
    let array = call.allocate(4, count.saturating_mul(8))?;
    for (i, string) in strings.enumerate() {
        let (ptr, len) = call.lower_string(string)?;
        let at = array + i as u32 * 8;
        call.store_u32(at, ptr)?;
        call.store_u32(at + 4, len)?;
    }
    call.store_u32(ret as u32, array)?;
    call.store_u32(ret as u32 + 4, count)
}

/// Calls `f` with each `KEY=VALUE` entry of the granted environment. One instance of the
/// generic `for_each` serves both passes of [`get_environment`]: code size matters in
/// every image.
fn each_env_entry(f: &mut dyn FnMut(&[u8])) {
    crate::host::grants::for_each_env(f);
}

/// Lowers entry `entry` as element `i` (a `tuple<string, string>`) of the array at
/// `array`.
fn lower_env_entry(call: &Call, array: u32, i: u32, entry: &[u8]) -> HostResult<()> {
    let (key, value) = match entry.iter().position(|&b| b == b'=') {
        Some(at) => (&entry[..at], &entry[at + 1..]),
        None => (entry, &[][..]),
    };
    let (key_ptr, key_len) = call.lower_string(key)?;
    let (value_ptr, value_len) = call.lower_string(value)?;
    let at = array + i * 16;
    call.store_u32(at, key_ptr)?;
    call.store_u32(at + 4, key_len)?;
    call.store_u32(at + 8, value_ptr)?;
    call.store_u32(at + 12, value_len)
}

/// `get-environment: func() -> list<tuple<string, string>>`.
fn get_environment(call: &Call, ret: i32) -> HostResult<()> {
    let mut count = 0u32;
    each_env_entry(&mut |_| count += 1);
    let array = call.allocate(4, count.saturating_mul(16))?;
    let mut i = 0u32;
    let mut result = Ok(());
    each_env_entry(&mut |entry| {
        if result.is_ok() && i < count {
            result = lower_env_entry(call, array, i, entry);
            i += 1;
        }
    });
    result?;
    call.store_u32(ret as u32, array)?;
    call.store_u32(ret as u32 + 4, count)
}

/// `get-terminal-*: func() -> option<terminal-*>`: a terminal resource when the
/// descriptor is one.
fn terminal(call: &Call, fd: i32, ty: u32, ret: i32) -> HostResult<()> {
    if crate::host::Descriptor::stdio(fd).file_kind() == Ok(crate::sys::FileKind::CharacterDevice) {
        let handle = call.new_own(ty, fd as u64)?;
        call.store_u8(ret as u32, 1)?;
        call.store_u32(ret as u32 + 4, handle)
    } else {
        call.store_u8(ret as u32, 0)
    }
}

/// A new handle of standard stream `fd`.
fn stdio(call: &Call, ty: u32, fd: i32) -> HostResult<u32> {
    call.new_object(ty, Object::Stream(Stream::Stdio(fd)))
}

host_fns! {
    /// `wasi:cli/environment.get-environment`.
    wafer_p2_cli_get_environment(ret: i32) => get_environment;
    /// `wasi:cli/environment.get-arguments`.
    wafer_p2_cli_get_arguments(ret: i32) => |call, ret| lower_strings(call, ret, crate::host::grants::args());
    /// `wasi:cli/environment.initial-cwd`: none, as no directory is the guest's cwd.
    wafer_p2_cli_initial_cwd(ret: i32) => |call: &Call, ret: i32| call.store_u8(ret as u32, 0);
    /// `wasi:cli/exit.exit`: `ok` exits 0, `err` 1.
    wafer_p2_cli_exit(status: i32) => |_, status: i32| -> HostResult<()> {
        crate::host::exit(if status == 0 { 0 } else { 1 })
    };
    /// `wasi:cli/exit.exit-with-code`.
    wafer_p2_cli_exit_with_code(code: i32) => |_, code: i32| -> HostResult<()> {
        crate::host::exit(code & 0xff)
    };
    /// `wasi:cli/stdin.get-stdin`.
    wafer_p2_cli_get_stdin() -> u32 => |call| stdio(call, resource::INPUT_STREAM, 0);
    /// `wasi:cli/stdout.get-stdout`.
    wafer_p2_cli_get_stdout() -> u32 => |call| stdio(call, resource::OUTPUT_STREAM, 1);
    /// `wasi:cli/stderr.get-stderr`.
    wafer_p2_cli_get_stderr() -> u32 => |call| stdio(call, resource::OUTPUT_STREAM, 2);
    /// `wasi:cli/terminal-stdin.get-terminal-stdin`.
    wafer_p2_cli_get_terminal_stdin(ret: i32) => |call, ret| terminal(call, 0, resource::TERMINAL_INPUT, ret);
    /// `wasi:cli/terminal-stdout.get-terminal-stdout`.
    wafer_p2_cli_get_terminal_stdout(ret: i32) => |call, ret| terminal(call, 1, resource::TERMINAL_OUTPUT, ret);
    /// `wasi:cli/terminal-stderr.get-terminal-stderr`.
    wafer_p2_cli_get_terminal_stderr(ret: i32) => |call, ret| terminal(call, 2, resource::TERMINAL_OUTPUT, ret);
}
