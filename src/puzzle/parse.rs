//! Reading puzzles from the `[[puzzles]]` tables of a lesson's TOML front matter.
//!
//! Errors carry byte spans into the TOML text the tables were read from, so that the lesson
//! parser can report them as `path:line:col`. Positions inside a thread's `code` are exact for
//! literal strings (`'''…'''`) and for basic strings without escapes; otherwise they point at
//! the start of the string.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::search::explore;
use super::{
    Barrier, Channel, CmpOp, CondVar, Condition, Goal, Instr, Operand, Puzzle, Semaphore,
    SourceLine, Step, Thread, Var,
};

/// The most threads a puzzle may have: the stepper shows them side by side.
const MAX_THREADS: usize = 3;

/// The largest channel capacity, in messages: enough to show buffering, small enough to keep
/// the search quick.
const MAX_CAPACITY: i64 = 8;

/// States the validator's search may visit before it calls a puzzle too large.
const CHECK_LIMIT: usize = 100_000;

/// A `[[puzzles]]` table as written. Deserialize it from the front matter (e.g. as
/// `Vec<Spanned<RawPuzzle>>`) and pass it to [`parse_puzzle`] or [`parse_puzzles`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPuzzle {
    id: Spanned<String>,
    title: Spanned<String>,
    goal: Spanned<String>,
    #[serde(default)]
    goal_text: Option<Spanned<String>>,
    description: Spanned<String>,
    #[serde(default)]
    hints: Vec<Spanned<String>>,
    #[serde(default)]
    vars: BTreeMap<String, Spanned<i64>>,
    #[serde(default)]
    locks: Vec<Spanned<String>>,
    #[serde(default)]
    semaphores: BTreeMap<String, Spanned<i64>>,
    #[serde(default)]
    barriers: BTreeMap<String, Spanned<i64>>,
    #[serde(default)]
    conditions: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    channels: BTreeMap<String, Spanned<i64>>,
    #[serde(default)]
    final_assert: Option<Spanned<String>>,
    threads: Vec<Spanned<RawThread>>,
}

/// A `[[puzzles.threads]]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThread {
    #[serde(default)]
    name: Option<Spanned<String>>,
    code: Spanned<String>,
}

/// A problem in a puzzle table, at a byte span of the TOML text it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PuzzleError {
    /// Where, in bytes from the start of the TOML text.
    pub span: Range<usize>,
    /// What is wrong, in one line.
    pub message: String,
}

/// Parses one standalone puzzle written as a TOML document (the keys of a `[[puzzles]]` table
/// at the top level, threads as `[[threads]]`). Meant for tests and tools; spans are relative
/// to `text`.
pub fn puzzle_from_toml(text: &str) -> Result<Puzzle, Vec<PuzzleError>> {
    compile_toml(text, true)
}

/// Like [`puzzle_from_toml`] but without the search for the goal: for engine tests that need
/// puzzles which are not good puzzles.
#[cfg(test)]
pub(crate) fn puzzle_from_toml_unchecked(text: &str) -> Result<Puzzle, Vec<PuzzleError>> {
    compile_toml(text, false)
}

fn compile_toml(text: &str, search: bool) -> Result<Puzzle, Vec<PuzzleError>> {
    let raw: Spanned<RawPuzzle> = toml::from_str(text).map_err(|e| {
        vec![PuzzleError {
            span: e.span().unwrap_or(0..0),
            message: e.message().trim_end().replace("field", "key"),
        }]
    })?;
    compile(raw, text, search)
}

/// Checks and compiles the puzzles of one lesson. Returns the valid puzzles and every
/// problem, including puzzle ids used twice.
pub fn parse_puzzles(
    raws: Vec<Spanned<RawPuzzle>>,
    source: &str,
) -> (Vec<Puzzle>, Vec<PuzzleError>) {
    let mut puzzles = Vec::new();
    let mut errors = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for raw in raws {
        let id = raw.get_ref().id.clone();
        if !seen.insert(id.get_ref().clone()) {
            errors.push(PuzzleError {
                span: id.span(),
                message: format!("duplicate puzzle id `{}` in this lesson", id.get_ref()),
            });
        }
        match parse_puzzle(raw, source) {
            Ok(p) => puzzles.push(p),
            Err(mut e) => errors.append(&mut e),
        }
    }
    (puzzles, errors)
}

/// Checks and compiles one puzzle table. `source` is the TOML text the table was read from:
/// spans index into it, and it is used to place errors inside a thread's code.
///
/// Besides the form of every instruction, this checks that the puzzle works as a puzzle: an
/// exhaustive search must find a way to reach its goal, and a `finish` puzzle must have no
/// interleaving that breaks it.
pub fn parse_puzzle(raw: Spanned<RawPuzzle>, source: &str) -> Result<Puzzle, Vec<PuzzleError>> {
    compile(raw, source, true)
}

