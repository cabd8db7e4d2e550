//! Loading the set of lessons: built into the binary, or from a folder of lesson files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};

use super::parse::{BrokenLesson, file_stem, parse_lesson};
use super::{Diagnostic, Lesson, track_rank};

/// The lessons shipped in `lessons/`, embedded at build time so an installed binary works
/// from any directory.
static BUILT_IN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/lessons");

/// Whether program `file` (relative to the lessons folder, checked to stay inside it)
/// exists for the lesson at `lesson_path`: next to it on disk, or built in for the built-in
/// lessons (`lessons/…`).
pub(crate) fn program_exists(lesson_path: &str, file: &str) -> bool {
    let on_disk = Path::new(lesson_path)
        .parent()
        .is_some_and(|d| d.join(file).is_file());
    on_disk || (lesson_path.starts_with("lessons/") && BUILT_IN.get_file(file).is_some())
}

/// The contents of a built-in lesson's program `file`.
pub fn built_in_program(file: &str) -> Option<&'static [u8]> {
    BUILT_IN.get_file(file).map(|f| f.contents())
}

/// Where lessons come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LessonSource {
    /// The lessons built into the binary.
    BuiltIn,
    /// Every `*.md` file (except `README.md`) directly inside this folder.
    Directory(PathBuf),
}

/// Why no lessons could be loaded at all. Problems inside single files are not errors
/// here: they become [`BrokenLesson`]s with [`Diagnostic`]s.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The folder could not be listed.
    #[error("cannot read lesson folder {path}: {source}")]
    Folder {
        /// The folder.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// The folder holds no lesson files.
    #[error("no lesson files (*.md other than README.md) in {0}")]
    Empty(String),
}

/// Every lesson of a source, valid ones sorted for the catalogue and broken ones beside.
#[derive(Debug, Clone)]
pub struct LessonSet {
    /// Valid lessons sorted by track, then `order`, then `id`.
    pub lessons: Vec<Lesson>,
    /// Files with problems, sorted by path.
    pub broken: Vec<BrokenLesson>,
    /// Where the lessons came from.
    pub source: LessonSource,
}

impl LessonSet {
    /// Loads and validates every lesson of `source`.
    pub fn load(source: &LessonSource) -> Result<Self, LoadError> {
        let mut unreadable = Vec::new();
        let files = match source {
            LessonSource::BuiltIn => BUILT_IN
                .files()
                .filter(|f| is_lesson_file(f.path()))
                .map(|f| {
                    let path = format!("lessons/{}", f.path().display());
                    (path, f.contents_utf8().map(str::to_owned))
                })
                .collect::<Vec<_>>(),
            LessonSource::Directory(dir) => read_folder(dir, &mut unreadable)?,
        };
        if files.is_empty() && unreadable.is_empty() {
            let place = match source {
                LessonSource::BuiltIn => "the built-in lessons".to_owned(),
                LessonSource::Directory(d) => d.display().to_string(),
            };
            return Err(LoadError::Empty(place));
        }
        let mut set = Self::from_texts(source.clone(), files);
        if !unreadable.is_empty() {
            set.broken
                .extend(unreadable.into_iter().map(|(path, message)| BrokenLesson {
                    id: file_stem(&path),
                    title: file_stem(&path),
                    // Line 0: the file as a whole, shown as `path: message`.
                    diagnostics: vec![Diagnostic {
                        path: path.clone(),
                        line: 0,
                        col: 0,
                        message,
                    }],
                    path,
                }));
            set.broken.sort_by(|a, b| a.path.cmp(&b.path));
        }
        Ok(set)
    }

    /// Builds a set from `(path, text)` pairs; a `None` text is a file that is not UTF-8.
    pub fn from_texts(source: LessonSource, mut files: Vec<(String, Option<String>)>) -> Self {
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let mut lessons: Vec<Lesson> = Vec::new();
        let mut broken = Vec::new();
        let mut first_use: HashMap<String, String> = HashMap::new();
        for (path, text) in files {
            let Some(text) = text else {
                broken.push(BrokenLesson {
                    id: file_stem(&path),
                    title: file_stem(&path),
                    diagnostics: vec![Diagnostic {
                        path: path.clone(),
                        line: 1,
                        col: 1,
                        message: "not a UTF-8 text file".to_owned(),
                    }],
                    path,
                });
                continue;
            };
            match parse_lesson(&path, &text) {
                Ok(parsed) => {
                    let (line, col) = parsed.id_position;
                    let here = format!("{path}:{line}:{col}");
                    if let Some(first) = first_use.get(&parsed.lesson.id) {
                        broken.push(BrokenLesson {
                            path: path.clone(),
                            id: parsed.lesson.id.clone(),
                            title: parsed.lesson.title.clone(),
                            diagnostics: vec![Diagnostic {
                                path,
                                line,
                                col,
                                message: format!(
                                    "duplicate lesson id `{}`, first used at {first}",
                                    parsed.lesson.id
                                ),
                            }],
                        });
                    } else {
                        first_use.insert(parsed.lesson.id.clone(), here);
                        lessons.push(parsed.lesson);
                    }
                }
                Err(b) => broken.push(b),
            }
        }
        lessons.sort_by(|a, b| {
            (track_rank(&a.track), a.order, &a.id).cmp(&(track_rank(&b.track), b.order, &b.id))
        });
        Self {
            lessons,
            broken,
            source,
        }
    }

    /// The valid lesson with this id.
    pub fn find(&self, id: &str) -> Option<&Lesson> {
        self.lessons.iter().find(|l| l.id == id)
    }

