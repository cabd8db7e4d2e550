//! Writing files safely: the one place every command and the tutor write a whole file
//! through (`export -o`, `results merge -o`, `slurm script -o`, the tutor's job scripts and
//! its progress file), and where `run --out` opens the file its records stream into.
//!
//! What [`write`] does depends on what is at the path:
//!
//! - nothing, or a regular file: the bytes go to a temporary file in the same folder, which
//!   is synced and then renamed over the path, so a reader sees the old file or the new one,
//!   never half of one. A file that is replaced keeps its permission bits (and, where we may,
//!   its owner).
//! - a symbolic link: the file it points to is written that way (created if the link dangles);
//!   the link itself stays a link.
//! - a character device or a FIFO (`/dev/null`, `/dev/stdout` into a pipe, a terminal): the
//!   bytes are written through it, and nothing is ever renamed over it.
//! - a block device (a disk), a socket or a folder: refused; nothing is written.
//!
//! On any failure (a full disk included) no temporary or empty file is left behind, and the
//! error names the path: `cannot write PATH: what the system said`.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

/// A file could not be written: `cannot write PATH: what the system said`.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct WriteError {
    /// The path as given.
    pub path: PathBuf,
    /// What went wrong.
    pub source: io::Error,
}

impl WriteError {
    fn new(path: &Path, source: io::Error) -> Self {
        Self {
            path: path.to_owned(),
            source,
        }
    }
}

/// How a path is written.
#[derive(Debug, PartialEq)]
enum Target {
    /// Create or replace this regular file (the path itself, or what its link points to)
    /// through a temporary file renamed over it.
    Replace(PathBuf),
    /// Write through the path itself: a character device or a FIFO.
    Through,
}

/// Writes `bytes` as the whole content of `path`, safely (see the module notes): regular
/// files are replaced atomically, links are written through to their target, character
/// devices and FIFOs are written directly, and anything else is refused.
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let fail = |e| WriteError::new(path, e);
    match target(path).map_err(fail)? {
        Target::Replace(file) => replace(&file, bytes, Mode::Replace),
        Target::Through => write_through(path, bytes),
    }
    .map_err(fail)
}

/// Writes `bytes` to `path` only if nothing is there yet (not even a dangling link): the file
/// appears whole or not at all, and an existing one is never replaced. When something is
/// there, the error's `source` is of kind [`io::ErrorKind::AlreadyExists`].
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    replace(path, bytes, Mode::New).map_err(|e| WriteError::new(path, e))
}

/// What is at `path`, and so how to write it.
fn target(path: &Path) -> io::Result<Target> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(Target::Replace(path.to_owned()));
        }
        Err(e) => return Err(e),
    };
    if !meta.file_type().is_symlink() {
        return kind(&meta, path);
    }
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(Target::Replace(std::fs::canonicalize(path)?)),
        Ok(m) => kind(&m, path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Target::Replace(dangling(path)?)),
        Err(e) => Err(e),
    }
}

/// How a file of this type is written: regular files are replaced, character devices and
/// FIFOs written through, the rest refused.
fn kind(meta: &std::fs::Metadata, path: &Path) -> io::Result<Target> {
    let t = meta.file_type();
    let refuse = |what: &str| Err(io::Error::other(format!("it is {what}, not a file")));
    if t.is_file() {
        Ok(Target::Replace(path.to_owned()))
    } else if t.is_char_device() || t.is_fifo() {
        Ok(Target::Through)
    } else if t.is_dir() {
        refuse("a folder")
    } else if t.is_block_device() {
        refuse("a block device (a disk)")
    } else if t.is_socket() {
        refuse("a socket")
    } else {
        refuse("neither a regular file nor a character device")
    }
}

/// The file a dangling link would create: its links followed, each relative one from the
/// folder of the link.
fn dangling(path: &Path) -> io::Result<PathBuf> {
    let mut p = path.to_owned();
    // As many as Linux follows before ELOOP.
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = std::fs::read_link(&p)?;
                p = match p.parent() {
                    Some(dir) if to.is_relative() => dir.join(to),
                    _ => to,
                };
            }
            Ok(m) => return kind(&m, &p).map(|_| p),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(p),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// Whether an existing file may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Replace,
    New,
}

