//! Parsing and validating one lesson file.

use std::collections::{BTreeMap, HashSet};
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::diag::{Diagnostic, LineIndex};
use super::{Check, CheckKind, Lesson, Measure, Preset, Quantity};
use crate::experiment;
use crate::puzzle;

/// The front matter as written, with the places of the values that later checks point at.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFront {
    id: Spanned<String>,
    title: Spanned<String>,
    track: Spanned<String>,
    order: u32,
    summary: Spanned<String>,
    objectives: Spanned<Vec<String>>,
    #[serde(default)]
    experiments: Vec<Spanned<String>>,
    #[serde(default)]
    hints: Vec<String>,
    #[serde(default)]
    notes: Option<String>,
    #[serde(default)]
    checks: Vec<Spanned<RawCheck>>,
    #[serde(default)]
    presets: BTreeMap<String, Spanned<RawPreset>>,
    #[serde(default)]
    puzzles: Vec<Spanned<puzzle::RawPuzzle>>,
    #[serde(default)]
    programs: Vec<Spanned<RawProgram>>,
}

/// A program the lesson runs (`[[programs]]`), as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProgram {
    id: Spanned<String>,
    title: Spanned<String>,
    file: Spanned<String>,
    #[serde(default)]
    interpreter: Option<Spanned<String>>,
    #[serde(default)]
    needs: Vec<Spanned<String>>,
    #[serde(default)]
    args: Vec<Spanned<String>>,
    backend: Spanned<String>,
    #[serde(default)]
    time_from: Option<Spanned<String>>,
    #[serde(default)]
    workers: Option<Spanned<Vec<u64>>>,
    #[serde(default)]
    reps: Option<Spanned<u64>>,
    #[serde(default)]
    mode: Option<Spanned<String>>,
}

/// Starting settings for an experiment, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPreset {
    #[serde(default)]
    backend: Option<Spanned<String>>,
    #[serde(default)]
    workers: Option<Spanned<Vec<u64>>>,
    #[serde(default)]
    reps: Option<Spanned<u64>>,
    #[serde(default)]
    params: BTreeMap<String, Spanned<toml::Value>>,
}

/// The measurement a prediction is compared with, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeasure {
    #[serde(default)]
    experiment: Option<Spanned<String>>,
    /// A program of the lesson instead of an experiment: its runs are those with its name.
    #[serde(default)]
    program: Option<Spanned<String>>,
    quantity: Spanned<String>,
    #[serde(default)]
    workers: Option<Spanned<u64>>,
    #[serde(default)]
    variant: Option<Spanned<String>>,
    /// The backend the prediction is about: only its runs are compared with it.
    #[serde(default)]
    backend: Option<Spanned<String>>,
    /// The parameter values the prediction is about.
    #[serde(default)]
    params: BTreeMap<String, Spanned<toml::Value>>,
}

/// A check as written. Which keys are allowed depends on `kind`, so every key is optional
/// here and the rules per kind are applied afterwards, with positions.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    id: Spanned<String>,
    kind: Spanned<String>,
    question: Spanned<String>,
    explanation: Spanned<String>,
    #[serde(default)]
    hint: Option<Spanned<String>>,
    #[serde(default)]
    choices: Option<Spanned<Vec<Spanned<String>>>>,
    answer: Spanned<toml::Value>,
    #[serde(default)]
    tolerance: Option<Spanned<f64>>,
    #[serde(default)]
    unit: Option<Spanned<String>>,
    #[serde(default)]
    measure: Option<Spanned<RawMeasure>>,
}

/// A lesson file that parsed and passed every check.
#[derive(Debug, Clone)]
pub struct ParsedLesson {
    /// The lesson.
    pub lesson: Lesson,
    /// Line and column of the `id` value, for duplicate-id messages.
    pub id_position: (usize, usize),
}

/// A lesson file with problems: what can be shown of it, and every problem found.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokenLesson {
    /// Where it came from.
    pub path: String,
    /// The `id` if one could be read, else the file name without `.md`.
    pub id: String,
    /// The `title` if one could be read, else the file name.
    pub title: String,
    /// Every problem found, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