fn compile(
    raw: Spanned<RawPuzzle>,
    source: &str,
    search: bool,
) -> Result<Puzzle, Vec<PuzzleError>> {
    let table = raw.span();
    let raw = raw.into_inner();
    let mut cx = Cx {
        source,
        errors: Vec::new(),
    };

    if !is_valid_id(raw.id.get_ref()) {
        cx.error(
            raw.id.span(),
            format!(
                "invalid puzzle id `{}`: use lower-case letters, digits and `-`, starting with a letter",
                raw.id.get_ref()
            ),
        );
    }
    for (name, value) in [("title", &raw.title), ("description", &raw.description)] {
        if value.get_ref().trim().is_empty() {
            cx.error(value.span(), format!("puzzle `{name}` must not be empty"));
        }
    }
    let goal = Goal::from_name(raw.goal.get_ref());
    if goal.is_none() {
        cx.error(
            raw.goal.span(),
            format!(
                "unknown goal `{}` (known: {})",
                raw.goal.get_ref(),
                Goal::NAMES.join(", ")
            ),
        );
    }
    for h in &raw.hints {
        if h.get_ref().trim().is_empty() {
            cx.error(h.span(), "a hint must not be empty".to_owned());
        }
    }

    // Declared names: one namespace for variables and synchronisation objects, so that every
    // name in the code means one thing.
    let mut names = Names::default();
    let vars: Vec<Var> = by_position(&raw.vars)
        .into_iter()
        .map(|(name, value)| {
            names.declare(&mut cx, name, value.span(), "shared variable");
            Var {
                name: name.clone(),
                initial: *value.get_ref(),
            }
        })
        .collect();
    let locks: Vec<String> = raw
        .locks
        .iter()
        .map(|l| {
            names.declare_at(&mut cx, l.get_ref(), l.span(), "lock");
            l.get_ref().clone()
        })
        .collect();
    let semaphores: Vec<Semaphore> = by_position(&raw.semaphores)
        .into_iter()
        .map(|(name, value)| {
            names.declare(&mut cx, name, value.span(), "semaphore");
            if *value.get_ref() < 0 {
                cx.error(
                    value.span(),
                    format!(
                        "semaphore `{name}` must start at 0 or more, not {}",
                        value.get_ref()
                    ),
                );
            }
            Semaphore {
                name: name.clone(),
                initial: *value.get_ref(),
            }
        })
        .collect();
    let thread_count = raw.threads.len();
    let barriers: Vec<Barrier> = by_position(&raw.barriers)
        .into_iter()
        .map(|(name, value)| {
            names.declare(&mut cx, name, value.span(), "barrier");
            let parties = usize::try_from(*value.get_ref()).unwrap_or(0);
            if !(2..=thread_count.max(2)).contains(&parties) {
                cx.error(
                    value.span(),
                    format!(
                        "barrier `{name}` needs from 2 to {} parties (the threads that meet \
                         there), not {}",
                        thread_count.max(2),
                        value.get_ref()
                    ),
                );
            }
            Barrier {
                name: name.clone(),
                parties,
            }
        })
        .collect();
    let conditions: Vec<CondVar> = by_position(&raw.conditions)
        .into_iter()
        .filter_map(|(name, lock)| {
            names.declare(&mut cx, name, lock.span(), "condition variable");
            match locks.iter().position(|l| l == lock.get_ref()) {
                Some(i) => Some(CondVar {
                    name: name.clone(),
                    lock: i,
                }),
                None => {
                    cx.error(
                        lock.span(),
                        format!(
                            "condition variable `{name}` needs one of the puzzle's locks, \
                             not `{}` ({})",
                            lock.get_ref(),
                            listing("locks", &locks)
                        ),
                    );
                    None
                }
            }
        })
        .collect();
    let channels: Vec<Channel> = by_position(&raw.channels)
        .into_iter()
        .map(|(name, value)| {
            names.declare(&mut cx, name, value.span(), "channel");
            let capacity = *value.get_ref();
            if !(0..=MAX_CAPACITY).contains(&capacity) {
                cx.error(
                    value.span(),
                    format!(
                        "channel `{name}` needs a capacity from 0 to {MAX_CAPACITY} messages \
                         (0: every send waits for its receive), not {capacity}"
                    ),
                );
            }
            Channel {
                name: name.clone(),
                capacity: usize::try_from(capacity).unwrap_or(0),
            }
        })
        .collect();

    let mut puzzle = Puzzle {
        id: raw.id.get_ref().clone(),
        title: raw.title.get_ref().trim().to_owned(),
        goal: goal.unwrap_or(Goal::Finish),
        goal_text: raw
            .goal_text
            .as_ref()
            .map(|t| t.get_ref().trim().to_owned())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| goal.unwrap_or(Goal::Finish).default_text().to_owned()),
        description: raw.description.get_ref().trim().to_owned(),
        hints: raw
            .hints
            .iter()
            .map(|h| h.get_ref().trim().to_owned())
            .collect(),
        vars,
        locks,
        semaphores,
        barriers,
        conditions,
        channels,
        final_assert: None,
        threads: Vec::new(),
    };

    if !(2..=MAX_THREADS).contains(&thread_count) {
        let span = raw.threads.first().map_or(table.clone(), |t| t.span());
        cx.error(
            span,
            format!(
                "a puzzle needs 2 or 3 threads (`[[puzzles.threads]]` tables), not {thread_count}"
            ),
        );
    }
    let mut thread_names: HashSet<String> = HashSet::new();
    for (i, t) in raw.threads.iter().enumerate() {
        let t = t.get_ref();
        let name = match &t.name {
            Some(n) => {
                let text = n.get_ref().trim().to_owned();
                if text.is_empty() || text.chars().count() > 12 {
                    cx.error(
                        n.span(),
                        "a thread name must have from 1 to 12 characters".to_owned(),
                    );
                }
                text
            }
            None => format!("T{}", i + 1),
        };
        if !thread_names.insert(name.clone()) {
            let span = t.name.as_ref().map_or(t.code.span(), |n| n.span());
            cx.error(span, format!("two threads are called `{name}`"));
        }
        if let Some(thread) = compile_thread(&mut cx, &puzzle, name, &t.code) {
            puzzle.threads.push(thread);
        }
    }

    if let Some(fa) = &raw.final_assert {
        let code = CodeMap::new(source, fa.span(), fa.get_ref());
        let text = fa.get_ref().trim();
        let start = fa.get_ref().len() - fa.get_ref().trim_start().len();
        match tokenize(text, start) {
            Ok(tokens) => {
                let mut args = Args::new(&tokens, &code, text.len() + start, "final_assert", FINAL);
                let mut regs = Registers::none();
                let cond = args.condition(&mut cx, &puzzle, &mut regs, Operands::VarsAndInts);
                if let Some(cond) = cond
                    && args.end(&mut cx)
                {
                    puzzle.final_assert = Some(cond);
                }
            }
            Err((span, message)) => cx.error(code.at(span), message),
        }
    }

    // The goal is checked only on a puzzle without other problems, whose code is complete.
    if let Some(goal) = goal
        && cx.errors.is_empty()
    {
        check_goal_needs(&mut cx, &puzzle, goal, raw.goal.span());
    }
    if search && cx.errors.is_empty() {
        check_solvable(&mut cx, &puzzle, raw.goal.span());
    }
    if cx.errors.is_empty() {
        Ok(puzzle)
    } else {
        Err(cx.errors)
    }
}

/// Checking context: the TOML text and the problems found so far.
struct Cx<'s> {
    source: &'s str,
    errors: Vec<PuzzleError>,
}

impl Cx<'_> {
    fn error(&mut self, span: Range<usize>, message: String) {
        self.errors.push(PuzzleError { span, message });
    }
}

/// Map entries in the order they were written (a `BTreeMap` sorts them by name).
fn by_position<T>(map: &BTreeMap<String, Spanned<T>>) -> Vec<(&String, &Spanned<T>)> {
    let mut v: Vec<_> = map.iter().collect();
    v.sort_by_key(|(_, value)| value.span().start);
    v
}

/// Every declared name, and what kind of thing it names.
#[derive(Default)]
struct Names {
    kinds: HashMap<String, &'static str>,
}

impl Names {
    /// Declares a table key; `value` is the span of its value (the key is found just before).
    fn declare(&mut self, cx: &mut Cx<'_>, name: &str, value: Range<usize>, kind: &'static str) {
        let span = key_span(cx.source, name, value);
        self.declare_at(cx, name, span, kind);
    }

    fn declare_at(&mut self, cx: &mut Cx<'_>, name: &str, span: Range<usize>, kind: &'static str) {
        if !is_name(name) {
            cx.error(
                span,
                format!(
                    "invalid {kind} name `{name}`: use letters, digits and `_`, starting with a \
                     letter, optionally with an index such as `flag[0]`"
                ),
            );
        } else if let Some(first) = self.kinds.get(name) {
            cx.error(
                span,
                format!("`{name}` is declared twice (as a {first} and as a {kind})"),
            );
        } else {
            self.kinds.insert(name.to_owned(), kind);
        }
    }
}

