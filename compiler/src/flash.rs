//! `wafer flash`: installs a firmware image on a board's boot partition, for boards
//! that boot from one (a Raspberry Pi's FAT partition: its firmware loads `kernel8.img`
//! as `config.txt` says). The partition is a mounted directory (an SD card's) or a disk
//! image file: a bare FAT volume, or a disk with an MBR whose first FAT partition is the
//! boot partition.
//!
//! What is there stays: the firmware files are required and never touched, and the
//! lines `config.txt` needs are kept in one block marked as wafer's, replaced on the next
//! flash, after an `[all]` so no conditional section above limits them.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::driver::io_message;
use crate::target::BootPartition;

/// The first line of wafer's block in `config.txt`.
const BLOCK_START: &str = "# wafer: the lines below are written by `wafer flash`";
/// The last line of it.
const BLOCK_END: &str = "# wafer: end";

/// What was installed, for the user.
#[derive(Debug)]
pub struct Installed {
    /// Bytes of the kernel image written.
    pub kernel_bytes: usize,
    /// Where: the directory, or the image and the partition's byte offset in it.
    pub place: String,
}

/// Installs `kernel` (the image, in the board's raw format) on the boot partition at
/// `to` as `partition` describes. Errors are one line, for the user.
pub fn install(kernel: &[u8], partition: &BootPartition, to: &Path) -> Result<Installed, String> {
    let metadata =
        std::fs::metadata(to).map_err(|e| format!("{}: {}", to.display(), io_message(&e)))?;
    if metadata.is_dir() {
        install_in_directory(kernel, partition, to)
    } else {
        install_in_image(kernel, partition, to)
    }
}

/// A mounted boot partition.
fn install_in_directory(
    kernel: &[u8],
    partition: &BootPartition,
    dir: &Path,
) -> Result<Installed, String> {
    let fs_type = mounted_fs_type(dir)
        .ok_or_else(|| format!("{}: cannot tell which file system it is on", dir.display()))?;
    if !matches!(fs_type.as_str(), "vfat" | "msdos" | "fat") {
        return Err(format!(
            "{} is on a {fs_type} file system, not a FAT boot partition",
            dir.display()
        ));
    }
    let names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {}", dir.display(), io_message(&e)))?
        .filter_map(|entry| Some(entry.ok()?.file_name().to_string_lossy().into_owned()))
        .collect();
    check_firmware(partition, &names, &dir.display().to_string())?;
    let config_path = dir.join(&partition.config_file);
    let config = match std::fs::read(&config_path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("{}: {}", config_path.display(), io_message(&e))),
    };
    let kernel_path = dir.join(&partition.kernel);
    crate::driver::write_atomically(&kernel_path, kernel, false).map_err(|e| e.to_string())?;
    let config = with_wafer_block(&config, &partition.config);
    crate::driver::write_atomically(&config_path, config.as_bytes(), false)
        .map_err(|e| e.to_string())?;
    Ok(Installed {
        kernel_bytes: kernel.len(),
        place: dir.display().to_string(),
    })
}

/// The type of the file system `path` is on, from the kernel's mount table: the mount
/// whose point is the longest prefix of the path.
fn mounted_fs_type(path: &Path) -> Option<String> {
    let path = path.canonicalize().ok()?;
    let table = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mut best: Option<(usize, String)> = None;
    for line in table.lines() {
        // "ID PARENT MAJ:MIN ROOT MOUNT-POINT OPTIONS [OPTIONAL...] - TYPE SOURCE ..."
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(mount_point) = fields.get(4).map(|p| unescape_mount_path(p)) else {
            continue;
        };
        let Some(separator) = fields.iter().position(|f| *f == "-") else {
            continue;
        };
        let Some(fs_type) = fields.get(separator + 1) else {
            continue;
        };
        let point = PathBuf::from(&mount_point);
        if path.starts_with(&point) {
            let depth = point.components().count();
            if best
                .as_ref()
                .is_none_or(|(best_depth, _)| depth >= *best_depth)
            {
                best = Some((depth, fs_type.to_string()));
            }
        }
    }
    best.map(|(_, fs_type)| fs_type)
}