const DELIMITER: &str = "+++";

/// Parses and validates the text of one lesson file. `path` is only used in messages.
pub fn parse_lesson(path: &str, text: &str) -> Result<ParsedLesson, BrokenLesson> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let index = LineIndex::new(text);
    let mut problems = Problems {
        path,
        index: &index,
        list: Vec::new(),
    };

    let Some((front, front_start, body)) = split_front_matter(text, &mut problems) else {
        return Err(broken(path, problems.list, None));
    };

    let raw: RawFront = match toml::from_str(front) {
        Ok(raw) => raw,
        Err(e) => {
            let span = e
                .span()
                .map_or(0..0, |s| s.start + front_start..s.end + front_start);
            let message = explain_toml_error(e.message().trim_end(), text, span.start);
            problems.at(span, message);
            return Err(broken(path, problems.list, Some(front)));
        }
    };

    let shift = |r: Range<usize>| r.start + front_start..r.end + front_start;
    let lesson = validate(path, raw, front, body, &shift, &mut problems);
    // The body is the end of `text`, so this is where it starts in the file.
    let body_start = text.len() - body.len();
    for repeat in super::body::repeated_paragraphs(body) {
        let (first_line, _) = index.position(body_start + repeat.first);
        let at = body_start + repeat.second;
        problems.at(
            at..at,
            format!("this paragraph repeats the one at line {first_line}; keep one of them"),
        );
    }
    match lesson {
        Some((lesson, id_span)) if problems.list.is_empty() => Ok(ParsedLesson {
            lesson,
            id_position: index.position(id_span.start),
        }),
        _ => Err(broken(path, problems.list, Some(front))),
    }
}

/// Finds the front matter. Returns its text, the byte offset where it starts in the file,
/// and the body after it.
fn split_front_matter<'t>(
    text: &'t str,
    problems: &mut Problems<'_>,
) -> Option<(&'t str, usize, &'t str)> {
    let first_line_end = text.find('\n').unwrap_or(text.len());
    if text[..first_line_end].trim_end() != DELIMITER {
        problems.at(
            0..0,
            format!("missing front matter: a lesson file starts with a `{DELIMITER}` line"),
        );
        return None;
    }
    let front_start = (first_line_end + 1).min(text.len());
    let mut offset = front_start;
    for line in text[front_start..].split_inclusive('\n') {
        if line.trim_end() == DELIMITER {
            let front = &text[front_start..offset];
            let body = &text[offset + line.len()..];
            return Some((front, front_start, body));
        }
        offset += line.len();
    }
    problems.at(
        0..0,
        format!(
            "front matter is not closed: no `{DELIMITER}` line after the one opening it \
             (is the file cut short?)"
        ),
    );
    None
}

struct Problems<'a> {
    path: &'a str,
    index: &'a LineIndex<'a>,
    list: Vec<Diagnostic>,
}

impl Problems<'_> {
    fn at(&mut self, span: Range<usize>, message: String) {
        let (line, col) = self.index.position(span.start);
        self.list.push(Diagnostic {
            path: self.path.to_owned(),
            line,
            col,
            message,
        });
    }
}

