//! Standard output for the commands, every write checked.
//!
//! `println!` panics when standard output cannot be written (a full disk, `> /dev/full`).
//! The commands write through [`Stdout`] instead, whose errors are a [`StdoutError`]:
//! `main` turns one into a message and exit status 1, or — when the reader went away, as
//! `| head -1` does — into a quiet exit with status [`BROKEN_PIPE`], as if stopped by
//! SIGPIPE.

use std::fmt;
use std::io::{self, Write};

/// Exit status when the reader of standard output went away: 128 + SIGPIPE, what a shell
/// shows for a program stopped by a closed pipe.
pub const BROKEN_PIPE: u8 = 141;

/// Writing to standard output failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot write to standard output: {0}")]
pub struct StdoutError(pub io::Error);

impl StdoutError {
    /// Whether the reader closed the pipe (`| head`): the output was not wanted any more,
    /// which is not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        self.0.kind() == io::ErrorKind::BrokenPipe
    }

    /// The [`StdoutError`] behind `error`, if writing to standard output is what failed:
    /// returned as it is, or inside an [`io::Error`] from [`Stdout`]'s [`Write`] impl.
    pub fn find(error: &anyhow::Error) -> Option<&StdoutError> {
        error.chain().find_map(|e| {
            e.downcast_ref::<StdoutError>().or_else(|| {
                e.downcast_ref::<io::Error>()
                    .and_then(|io| io.get_ref())
                    .and_then(|inner| inner.downcast_ref::<StdoutError>())
            })
        })
    }
}

/// Standard output, locked for the life of the value. `write!`/`writeln!` on it return
/// `Result<(), StdoutError>`; call [`Stdout::flush`] at the end, or an error in the last
/// buffered bytes goes unnoticed.
pub struct Stdout(io::StdoutLock<'static>);

impl fmt::Debug for Stdout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Stdout")
    }
}

impl Stdout {
    /// Locks standard output.
    pub fn lock() -> Self {
        Stdout(io::stdout().lock())
    }

    /// What `write!` and `writeln!` call.
    pub fn write_fmt(&mut self, args: fmt::Arguments<'_>) -> Result<(), StdoutError> {
        io::Write::write_fmt(&mut self.0, args).map_err(StdoutError)
    }

    /// Writes all of `bytes`.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<(), StdoutError> {
        io::Write::write_all(&mut self.0, bytes).map_err(StdoutError)
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) -> Result<(), StdoutError> {
        io::Write::flush(&mut self.0).map_err(StdoutError)
    }
}

/// For code that takes any writer: its errors are [`io::Error`]s of the same kind holding
/// the [`StdoutError`], which [`StdoutError::find`] finds again.
impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf).map_err(wrap)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush().map_err(wrap)
    }
}

fn wrap(e: io::Error) -> io::Error {
    io::Error::new(e.kind(), StdoutError(e))
}

/// Writes `text` to standard output and flushes it.
pub fn print(text: &str) -> Result<(), StdoutError> {
    let mut out = Stdout::lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdout_errors_are_found_directly_or_inside_an_io_error() {
        let direct = anyhow::Error::from(StdoutError(io::Error::from(io::ErrorKind::BrokenPipe)));
        assert!(StdoutError::find(&direct).is_some_and(StdoutError::is_broken_pipe));
        let wrapped = anyhow::Error::from(wrap(io::Error::from(io::ErrorKind::StorageFull)))
            .context("writing the table");
        let found = StdoutError::find(&wrapped).expect("found inside");
        assert!(!found.is_broken_pipe());
        assert!(
            found
                .to_string()
                .starts_with("cannot write to standard output: ")
        );
        // A broken pipe elsewhere (e.g. to a child process) is not standard output's.
        let other = anyhow::Error::from(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(StdoutError::find(&other).is_none());
    }
}
