//! A WASI 0.3 files program: in the granted directory `work` it writes a file through
//! `write-via-stream` and `append-via-stream` in chunks larger than one stream buffer,
//! reads it back through `read-via-stream` from several offsets, lists directories
//! through `read-directory`'s `stream<directory-entry>`, stats, renames, links and
//! removes, and reports the `error-code` of every operation the sandbox refuses. With a
//! second grant `ro` (read-only under wafer) it also tries to change that one. Every
//! line it prints is the same wherever it runs: sizes, checksums and error codes, never
//! times or inode numbers.

wit_bindgen::generate!({ path: "wit", world: "files", generate_all });

use wasi::clocks::system_clock::Instant;
use wasi::filesystem::preopens;
use wasi::filesystem::types::{
    Advice, Descriptor, DescriptorFlags, DescriptorStat, ErrorCode, NewTimestamp, OpenFlags,
    PathFlags,
};
use wit_bindgen::StreamResult;

struct Files;

/// The bytes one write of a stream hands over: more than a host reads at once.
const CHUNK: usize = 48 * 1024;

/// The most bytes one read of a stream asks for.
const PIECE: usize = 16 * 1024;

/// `len` bytes of a linear congruential sequence, different for each `seed`.
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut bytes = Vec::with_capacity(len);
    while bytes.len() < len {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        bytes.push((state >> 33) as u8);
    }
    bytes
}

/// FNV-1a of `bytes`, to print a file's contents in a few characters.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Writes `chunks` through a new stream to `file`, at `offset` or (`None`) appended:
/// the bytes the host took and the outcome.
async fn write_chunks(
    file: &Descriptor,
    offset: Option<u64>,
    chunks: &[Vec<u8>],
) -> (usize, Result<(), ErrorCode>) {
    let (mut data, reader) = wit_stream::new::<u8>();
    let done = match offset {
        Some(offset) => file.write_via_stream(reader, offset),
        None => file.append_via_stream(reader),
    };
    let mut written = 0;
    for chunk in chunks {
        let unwritten = data.write_all(chunk.clone()).await;
        written += chunk.len() - unwritten.len();
        if !unwritten.is_empty() {
            break;
        }
    }
    drop(data);
    (written, done.await)
}

/// Reads `file` from `offset` to its end through `read-via-stream`: the bytes, how many
/// reads gave bytes, and the outcome.
async fn read_from(file: &Descriptor, offset: u64) -> (Vec<u8>, usize, Result<(), ErrorCode>) {
    let (mut data, done) = file.read_via_stream(offset);
    let mut bytes = Vec::new();
    let mut reads = 0;
    loop {
        let (result, piece) = data.read(Vec::with_capacity(PIECE)).await;
        if !piece.is_empty() {
            reads += 1;
            bytes.extend_from_slice(&piece);
        }
        match result {
            StreamResult::Complete(_) => {}
            StreamResult::Dropped | StreamResult::Cancelled => break,
        }
    }
    drop(data);
    (bytes, reads, done.await)
}

/// The entries of `dir` through `read-directory`, sorted by name, each `name (type)`,
/// and the outcome.
async fn list(dir: &Descriptor) -> (Vec<String>, Result<(), ErrorCode>) {
    let (mut entries, done) = dir.read_directory();
    let mut names = Vec::new();
    loop {
        // Several entries a read: the host lowers each name with the guest's realloc.
        let (result, batch) = entries.read(Vec::with_capacity(3)).await;
        for entry in batch {
            names.push(format!("{} ({:?})", entry.name, entry.type_));
        }
        match result {
            StreamResult::Complete(_) => {}
            StreamResult::Dropped | StreamResult::Cancelled => break,
        }
    }
    drop(entries);
    names.sort();
    (names, done.await)
}

/// A stat without what differs between runs (times, which must be there, are checked
/// only for being there).
fn describe(stat: &DescriptorStat) -> String {
    let times = [
        &stat.data_access_timestamp,
        &stat.data_modification_timestamp,
        &stat.status_change_timestamp,
    ]
    .iter()
    .filter(|time| time.as_ref().is_some_and(|t| t.seconds > 1_500_000_000))
    .count();
    format!(
        "{:?}, {} bytes, {} link(s), {times} recent time(s)",
        stat.type_, stat.size, stat.link_count
    )
}

fn open_flags(create: bool) -> OpenFlags {
    if create {
        OpenFlags::CREATE | OpenFlags::TRUNCATE
    } else {
        OpenFlags::empty()
    }
}

const READ_WRITE: DescriptorFlags = DescriptorFlags::READ.union(DescriptorFlags::WRITE);