fn validate(
    path: &str,
    raw: RawFront,
    front: &str,
    body: &str,
    shift: &dyn Fn(Range<usize>) -> Range<usize>,
    p: &mut Problems<'_>,
) -> Option<(Lesson, Range<usize>)> {
    let id = &raw.id;
    if !is_valid_id(id.get_ref()) {
        p.at(
            shift(id.span()),
            format!(
                "invalid id `{}`: use lower-case letters, digits and `-`, starting with a letter",
                id.get_ref()
            ),
        );
    }
    for (name, value) in [
        ("title", &raw.title),
        ("track", &raw.track),
        ("summary", &raw.summary),
    ] {
        if value.get_ref().trim().is_empty() {
            p.at(shift(value.span()), format!("`{name}` must not be empty"));
        }
    }
    if raw.summary.get_ref().contains('\n') {
        p.at(
            shift(raw.summary.span()),
            "`summary` must be a single line".to_owned(),
        );
    }
    if raw.objectives.get_ref().is_empty() {
        p.at(
            shift(raw.objectives.span()),
            "`objectives` needs at least one objective".to_owned(),
        );
    }
    for e in &raw.experiments {
        if experiment::find(e.get_ref()).is_none() {
            p.at(
                shift(e.span()),
                format!(
                    "unknown experiment `{}` (known: {})",
                    e.get_ref(),
                    experiment::known_names()
                ),
            );
        }
    }

    let lesson_experiments: Vec<String> = raw
        .experiments
        .iter()
        .map(|e| e.get_ref().clone())
        .collect();
    let presets = validate_presets(raw.presets, &lesson_experiments, shift, p);
    let programs = validate_programs(raw.programs, path, shift, p);
    let program_ids: Vec<String> = programs.iter().map(|g| g.id.clone()).collect();
    let mut seen = HashSet::new();
    let mut checks = Vec::with_capacity(raw.checks.len());
    for check in raw.checks {
        let span = check.span();
        let check = check.into_inner();
        if !seen.insert(check.id.get_ref().clone()) {
            p.at(
                shift(check.id.span()),
                format!("duplicate check id `{}` in this lesson", check.id.get_ref()),
            );
        }
        let known = Runnables {
            experiments: &lesson_experiments,
            programs: &program_ids,
        };
        if let Some(c) = validate_check(check, span, &known, shift, p) {
            checks.push(c);
        }
    }

    let (puzzles, puzzle_errors) = puzzle::parse_puzzles(raw.puzzles, front);
    for e in puzzle_errors {
        p.at(shift(e.span), e.message);
    }

    let id_span = raw.id.span();
    let lesson = Lesson {
        id: raw.id.into_inner(),
        title: raw.title.into_inner(),
        track: raw.track.into_inner(),
        order: raw.order,
        summary: raw.summary.into_inner(),
        objectives: raw.objectives.into_inner(),
        experiments: raw
            .experiments
            .into_iter()
            .map(Spanned::into_inner)
            .collect(),
        hints: raw.hints,
        notes: raw.notes.filter(|n| !n.trim().is_empty()),
        checks,
        presets,
        puzzles,
        programs,
        body: body.to_owned(),
        path: path.to_owned(),
    };
    Some((lesson, shift(id_span)))
}

/// A parameter value as written (a string or a number) as the text `KEY=VALUE` takes;
/// anything else is reported at its place.
fn param_text(
    key: &str,
    value: &Spanned<toml::Value>,
    shift: &dyn Fn(Range<usize>) -> Range<usize>,
    p: &mut Problems<'_>,
) -> Option<String> {
    match value.get_ref() {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        other => {
            p.at(
                shift(value.span()),
                format!(
                    "parameter `{key}` must be a number or a string, not {}",
                    other.type_str()
                ),
            );
            None
        }
    }
}

fn validate_presets(
    raw: BTreeMap<String, Spanned<RawPreset>>,
    experiments: &[String],
    shift: &dyn Fn(Range<usize>) -> Range<usize>,
    p: &mut Problems<'_>,
) -> BTreeMap<String, Preset> {
    let mut out = BTreeMap::new();
    for (name, preset) in raw {
        let span = preset.span();
        let preset = preset.into_inner();
        if !experiments.contains(&name) {
            p.at(
                shift(span),
                format!("preset for `{name}`, which is not in this lesson's `experiments`"),
            );
            continue;
        }
        let Some(info) = experiment::find(&name) else {
            continue; // already reported as an unknown experiment
        };
        let mut params = Vec::new();
        for (key, value) in &preset.params {
            let Some(text) = param_text(key, value, shift, p) else {
                continue;
            };
            let pair = format!("{key}={text}");
            if let Err(e) = experiment::Params::parse(info, std::slice::from_ref(&pair)) {
                p.at(shift(value.span()), e.to_string());
                continue;
            }
            params.push(pair);
        }
        if let Err(e) = experiment::Params::parse(info, &params) {
            p.at(shift(span.clone()), e.to_string());
        }
        let workers = preset.workers.and_then(|w| checked_workers(w, shift, p));
        let reps = preset.reps.and_then(|r| checked_reps(&r, shift, p));
        let backend = preset
            .backend
            .as_ref()
            .and_then(|b| checked_backend(info, b, shift, p));
        out.insert(
            name,
            Preset {
                workers,
                reps,
                params,
                backend,
            },
        );
    }
    out
}