/// A mount point as `mountinfo` writes it: space, tab, newline and backslash as octal
/// escapes.
fn unescape_mount_path(text: &str) -> String {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).and_then(|digits| {
            let digits = std::str::from_utf8(digits).ok()?;
            u8::from_str_radix(digits, 8).ok()
        });
        match (bytes[i], octal) {
            (b'\\', Some(byte)) => {
                out.push(byte);
                i += 4;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A disk image file: a FAT volume, or an MBR disk whose first FAT partition is the
/// boot partition.
fn install_in_image(
    kernel: &[u8],
    partition: &BootPartition,
    image: &Path,
) -> Result<Installed, String> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(image)
        .map_err(|e| format!("{}: {}", image.display(), io_message(&e)))?;
    let len = file
        .metadata()
        .map_err(|e| format!("{}: {}", image.display(), io_message(&e)))?
        .len();
    let (start, size) = match fat_partition(&file, len) {
        Ok(Some(found)) => found,
        Ok(None) => (0, len),
        Err(e) => return Err(format!("{}: {}", image.display(), io_message(&e))),
    };
    let volume = Slice {
        file,
        start,
        len: size,
        pos: 0,
    };
    let fs = fatfs::FileSystem::new(volume, fatfs::FsOptions::new()).map_err(|_| {
        format!(
            "{} is neither a FAT file system nor a disk image with a FAT partition",
            image.display()
        )
    })?;
    let place = if start == 0 {
        image.display().to_string()
    } else {
        format!("{} (the FAT partition at byte {start})", image.display())
    };
    {
        let root = fs.root_dir();
        let names: Vec<String> = root
            .iter()
            .filter_map(|entry| Some(entry.ok()?.file_name()))
            .collect();
        check_firmware(partition, &names, &place)?;
        let fat_error = |what: &str, e: io::Error| format!("{place}: {what}: {}", io_message(&e));
        let config = match root.open_file(&partition.config_file) {
            Ok(mut file) => {
                let mut bytes = Vec::new();
                file.read_to_end(&mut bytes)
                    .map_err(|e| fat_error(&partition.config_file, e))?;
                String::from_utf8_lossy(&bytes).into_owned()
            }
            Err(_) => String::new(),
        };
        write_fat_file(&root, &partition.kernel, kernel)
            .map_err(|e| fat_error(&partition.kernel, e))?;
        let config = with_wafer_block(&config, &partition.config);
        write_fat_file(&root, &partition.config_file, config.as_bytes())
            .map_err(|e| fat_error(&partition.config_file, e))?;
    }
    fs.unmount()
        .map_err(|e| format!("{place}: {}", io_message(&e)))?;
    Ok(Installed {
        kernel_bytes: kernel.len(),
        place,
    })
}

/// Replaces (or creates) `name` in `dir` with `bytes`.
fn write_fat_file<IO: fatfs::ReadWriteSeek>(
    dir: &fatfs::Dir<'_, IO>,
    name: &str,
    bytes: &[u8],
) -> io::Result<()> {
    let mut file = dir.create_file(name)?;
    file.truncate()?;
    file.write_all(bytes)?;
    file.flush()
}

/// The firmware files must be there (names compared as FAT does, ignoring case).
fn check_firmware(partition: &BootPartition, names: &[String], place: &str) -> Result<(), String> {
    let missing: Vec<&str> = partition
        .firmware
        .iter()
        .filter(|wanted| !names.iter().any(|name| name.eq_ignore_ascii_case(wanted)))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{place} is not a boot partition with the board's firmware on it: {} missing \
             (copy the firmware there first)",
            missing.join(", ")
        ))
    }
}