/// Opens `path` beneath `dir` (printing a failure): created and truncated if `create`.
async fn open(
    dir: &Descriptor,
    path: &str,
    create: bool,
    flags: DescriptorFlags,
) -> Result<Descriptor, ErrorCode> {
    let opened = dir
        .open_at(
            PathFlags::empty(),
            path.to_string(),
            open_flags(create),
            flags,
        )
        .await;
    if let Err(code) = &opened {
        println!("open-at {path:?}: {code:?}");
    }
    opened
}

async fn files(work: &Descriptor) -> Result<(), ErrorCode> {
    // Written in chunks, then appended to: larger than any one buffer.
    let first: Vec<Vec<u8>> = [CHUNK, CHUNK, CHUNK, 10_000]
        .iter()
        .enumerate()
        .map(|(i, &len)| pattern(len, i as u64))
        .collect();
    let appended: Vec<Vec<u8>> = [40_000, 40_000, 1]
        .iter()
        .enumerate()
        .map(|(i, &len)| pattern(len, 10 + i as u64))
        .collect();
    let expected: Vec<u8> = first.iter().chain(&appended).flatten().copied().collect();

    let file = open(work, "data.bin", true, READ_WRITE).await?;
    let (written, outcome) = write_chunks(&file, Some(0), &first).await;
    println!("write-via-stream at 0: {written} bytes, {outcome:?}");
    let (written, outcome) = write_chunks(&file, None, &appended).await;
    println!("append-via-stream: {written} bytes, {outcome:?}");
    println!("stat: {}", describe(&file.stat().await?));
    println!(
        "sync-data: {:?}, sync: {:?}",
        file.sync_data().await,
        file.sync().await
    );

    for offset in [
        0,
        1,
        100_000,
        expected.len() as u64 - 1,
        expected.len() as u64,
        1 << 40,
    ] {
        let (bytes, reads, outcome) = read_from(&file, offset).await;
        let want = usize::try_from(offset)
            .ok()
            .and_then(|offset| expected.get(offset..))
            .unwrap_or_default();
        println!(
            "read-via-stream from {offset}: {} bytes in {} read(s), fnv {:016x}, {}, {outcome:?}",
            bytes.len(),
            if reads > 1 { "several" } else { "at most one" },
            fnv(&bytes),
            if bytes == want {
                "as written"
            } else {
                "DIFFERENT"
            },
        );
    }

    // A write past the end leaves a hole of zeros.
    let end = expected.len() as u64;
    let (written, outcome) = write_chunks(&file, Some(end + 4096), &[b"tail".to_vec()]).await;
    println!("write-via-stream past the end: {written} bytes, {outcome:?}");
    let (bytes, _, outcome) = read_from(&file, end).await;
    let zeros = bytes.iter().take(4096).all(|&b| b == 0);
    println!(
        "the hole: {} bytes, zeros {zeros}, tail {:?}, {outcome:?}",
        bytes.len(),
        String::from_utf8_lossy(bytes.get(4096..).unwrap_or_default())
    );
    println!("set-size 1000: {:?}", file.set_size(1000).await);
    println!("stat: {}", describe(&file.stat().await?));
    println!("get-type: {:?}", file.get_type().await);
    println!("get-flags: {:?}", file.get_flags().await);
    println!("directory get-type: {:?}", work.get_type().await);

    // A directory with a file, and a symlink.
    println!(
        "create-directory-at sub: {:?}",
        work.create_directory_at("sub".into()).await
    );
    let note = open(work, "sub/note.txt", true, READ_WRITE).await?;
    let (written, outcome) = write_chunks(&note, Some(0), &[b"hello, files\n".to_vec()]).await;
    println!("note: {written} bytes, {outcome:?}");
    let (bytes, _, outcome) = read_from(&note, 7).await;
    println!(
        "note from 7: {:?}, {outcome:?}",
        String::from_utf8_lossy(&bytes)
    );
    drop(note);
    println!(
        "symlink-at link -> data.bin: {:?}",
        work.symlink_at("data.bin".into(), "link".into()).await
    );
    println!(
        "readlink-at link: {:?}",
        work.readlink_at("link".into()).await
    );
    let (names, outcome) = list(work).await;
    println!("read-directory: {names:?}, {outcome:?}");
    let sub = open(work, "sub", false, DescriptorFlags::READ).await?;
    let (names, outcome) = list(&sub).await;
    println!("read-directory sub: {names:?}, {outcome:?}");

    // Renames, identity, removal.
    println!(
        "rename-at data.bin -> sub/moved.bin: {:?}",
        work.rename_at("data.bin".into(), &sub, "moved.bin".into())
            .await
    );
    println!(
        "stat-at data.bin: {:?}",
        work.stat_at(PathFlags::empty(), "data.bin".into())
            .await
            .map(|s| describe(&s))
    );
    println!(
        "stat-at sub/moved.bin: {:?}",
        work.stat_at(PathFlags::empty(), "sub/moved.bin".into())
            .await
            .map(|s| describe(&s))
    );
    println!(
        "stat-at link (following): {:?}",
        work.stat_at(PathFlags::SYMLINK_FOLLOW, "link".into())
            .await
            .map(|s| describe(&s))
    );
    let moved = open(&sub, "moved.bin", false, DescriptorFlags::READ).await?;
    println!(
        "is-same-object (the renamed file): {}",
        file.is_same_object(&moved).await
    );
    println!(
        "is-same-object (another file): {}",
        file.is_same_object(&sub).await
    );
    let hash = file.metadata_hash().await;
    let hash_at = work
        .metadata_hash_at(PathFlags::empty(), "sub/moved.bin".into())
        .await;
    let same = match (hash, hash_at) {
        (Ok(a), Ok(b)) => format!("{}", (a.lower, a.upper) == (b.lower, b.upper)),
        (a, b) => format!("{a:?} {b:?}"),
    };
    println!("metadata-hash equal to metadata-hash-at: {same}");
    drop(moved);

    // A hard link, and times set (a time long past is not recent).
    println!(
        "link-at sub/moved.bin -> hard: {:?}",
        work.link_at(
            PathFlags::empty(),
            "sub/moved.bin".into(),
            work,
            "hard".into()
        )
        .await
    );
    println!(
        "link-at following a symlink: {:?}",
        work.link_at(
            PathFlags::SYMLINK_FOLLOW,
            "hard".into(),
            work,
            "hard2".into()
        )
        .await
    );
    println!("stat of the linked file: {}", describe(&file.stat().await?));
    let long_ago = Instant {
        seconds: 1_000_000_000,
        nanoseconds: 500,
    };
    println!(
        "set-times: {:?}",
        file.set_times(NewTimestamp::NoChange, NewTimestamp::Timestamp(long_ago))
            .await
    );
    println!("stat: {}", describe(&file.stat().await?));
    println!(
        "set-times-at hard: {:?}",
        work.set_times_at(
            PathFlags::empty(),
            "hard".into(),
            NewTimestamp::Timestamp(long_ago),
            NewTimestamp::Now,
        )
        .await
    );
    println!(
        "stat-at hard: {:?}",
        work.stat_at(PathFlags::empty(), "hard".into())
            .await
            .map(|s| describe(&s))
    );
    println!(
        "advise: {:?}",
        file.advise(0, 100, Advice::Sequential).await
    );
    println!(
        "unlink-file-at hard: {:?}",
        work.unlink_file_at("hard".into()).await
    );

    // A stream read in part and dropped ends well; a stream outlives its descriptor.
    let (mut part, done) = file.read_via_stream(10);
    let (_, piece) = part.read(Vec::with_capacity(100)).await;
    drop(part);
    println!(
        "a read of {} bytes, then the stream dropped: {:?}",
        piece.len(),
        done.await
    );
    let (mut rest, done) = file.read_via_stream(900);
    drop(file);
    let (_, piece) = rest.read(Vec::with_capacity(PIECE)).await;
    let (result, _) = rest.read(Vec::with_capacity(PIECE)).await;
    drop(rest);
    println!(
        "after the descriptor was dropped: {} bytes, then {result:?}, {:?}",
        piece.len(),
        done.await
    );

    // What the sandbox and the filesystem refuse.
    let _ = open(work, "missing.txt", false, DescriptorFlags::READ).await;
    let _ = open(work, "../outside.txt", true, READ_WRITE).await;
    let _ = open(work, "/etc/passwd", false, DescriptorFlags::READ).await;
    let _ = open(work, "sub/../../outside.txt", true, READ_WRITE).await;
    let _ = open(work, "sub/moved.bin/x", false, DescriptorFlags::READ).await;
    println!(
        "open-at sub as a file with directory: {:?}",
        work.open_at(
            PathFlags::empty(),
            "sub/moved.bin".into(),
            OpenFlags::DIRECTORY,
            DescriptorFlags::READ
        )
        .await
        .map(drop)
    );
    println!(
        "create-directory-at sub again: {:?}",
        work.create_directory_at("sub".into()).await
    );
    println!(
        "create-directory-at ../up: {:?}",
        work.create_directory_at("../up".into()).await
    );
    println!(
        "remove-directory-at sub (not empty): {:?}",
        work.remove_directory_at("sub".into()).await
    );
    println!(
        "unlink-file-at sub (a directory): {:?}",
        work.unlink_file_at("sub".into()).await
    );
    println!(
        "unlink-file-at missing: {:?}",
        work.unlink_file_at("missing".into()).await
    );
    println!(
        "rename-at outside: {:?}",
        work.rename_at("sub/note.txt".into(), work, "../note.txt".into())
            .await
    );
    let (bytes, _, outcome) = read_from(work, 0).await;
    println!(
        "read-via-stream of a directory: {} bytes, {outcome:?}",
        bytes.len()
    );
    let (written, outcome) = write_chunks(work, Some(0), &[b"x".to_vec()]).await;
    println!("write-via-stream to a directory: {written} bytes, {outcome:?}");
    let (written, outcome) = write_chunks(work, None, &[b"x".to_vec()]).await;
    println!("append-via-stream to a directory: {written} bytes, {outcome:?}");
    let reader = open(&sub, "note.txt", false, DescriptorFlags::READ).await?;
    let (written, outcome) = write_chunks(&reader, Some(0), &[b"x".to_vec()]).await;
    println!("write-via-stream to a file opened for reading: {written} bytes, {outcome:?}");
    let (names, outcome) = list(&reader).await;
    println!("read-directory of a file: {names:?}, {outcome:?}");
    println!("set-size of a directory: {:?}", work.set_size(0).await);
    drop(reader);

    // Clean up: the directory ends empty.
    for path in ["sub/moved.bin", "sub/note.txt", "link"] {
        println!(
            "unlink-file-at {path}: {:?}",
            work.unlink_file_at(path.into()).await
        );
    }
    drop(sub);
    println!(
        "remove-directory-at sub: {:?}",
        work.remove_directory_at("sub".into()).await
    );
    let (names, outcome) = list(work).await;
    println!("read-directory: {names:?}, {outcome:?}");
    Ok(())
}