/// A backend an experiment runs on, as a preset or a prediction names it.
fn checked_backend(
    info: &experiment::ExperimentInfo,
    b: &Spanned<String>,
    shift: &dyn Fn(Range<usize>) -> Range<usize>,
    p: &mut Problems<'_>,
) -> Option<crate::experiment::Backend> {
    match crate::experiment::Backend::from_name(b.get_ref()) {
        Some(backend) if info.runs_on(backend) => Some(backend),
        _ => {
            p.at(
                shift(b.span()),
                format!(
                    "`{}` does not run on backend `{}` (it runs on: {})",
                    info.name,
                    b.get_ref(),
                    info.backend_names().join(", ")
                ),
            );
            None
        }
    }
}

/// Worker counts as a preset or a program gives them: each from 1 to 1024.
fn checked_workers(
    w: Spanned<Vec<u64>>,
    shift: &dyn Fn(Range<usize>) -> Range<usize>,
    p: &mut Problems<'_>,
) -> Option<Vec<usize>> {
    if w.get_ref().is_empty() || w.get_ref().iter().any(|&n| !(1..=1024).contains(&n)) {
        p.at(
            shift(w.span()),
            "`workers` must list worker counts from 1 to 1024".to_owned(),
        );
        None
    } else {
        // Checked to be at most 1024 just above.
        Some(w.into_inner().into_iter().map(|n| n as usize).collect())
    }
}

/// Repetitions as a preset or a program gives them: from 1 to 1000.
fn checked_reps(
    r: &Spanned<u64>,
    shift: &dyn Fn(Range<usize>) -> Range<usize>,
    p: &mut Problems<'_>,
) -> Option<u32> {
    if (1..=1000).contains(r.get_ref()) {
        // At most 1000: fits in u32.
        Some(*r.get_ref() as u32)
    } else {
        p.at(shift(r.span()), "`reps` must be from 1 to 1000".to_owned());
        None
    }
}