/// Writes `bytes` into a temporary file next to `file`, syncs it, and renames it to `file`
/// (with [`Mode::New`], only if nothing is there). The temporary file is removed on failure.
fn replace(file: &Path, bytes: &[u8], mode: Mode) -> io::Result<()> {
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = file
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy());
    let old = match mode {
        Mode::Replace => std::fs::metadata(file).ok().filter(|m| m.is_file()),
        Mode::New => None,
    };
    // A new file gets the usual 0666 less the umask, like any file a program creates.
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)?;
    if let Some(old) = &old {
        // Keep the owner where we may (root writing a learner's file); the mode always.
        let _ = std::os::unix::fs::fchown(tmp.as_file(), Some(old.uid()), Some(old.gid()));
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(old.mode() & 0o7777))?;
    }
    tmp.as_file().write_all(bytes)?;
    tmp.as_file().sync_all()?;
    match mode {
        Mode::Replace => tmp.persist(file),
        Mode::New => tmp.persist_noclobber(file),
    }
    // The error gives the temporary file back; dropping it removes it.
    .map_err(|e| e.error)?;
    Ok(())
}

/// Writes `bytes` through a character device or FIFO, without creating or renaming anything.
fn write_through(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = OpenOptions::new().write(true).open(path)?;
    f.write_all(bytes)?;
    f.flush()
}

/// Why [`StreamFile::create`] could not open a file.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// Another process holds the file's lock: it is writing there now.
    #[error(
        "{} is being written by another hpc-tutor (it holds the file's lock): wait for it to end or give another file",
        path.display()
    )]
    Busy {
        /// The file.
        path: PathBuf,
    },
    /// The file could not be opened.
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// A file that records stream into as they arrive (`run --out`), opened under an exclusive
/// advisory lock (`flock`) when it is a regular file, so two processes given the same file
/// cannot interleave their lines: the second is refused with [`StreamError::Busy`].
/// Character devices and FIFOs are written through without a lock. Writes go straight to the
/// file (wrap it in a [`io::BufWriter`] to batch them); [`StreamFile::finish`] syncs a
/// regular file, so a write the disk refuses late (NFS) is still reported.
#[derive(Debug)]
pub struct StreamFile {
    path: PathBuf,
    file: Locked,
}

/// The open file, under its lock when it is a regular file.
#[derive(Debug)]
enum Locked {
    Regular(Flock<File>),
    /// A character device or FIFO; or a regular file on a file system without locks.
    Unlocked(File),
}

impl StreamFile {
    /// Opens `path` for writing, creating it if needed, takes its lock, and only then empties
    /// it (so a refused second writer leaves the first one's records alone). Folders, block
    /// devices and sockets are refused.
    pub fn create(path: &Path) -> Result<StreamFile, StreamError> {
        let fail = |e| StreamError::Write(WriteError::new(path, e));
        if let Ok(meta) = std::fs::metadata(path) {
            kind(&meta, path).map_err(fail)?;
        }
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(fail)?;
        let regular = file.metadata().map_err(fail)?.is_file();
        let file = if regular {
            match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(locked) => {
                    locked.set_len(0).map_err(fail)?;
                    Locked::Regular(locked)
                }
                Err((_, nix::errno::Errno::EWOULDBLOCK)) => {
                    return Err(StreamError::Busy {
                        path: path.to_owned(),
                    });
                }
                // No locks on this file system (e.g. NFS without a lock daemon): write
                // anyway, as before there were locks.
                Err((file, _)) => {
                    file.set_len(0).map_err(fail)?;
                    Locked::Unlocked(file)
                }
            }
        } else {
            Locked::Unlocked(file)
        };
        Ok(StreamFile {
            path: path.to_owned(),
            file,
        })
    }

    /// The path as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn file(&self) -> &File {
        match &self.file {
            Locked::Regular(f) => f,
            Locked::Unlocked(f) => f,
        }
    }

    /// Ends the writing: a regular file is synced to disk, so late errors show here. The
    /// lock goes with the file.
    pub fn finish(self) -> Result<(), WriteError> {
        let file = self.file();
        let synced = if file.metadata().is_ok_and(|m| m.is_file()) {
            file.sync_all()
        } else {
            Ok(())
        };
        synced.map_err(|e| WriteError::new(&self.path, e))
    }
}

