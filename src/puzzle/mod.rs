//! Interleaving puzzles: the learner is the scheduler.
//!
//! A [`Puzzle`] is a tiny concurrent program: shared integer variables, mutexes, semaphores,
//! barriers, condition variables, message channels and two or three threads (or MPI ranks) of
//! atomic instructions. The learner
//! picks which thread takes the next step, one instruction at a time, and tries to reach the
//! puzzle's [`Goal`]: make an assertion fail, freeze every thread in a deadlock, get two
//! threads into the critical section at once — or, for a correct program, discover that no
//! order of steps breaks it.
//!
//! The parts:
//! - this module: the compiled model (what a puzzle *is*);
//! - [`parse_puzzle`] and friends: the `[[puzzles]]` tables of lesson front matter, with byte
//!   spans for `path:line:col` diagnostics (`lessons/README.md` documents the format);
//! - [`State`] and [`Session`]: the engine that executes steps, with undo and reset;
//! - [`explore`]: an exhaustive search over every interleaving.
//!
//! Everything here is pure and deterministic: no I/O, no clocks, no randomness.

mod engine;
mod parse;
mod search;

pub use engine::{
    BlockReason, Blocked, ChannelState, Failure, Session, State, Status, StepResult, Wait,
};
pub use parse::{PuzzleError, RawPuzzle, parse_puzzle, parse_puzzles, puzzle_from_toml};
pub use search::{SearchResult, explore};

use std::ops::Range;

/// Index of a thread in [`Puzzle::threads`]; shown to the learner as its name.
pub type ThreadId = usize;

/// A puzzle, compiled and checked: every name resolved to an index, every jump to a step.
///
/// Build puzzles with [`parse_puzzle`] (or [`puzzle_from_toml`]): the engine relies on the
/// indexes inside being in range, which the parser guarantees.
#[derive(Debug, Clone, PartialEq)]
pub struct Puzzle {
    /// Unique within its lesson; progress is stored under it.
    pub id: String,
    /// Shown at the top of the stepper.
    pub title: String,
    /// What the learner must make happen, checked by the engine.
    pub goal: Goal,
    /// The goal in words, as shown to the learner.
    pub goal_text: String,
    /// The story of the puzzle, a sentence or two.
    pub description: String,
    /// Shown one at a time on request.
    pub hints: Vec<String>,
    /// Shared variables with their initial values, in the order shown.
    pub vars: Vec<Var>,
    /// Mutex names. A mutex is free or held by one thread; it is not re-entrant.
    pub locks: Vec<String>,
    /// Counting semaphores.
    pub semaphores: Vec<Semaphore>,
    /// Barriers.
    pub barriers: Vec<Barrier>,
    /// Condition variables, each tied to one of [`Puzzle::locks`].
    pub conditions: Vec<CondVar>,
    /// Message channels for blocking `send` and `recv`, as between MPI ranks.
    pub channels: Vec<Channel>,
    /// Checked once, right after the last thread finishes (e.g. `counter == 2`).
    pub final_assert: Option<Condition>,
    /// The threads, two or three.
    pub threads: Vec<Thread>,
}

/// A shared variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Var {
    /// Its name, e.g. `counter` or `flag[0]`.
    pub name: String,
    /// Its value before any step.
    pub initial: i64,
}

/// A counting semaphore: `down` waits while the count is 0, then takes one; `up` gives one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Semaphore {
    /// Its name.
    pub name: String,
    /// The count before any step (≥ 0).
    pub initial: i64,
}

/// A reusable barrier: every thread that reaches it waits until `parties` threads have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Barrier {
    /// Its name.
    pub name: String,
    /// How many threads must arrive before all of them may go on.
    pub parties: usize,
}

/// A condition variable, used with the mutex it belongs to.
///
/// `wait c` (holding the mutex) releases the mutex and sleeps in one step; `signal c` wakes the
/// thread that has waited longest, `broadcast c` wakes all; a woken thread's next step takes
/// the mutex back (and waits for it if another thread holds it). A signal with nobody waiting
/// is lost, as with real condition variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CondVar {
    /// Its name.
    pub name: String,
    /// Index into [`Puzzle::locks`] of its mutex.
    pub lock: usize,
}