/// The lesson's programs, each checked: its id, a file inside the lessons folder that
/// exists, an interpreter and modules that are names, a backend, a time pattern with a
/// group, and the sweep's workers, repetitions and mode.
fn validate_programs(
    raw: Vec<Spanned<RawProgram>>,
    lesson_path: &str,
    shift: &dyn Fn(Range<usize>) -> Range<usize>,
    p: &mut Problems<'_>,
) -> Vec<super::LessonProgram> {
    let program = experiment::find("program");
    let mut out: Vec<super::LessonProgram> = Vec::new();
    let mut seen = HashSet::new();
    for table in raw {
        let g = table.into_inner();
        let before = p.list.len();
        let id = g.id.get_ref().clone();
        if !is_valid_id(&id) {
            p.at(
                shift(g.id.span()),
                format!("program id `{id}`: use lower-case letters, digits and `-`"),
            );
        } else if !seen.insert(id.clone()) {
            p.at(
                shift(g.id.span()),
                format!("duplicate program id `{id}` in this lesson"),
            );
        }
        if g.title.get_ref().trim().is_empty() {
            p.at(
                shift(g.title.span()),
                "program `title` must not be empty".to_owned(),
            );
        }
        let file = g.file.get_ref();
        if !super::program::is_inside(file) {
            p.at(
                shift(g.file.span()),
                format!("program `file` `{file}` must be a path inside the lessons folder, relative, without `..`"),
            );
        } else if !super::load::program_exists(lesson_path, file) {
            p.at(
                shift(g.file.span()),
                format!("program `file` `{file}` does not exist next to the lesson"),
            );
        }
        let word =
            |w: &str| !w.is_empty() && !w.chars().any(|c| c.is_whitespace() || c.is_control());
        if let Some(i) = &g.interpreter
            && !word(i.get_ref())
        {
            p.at(
                shift(i.span()),
                "`interpreter` must be one word, e.g. python3".to_owned(),
            );
        }
        for m in &g.needs {
            if m.get_ref().is_empty()
                || !m
                    .get_ref()
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                p.at(
                    shift(m.span()),
                    format!("`needs`: `{}` is not a Python module name", m.get_ref()),
                );
            }
        }
        for a in &g.args {
            if a.get_ref().chars().any(char::is_control) {
                p.at(
                    shift(a.span()),
                    "`args` must not hold control characters".to_owned(),
                );
            }
        }
        let backend = crate::experiment::Backend::from_name(g.backend.get_ref());
        if backend.is_none() {
            p.at(
                shift(g.backend.span()),
                format!(
                    "unknown backend `{}` (known: threads, processes, mpi)",
                    g.backend.get_ref()
                ),
            );
        }
        for (key, value) in [("time_from", &g.time_from), ("mode", &g.mode)] {
            if let (Some(v), Some(info)) = (value, program)
                && let Err(e) = experiment::Params::parse(info, &[format!("{key}={}", v.get_ref())])
            {
                p.at(shift(v.span()), e.to_string());
            }
        }
        let workers = g.workers.and_then(|w| checked_workers(w, shift, p));
        let reps = g.reps.as_ref().and_then(|r| checked_reps(r, shift, p));
        if p.list.len() > before {
            continue;
        }
        out.push(super::LessonProgram {
            id,
            title: g.title.into_inner(),
            file: g.file.into_inner(),
            interpreter: g.interpreter.map(Spanned::into_inner),
            needs: g.needs.into_iter().map(Spanned::into_inner).collect(),
            args: g.args.into_iter().map(Spanned::into_inner).collect(),
            // Checked above.
            backend: backend.unwrap_or(crate::experiment::Backend::Threads),
            time_from: g.time_from.map(Spanned::into_inner),
            workers,
            reps,
            mode: g.mode.map(Spanned::into_inner),
        });
    }
    out
}

/// What a lesson can run: its experiments and its programs' ids.
struct Runnables<'a> {
    experiments: &'a [String],
    programs: &'a [String],
}

fn validate_measure(
    raw: Spanned<RawMeasure>,
    known: &Runnables<'_>,
    shift: &dyn Fn(Range<usize>) -> Range<usize>,
    p: &mut Problems<'_>,
) -> Option<Measure> {
    let table = raw.span();
    let raw = raw.into_inner();
    // A program's runs are runs of the `program` experiment carrying its name.
    let (experiment, program) = match (&raw.experiment, &raw.program) {
        (Some(e), None) => {
            if !known.experiments.contains(e.get_ref()) {
                p.at(
                    shift(e.span()),
                    format!(
                        "`measure` names experiment `{}`, which is not in this lesson's `experiments`",
                        e.get_ref()
                    ),
                );
                return None;
            }
            (e.get_ref().clone(), None)
        }
        (None, Some(g)) => {
            if !known.programs.contains(g.get_ref()) {
                p.at(
                    shift(g.span()),
                    format!(
                        "`measure` names program `{}`, which is not one of this lesson's `programs`",
                        g.get_ref()
                    ),
                );
                return None;
            }
            ("program".to_owned(), Some(g.get_ref().clone()))
        }
        _ => {
            p.at(
                shift(table),
                "`measure` needs either `experiment` or `program` (one of them)".to_owned(),
            );
            return None;
        }
    };
    let Some(quantity) = Quantity::from_name(raw.quantity.get_ref()) else {
        p.at(
            shift(raw.quantity.span()),
            format!(
                "unknown quantity `{}` (known: {})",
                raw.quantity.get_ref(),
                Quantity::NAMES.join(", ")
            ),
        );
        return None;
    };
    let workers = match (&raw.workers, quantity.needs_workers()) {
        (None, true) => {
            p.at(
                shift(raw.quantity.span()),
                format!("`measure` of `{}` needs `workers`", raw.quantity.get_ref()),
            );
            return None;
        }
        (Some(w), _) if !(1..=1024).contains(w.get_ref()) => {
            p.at(
                shift(w.span()),
                "`workers` must be from 1 to 1024".to_owned(),
            );
            return None;
        }
        // Checked to be at most 1024.
        (w, _) => w.as_ref().map(|w| *w.get_ref() as usize),
    };
    if let Some(v) = &raw.variant {
        let names = experiment::find(&experiment).map_or(&[][..], |e| e.variant_names());
        if !names.contains(&v.get_ref().as_str()) {
            let known = if names.is_empty() {
                format!("`{experiment}` has no variants")
            } else {
                format!("known: {}", names.join(", "))
            };
            p.at(
                shift(v.span()),
                format!("unknown variant `{}` ({known})", v.get_ref()),
            );
            return None;
        }
    }
    let backend = match (&raw.backend, experiment::find(&experiment)) {
        (Some(b), Some(info)) => Some(checked_backend(info, b, shift, p)?.name().to_owned()),
        _ => None,
    };
    let mut params = BTreeMap::new();
    if let Some(name) = program {
        params.insert("name".to_owned(), name);
    }
    if let Some(info) = experiment::find(&experiment) {
        for (key, value) in &raw.params {
            let text = param_text(key, value, shift, p)?;
            // The value as the run record writes it, so that it compares equal.
            match experiment::Params::parse(info, &[format!("{key}={text}")]) {
                Ok(parsed) => {
                    if let Some(v) = parsed.to_strings().remove(key) {
                        params.insert(key.clone(), v);
                    }
                }
                Err(e) => {
                    p.at(shift(value.span()), e.to_string());
                    return None;
                }
            }
        }
    }
    Some(Measure {
        experiment,
        quantity,
        workers,
        variant: raw.variant.map(Spanned::into_inner),
        backend,
        params,
    })
}