/// The span of a table key written before its value on the same line (TOML keeps a key and
/// its value on one line); the value's span if the key is not found there.
fn key_span(source: &str, key: &str, value: Range<usize>) -> Range<usize> {
    let before = source.get(..value.start).unwrap_or("");
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    match before[line_start..].rfind(key) {
        Some(i) => line_start + i..line_start + i + key.len(),
        None => value,
    }
}

fn is_valid_id(id: &str) -> bool {
    id.starts_with(|c: char| c.is_ascii_lowercase())
        && !id.ends_with('-')
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// `name`, `flag_2` or `flag[0]`.
fn is_name(s: &str) -> bool {
    let (base, index) = match s.split_once('[') {
        Some((b, rest)) => match rest.strip_suffix(']') {
            Some(i) => (b, Some(i)),
            None => return false,
        },
        None => (s, None),
    };
    base.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && base.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && index.is_none_or(|i| !i.is_empty() && i.chars().all(|c| c.is_ascii_digit()))
}

fn listing(kind: &str, names: &[String]) -> String {
    if names.is_empty() {
        format!("the puzzle declares no {kind}")
    } else {
        format!("{kind}: {}", names.join(", "))
    }
}

// ----- positions inside a thread's code --------------------------------------------------

/// Maps byte offsets in a string value's decoded text to offsets in the TOML source.
struct CodeMap {
    /// Source offset of the decoded text's first byte, when the two match byte for byte.
    content: Option<usize>,
    /// The string value's span, for when they do not.
    value: Range<usize>,
}

impl CodeMap {
    fn new(source: &str, value: Range<usize>, decoded: &str) -> Self {
        let raw = source.get(value.clone()).unwrap_or("");
        let delimiter = ["'''", "\"\"\"", "'", "\""]
            .into_iter()
            .find(|d| raw.starts_with(d))
            .unwrap_or("");
        let mut start = value.start + delimiter.len();
        if delimiter.len() == 3 {
            // A newline right after the opening delimiter is not part of the string.
            let rest = source.get(start..).unwrap_or("");
            if rest.starts_with("\r\n") {
                start += 2;
            } else if rest.starts_with('\n') {
                start += 1;
            }
        }
        let matches = source.get(start..start + decoded.len()) == Some(decoded);
        Self {
            content: matches.then_some(start),
            value,
        }
    }

    /// The source span of `range` in the decoded text.
    fn at(&self, range: Range<usize>) -> Range<usize> {
        match self.content {
            Some(s) => s + range.start..s + range.end,
            None => self.value.start..self.value.start,
        }
    }
}

// ----- tokens ----------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Int(i64),
    Op(CmpOp),
    Comma,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    /// Offsets in the decoded code text.
    span: Range<usize>,
}

impl Token {
    fn describe(&self) -> String {
        match &self.tok {
            Tok::Word(w) => format!("`{w}`"),
            Tok::Int(k) => format!("the number {k}"),
            Tok::Op(op) => format!("`{op}`"),
            Tok::Comma => "`,`".to_owned(),
        }
    }
}

/// Splits `text` (which starts at offset `base` of the decoded code) into tokens.
fn tokenize(text: &str, base: usize) -> Result<Vec<Token>, (Range<usize>, String)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let tok = if c == b',' {
            i += 1;
            Tok::Comma
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            if i < bytes.len() && bytes[i] == b'[' {
                let close = text[i..].find(']').map(|j| i + j + 1);
                match close {
                    Some(end) if is_name(&text[start..end]) => i = end,
                    _ => {
                        return Err((
                            base + start..base + i + 1,
                            "an index must be a whole number in brackets, e.g. `flag[0]`"
                                .to_owned(),
                        ));
                    }
                }
            }
            Tok::Word(text[start..i].to_owned())
        } else if c.is_ascii_digit()
            || (c == b'-' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            match text[start..i].parse::<i64>() {
                Ok(k) if k.unsigned_abs() <= 1_000_000_000 => Tok::Int(k),
                _ => {
                    return Err((
                        base + start..base + i,
                        format!(
                            "number `{}` is too large (at most ±1000000000)",
                            &text[start..i]
                        ),
                    ));
                }
            }
        } else if matches!(c, b'=' | b'!' | b'<' | b'>') {
            let two = text.get(i..i + 2).and_then(CmpOp::from_symbol);
            let one = text.get(i..i + 1).and_then(CmpOp::from_symbol);
            if let Some(op) = two {
                i += 2;
                Tok::Op(op)
            } else if let Some(op) = one {
                i += 1;
                Tok::Op(op)
            } else {
                return Err((
                    base + start..base + start + 1,
                    "`=` alone is not a comparison: use `==` (compare) or `store` (assign)"
                        .to_owned(),
                ));
            }
        } else {
            let ch = text[start..].chars().next().unwrap_or('?');
            return Err((
                base + start..base + start + ch.len_utf8(),
                format!("unexpected character `{ch}` in an instruction"),
            ));
        };
        out.push(Token {
            tok,
            span: base + start..base + i,
        });
    }
    Ok(out)
}

// ----- instructions ----------------------------------------------------------------------

/// The instructions, with how each is written, for messages.
const INSTRUCTIONS: &[(&str, &str)] = &[
    ("load", "load REGISTER, VARIABLE"),
    ("store", "store VARIABLE, REGISTER-or-NUMBER"),
    ("set", "set REGISTER, REGISTER-or-NUMBER"),
    ("add", "add REGISTER, REGISTER-or-NUMBER"),
    ("sub", "sub REGISTER, REGISTER-or-NUMBER"),
    (
        "jump_if",
        "jump_if REGISTER OP REGISTER-or-NUMBER, LABEL (OP: == != < <= > >=)",
    ),
    ("jump", "jump LABEL"),
    ("lock", "lock MUTEX"),
    ("unlock", "unlock MUTEX"),
    ("wait", "wait CONDITION"),
    ("signal", "signal CONDITION"),
    ("broadcast", "broadcast CONDITION"),
    ("down", "down SEMAPHORE"),
    ("up", "up SEMAPHORE"),
    ("barrier", "barrier BARRIER"),
    ("send", "send CHANNEL, REGISTER-or-NUMBER"),
    ("recv", "recv REGISTER, CHANNEL"),
    (
        "assert",
        "assert VALUE OP VALUE (variables, registers, numbers)",
    ),
    ("critical_begin", "critical_begin"),
    ("critical_end", "critical_end"),
    ("enter", "enter (same as critical_begin)"),
    ("leave", "leave (same as critical_end)"),
    ("nop", "nop"),
];

const FINAL: &str = "final_assert = \"VARIABLE OP VALUE\" (shared variables and numbers)";

/// What an operand may be.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Operands {
    /// A register or a number.
    RegsAndInts,
    /// A shared variable, a register or a number.
    Any,
    /// A shared variable or a number (no thread to own a register).
    VarsAndInts,
}

