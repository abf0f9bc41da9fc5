//! The filesystem through Rust's std on wasm32-wasip1: create, write, append, read,
//! seek, truncate, metadata, timestamps, rename, remove, directories, readdir,
//! symlinks (read) and hard links, under the preopen /sandbox.

use std::fs::{self, File, FileTimes, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::time::{Duration, SystemTime};

/// Prints the WASI errno of a failure: the numbers are stable, where the names of
/// `io::ErrorKind` change between Rust releases (63 PERM, 44 NOENT, 20 EXIST, 31 ISDIR,
/// 55 NOTEMPTY, 28 INVAL, 76 NOTCAPABLE).
fn outcome<T>(what: &str, result: std::io::Result<T>) {
    match result {
        Ok(_) => println!("{what:<44} ok"),
        Err(e) => println!("{what:<44} errno {}", e.raw_os_error().unwrap_or(-1)),
    }
}

fn main() -> std::io::Result<()> {
    fs::write("/sandbox/notes.txt", "first line\n")?;
    let mut file = OpenOptions::new().append(true).open("/sandbox/notes.txt")?;
    file.write_all(b"second line\n")?;
    drop(file);
    println!("{:?}", fs::read_to_string("/sandbox/notes.txt")?);
    println!("{:?}", fs::read_to_string("/sandbox/given.txt")?);

    let mut file = OpenOptions::new().read(true).write(true).open("/sandbox/notes.txt")?;
    file.seek(SeekFrom::Start(6))?;
    let mut word = [0u8; 4];
    file.read_exact(&mut word)?;
    println!("word at 6: {}, now at {}", String::from_utf8_lossy(&word), file.stream_position()?);
    println!("5 before the end: {}", file.seek(SeekFrom::End(-5))?);
    outcome("seek before the start", file.seek(SeekFrom::Current(-100)));
    file.set_len(5)?;
    println!("after set_len(5): {} bytes", file.metadata()?.len());
    file.set_len(8)?;
    file.sync_all()?;
    file.sync_data()?;
    drop(file);
    println!("{:?}", fs::read("/sandbox/notes.txt")?);

    outcome("open missing", File::open("/sandbox/missing.txt"));
    outcome(
        "create_new on an existing file",
        OpenOptions::new().write(true).create_new(true).open("/sandbox/notes.txt"),
    );
    outcome("read a directory as a file", fs::read("/sandbox/sub"));

    outcome("create_dir_all a/b/c", fs::create_dir_all("/sandbox/a/b/c"));
    outcome("create_dir a again", fs::create_dir("/sandbox/a"));
    fs::write("/sandbox/a/b/c/deep.txt", "deep\n")?;
    outcome("remove_dir a non-empty directory", fs::remove_dir("/sandbox/a/b"));
    outcome("rename a to moved", fs::rename("/sandbox/a", "/sandbox/moved"));
    outcome("copy deep.txt up", fs::copy("/sandbox/moved/b/c/deep.txt", "/sandbox/copy.txt"));
    outcome("remove_dir_all moved/b", fs::remove_dir_all("/sandbox/moved/b"));
    outcome("remove_file copy.txt", fs::remove_file("/sandbox/copy.txt"));
    outcome("remove_file again", fs::remove_file("/sandbox/copy.txt"));

    let meta = fs::metadata("/sandbox/notes.txt")?;
    println!("notes.txt: file {}, {} bytes", meta.is_file(), meta.len());
    println!("moved is a dir: {}", fs::metadata("/sandbox/moved")?.is_dir());

    let file = File::options().write(true).open("/sandbox/notes.txt")?;
    let accessed = SystemTime::UNIX_EPOCH + Duration::new(1_000_000_000, 123_456_789);
    let modified = SystemTime::UNIX_EPOCH + Duration::new(1_500_000_000, 5);
    outcome(
        "set_times",
        file.set_times(FileTimes::new().set_accessed(accessed).set_modified(modified)),
    );
    let meta = file.metadata()?;
    println!(
        "accessed {:?} modified {:?}",
        meta.accessed()?.duration_since(SystemTime::UNIX_EPOCH).unwrap(),
        meta.modified()?.duration_since(SystemTime::UNIX_EPOCH).unwrap()
    );

    println!("read_link link_out: {:?}", fs::read_link("/sandbox/link_out")?);
    let link = fs::symlink_metadata("/sandbox/link_out")?;
    println!("link_out is a symlink: {}", link.file_type().is_symlink());
    outcome("hard_link notes.txt hard.txt", fs::hard_link("/sandbox/notes.txt", "/sandbox/hard.txt"));
    println!("hard.txt: {:?}", fs::read("/sandbox/hard.txt")?);

    fs::create_dir("/sandbox/many")?;
    for i in 0..200 {
        fs::write(format!("/sandbox/many/entry-{i:03}"), i.to_string())?;
    }
    let mut names: Vec<String> = fs::read_dir("/sandbox/many")?
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    println!("many: {} entries, {} .. {}", names.len(), names[0], names[names.len() - 1]);
    let total: u64 = names
        .iter()
        .map(|name| fs::read_to_string(format!("/sandbox/many/{name}")).unwrap().parse::<u64>().unwrap())
        .sum();
    println!("sum of contents: {total}");
    fs::remove_dir_all("/sandbox/many")?;

    let mut listing: Vec<String> = fs::read_dir("/sandbox")?
        .map(|entry| {
            let entry = entry.unwrap();
            let kind = entry.file_type().unwrap();
            let kind = if kind.is_symlink() { "symlink" } else if kind.is_dir() { "dir" } else { "file" };
            format!("{} ({kind})", entry.file_name().to_string_lossy())
        })
        .collect();
    listing.sort();
    println!("/sandbox: {listing:?}");
    Ok(())
}