fn validate_check(
    raw: RawCheck,
    table: Range<usize>,
    experiments: &Runnables<'_>,
    shift: &dyn Fn(Range<usize>) -> Range<usize>,
    p: &mut Problems<'_>,
) -> Option<Check> {
    let before = p.list.len();
    for (name, value) in [
        ("id", &raw.id),
        ("question", &raw.question),
        ("explanation", &raw.explanation),
    ] {
        if value.get_ref().trim().is_empty() {
            p.at(
                shift(value.span()),
                format!("check `{name}` must not be empty"),
            );
        }
    }
    if let Some(h) = &raw.hint
        && h.get_ref().trim().is_empty()
    {
        p.at(
            shift(h.span()),
            "check `hint` must not be empty (leave the key out instead)".to_owned(),
        );
    }
    let kind = match raw.kind.get_ref().as_str() {
        "choice" => {
            let (Some(choices), answer) = (&raw.choices, &raw.answer) else {
                p.at(
                    shift(table),
                    "a `choice` check needs `choices`, an array of the options".to_owned(),
                );
                return None;
            };
            if let Some(t) = &raw.tolerance {
                p.at(
                    shift(t.span()),
                    "`tolerance` is only for `numeric` checks".to_owned(),
                );
            }
            if let Some(u) = &raw.unit {
                p.at(
                    shift(u.span()),
                    "`unit` is only for `numeric` checks".to_owned(),
                );
            }
            let options: Vec<String> = choices
                .get_ref()
                .iter()
                .map(|c| c.get_ref().clone())
                .collect();
            if options.len() < 2 {
                p.at(
                    shift(choices.span()),
                    "a `choice` check needs at least two choices".to_owned(),
                );
            }
            for (i, c) in choices.get_ref().iter().enumerate() {
                if options[..i].contains(c.get_ref()) {
                    p.at(
                        shift(c.span()),
                        format!("choice `{}` is listed twice", c.get_ref()),
                    );
                }
            }
            let toml::Value::String(given) = answer.get_ref() else {
                p.at(
                    shift(answer.span()),
                    format!(
                        "the answer of a `choice` check is the text of the right choice, not {}",
                        answer.get_ref().type_str()
                    ),
                );
                return None;
            };
            let Some(index) = options.iter().position(|c| c == given) else {
                p.at(
                    shift(answer.span()),
                    format!("answer `{given}` is not among the choices"),
                );
                return None;
            };
            CheckKind::Choice {
                choices: options,
                answer: index,
            }
        }
        "numeric" => {
            if let Some(c) = &raw.choices {
                p.at(
                    shift(c.span()),
                    "`choices` is only for `choice` checks".to_owned(),
                );
            }
            let answer = match raw.answer.get_ref() {
                toml::Value::Float(f) if f.is_finite() => *f,
                // Lesson answers are small integers; the conversion to f64 is exact for them.
                toml::Value::Integer(i) => *i as f64,
                other => {
                    p.at(
                        shift(raw.answer.span()),
                        format!(
                            "the answer of a `numeric` check must be a finite number, not {}",
                            other.type_str()
                        ),
                    );
                    return None;
                }
            };
            let tolerance = match &raw.tolerance {
                None => {
                    p.at(
                        shift(table),
                        "a `numeric` check needs a `tolerance` (0 for an exact answer)".to_owned(),
                    );
                    return None;
                }
                Some(t) if !(t.get_ref().is_finite() && *t.get_ref() >= 0.0) => {
                    p.at(
                        shift(t.span()),
                        format!("`tolerance` must be a number ≥ 0, not {}", t.get_ref()),
                    );
                    return None;
                }
                Some(t) => *t.get_ref(),
            };
            CheckKind::Numeric {
                answer,
                tolerance,
                unit: raw.unit.map(Spanned::into_inner),
            }
        }
        other => {
            p.at(
                shift(raw.kind.span()),
                format!("unknown check kind `{other}` (known: choice, numeric)"),
            );
            return None;
        }
    };
    let measure = match raw.measure {
        Some(m) if matches!(kind, CheckKind::Numeric { .. }) => {
            validate_measure(m, experiments, shift, p)
        }
        _ => None,
    };
    (p.list.len() == before).then(|| Check {
        id: raw.id.into_inner(),
        question: raw.question.into_inner(),
        kind,
        explanation: raw.explanation.into_inner(),
        hint: raw.hint.map(Spanned::into_inner),
        measure,
    })
}