/// What a read-only grant refuses (and still allows).
async fn read_only(ro: &Descriptor) -> Result<(), ErrorCode> {
    let (names, outcome) = list(ro).await;
    println!("ro: read-directory: {names:?}, {outcome:?}");
    let data = open(ro, "data.txt", false, DescriptorFlags::READ).await?;
    let (bytes, _, outcome) = read_from(&data, 0).await;
    println!(
        "ro: data.txt: {:?}, {outcome:?}",
        String::from_utf8_lossy(&bytes)
    );
    let (written, outcome) = write_chunks(&data, Some(0), &[b"x".to_vec()]).await;
    println!("ro: write-via-stream: {written} bytes, {outcome:?}");
    let (written, outcome) = write_chunks(&data, None, &[b"x".to_vec()]).await;
    println!("ro: append-via-stream: {written} bytes, {outcome:?}");
    println!("ro: set-size: {:?}", data.set_size(0).await);
    let _ = open(ro, "data.txt", false, READ_WRITE).await;
    let _ = open(ro, "new.txt", true, READ_WRITE).await;
    println!(
        "ro: create-directory-at: {:?}",
        ro.create_directory_at("d".into()).await
    );
    println!(
        "ro: unlink-file-at: {:?}",
        ro.unlink_file_at("data.txt".into()).await
    );
    println!(
        "ro: symlink-at: {:?}",
        ro.symlink_at("data.txt".into(), "l".into()).await
    );
    println!(
        "ro: rename-at: {:?}",
        ro.rename_at("data.txt".into(), ro, "moved.txt".into())
            .await
    );
    println!("ro: get-flags: {:?}", ro.get_flags().await);
    Ok(())
}

impl exports::wasi::cli::run::Guest for Files {
    async fn run() -> Result<(), ()> {
        let mut dirs = preopens::get_directories();
        dirs.sort_by(|a, b| a.1.cmp(&b.1));
        let names: Vec<&str> = dirs.iter().map(|(_, name)| name.as_str()).collect();
        println!("preopens: {names:?}");
        let Some((work, _)) = dirs.iter().find(|(_, name)| name == "work") else {
            println!("no directory `work` granted");
            return Err(());
        };
        let result = files(work).await;
        println!("files: {result:?}");
        if let Some((ro, _)) = dirs.iter().find(|(_, name)| name == "ro") {
            println!("read-only: {:?}", read_only(ro).await);
        }
        result.map_err(drop)
    }
}

export!(Files);
