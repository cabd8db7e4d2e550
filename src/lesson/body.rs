//! Checks on a lesson's Markdown body: a paragraph that stands twice in one lesson.
//!
//! Editing a lesson by moving text around easily leaves a passage in two places; the reader
//! then reads it twice. Short paragraphs may repeat (a "See below." or a lone label), and
//! code blocks are left alone: the same import line in two examples is normal.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

/// Paragraphs shorter than this many characters, after whitespace is normalised, may repeat.
pub(super) const MIN_REPEATED_CHARS: usize = 40;

/// A paragraph that stands a second time: byte offsets in the body of the first character of
/// each copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Repeat {
    /// Where the first copy starts.
    pub first: usize,
    /// Where the repeated copy starts.
    pub second: usize,
}

/// Every paragraph of at least [`MIN_REPEATED_CHARS`] characters that stands earlier in
/// `body` with the same words, compared with runs of whitespace (and so line breaks)
/// counted as one space. Paragraphs inside fenced code blocks are not compared.
pub(super) fn repeated_paragraphs(body: &str) -> Vec<Repeat> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut repeats = Vec::new();
    for (offset, text) in paragraphs(body) {
        if text.chars().count() < MIN_REPEATED_CHARS {
            continue;
        }
        match seen.entry(text) {
            Entry::Occupied(first) => repeats.push(Repeat {
                first: *first.get(),
                second: offset,
            }),
            Entry::Vacant(slot) => {
                slot.insert(offset);
            }
        }
    }
    repeats
}

/// The paragraphs of `body` outside fenced code blocks, as runs of non-blank lines: each is
/// the byte offset of its first non-blank character and its words joined by single spaces.
fn paragraphs(body: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    // The open fence: its character and how many of them opened it.
    let mut fence: Option<(char, usize)> = None;
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim();
        if let Some(marker) = fence_marker(trimmed) {
            match fence {
                None => {
                    out.extend(current.take());
                    fence = Some(marker);
                }
                Some((c, n))
                    if marker.0 == c && marker.1 >= n && trimmed.chars().all(|x| x == c) =>
                {
                    fence = None;
                }
                Some(_) => {}
            }
            continue;
        }
        if fence.is_some() {
            continue;
        }
        if trimmed.is_empty() {
            out.extend(current.take());
            continue;
        }
        let words = trimmed.split_whitespace().collect::<Vec<_>>().join(" ");
        match &mut current {
            Some((_, text)) => {
                text.push(' ');
                text.push_str(&words);
            }
            None => {
                let indent = line.len() - line.trim_start().len();
                current = Some((start + indent, words));
            }
        }
    }
    out.extend(current);
    out
}

/// The fence character and run length when `line` (trimmed) opens or closes a fenced code
/// block: three or more backticks or tildes.
fn fence_marker(line: &str) -> Option<(char, usize)> {
    let c = line.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let n = line.chars().take_while(|x| *x == c).count();
    (n >= 3).then_some((c, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: &str = "A blocking send returns when your buffer can be reused, not later.";

    #[test]
    fn distinct_short_and_fenced_paragraphs_pass() {
        let body = format!(
            "# Title\n\n{LONG}\n\nSee below.\n\nSee below.\n\n```python\n{LONG}\n```\n\n```python\n{LONG}\n```\n\nAnother paragraph that is long enough to be compared, but only once.\n"
        );
        assert_eq!(repeated_paragraphs(&body), []);
    }

    #[test]
    fn a_paragraph_standing_twice_is_found_whatever_its_line_breaks() {
        let wrapped = LONG.replacen(" when ", "\n  when   ", 1);
        let body = format!("# Title\n\n{LONG}\n\nIn between.\n\n{wrapped}\n");
        let first = body.find(LONG).expect("first copy");
        let second = body.rfind("A blocking").expect("second copy");
        assert_eq!(repeated_paragraphs(&body), [Repeat { first, second }]);
    }

    #[test]
    fn a_longer_fence_is_not_closed_by_a_shorter_one() {
        let body = format!("````md\n```\n{LONG}\n```\n````\n\n{LONG}\n");
        assert_eq!(repeated_paragraphs(&body), []);
    }

    /// Through the parser: the second copy's place, naming the first copy's line.
    #[test]
    fn lessons_check_reports_the_second_copy_at_its_place() {
        let head = "+++\nid = \"t\"\ntitle = \"T\"\ntrack = \"Scaling\"\norder = 1\nsummary = \"s\"\nobjectives = [\"o\"]\n+++\n";
        let ok = format!("{head}# T\n\n{LONG}\n");
        assert!(super::super::parse_lesson("x.md", &ok).is_ok());
        let twice = format!("{head}# T\n\n{LONG}\n\nMore text.\n\n   {LONG}\n");
        let broken = super::super::parse_lesson("x.md", &twice).expect_err("repeated");
        let messages: Vec<String> = broken.diagnostics.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            messages,
            ["x.md:15:4: this paragraph repeats the one at line 11; keep one of them"]
        );
    }
}