impl Write for StreamFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_new_file_and_a_replaced_one_leave_no_temporary_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("out.png");
        write(&path, b"one").expect("new");
        assert_eq!(std::fs::read(&path).expect("read"), b"one");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        write(&path, b"two").expect("replaced");
        assert_eq!(std::fs::read(&path).expect("read"), b"two");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o640, "the mode is kept");
        assert_eq!(names(dir.path()), ["out.png"]);
    }

    #[test]
    fn a_relative_path_in_the_current_folder_has_a_folder() {
        assert_eq!(
            target(Path::new("surely-not-here.png")).expect("target"),
            Target::Replace(PathBuf::from("surely-not-here.png"))
        );
    }

    #[test]
    fn a_link_is_written_through_and_stays_a_link() {
        let dir = tempfile::tempdir().expect("tempdir");
        let real = dir.path().join("real.json");
        std::fs::write(&real, "old").expect("write");
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink("real.json", &link).expect("symlink");
        write(&link, b"new").expect("through the link");
        assert!(
            std::fs::symlink_metadata(&link)
                .expect("meta")
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&real).expect("read"), b"new");

        // A dangling link creates its target.
        let dangling = dir.path().join("dangling.json");
        std::os::unix::fs::symlink("sub/made.json", &dangling).expect("symlink");
        std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
        write(&dangling, b"made").expect("through the dangling link");
        assert_eq!(
            std::fs::read(dir.path().join("sub/made.json")).expect("read"),
            b"made"
        );
        assert_eq!(
            names(dir.path()),
            ["dangling.json", "link.json", "real.json", "sub"]
        );
    }

    #[test]
    fn devices_are_written_through_and_failures_name_the_path() {
        write(Path::new("/dev/null"), b"gone").expect("/dev/null takes anything");
        let meta = std::fs::symlink_metadata("/dev/null").expect("meta");
        assert!(meta.file_type().is_char_device());

        let e = write(Path::new("/dev/full"), b"x").expect_err("no space");
        assert_eq!(e.source.raw_os_error(), Some(nix::libc::ENOSPC));
        assert!(e.to_string().starts_with("cannot write /dev/full: "), "{e}");
        let meta = std::fs::symlink_metadata("/dev/full").expect("meta");
        assert!(meta.file_type().is_char_device());
    }

    #[test]
    fn folders_and_paths_under_files_are_refused_without_leftovers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = write(dir.path(), b"x").expect_err("a folder");
        assert!(e.to_string().contains("it is a folder"), "{e}");
        let file = dir.path().join("file");
        std::fs::write(&file, "x").expect("write");
        // Fails for root too: a file is no folder.
        let under = file.join("out.png");
        let e = write(&under, b"x").expect_err("under a file");
        assert!(
            e.to_string()
                .starts_with(&format!("cannot write {}: ", under.display())),
            "{e}"
        );
        assert_eq!(names(dir.path()), ["file"]);
    }

    #[test]
    fn write_new_never_replaces() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("job.sbatch");
        write_new(&path, b"first").expect("new");
        let e = write_new(&path, b"second").expect_err("exists");
        assert_eq!(e.source.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).expect("read"), b"first");
        let link = dir.path().join("link.sbatch");
        std::os::unix::fs::symlink("nowhere", &link).expect("symlink");
        let e = write_new(&link, b"x").expect_err("a dangling link is something");
        assert_eq!(e.source.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(names(dir.path()), ["job.sbatch", "link.sbatch"]);
    }

    #[test]
    fn a_stream_file_is_locked_and_only_emptied_once_locked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("out.jsonl");
        let mut first = StreamFile::create(&path).expect("first");
        first.write_all(b"a record\n").expect("write");
        match StreamFile::create(&path) {
            Err(StreamError::Busy { path: p }) => assert_eq!(p, path),
            other => panic!("the second is refused, not {other:?}"),
        }
        first.write_all(b"another\n").expect("write");
        first.finish().expect("finish");
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "a record\nanother\n"
        );
        // Free again: the next writer starts the file afresh.
        let second = StreamFile::create(&path).expect("free again");
        second.finish().expect("finish");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "");
        // Devices are not locked: two runs may both write to /dev/null.
        let a = StreamFile::create(Path::new("/dev/null")).expect("a");
        let b = StreamFile::create(Path::new("/dev/null")).expect("b");
        a.finish().expect("finish");
        b.finish().expect("finish");
    }
}