/// A one-way message channel, like the messages from one MPI rank to another.
///
/// `send` puts a message into the channel's buffer when it has room (the *eager* protocol:
/// the send returns at once); when it has none, the send waits until a `recv` takes the
/// message (the *rendezvous* protocol) and returns one step after that. A `recv` takes the
/// oldest buffered message, else the message of the longest-waiting send, else it waits for a
/// send. A send that finds a `recv` already waiting hands its message over directly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    /// Its name, e.g. `to1`.
    pub name: String,
    /// How many messages the buffer holds (the eager limit, counted in messages); 0 makes
    /// every send a rendezvous.
    pub capacity: usize,
}

/// What the learner must make happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Goal {
    /// An `assert` (in a thread or the puzzle's final check) fails.
    AssertFails,
    /// No thread can take a step, and not all of them have finished.
    Deadlock,
    /// Two threads are between `critical_begin` and `critical_end` at the same time.
    BothInCritical,
    /// Every thread finishes with no assertion failed: the puzzles that cannot be broken,
    /// whose lesson is that no interleaving breaks them.
    Finish,
}

impl Goal {
    /// The names puzzle files use, in the order listed in messages.
    pub const NAMES: &'static [&'static str] =
        &["assert_fails", "deadlock", "both_in_critical", "finish"];

    /// Parses a puzzle file's name of the goal.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "assert_fails" => Self::AssertFails,
            "deadlock" => Self::Deadlock,
            "both_in_critical" => Self::BothInCritical,
            "finish" => Self::Finish,
            _ => return None,
        })
    }

    /// The name puzzle files use.
    pub fn name(self) -> &'static str {
        match self {
            Self::AssertFails => "assert_fails",
            Self::Deadlock => "deadlock",
            Self::BothInCritical => "both_in_critical",
            Self::Finish => "finish",
        }
    }

    /// The goal in words, for puzzles that do not say it themselves.
    pub fn default_text(self) -> &'static str {
        match self {
            Self::AssertFails => "Make an assertion fail.",
            Self::Deadlock => "Get the threads stuck: a deadlock.",
            Self::BothInCritical => "Get two threads into the critical section at once.",
            Self::Finish => {
                "Try to break it. When you are convinced you cannot, run every thread to the end."
            }
        }
    }
}

/// One thread: its code as the learner reads it, and the atomic steps behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Thread {
    /// Shown as the column's title, e.g. `T1`.
    pub name: String,
    /// The code as shown, line by line.
    pub lines: Vec<SourceLine>,
    /// The atomic steps, in program order; the thread's program counter indexes them, and
    /// the thread has finished when it equals their number.
    pub steps: Vec<Step>,
    /// Register names; each thread has its own registers, all 0 at the start.
    pub registers: Vec<String>,
}

/// One line of code as shown: either readable pseudo-code with the steps it expands into
/// (e.g. `counter += 1` → `load`, `add`, `store`), a single step shown as written, or a
/// label on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLine {
    /// The text as written (without indentation).
    pub text: String,
    /// The steps of this line, as indexes into [`Thread::steps`] (empty for a label line).
    pub steps: Range<usize>,
    /// `true` when the line is shown with its steps below it; `false` when the line is
    /// itself its only step.
    pub expanded: bool,
}

/// One atomic step.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// What it does.
    pub instr: Instr,
    /// The instruction as written, with its label if it has one (e.g. `top: load r, busy`).
    pub text: String,
    /// Index into [`Thread::lines`] of the line it belongs to.
    pub line: usize,
}