/// A thread's registers as they are found in its code.
struct Registers {
    /// Names in order of first use; `None` where registers are not allowed.
    names: Option<Vec<String>>,
    /// Registers an instruction assigns.
    written: HashSet<usize>,
    /// Where each register is first read, to report registers that are never assigned.
    first_read: HashMap<usize, Range<usize>>,
}

impl Registers {
    fn new() -> Self {
        Self {
            names: Some(Vec::new()),
            written: HashSet::new(),
            first_read: HashMap::new(),
        }
    }

    fn none() -> Self {
        Self {
            names: None,
            written: HashSet::new(),
            first_read: HashMap::new(),
        }
    }

    fn index(&mut self, name: &str) -> Option<usize> {
        let names = self.names.as_mut()?;
        Some(match names.iter().position(|n| n == name) {
            Some(i) => i,
            None => {
                names.push(name.to_owned());
                names.len() - 1
            }
        })
    }
}

/// The operands of one instruction, read left to right.
struct Args<'t> {
    tokens: &'t [Token],
    pos: usize,
    code: &'t CodeMap,
    /// Offset just after the instruction, for "missing operand" messages.
    end: usize,
    mnemonic: &'t str,
    usage: &'t str,
}

impl<'t> Args<'t> {
    fn new(
        tokens: &'t [Token],
        code: &'t CodeMap,
        end: usize,
        mnemonic: &'t str,
        usage: &'t str,
    ) -> Self {
        Self {
            tokens,
            pos: 0,
            code,
            end,
            mnemonic,
            usage,
        }
    }

    fn fail(&self, cx: &mut Cx<'_>, span: Range<usize>, what: &str) {
        cx.error(
            self.code.at(span),
            format!("{what}; write `{}`", self.usage),
        );
    }

