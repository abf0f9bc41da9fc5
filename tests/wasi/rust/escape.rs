//! Escapes through Rust's std: `..`, absolute paths, symlinks out, renames and links
//! out, creating through a dangling link. All must fail, and nothing outside changes.

use std::fs;

/// Prints the WASI errno of a failure: the numbers are stable, where the names of
/// `io::ErrorKind` change between Rust releases (63 PERM, 44 NOENT, 20 EXIST, 31 ISDIR,
/// 55 NOTEMPTY, 28 INVAL, 76 NOTCAPABLE).
fn outcome<T>(what: &str, result: std::io::Result<T>) {
    match result {
        Ok(_) => println!("{what:<48} ok (allowed)"),
        Err(e) => println!("{what:<48} errno {}", e.raw_os_error().unwrap_or(-1)),
    }
}

fn main() {
    outcome("read ../outside/secret.txt", fs::read("/sandbox/../outside/secret.txt"));
    outcome("read /etc/passwd", fs::read("/etc/passwd"));
    outcome("read link_out", fs::read("/sandbox/link_out"));
    outcome("read link_abs", fs::read("/sandbox/link_abs"));
    outcome("read link_up/outside/secret.txt", fs::read("/sandbox/link_up/outside/secret.txt"));
    outcome("read sub/deep_out/secret.txt", fs::read("/sandbox/sub/deep_out/secret.txt"));
    outcome("read sub/../given.txt", fs::read("/sandbox/sub/../given.txt"));
    outcome("metadata link_out", fs::metadata("/sandbox/link_out"));
    outcome("symlink_metadata link_out", fs::symlink_metadata("/sandbox/link_out"));
    outcome("read_dir ..", fs::read_dir("/sandbox/.."));
    outcome("read_dir link_up", fs::read_dir("/sandbox/link_up"));
    outcome("write through dangle_out", fs::write("/sandbox/dangle_out", "x"));
    outcome("write ../created.txt", fs::write("/sandbox/../created.txt", "x"));
    outcome("create_dir ../evil", fs::create_dir("/sandbox/../evil"));
    outcome("rename given.txt to ../stolen.txt", fs::rename("/sandbox/given.txt", "/sandbox/../stolen.txt"));
    outcome("rename ../outside/secret.txt in", fs::rename("/sandbox/../outside/secret.txt", "/sandbox/stolen.txt"));
    outcome("hard_link given.txt to ../hard.txt", fs::hard_link("/sandbox/given.txt", "/sandbox/../hard.txt"));
    outcome("remove_file ../outside/secret.txt", fs::remove_file("/sandbox/../outside/secret.txt"));
    outcome("remove_dir_all link_up", fs::remove_dir_all("/sandbox/link_up"));
    outcome("copy link_out to copy.txt", fs::copy("/sandbox/link_out", "/sandbox/copy.txt"));
}
