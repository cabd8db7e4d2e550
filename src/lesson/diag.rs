//! Problems found in lesson files, each with its place as `path:line:col`.

use std::fmt;

/// One problem in one file. Lines and columns count from 1; columns count characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file, as the user named it (or `lessons/NAME.md` for built-in lessons).
    pub path: String,
    /// Line of the problem, from 1; 0 for the file as a whole (shown as `path: message`).
    pub line: usize,
    /// Column of the problem, in characters, from 1.
    pub col: usize,
    /// What is wrong, in one line.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Line 0: a problem with the file as a whole (it cannot be read).
        if self.line == 0 {
            return write!(f, "{}: {}", self.path, self.message);
        }
        write!(
            f,
            "{}:{}:{}: {}",
            self.path, self.line, self.col, self.message
        )
    }
}

/// Turns byte offsets in a text into 1-based line and character column.
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    /// Byte offset where each line starts.
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { text, starts }
    }

    /// Line and column of byte `offset` (clamped to the text's end).
    pub(crate) fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        // Count characters, not bytes, so a column points at the right letter in UTF-8 text.
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        (line, col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let idx = LineIndex::new("ab\nçd\n\nx");
        assert_eq!(idx.position(0), (1, 1));
        assert_eq!(idx.position(1), (1, 2));
        assert_eq!(idx.position(3), (2, 1));
        // 'ç' is two bytes; 'd' is the second character.
        assert_eq!(idx.position(5), (2, 2));
        assert_eq!(idx.position(7), (3, 1));
        assert_eq!(idx.position(8), (4, 1));
        assert_eq!(idx.position(100), (4, 2));
    }

    #[test]
    fn display_is_path_line_col_message() {
        let d = Diagnostic {
            path: "a.md".into(),
            line: 3,
            col: 7,
            message: "bad".into(),
        };
        assert_eq!(d.to_string(), "a.md:3:7: bad");
    }
}