/// `config` with wafer's block (after an `[all]`) holding `lines`, in place of an earlier
/// one; everything else is kept.
fn with_wafer_block(config: &str, lines: &[String]) -> String {
    let mut kept = Vec::new();
    let mut inside = false;
    for line in config.lines() {
        match (inside, line.trim()) {
            (false, BLOCK_START) => inside = true,
            (true, BLOCK_END) => inside = false,
            (true, _) => {}
            (false, _) => kept.push(line),
        }
    }
    while kept.last().is_some_and(|line| line.trim().is_empty()) {
        kept.pop();
    }
    let mut out = String::new();
    for line in kept {
        out.push_str(line);
        out.push('\n');
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(BLOCK_START);
    out.push_str("\n[all]\n");
    for line in lines {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(BLOCK_END);
    out.push('\n');
    out
}

/// The first FAT partition of an MBR disk: (byte offset, length). `None` when the file
/// has no partition table (it may be a bare volume).
fn fat_partition(mut file: &File, len: u64) -> io::Result<Option<(u64, u64)>> {
    let mut sector = [0u8; 512];
    if len < 512 {
        return Ok(None);
    }
    file.seek(SeekFrom::Start(0))?;
    file.read_exact(&mut sector)?;
    // A FAT boot sector also ends in 55 AA, but starts with a jump; an MBR does not.
    let boot_signature = sector[510] == 0x55 && sector[511] == 0xaa;
    let jump = matches!(sector[0], 0xeb | 0xe9);
    if !boot_signature || jump {
        return Ok(None);
    }
    for entry in sector[446..510].chunks_exact(16) {
        let kind = entry[4];
        let first = u64::from(u32::from_le_bytes([
            entry[8], entry[9], entry[10], entry[11],
        ]));
        let count = u64::from(u32::from_le_bytes([
            entry[12], entry[13], entry[14], entry[15],
        ]));
        // FAT12, FAT16 (small, large, LBA) and FAT32 (CHS, LBA).
        if matches!(kind, 0x01 | 0x04 | 0x06 | 0x0b | 0x0c | 0x0e) && count > 0 {
            let (start, size) = (first * 512, count * 512);
            if start.checked_add(size).is_some_and(|end| end <= len) {
                return Ok(Some((start, size)));
            }
        }
    }
    Ok(None)
}

/// A byte range of a file, as a file of its own (a partition of a disk image).
struct Slice {
    file: File,
    start: u64,
    len: u64,
    pos: u64,
}

impl Slice {
    /// How many of `wanted` bytes fit before the end.
    fn room(&self, wanted: usize) -> usize {
        let left = self.len.saturating_sub(self.pos);
        wanted.min(usize::try_from(left).unwrap_or(usize::MAX))
    }
}

impl Read for Slice {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.room(buf.len());
        self.file.seek(SeekFrom::Start(self.start + self.pos))?;
        let read = self.file.read(&mut buf[..n])?;
        self.pos += read as u64;
        Ok(read)
    }
}

impl Write for Slice {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.room(buf.len());
        if n == 0 && !buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "past the end of the partition",
            ));
        }
        self.file.seek(SeekFrom::Start(self.start + self.pos))?;
        let written = self.file.write(&buf[..n])?;
        self.pos += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Seek for Slice {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(offset) => Some(offset),
            SeekFrom::Current(delta) => self.pos.checked_add_signed(delta),
            SeekFrom::End(delta) => self.len.checked_add_signed(delta),
        };
        match target {
            Some(pos) if pos <= self.len => {
                self.pos = pos;
                Ok(pos)
            }
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek outside the partition",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wafer_block_replaces_the_last_one_and_keeps_the_rest() {
        let lines = vec!["arm_64bit=1".to_string(), "enable_uart=1".to_string()];
        let first = with_wafer_block("[pi4]\nmax_framebuffers=2\n\n", &lines);
        assert_eq!(
            first,
            format!(
                "[pi4]\nmax_framebuffers=2\n\n{BLOCK_START}\n[all]\narm_64bit=1\nenable_uart=1\n{BLOCK_END}\n"
            )
        );
        assert_eq!(with_wafer_block(&first, &lines), first);
        let empty = with_wafer_block("", &lines);
        assert!(empty.starts_with(BLOCK_START), "{empty}");
    }

    #[test]
    fn mount_points_are_unescaped() {
        assert_eq!(unescape_mount_path("/media/SD\\040card"), "/media/SD card");
        assert_eq!(unescape_mount_path("/plain"), "/plain");
    }
}