    fn next(&mut self, cx: &mut Cx<'_>, expected: &str) -> Option<&'t Token> {
        let t = self.tokens.get(self.pos);
        match t {
            Some(t) => {
                self.pos += 1;
                Some(t)
            }
            None => {
                self.fail(
                    cx,
                    self.end..self.end,
                    &format!("`{}` is missing {expected}", self.mnemonic),
                );
                None
            }
        }
    }

    fn word(&mut self, cx: &mut Cx<'_>, expected: &str) -> Option<(&'t str, Range<usize>)> {
        let t = self.next(cx, expected)?;
        match &t.tok {
            Tok::Word(w) => Some((w.as_str(), t.span.clone())),
            _ => {
                self.fail(
                    cx,
                    t.span.clone(),
                    &format!("expected {expected}, found {}", t.describe()),
                );
                None
            }
        }
    }

    fn comma(&mut self, cx: &mut Cx<'_>) -> Option<()> {
        let t = self.next(cx, "a `,`")?;
        if t.tok == Tok::Comma {
            Some(())
        } else {
            self.fail(
                cx,
                t.span.clone(),
                &format!("expected `,`, found {}", t.describe()),
            );
            None
        }
    }

    /// Checks that nothing follows the last operand.
    fn end(&mut self, cx: &mut Cx<'_>) -> bool {
        match self.tokens.get(self.pos) {
            None => true,
            Some(t) => {
                self.fail(
                    cx,
                    t.span.clone(),
                    &format!("unexpected {} after the operands", t.describe()),
                );
                false
            }
        }
    }

    /// A register that the instruction assigns.
    fn dest_register(
        &mut self,
        cx: &mut Cx<'_>,
        p: &Puzzle,
        regs: &mut Registers,
    ) -> Option<usize> {
        let (name, span) = self.word(cx, "a register")?;
        let r = self.register(cx, p, regs, name, span)?;
        regs.written.insert(r);
        Some(r)
    }

    fn register(
        &mut self,
        cx: &mut Cx<'_>,
        p: &Puzzle,
        regs: &mut Registers,
        name: &str,
        span: Range<usize>,
    ) -> Option<usize> {
        if p.var_index(name).is_some() {
            let fix = if self.mnemonic == "recv" {
                "receive into a register, then `store` it"
            } else {
                "load the variable into a register first"
            };
            self.fail(
                cx,
                span,
                &format!(
                    "`{name}` is a shared variable, but `{}` needs a register here ({fix})",
                    self.mnemonic
                ),
            );
            return None;
        }
        if let Some(kind) = object_kind(p, name) {
            self.fail(cx, span, &format!("`{name}` is a {kind}, not a register"));
            return None;
        }
        regs.index(name)
    }

    /// A value: a number, a register, or (when allowed) a shared variable.
    fn value(
        &mut self,
        cx: &mut Cx<'_>,
        p: &Puzzle,
        regs: &mut Registers,
        allowed: Operands,
    ) -> Option<Operand> {
        let expected = match allowed {
            Operands::RegsAndInts => "a register or a number",
            Operands::Any => "a shared variable, a register or a number",
            Operands::VarsAndInts => "a shared variable or a number",
        };
        let t = self.next(cx, expected)?;
        match &t.tok {
            Tok::Int(k) => Some(Operand::Int(*k)),
            Tok::Word(w) => {
                if let Some(v) = p.var_index(w).filter(|_| allowed != Operands::RegsAndInts) {
                    return Some(Operand::Var(v));
                }
                if allowed == Operands::VarsAndInts {
                    self.fail(
                        cx,
                        t.span.clone(),
                        &format!(
                            "unknown shared variable `{w}` ({})",
                            listing(
                                "shared variables",
                                &p.vars.iter().map(|v| v.name.clone()).collect::<Vec<_>>()
                            )
                        ),
                    );
                    return None;
                }
                let r = self.register(cx, p, regs, w, t.span.clone())?;
                regs.first_read.entry(r).or_insert_with(|| t.span.clone());
                Some(Operand::Reg(r))
            }
            _ => {
                self.fail(
                    cx,
                    t.span.clone(),
                    &format!("expected {expected}, found {}", t.describe()),
                );
                None
            }
        }
    }

    fn shared_var(&mut self, cx: &mut Cx<'_>, p: &Puzzle) -> Option<usize> {
        let (name, span) = self.word(cx, "a shared variable")?;
        match p.var_index(name) {
            Some(v) => Some(v),
            None => {
                let vars: Vec<String> = p.vars.iter().map(|v| v.name.clone()).collect();
                self.fail(
                    cx,
                    span,
                    &format!(
                        "unknown shared variable `{name}` ({})",
                        listing("shared variables", &vars)
                    ),
                );
                None
            }
        }
    }

    /// A declared object of one kind: a lock, semaphore, barrier or condition variable.
    fn object(
        &mut self,
        cx: &mut Cx<'_>,
        kind: &str,
        plural: &str,
        names: &[String],
    ) -> Option<usize> {
        let (name, span) = self.word(cx, &format!("a {kind}"))?;
        match names.iter().position(|n| n == name) {
            Some(i) => Some(i),
            None => {
                self.fail(
                    cx,
                    span,
                    &format!("unknown {kind} `{name}` ({})", listing(plural, names)),
                );
                None
            }
        }
    }

    fn condition(
        &mut self,
        cx: &mut Cx<'_>,
        p: &Puzzle,
        regs: &mut Registers,
        allowed: Operands,
    ) -> Option<Condition> {
        let first = self.tokens.get(self.pos).map(|t| t.span.start);
        let left = self.value(cx, p, regs, allowed)?;
        let t = self.next(cx, "a comparison (== != < <= > >=)")?;
        let Tok::Op(op) = t.tok else {
            self.fail(
                cx,
                t.span.clone(),
                &format!(
                    "expected a comparison (== != < <= > >=), found {}",
                    t.describe()
                ),
            );
            return None;
        };
        let right = self.value(cx, p, regs, allowed)?;
        let last = self.tokens.get(self.pos - 1).map(|t| t.span.end);
        let text = match (first, last) {
            (Some(a), Some(b)) => self.slice(a..b),
            _ => String::new(),
        };
        Some(Condition {
            left,
            op,
            right,
            text,
        })
    }

    /// The condition as written, rebuilt from its tokens (spacing normalised).
    fn slice(&self, range: Range<usize>) -> String {
        self.tokens
            .iter()
            .filter(|t| t.span.start >= range.start && t.span.end <= range.end)
            .map(|t| match &t.tok {
                Tok::Word(w) => w.clone(),
                Tok::Int(k) => k.to_string(),
                Tok::Op(op) => op.to_string(),
                Tok::Comma => ",".to_owned(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// What kind of declared object `name` is, if it is a lock, semaphore, barrier or condition.
fn object_kind(p: &Puzzle, name: &str) -> Option<&'static str> {
    if p.locks.iter().any(|l| l == name) {
        Some("lock")
    } else if p.semaphores.iter().any(|s| s.name == name) {
        Some("semaphore")
    } else if p.barriers.iter().any(|b| b.name == name) {
        Some("barrier")
    } else if p.conditions.iter().any(|c| c.name == name) {
        Some("condition variable")
    } else if p.channels.iter().any(|c| c.name == name) {
        Some("channel")
    } else {
        None
    }
}

/// One line of a thread's code: its text without indentation, where that text starts in the
/// decoded code, and its indentation.
struct CodeLine<'c> {
    text: &'c str,
    start: usize,
    indent: usize,
}

/// A jump waiting for its label to be known.
struct PendingJump {
    step: usize,
    label: String,
    span: Range<usize>,
}

/// Compiles one thread's `code` string.
fn compile_thread(
    cx: &mut Cx<'_>,
    p: &Puzzle,
    name: String,
    code: &Spanned<String>,
) -> Option<Thread> {
    let before = cx.errors.len();
    let text = code.get_ref();
    let map = CodeMap::new(cx.source, code.span(), text);
    let mut lines: Vec<CodeLine<'_>> = Vec::new();
    let mut offset = 0;
    for raw in text.split('\n') {
        let start = offset;
        offset += raw.len() + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("//") {
            continue;
        }
        let indent = raw.len() - raw.trim_start().len();
        lines.push(CodeLine {
            text: trimmed,
            start: start + indent,
            indent,
        });
    }
    if lines.is_empty() {
        cx.error(
            code.span(),
            format!("thread `{name}` has no code: write one instruction per line"),
        );
        return None;
    }
    let base = lines.iter().map(|l| l.indent).min().unwrap_or(0);

    let mut thread = Thread {
        name,
        lines: Vec::new(),
        steps: Vec::new(),
        registers: Vec::new(),
    };
    let mut regs = Registers::new();
    let mut labels: HashMap<String, usize> = HashMap::new();
    let mut jumps: Vec<PendingJump> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.indent > base {
            // A step of the shown line above (the first line is never indented past `base`).
            compile_step(
                cx,
                p,
                &map,
                line,
                &mut thread,
                &mut regs,
                &mut labels,
                &mut jumps,
            );
            if let Some(last) = thread.lines.last_mut() {
                last.steps.end = thread.steps.len();
            }
            continue;
        }
        let has_steps = lines.get(i + 1).is_some_and(|next| next.indent > base);
        let first_step = thread.steps.len();
        if has_steps {
            // A label alone above indented steps labels the first of them.
            if let Some(label) = line.text.strip_suffix(':').filter(|l| is_name(l))
                && labels.insert(label.to_owned(), first_step).is_some()
            {
                cx.error(
                    map.at(line.start..line.start + label.len()),
                    format!("label `{label}` is used twice in this thread"),
                );
            }
            thread.lines.push(SourceLine {
                text: line.text.to_owned(),
                steps: first_step..first_step,
                expanded: true,
            });
        } else {
            thread.lines.push(SourceLine {
                text: line.text.to_owned(),
                steps: first_step..first_step,
                expanded: false,
            });
            compile_step(
                cx,
                p,
                &map,
                line,
                &mut thread,
                &mut regs,
                &mut labels,
                &mut jumps,
            );
            if let Some(last) = thread.lines.last_mut() {
                last.steps.end = thread.steps.len();
            }
        }
    }
    if thread.steps.is_empty() && cx.errors.len() == before {
        cx.error(
            code.span(),
            format!("thread `{}` has no instructions", thread.name),
        );
    }
    for j in jumps {
        match labels.get(&j.label) {
            Some(&target) => match &mut thread.steps[j.step].instr {
                Instr::Jump { target: t } | Instr::JumpIf { target: t, .. } => *t = target,
                _ => {}
            },
            None => {
                let mut known: Vec<String> = labels.keys().cloned().collect();
                known.sort();
                cx.error(
                    map.at(j.span),
                    format!(
                        "unknown label `{}` ({})",
                        j.label,
                        if known.is_empty() {
                            "the thread has no labels; write `NAME:` before a step".to_owned()
                        } else {
                            format!("labels in this thread: {}", known.join(", "))
                        }
                    ),
                );
            }
        }
    }
    let mut unset: Vec<(&usize, &Range<usize>)> = regs
        .first_read
        .iter()
        .filter(|(r, _)| !regs.written.contains(r))
        .collect();
    unset.sort_by_key(|(_, span)| span.start);
    for (r, span) in unset {
        let name = regs
            .names
            .as_ref()
            .and_then(|n| n.get(*r))
            .map_or("?", String::as_str);
        cx.error(
            map.at(span.clone()),
            format!(
                "register `{name}` is read but never set in thread `{}` (a typo? {})",
                thread.name,
                listing(
                    "shared variables",
                    &p.vars.iter().map(|v| v.name.clone()).collect::<Vec<_>>()
                )
            ),
        );
    }
    thread.registers = regs.names.unwrap_or_default();
    (cx.errors.len() == before).then_some(thread)
}

/// Compiles one step line (`[label:] instruction`, or a label alone) into `thread`.
#[allow(clippy::too_many_arguments)]
fn compile_step(
    cx: &mut Cx<'_>,
    p: &Puzzle,
    map: &CodeMap,
    line: &CodeLine<'_>,
    thread: &mut Thread,
    regs: &mut Registers,
    labels: &mut HashMap<String, usize>,
    jumps: &mut Vec<PendingJump>,
) {
    let mut text = line.text;
    let mut start = line.start;
    // A label: `name:` before the instruction.
    if let Some((label, rest)) = text.split_once(':')
        && is_name(label.trim())
        && !label.contains(char::is_whitespace)
    {
        let span = map.at(start..start + label.len());
        if labels
            .insert(label.to_owned(), thread.steps.len())
            .is_some()
        {
            cx.error(
                span,
                format!("label `{label}` is used twice in this thread"),
            );
        }
        let skipped = text.len() - rest.trim_start().len();
        start += skipped;
        text = rest.trim_start();
        if text.is_empty() {
            return;
        }
    }
    let tokens = match tokenize(text, start) {
        Ok(t) => t,
        Err((span, message)) => {
            cx.error(map.at(span), message);
            return;
        }
    };
    let Some(first) = tokens.first() else {
        return;
    };
    let Tok::Word(mnemonic) = &first.tok else {
        cx.error(
            map.at(first.span.clone()),
            format!(
                "expected an instruction, found {} (write readable code on its own line and \
                 its steps indented below it)",
                first.describe()
            ),
        );
        return;
    };
    let Some((_, usage)) = INSTRUCTIONS.iter().find(|(m, _)| m == mnemonic) else {
        let known: Vec<&str> = INSTRUCTIONS.iter().map(|(m, _)| *m).collect();
        cx.error(
            map.at(first.span.clone()),
            format!(
                "unknown instruction `{mnemonic}` (known: {}); to show readable code, write it on \
                 its own line and its steps indented below it",
                known.join(", ")
            ),
        );
        return;
    };
    let end = start + text.len();
    let mut args = Args::new(&tokens[1..], map, end, mnemonic, usage);
    let step_index = thread.steps.len();
    let instr = match mnemonic.as_str() {
        "load" => (|| {
            let reg = args.dest_register(cx, p, regs)?;
            args.comma(cx)?;
            let var = args.shared_var(cx, p)?;
            Some(Instr::Load { reg, var })
        })(),
        "store" => (|| {
            let var = args.shared_var(cx, p)?;
            args.comma(cx)?;
            let value = args.value(cx, p, regs, Operands::RegsAndInts)?;
            Some(Instr::Store { var, value })
        })(),
        "set" | "add" | "sub" => (|| {
            let reg = args.dest_register(cx, p, regs)?;
            args.comma(cx)?;
            let value = args.value(cx, p, regs, Operands::RegsAndInts)?;
            Some(match mnemonic.as_str() {
                "set" => Instr::Set { reg, value },
                "add" => Instr::Add { reg, value },
                _ => Instr::Sub { reg, value },
            })
        })(),
        "jump_if" => (|| {
            let cond = args.condition(cx, p, regs, Operands::RegsAndInts)?;
            args.comma(cx)?;
            let (label, span) = args.word(cx, "a label")?;
            jumps.push(PendingJump {
                step: step_index,
                label: label.to_owned(),
                span,
            });
            Some(Instr::JumpIf { cond, target: 0 })
        })(),
        "jump" => (|| {
            let (label, span) = args.word(cx, "a label")?;
            jumps.push(PendingJump {
                step: step_index,
                label: label.to_owned(),
                span,
            });
            Some(Instr::Jump { target: 0 })
        })(),
        "lock" | "unlock" => args.object(cx, "lock", "locks", &p.locks).map(|m| {
            if mnemonic == "lock" {
                Instr::Lock(m)
            } else {
                Instr::Unlock(m)
            }
        }),
        "wait" | "signal" | "broadcast" => {
            let names: Vec<String> = p.conditions.iter().map(|c| c.name.clone()).collect();
            args.object(cx, "condition variable", "condition variables", &names)
                .map(|c| match mnemonic.as_str() {
                    "wait" => Instr::Wait(c),
                    "signal" => Instr::Signal(c),
                    _ => Instr::Broadcast(c),
                })
        }
        "down" | "up" => {
            let names: Vec<String> = p.semaphores.iter().map(|s| s.name.clone()).collect();
            args.object(cx, "semaphore", "semaphores", &names).map(|s| {
                if mnemonic == "down" {
                    Instr::Down(s)
                } else {
                    Instr::Up(s)
                }
            })
        }
        "barrier" => {
            let names: Vec<String> = p.barriers.iter().map(|b| b.name.clone()).collect();
            args.object(cx, "barrier", "barriers", &names)
                .map(Instr::Barrier)
        }
        "send" => (|| {
            let names: Vec<String> = p.channels.iter().map(|c| c.name.clone()).collect();
            let channel = args.object(cx, "channel", "channels", &names)?;
            args.comma(cx)?;
            let value = args.value(cx, p, regs, Operands::RegsAndInts)?;
            Some(Instr::Send { channel, value })
        })(),
        "recv" => (|| {
            let reg = args.dest_register(cx, p, regs)?;
            args.comma(cx)?;
            let names: Vec<String> = p.channels.iter().map(|c| c.name.clone()).collect();
            let channel = args.object(cx, "channel", "channels", &names)?;
            Some(Instr::Recv { reg, channel })
        })(),
        "assert" => args
            .condition(cx, p, regs, Operands::Any)
            .map(Instr::Assert),
        "critical_begin" | "enter" => Some(Instr::CriticalBegin),
        "critical_end" | "leave" => Some(Instr::CriticalEnd),
        _ => Some(Instr::Nop),
    };
    let Some(instr) = instr else {
        return;
    };
    if !args.end(cx) {
        return;
    }
    thread.steps.push(Step {
        instr,
        text: line.text.to_owned(),
        line: thread.lines.len().saturating_sub(1),
    });
}

/// Checks that the code contains what the goal needs, so that the message names the cause
/// rather than just "unreachable".
fn check_goal_needs(cx: &mut Cx<'_>, p: &Puzzle, goal: Goal, span: Range<usize>) {
    let any =
        |f: &dyn Fn(&Instr) -> bool| p.threads.iter().flat_map(|t| &t.steps).any(|s| f(&s.instr));
    match goal {
        Goal::AssertFails
            if p.final_assert.is_none() && !any(&|i| matches!(i, Instr::Assert(_))) =>
        {
            cx.error(
                span,
                "goal `assert_fails` needs an `assert` in a thread or a `final_assert`".to_owned(),
            );
        }
        Goal::BothInCritical if !p.has_critical_section() => cx.error(
            span,
            "goal `both_in_critical` needs a critical section: `critical_begin` … `critical_end` \
             in the threads"
                .to_owned(),
        ),
        _ => {}
    }
}

/// Runs the exhaustive search: the goal must be reachable, and a `finish` puzzle unbreakable.
fn check_solvable(cx: &mut Cx<'_>, p: &Puzzle, span: Range<usize>) {
    let result = explore(p, CHECK_LIMIT);
    if !result.complete {
        cx.error(
            span,
            format!(
                "the puzzle is too large to check: more than {CHECK_LIMIT} reachable states \
                 (make loops shorter or values smaller)"
            ),
        );
        return;
    }
    if !result.goal_reachable {
        cx.error(
            span,
            format!(
                "no interleaving reaches the goal `{}` (all {} reachable states checked)",
                p.goal.name(),
                result.states_explored
            ),
        );
        return;
    }
    if p.goal == Goal::Finish
        && let Some(schedule) = &result.counterexample
    {
        cx.error(
            span,
            format!(
                "a `finish` puzzle must not break, but this schedule breaks it: {}",
                p.schedule_text(schedule)
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        match puzzle_from_toml(text) {
            Ok(_) => vec![],
            Err(es) => es
                .iter()
                .map(|e| {
                    let (line, col) = position(text, e.span.start);
                    format!("{line}:{col}: {}", e.message)
                })
                .collect(),
        }
    }

    fn position(text: &str, offset: usize) -> (usize, usize) {
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }

    const LOST_UPDATE: &str = r#"id = "lost"
title = "Lost update"
goal = "assert_fails"
description = "Two increments."
vars = { counter = 0 }
final_assert = "counter == 2"

[[threads]]
code = '''
counter += 1
    load r, counter
    add r, 1
    store counter, r
'''

[[threads]]
code = '''
counter += 1
    load r, counter
    add r, 1
    store counter, r
'''
"#;

    #[test]
    fn a_valid_puzzle_compiles_lines_and_steps() {
        let p = puzzle_from_toml(LOST_UPDATE).expect("valid");
        assert_eq!(p.threads.len(), 2);
        let t = &p.threads[0];
        assert_eq!(t.name, "T1");
        assert_eq!(t.registers, ["r"]);
        assert_eq!(t.lines.len(), 1);
        assert_eq!(t.lines[0].text, "counter += 1");
        assert_eq!(t.lines[0].steps, 0..3);
        assert!(t.lines[0].expanded);
        assert_eq!(t.steps[2].text, "store counter, r");
        assert_eq!(
            t.steps[0].instr,
            Instr::Load { reg: 0, var: 0 },
            "register 0, variable 0"
        );
        let fa = p.final_assert.expect("final assert");
        assert_eq!(fa.text, "counter == 2");
        assert_eq!(p.goal_text, Goal::AssertFails.default_text());
    }

    #[test]
    fn labels_resolve_to_steps_and_to_the_end() {
        let text = r#"id = "spin"
title = "Spin"
goal = "both_in_critical"
description = "d"
vars = { busy = 0 }

[[threads]]
name = "A"
code = '''
while busy != 0: spin
    top: load r, busy
    jump_if r != 0, top
busy = 1
    store busy, 1
critical_begin
critical_end
jump done
nop
done:
'''

[[threads]]
name = "B"
code = '''
top:
load r, busy
jump_if r != 0, top
store busy, 1
enter
leave
'''
"#;
        let p = puzzle_from_toml(text).expect("valid");
        let a = &p.threads[0];
        assert_eq!(
            a.steps[1].instr,
            Instr::JumpIf {
                cond: Condition {
                    left: Operand::Reg(0),
                    op: CmpOp::Ne,
                    right: Operand::Int(0),
                    text: "r != 0".into()
                },
                target: 0
            }
        );
        assert_eq!(a.steps[5].instr, Instr::Jump { target: 7 }, "to the end");
        assert_eq!(a.lines.last().map(|l| l.text.as_str()), Some("done:"));
        assert_eq!(a.lines.last().map(|l| l.steps.clone()), Some(7..7));
        let b = &p.threads[1];
        assert_eq!(b.lines[0].text, "top:");
        assert_eq!(b.lines[0].steps, 0..0);
        assert!(matches!(b.steps[1].instr, Instr::JumpIf { target: 0, .. }));
    }

    fn with_code(code: &str) -> String {
        format!(
            "id = \"x\"\ntitle = \"X\"\ngoal = \"deadlock\"\ndescription = \"d\"\nvars = {{ counter = 0 }}\nlocks = [\"a\", \"b\"]\n\n[[threads]]\ncode = '''\n{code}\n'''\n\n[[threads]]\ncode = '''\nlock b\nlock a\nunlock a\nunlock b\n'''\n"
        )
    }

    #[test]
    fn instruction_errors_point_at_the_operand() {
        // Line 10 is the first line of the first thread's code.
        assert_eq!(
            errors(&with_code("lod r, counter")),
            [
                "10:1: unknown instruction `lod` (known: load, store, set, add, sub, jump_if, jump, lock, unlock, wait, signal, broadcast, down, up, barrier, send, recv, assert, critical_begin, critical_end, enter, leave, nop); to show readable code, write it on its own line and its steps indented below it"
            ]
        );
        assert_eq!(
            errors(&with_code("lock a\nload r, countr")),
            [
                "11:9: unknown shared variable `countr` (shared variables: counter); write `load REGISTER, VARIABLE`"
            ]
        );
        assert_eq!(
            errors(&with_code("lock c")),
            ["10:6: unknown lock `c` (locks: a, b); write `lock MUTEX`"]
        );
        assert_eq!(
            errors(&with_code("x:\nlock a\njump y")),
            ["12:6: unknown label `y` (labels in this thread: x)"]
        );
        assert_eq!(
            errors(&with_code("store counter r")),
            ["10:15: expected `,`, found `r`; write `store VARIABLE, REGISTER-or-NUMBER`"]
        );
        assert_eq!(
            errors(&with_code("load counter, counter")),
            [
                "10:6: `counter` is a shared variable, but `load` needs a register here (load the variable into a register first); write `load REGISTER, VARIABLE`"
            ]
        );
        assert_eq!(
            errors(&with_code("add r, 1\nstore counter, q")),
            [
                "11:16: register `q` is read but never set in thread `T1` (a typo? shared variables: counter)"
            ]
        );
        assert_eq!(
            errors(&with_code("load r,")),
            ["10:8: `load` is missing a shared variable; write `load REGISTER, VARIABLE`"]
        );
        assert_eq!(
            errors(&with_code("lock a\nassert counter = 1")),
            ["11:16: `=` alone is not a comparison: use `==` (compare) or `store` (assign)"]
        );
        assert_eq!(
            errors(&with_code(
                "counter += 1\n    load r, counter\n    add r, 1 2"
            )),
            [
                "12:14: unexpected the number 2 after the operands; write `add REGISTER, REGISTER-or-NUMBER`"
            ]
        );
    }

    #[test]
    fn puzzle_level_errors_point_at_their_key() {
        let unknown_goal = LOST_UPDATE.replace("\"assert_fails\"", "\"explode\"");
        assert_eq!(
            errors(&unknown_goal),
            [
                "3:8: unknown goal `explode` (known: assert_fails, deadlock, both_in_critical, finish)"
            ]
        );
        let no_assert = LOST_UPDATE.replace("final_assert = \"counter == 2\"\n", "");
        assert_eq!(
            errors(&no_assert),
            ["3:8: goal `assert_fails` needs an `assert` in a thread or a `final_assert`"]
        );
        let bad_var = LOST_UPDATE.replace("counter = 0", "counter = 0, \"2x\" = 1");
        assert_eq!(
            errors(&bad_var),
            [
                "5:24: invalid shared variable name `2x`: use letters, digits and `_`, starting with a letter, optionally with an index such as `flag[0]`"
            ]
        );
        let one_thread = &LOST_UPDATE[..LOST_UPDATE.rfind("[[threads]]").expect("two")];
        assert_eq!(
            errors(one_thread),
            ["8:1: a puzzle needs 2 or 3 threads (`[[puzzles.threads]]` tables), not 1"]
        );
        let bad_final = LOST_UPDATE.replace("counter == 2", "count == 2");
        assert_eq!(
            errors(&bad_final),
            [
                "6:17: unknown shared variable `count` (shared variables: counter); write `final_assert = \"VARIABLE OP VALUE\" (shared variables and numbers)`"
            ]
        );
        let unreachable = LOST_UPDATE.replace("counter == 2", "counter <= 2");
        assert_eq!(
            errors(&unreachable),
            [
                "3:8: no interleaving reaches the goal `assert_fails` (all 22 reachable states checked)"
            ]
        );
        let breakable = LOST_UPDATE.replace("\"assert_fails\"", "\"finish\"");
        assert_eq!(
            errors(&breakable),
            [
                "3:8: a `finish` puzzle must not break, but this schedule breaks it: T1 T1 T2 T1 T2 T2"
            ]
        );
        let missing = LOST_UPDATE.replace("goal = \"assert_fails\"\n", "");
        assert_eq!(errors(&missing), ["1:1: missing key `goal`"]);
    }

    #[test]
    fn duplicate_ids_and_names_are_reported() {
        let doc = format!(
            "[[puzzles]]\n{}\n[[puzzles]]\n{}",
            LOST_UPDATE.replace("[[threads]]", "[[puzzles.threads]]"),
            LOST_UPDATE.replace("[[threads]]", "[[puzzles.threads]]")
        );
        #[derive(Deserialize)]
        struct Doc {
            puzzles: Vec<Spanned<RawPuzzle>>,
        }
        let parsed: Doc = toml::from_str(&doc).expect("toml");
        let (ok, errs) = parse_puzzles(parsed.puzzles, &doc);
        assert_eq!(ok.len(), 2);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].message, "duplicate puzzle id `lost` in this lesson");
        let (line, col) = position(&doc, errs[0].span.start);
        assert_eq!((line, col), (26, 6));

        let twice = LOST_UPDATE.replace(
            "vars = { counter = 0 }",
            "vars = { counter = 0 }\nlocks = [\"counter\"]",
        );
        assert_eq!(
            errors(&twice),
            ["6:10: `counter` is declared twice (as a shared variable and as a lock)"]
        );
    }

    /// A two-rank exchange; line 10 is the first line of the first thread's code.
    fn with_channels(code: &str) -> String {
        format!(
            "id = \"x\"\ntitle = \"X\"\ngoal = \"deadlock\"\ndescription = \"d\"\nvars = {{ counter = 0 }}\nchannels = {{ to1 = 0, to0 = 0 }}\n\n[[threads]]\ncode = '''\n{code}\n'''\n\n[[threads]]\nname = \"rank 1\"\ncode = '''\nsend to0, 2\nrecv r, to1\n'''\n"
        )
    }

    #[test]
    fn send_and_recv_compile_and_their_errors_point_at_the_operand() {
        let p = puzzle_from_toml(&with_channels("send to1, 1\nrecv m, to0")).expect("valid");
        assert_eq!(p.channels.len(), 2);
        assert_eq!(
            (p.channels[0].name.as_str(), p.channels[0].capacity),
            ("to1", 0)
        );
        assert_eq!(
            (p.channels[1].name.as_str(), p.channels[1].capacity),
            ("to0", 0)
        );
        assert_eq!(
            p.threads[0].steps[0].instr,
            Instr::Send {
                channel: 0,
                value: Operand::Int(1)
            }
        );
        assert_eq!(
            p.threads[0].steps[1].instr,
            Instr::Recv { reg: 0, channel: 1 }
        );
        assert_eq!(p.threads[1].name, "rank 1");
        assert_eq!(p.channel_peers(0, true), [1], "rank 1 receives on to1");
        assert_eq!(p.channel_peers(0, false), [0], "T1 sends on it");

        assert_eq!(
            errors(&with_channels("send t1, 1")),
            [
                "10:6: unknown channel `t1` (channels: to1, to0); write `send CHANNEL, REGISTER-or-NUMBER`"
            ]
        );
        assert_eq!(
            errors(&with_channels("recv counter, to0")),
            [
                "10:6: `counter` is a shared variable, but `recv` needs a register here (receive into a register, then `store` it); write `recv REGISTER, CHANNEL`"
            ]
        );
        assert_eq!(
            errors(&with_channels("recv r to0")),
            ["10:8: expected `,`, found `to0`; write `recv REGISTER, CHANNEL`"]
        );
        assert_eq!(
            errors(&with_channels("send to1, to0")),
            ["10:11: `to0` is a channel, not a register; write `send CHANNEL, REGISTER-or-NUMBER`"]
        );
        assert_eq!(
            errors(&with_channels("set r, 1\nsend to1,")),
            [
                "11:10: `send` is missing a register or a number; write `send CHANNEL, REGISTER-or-NUMBER`"
            ]
        );
        let negative = with_channels("send to1, 1").replace("to1 = 0", "to1 = -1");
        assert_eq!(
            errors(&negative),
            [
                "6:20: channel `to1` needs a capacity from 0 to 8 messages (0: every send waits for its receive), not -1"
            ]
        );
        let clash = with_channels("send to1, 1").replace("to0 = 0", "counter = 0");
        assert_eq!(
            errors(&clash).first().map(String::as_str),
            Some("6:23: `counter` is declared twice (as a shared variable and as a channel)")
        );
    }

    #[test]
    fn send_first_without_buffers_never_finishes_and_ranks_are_listed_with_commas() {
        let text = with_channels("send to1, 1\nrecv m, to0").replace("\"deadlock\"", "\"finish\"");
        assert_eq!(
            errors(&text),
            ["3:8: no interleaving reaches the goal `finish` (all 4 reachable states checked)"]
        );
        let p = puzzle_from_toml(&with_channels("send to1, 1\nrecv m, to0")).expect("valid");
        assert_eq!(p.schedule_text(&[0, 1, 1]), "T1, rank 1, rank 1");
        let q = puzzle_from_toml(LOST_UPDATE).expect("valid");
        assert_eq!(q.schedule_text(&[0, 1]), "T1 T2");
    }

    #[test]
    fn escaped_strings_fall_back_to_the_start_of_the_code() {
        let text = with_code("lock a").replace(
            "code = '''\nlock a\n'''",
            "code = \"lock a\\nlod r, counter\"",
        );
        assert_eq!(errors(&text)[0].split(": ").next(), Some("9:8"));
    }
}
