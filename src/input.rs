//! Reading the files a learner names (results, demo scripts, lessons, progress): regular
//! files only, and never more than a cap.
//!
//! A named pipe (FIFO) given as a results file would block the reader until someone
//! writes to it, and a device such as `/dev/zero` never ends: both are refused before
//! anything is read, with a message saying what the path is.

use std::fs::{File, FileType, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// One mebibyte, the unit of the caps.
pub const MIB: u64 = 1 << 20;

/// What a file type is, for messages: `a folder`, `a named pipe (FIFO)`, ….
fn describe(t: &FileType) -> &'static str {
    if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a named pipe (FIFO)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

fn not_regular(t: &FileType) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{}, not a regular file", describe(t)),
    )
}

/// Opens `path` for reading if it is a regular file (symbolic links followed). Anything
/// else is an [`io::ErrorKind::InvalidInput`] error saying what it is, e.g. `a named pipe
/// (FIFO), not a regular file`; a FIFO is never waited on.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(not_regular(&meta.file_type()));
    }
    // Non-blocking, and checked again on what was opened: a FIFO put in its place since
    // the check above cannot make the open wait for a writer. (Reads of a regular file
    // are not affected by O_NONBLOCK.)
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_regular(&meta.file_type()));
    }
    Ok(file)
}

/// The error for a file over `max` bytes: `larger than 8 MiB, the most read for WHAT`.
pub fn too_large(max: u64, what: &str) -> io::Error {
    let size = if max.is_multiple_of(MIB) {
        format!("{} MiB", max / MIB)
    } else {
        format!("{max} bytes")
    };
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("larger than {size}, the most read for {what}"),
    )
}

/// Reads all of the regular file `path` if it has at most `max` bytes; else a
/// [`too_large`] error naming `what` the file was read as (e.g. `a demo script`).
pub fn read_regular(path: &Path, max: u64, what: &str) -> io::Result<Vec<u8>> {
    let file = open_regular(path)?;
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(too_large(max, what));
    }
    Ok(bytes)
}

/// [`read_regular`] as UTF-8 text; other bytes are an [`io::ErrorKind::InvalidData`]
/// error.
pub fn read_text(path: &Path, max: u64, what: &str) -> io::Result<String> {
    String::from_utf8(read_regular(path, max, what)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifos_devices_and_folders_are_refused_without_waiting() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("pipe.jsonl");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        let e = open_regular(&fifo).expect_err("a FIFO");
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(e.to_string(), "a named pipe (FIFO), not a regular file");
        let e = read_regular(Path::new("/dev/zero"), MIB, "a test").expect_err("a device");
        assert_eq!(e.to_string(), "a character device, not a regular file");
        let e = read_text(dir.path(), MIB, "a test").expect_err("a folder");
        assert_eq!(e.to_string(), "a folder, not a regular file");
        // Through a symbolic link too.
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&fifo, &link).expect("symlink");
        assert!(open_regular(&link).is_err());
    }

    #[test]
    fn files_over_the_cap_are_refused_and_others_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        std::fs::write(&path, "12345").expect("write");
        assert_eq!(read_text(&path, 5, "a test").expect("at the cap"), "12345");
        let e = read_text(&path, 4, "a test").expect_err("over");
        assert_eq!(
            e.to_string(),
            "larger than 4 bytes, the most read for a test"
        );
        assert_eq!(
            too_large(8 * MIB, "a demo script").to_string(),
            "larger than 8 MiB, the most read for a demo script"
        );
        std::fs::write(&path, [0xff, 0xfe]).expect("write");
        assert_eq!(
            read_text(&path, 5, "a test")
                .expect_err("bytes")
                .to_string(),
            "not UTF-8 text"
        );
    }
}