    /// Every problem of every file, by path and position.
    pub fn diagnostics(&self) -> Vec<&Diagnostic> {
        let mut all: Vec<&Diagnostic> = self.broken.iter().flat_map(|b| &b.diagnostics).collect();
        all.sort_by(|a, b| (&a.path, a.line, a.col).cmp(&(&b.path, b.line, b.col)));
        all
    }

    /// How many files were read, valid or not.
    pub fn file_count(&self) -> usize {
        self.lessons.len() + self.broken.len()
    }
}

fn is_lesson_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "md")
        && !path
            .file_name()
            .is_some_and(|n| n.eq_ignore_ascii_case("README.md"))
        && path.components().count() == 1
}

/// The largest lesson file read; the lessons shipped are a few kilobytes each.
const MAX_LESSON_BYTES: u64 = 4 * crate::input::MIB;

/// Reads the lesson files of `dir`. A lesson file that cannot be read — a broken or looping
/// symlink, a FIFO, a file over [`MAX_LESSON_BYTES`], one without permission — is put in
/// `unreadable` with what is wrong; only a folder that cannot be listed is an error.
fn read_folder(
    dir: &Path,
    unreadable: &mut Vec<(String, String)>,
) -> Result<Vec<(String, Option<String>)>, LoadError> {
    let folder_error = |source| LoadError::Folder {
        path: dir.display().to_string(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(folder_error)? {
        let entry = entry.map_err(folder_error)?;
        let name = PathBuf::from(entry.file_name());
        if !is_lesson_file(&name) {
            continue;
        }
        let path = entry.path();
        let shown = path.display().to_string();
        match std::fs::metadata(&path) {
            // A folder named like a lesson file is not one.
            Ok(meta) if meta.is_dir() => continue,
            Ok(_) => match crate::input::read_regular(&path, MAX_LESSON_BYTES, "a lesson file") {
                Ok(bytes) => files.push((shown, String::from_utf8(bytes).ok())),
                Err(e) => unreadable.push((shown, format!("cannot read: {e}"))),
            },
            Err(e) => {
                let message = match std::fs::read_link(&path) {
                    Ok(_) if e.raw_os_error() == Some(nix::libc::ELOOP) => {
                        "broken symlink: a loop of links".to_owned()
                    }
                    Ok(target) => format!("broken symlink: {} does not exist", target.display()),
                    Err(_) => format!("cannot read: {e}"),
                };
                unreadable.push((shown, message));
            }
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::lesson::CheckKind;

    fn built_in() -> LessonSet {
        LessonSet::load(&LessonSource::BuiltIn).expect("built-in lessons load")
    }

    /// Every number written in `text`, with thousands separators: `50,000,000` is one number.
    fn numbers_in(text: &str) -> Vec<f64> {
        text.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
            .map(|t| t.trim_matches(|c| c == '.' || c == ',').replace(',', ""))
            .filter_map(|t| t.parse().ok())
            .collect()
    }

    /// The right option must not be guessable from where it stands or how long it is: the
    /// tutor shuffles options per learner, but the files must not rely on that.
    #[test]
    fn built_in_choice_answers_are_spread_over_positions_and_lengths() {
        let set = built_in();
        let mut at_position = BTreeMap::<usize, Vec<String>>::new();
        let mut longest = Vec::new();
        for lesson in &set.lessons {
            for check in &lesson.checks {
                if let CheckKind::Choice { choices, answer } = &check.kind {
                    let name = format!("{}/{}", lesson.id, check.id);
                    at_position.entry(*answer).or_default().push(name.clone());
                    let len = |s: &String| s.chars().count();
                    if choices
                        .iter()
                        .enumerate()
                        .all(|(i, c)| i == *answer || len(c) < len(&choices[*answer]))
                    {
                        longest.push(name);
                    }
                }
            }
        }
        let total: usize = at_position.values().map(Vec::len).sum();
        assert!(total >= 10, "the built-in lessons have choice checks");
        for (position, checks) in &at_position {
            assert!(
                2 * checks.len() <= total,
                "{} of {total} choice answers are option {}: {checks:?}",
                checks.len(),
                position + 1
            );
        }
        assert!(
            4 * longest.len() <= total,
            "the right option is the longest in {} of {total} checks: {longest:?}",
            longest.len()
        );
    }

    /// A hint is shown after a first wrong answer, before one more try: every built-in check
    /// has one, and it points at the idea without handing over the answer.
    #[test]
    fn every_built_in_check_has_a_hint_that_keeps_the_answer() {
        let set = built_in();
        for lesson in &set.lessons {
            for check in &lesson.checks {
                let name = format!("{}/{}", lesson.id, check.id);
                let hint = check
                    .hint
                    .as_deref()
                    .unwrap_or_else(|| panic!("{name} has no hint"));
                let numbers = numbers_in(hint);
                let gives = |x: f64| numbers.iter().any(|n| (n - x).abs() < 1e-9);
                match &check.kind {
                    CheckKind::Numeric { answer, .. } => {
                        assert!(!gives(*answer), "{name}: the hint states the answer");
                    }
                    CheckKind::Choice { choices, .. } => {
                        for option in choices {
                            let as_number = option.trim().parse::<f64>().ok();
                            let named = match as_number {
                                Some(x) => gives(x),
                                None => hint.to_lowercase().contains(&option.to_lowercase()),
                            };
                            assert!(!named, "{name}: the hint names the option `{option}`");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn numbers_are_read_with_their_separators() {
        assert_eq!(
            numbers_in("from 1, 2 and 4 to 50,000,000 points: 1.95x."),
            [1.0, 2.0, 4.0, 50_000_000.0, 1.95]
        );
    }
}