fn is_valid_id(id: &str) -> bool {
    id.starts_with(|c: char| c.is_ascii_lowercase())
        && !id.ends_with('-')
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Rewords the TOML library's message for lesson authors: "key" rather than "field", plain
/// names for types, and the key a type error belongs to.
fn explain_toml_error(message: &str, text: &str, offset: usize) -> String {
    let mut m = message
        .replace("missing field", "missing key")
        .replace("unknown field", "unknown key")
        .replace("expected u32", "expected a whole number ≥ 0")
        .replace("expected a sequence", "expected an array")
        .replace("expected a string", "expected a string in quotes");
    if m.starts_with("invalid type") || m.starts_with("invalid value") {
        let line_start = text[..offset.min(text.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let line = &text[line_start..];
        if let Some((key, _)) = line.split_once('=') {
            let key = key.trim();
            if !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                m.push_str(&format!(" (key `{key}`)"));
            }
        }
    }
    m
}

/// What can be shown of a broken file: its id and title if a lenient read finds them.
fn broken(path: &str, diagnostics: Vec<Diagnostic>, front: Option<&str>) -> BrokenLesson {
    let stem = file_stem(path);
    let table = front.and_then(|f| f.parse::<toml::Table>().ok());
    let field = |key: &str| {
        table
            .as_ref()
            .and_then(|t| t.get(key))
            .and_then(|v| v.as_str())
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned)
    };
    BrokenLesson {
        path: path.to_owned(),
        id: field("id").unwrap_or_else(|| stem.clone()),
        title: field("title").unwrap_or(stem),
        diagnostics,
    }
}

/// The file name of `path` without `.md`: what a broken file is called when it has no title.
pub(super) fn file_stem(path: &str) -> String {
    path.rsplit('/')
        .next()
        .unwrap_or(path)
        .trim_end_matches(".md")
        .to_owned()
}
