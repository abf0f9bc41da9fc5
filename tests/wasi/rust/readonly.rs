//! A read-only grant through Rust's std: reads work, every change is refused.

use std::fs;

/// Prints the WASI errno of a failure: the numbers are stable, where the names of
/// `io::ErrorKind` change between Rust releases (63 PERM, 44 NOENT, 20 EXIST, 31 ISDIR,
/// 55 NOTEMPTY, 28 INVAL, 76 NOTCAPABLE).
fn outcome<T>(what: &str, result: std::io::Result<T>) {
    match result {
        Ok(_) => println!("{what:<40} ok"),
        Err(e) => println!("{what:<40} errno {}", e.raw_os_error().unwrap_or(-1)),
    }
}

fn main() {
    println!("{:?}", fs::read_to_string("/ro/data.txt"));
    let mut names: Vec<_> = fs::read_dir("/ro")
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    println!("/ro holds {names:?}");
    outcome("write data.txt", fs::write("/ro/data.txt", "changed"));
    outcome("create new.txt", fs::write("/ro/new.txt", "new"));
    outcome("append to data.txt", fs::OpenOptions::new().append(true).open("/ro/data.txt"));
    outcome("create_dir", fs::create_dir("/ro/newdir"));
    outcome("remove_file data.txt", fs::remove_file("/ro/data.txt"));
    outcome("remove_dir_all sub", fs::remove_dir_all("/ro/sub"));
    outcome("rename data.txt", fs::rename("/ro/data.txt", "/ro/other.txt"));
    outcome("rename data.txt into /sandbox", fs::rename("/ro/data.txt", "/sandbox/data.txt"));
    outcome("copy data.txt into /sandbox", fs::copy("/ro/data.txt", "/sandbox/data.txt"));
    outcome("copy given.txt into /ro", fs::copy("/sandbox/given.txt", "/ro/given.txt"));
}