/// The instruction set. Every instruction is one atomic step.
#[derive(Debug, Clone, PartialEq)]
pub enum Instr {
    /// `load r, x`: register ← shared variable.
    Load {
        /// Register index.
        reg: usize,
        /// Variable index.
        var: usize,
    },
    /// `store x, r` or `store x, 5`: shared variable ← register or number.
    Store {
        /// Variable index.
        var: usize,
        /// A register or a number.
        value: Operand,
    },
    /// `set r, k`: register ← register or number.
    Set {
        /// Register index.
        reg: usize,
        /// A register or a number.
        value: Operand,
    },
    /// `add r, k`: register ← register + k.
    Add {
        /// Register index.
        reg: usize,
        /// A register or a number.
        value: Operand,
    },
    /// `sub r, k`: register ← register − k.
    Sub {
        /// Register index.
        reg: usize,
        /// A register or a number.
        value: Operand,
    },
    /// `jump_if r OP k, label`: go to `target` when the comparison holds, else on.
    JumpIf {
        /// The comparison (registers and numbers only).
        cond: Condition,
        /// Step index to go to (may equal the number of steps: the thread's end).
        target: usize,
    },
    /// `jump label`.
    Jump {
        /// Step index to go to.
        target: usize,
    },
    /// `lock m`: wait until the mutex is free, then hold it.
    Lock(usize),
    /// `unlock m`: release a mutex this thread holds (anything else is a misuse).
    Unlock(usize),
    /// `wait c`: see [`CondVar`].
    Wait(usize),
    /// `signal c`: wake the longest-waiting thread, if any.
    Signal(usize),
    /// `broadcast c`: wake every waiting thread.
    Broadcast(usize),
    /// `down s`: wait until the count is positive, then decrement it.
    Down(usize),
    /// `up s`: increment the count.
    Up(usize),
    /// `barrier b`: see [`Barrier`]. Arriving is one step; a thread that has to wait takes
    /// one more step to leave once the barrier opens.
    Barrier(usize),
    /// `send ch, v`: see [`Channel`]. A send that has to wait takes one more step to return
    /// once its message has been received.
    Send {
        /// Channel index.
        channel: usize,
        /// The message: a register or a number.
        value: Operand,
    },
    /// `recv r, ch`: see [`Channel`]. A receive that has to wait gets the message into its
    /// register when a send delivers it, and takes one more step to return.
    Recv {
        /// Register index.
        reg: usize,
        /// Channel index.
        channel: usize,
    },
    /// `assert x == 2`: fails the program when the comparison is false.
    Assert(Condition),
    /// `critical_begin` (or `enter`): the thread is inside the critical section from now on.
    CriticalBegin,
    /// `critical_end` (or `leave`): the thread has left the critical section.
    CriticalEnd,
    /// `nop`: does nothing, takes a step.
    Nop,
}

/// A value an instruction reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operand {
    /// A number written in the code.
    Int(i64),
    /// One of the running thread's registers.
    Reg(usize),
    /// A shared variable (only in assertions).
    Var(usize),
}

/// A comparison `left OP right`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// Left side.
    pub left: Operand,
    /// The comparison.
    pub op: CmpOp,
    /// Right side.
    pub right: Operand,
    /// As written, e.g. `counter == 2`.
    pub text: String,
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// Parses `==`, `!=`, `<`, `<=`, `>` or `>=`.
    pub fn from_symbol(s: &str) -> Option<Self> {
        Some(match s {
            "==" => Self::Eq,
            "!=" => Self::Ne,
            "<" => Self::Lt,
            "<=" => Self::Le,
            ">" => Self::Gt,
            ">=" => Self::Ge,
            _ => return None,
        })
    }

    /// Whether `a OP b` holds.
    pub fn holds(self, a: i64, b: i64) -> bool {
        match self {
            Self::Eq => a == b,
            Self::Ne => a != b,
            Self::Lt => a < b,
            Self::Le => a <= b,
            Self::Gt => a > b,
            Self::Ge => a >= b,
        }
    }
}

impl Puzzle {
    /// Index of the shared variable called `name`.
    pub fn var_index(&self, name: &str) -> Option<usize> {
        self.vars.iter().position(|v| v.name == name)
    }

    /// The threads whose code receives from channel `c` (`receivers = true`) or sends on it:
    /// whom a blocked `send` or `recv` is waiting for.
    pub fn channel_peers(&self, c: usize, receivers: bool) -> Vec<ThreadId> {
        (0..self.threads.len())
            .filter(|&t| {
                self.threads[t].steps.iter().any(|s| match s.instr {
                    Instr::Recv { channel, .. } => receivers && channel == c,
                    Instr::Send { channel, .. } => !receivers && channel == c,
                    _ => false,
                })
            })
            .collect()
    }

    /// The thread names of `schedule`, as one line: separated by spaces, or by commas when a
    /// name has a space in it (`rank 0, rank 1`).
    pub fn schedule_text(&self, schedule: &[ThreadId]) -> String {
        let names: Vec<&str> = schedule
            .iter()
            .map(|&t| self.threads.get(t).map_or("?", |th| th.name.as_str()))
            .collect();
        names.join(self.schedule_separator())
    }

    /// What separates thread names in a schedule: see [`Puzzle::schedule_text`].
    pub fn schedule_separator(&self) -> &'static str {
        if self.threads.iter().any(|t| t.name.contains(' ')) {
            ", "
        } else {
            " "
        }
    }

    /// Whether any thread marks a critical section.
    pub fn has_critical_section(&self) -> bool {
        self.threads
            .iter()
            .flat_map(|t| &t.steps)
            .any(|s| s.instr == Instr::CriticalBegin)
    }
}
