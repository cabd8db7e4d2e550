//! The puzzle stepper's state: the learner is the scheduler and picks which thread takes the
//! next atomic step, until the program breaks (or, for a correct program, until it is clear
//! that it cannot).

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use crate::puzzle::{
    BlockReason, Goal, Instr, Operand, Puzzle, Session, State, Status, StepResult, ThreadId, Wait,
    explore,
};

/// States the search behind the solution and the proof may visit. Shipped puzzles have at
/// most a few thousand; the lesson validator refuses puzzles above 100 000.
const SEARCH_LIMIT: usize = 200_000;

/// The keys of the stepper and what they do, for the help window.
pub const KEYS: &[(&str, &str)] = &[
    ("← → Tab 1 2 3", "choose a thread"),
    ("Enter Space", "run the chosen thread's next step"),
    ("u", "undo the last step"),
    ("R", "start again"),
    ("h", "next hint (after the last: a solution)"),
    ("Esc", "back to the lesson"),
];

/// What a key on the puzzle screen asks the app to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing changed.
    None,
    /// Something changed: redraw.
    Redraw,
    /// The step just taken reached the goal of the puzzle with this id: record it as solved
    /// in the progress (idempotent; it comes again if the learner solves it again), then
    /// redraw.
    Solved(String),
    /// Back to the lesson.
    Back,
}

/// How a message is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// What just happened.
    Info,
    /// The goal was reached.
    Good,
    /// The program stopped without reaching the goal, or a step could not be taken.
    Bad,
    /// A hint or a solution.
    Hint,
}

/// A line or two under the threads, until the next key replaces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The text.
    pub text: String,
    /// How it is shown.
    pub tone: Tone,
}

/// The puzzle screen of one puzzle.
#[derive(Debug, Clone, PartialEq)]
pub struct PuzzleView {
    /// The puzzle being played, with its state and undo history.
    pub session: Session,
    /// The thread that Enter steps.
    pub selected: ThreadId,
    /// What the last key did.
    pub message: Option<Message>,
    /// How many hints have been shown.
    pub hints_shown: usize,
    /// The goal has been reached in this view (it stays set after undo or reset).
    pub solved: bool,
}

impl PuzzleView {
    /// A stepper at the start of `puzzle`, with the first thread chosen.
    pub fn new(puzzle: Puzzle) -> Self {
        Self {
            session: Session::new(puzzle),
            selected: 0,
            message: None,
            hints_shown: 0,
            solved: false,
        }
    }

    /// The puzzle.
    pub fn puzzle(&self) -> &Puzzle {
        self.session.puzzle()
    }

    fn say(&mut self, tone: Tone, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            tone,
        });
    }

    /// Handles a key.
    pub fn on_key(&mut self, key: KeyEvent) -> Action {
        let n = self.puzzle().threads.len().max(1);
        match key.code {
            KeyCode::Left | KeyCode::BackTab => {
                self.selected = (self.selected + n - 1) % n;
                Action::Redraw
            }
            KeyCode::Right | KeyCode::Tab => {
                self.selected = (self.selected + 1) % n;
                Action::Redraw
            }
            KeyCode::Char(c @ '1'..='9') => {
                let t = usize::from(c as u8 - b'1');
                if t < n && t != self.selected {
                    self.selected = t;
                    Action::Redraw
                } else {
                    Action::None
                }
            }
            KeyCode::Enter | KeyCode::Char(' ') => self.step(),
            KeyCode::Char('u') => {
                let last = self.session.schedule().last().copied();
                if self.session.undo() {
                    let name = self.thread_name(last.unwrap_or(0));
                    self.say(Tone::Info, format!("Took back {name}'s step."));
                } else {
                    self.say(Tone::Info, "Nothing to undo: this is the start.");
                }
                Action::Redraw
            }
            KeyCode::Char('R') => {
                self.session.reset();
                self.say(Tone::Info, "Back to the start.");
                Action::Redraw
            }
            KeyCode::Char('h') => {
                self.hint();
                Action::Redraw
            }
            KeyCode::Esc => Action::Back,
            _ => Action::None,
        }
    }

    fn thread_name(&self, t: ThreadId) -> String {
        self.puzzle()
            .threads
            .get(t)
            .map_or_else(|| "?".to_owned(), |th| th.name.clone())
    }

    fn step(&mut self) -> Action {
        let t = self.selected;
        let name = self.thread_name(t);
        let before = self.session.state().clone();
        let result = self.session.step(t);
        let effect = match &result {
            StepResult::Blocked(b) => {
                let text = match b.reason {
                    BlockReason::Over => {
                        "The program has stopped: u takes back a step, R starts again.".to_owned()
                    }
                    BlockReason::Finished => format!("{name} has finished: choose another thread."),
                    _ => format!("{name} cannot move: {}.", b.describe(self.puzzle())),
                };
                self.say(Tone::Bad, text);
                return Action::Redraw;
            }
            StepResult::AssertFailed(m) | StepResult::Misuse(m) => m.clone(),
            StepResult::Ok | StepResult::ThreadFinished => {
                let mut e = describe_step(self.puzzle(), &before, self.session.state(), t);
                if result == StepResult::ThreadFinished {
                    e.push_str(if e.is_empty() {
                        "finished"
                    } else {
                        "; finished"
                    });
                }
                e
            }
        };
        let step_text = before
            .threads
            .get(t)
            .and_then(|ts| self.puzzle().threads[t].steps.get(ts.pc))
            .map_or("", |s| s.text.as_str());
        let did = if effect.is_empty() {
            format!("{name}: {step_text}")
        } else {
            format!("{name}: {step_text} → {effect}")
        };
        let status = self.session.status();
        match status {
            Status::Running => {
                self.say(Tone::Info, did);
                Action::Redraw
            }
            Status::GoalReached => {
                self.solved = true;
                let text = self.solved_text(&did);
                self.say(Tone::Good, text);
                Action::Solved(self.puzzle().id.clone())
            }
            Status::Deadlock => {
                self.say(
                    Tone::Bad,
                    format!("{did}. Deadlock: no thread can move, but that is not the goal."),
                );
                Action::Redraw
            }
            Status::Finished => {
                self.say(
                    Tone::Bad,
                    format!(
                        "{did}. Every thread finished and nothing broke. u undo · R start again."
                    ),
                );
                Action::Redraw
            }
            Status::Failed(f) => {
                let text = format!(
                    "{did}. It broke ({}), but that is not the goal.",
                    f.describe(self.puzzle())
                );
                self.say(Tone::Bad, text);
                Action::Redraw
            }
        }
    }

    fn solved_text(&self, did: &str) -> String {
        let p = self.puzzle();
        let steps = self.session.schedule().len();
        match p.goal {
            Goal::Finish => {
                let r = explore(p, SEARCH_LIMIT);
                if r.complete && r.counterexample.is_none() {
                    format!(
                        "{did}. Solved ✓ It held, and it always will: the tutor tried every \
                         order of steps ({} reachable states) and none breaks this program.",
                        r.states_explored
                    )
                } else {
                    format!("{did}. Solved ✓ every thread finished in {steps} steps.")
                }
            }
            _ => format!("{did}. Solved ✓ in {steps} steps."),
        }
    }

    fn hint(&mut self) {
        let p = self.puzzle();
        let total = p.hints.len();
        if self.hints_shown < total {
            let text = format!(
                "Hint {} of {total}: {}",
                self.hints_shown + 1,
                p.hints[self.hints_shown]
            );
            self.hints_shown += 1;
            self.say(Tone::Hint, text);
            return;
        }
        let r = explore(p, SEARCH_LIMIT);
        let text = if p.goal == Goal::Finish {
            if r.complete && r.counterexample.is_none() {
                format!(
                    "No hint needed: it cannot be broken. Every order of steps was tried \
                     ({} reachable states); run the threads to the end.",
                    r.states_explored
                )
            } else {
                "Run every thread to the end.".to_owned()
            }
        } else {
            match r.witness {
                Some(w) => format!(
                    "A solution from the start ({} steps): {}",
                    w.len(),
                    solution_text(p, &w)
                ),
                None => "The tutor found no solution for this puzzle.".to_owned(),
            }
        };
        self.say(Tone::Hint, text);
    }
}

/// Longest solution written out thread by thread; a longer one is written in runs.
const SOLUTION_WIDTH: usize = 60;

/// A schedule for the learner to follow: every step (`T1 T1 T2`) when that is short, else
/// the runs of steps by one thread (`consumer A ×4, producer ×6, …`).
fn solution_text(p: &Puzzle, schedule: &[ThreadId]) -> String {
    let plain = p.schedule_text(schedule);
    if plain.chars().count() <= SOLUTION_WIDTH {
        return plain;
    }
    let mut runs: Vec<(ThreadId, usize)> = Vec::new();
    for &t in schedule {
        match runs.last_mut() {
            Some((u, n)) if *u == t => *n += 1,
            _ => runs.push((t, 1)),
        }
    }
    let name = |t: ThreadId| p.threads.get(t).map_or("?", |th| th.name.as_str());
    runs.iter()
        .map(|&(t, n)| {
            if n == 1 {
                name(t).to_owned()
            } else {
                format!("{} ×{n}", name(t))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a step changed, in a few words: `r = 1`, `holds m`, `woke T1`, …
fn describe_step(p: &Puzzle, before: &State, after: &State, t: ThreadId) -> String {
    let Some(pc) = before.threads.get(t).map(|ts| ts.pc) else {
        return String::new();
    };
    let Some(step) = p.threads.get(t).and_then(|th| th.steps.get(pc)) else {
        return String::new();
    };
    let reg = |r: usize| {
        let name = p.threads[t].registers.get(r).map_or("?", String::as_str);
        let value = after.threads[t].regs.get(r).copied().unwrap_or(0);
        format!("{name} = {value}")
    };
    let thread = |u: ThreadId| p.threads.get(u).map_or("?", |th| th.name.as_str());
    match &step.instr {
        Instr::Load { reg: r, .. }
        | Instr::Set { reg: r, .. }
        | Instr::Add { reg: r, .. }
        | Instr::Sub { reg: r, .. } => reg(*r),
        Instr::Store { var, .. } => format!(
            "{} = {}",
            p.vars[*var].name,
            after.vars.get(*var).copied().unwrap_or(0)
        ),
        Instr::JumpIf { cond, .. } => {
            if after.threads[t].pc == pc + 1 {
                format!("{} is false: go on", cond.text)
            } else {
                format!("{} is true: jump", cond.text)
            }
        }
        Instr::Jump { .. } => "jump".to_owned(),
        Instr::Lock(m) => format!("holds {}", p.locks[*m]),
        Instr::Unlock(m) => format!("{} is free", p.locks[*m]),
        Instr::Wait(c) => {
            let m = &p.locks[p.conditions[*c].lock];
            if after.threads[t].wait == Wait::Queued {
                format!(
                    "releases {m} and sleeps until a signal on {}",
                    p.conditions[*c].name
                )
            } else {
                format!("holds {m} again")
            }
        }
        Instr::Signal(c) | Instr::Broadcast(c) => {
            let woken: Vec<&str> = before.waiters[*c]
                .iter()
                .filter(|w| !after.waiters[*c].contains(w))
                .map(|&w| thread(w))
                .collect();
            if woken.is_empty() {
                "nobody is waiting: the signal is lost".to_owned()
            } else {
                format!("wakes {}", woken.join(" and "))
            }
        }
        Instr::Down(s) | Instr::Up(s) => format!(
            "{} = {}",
            p.semaphores[*s].name,
            after.semaphores.get(*s).copied().unwrap_or(0)
        ),
        Instr::Barrier(b) => {
            let name = &p.barriers[*b].name;
            match (before.threads[t].wait, after.threads[t].wait) {
                (Wait::Barrier { .. }, _) => format!("leaves barrier {name}"),
                (_, Wait::Barrier { .. }) => format!(
                    "waits at barrier {name} ({} of {})",
                    after.barriers[*b].arrived, p.barriers[*b].parties
                ),
                _ => format!("barrier {name} opens"),
            }
        }
        Instr::Send { channel, value } => {
            let ch = &p.channels[*channel];
            let v = match *value {
                Operand::Int(k) => k,
                Operand::Reg(r) => before.threads[t].regs.get(r).copied().unwrap_or(0),
                Operand::Var(x) => before.vars.get(x).copied().unwrap_or(0),
            };
            let queue = &before.channels[*channel];
            if before.threads[t].wait == Wait::Matched {
                "its message was received: send returns".to_owned()
            } else if after.threads[t].wait == Wait::Posted {
                if ch.capacity == 0 {
                    format!("{} has no buffer: waits for a recv (rendezvous)", ch.name)
                } else {
                    format!("{} is full: waits for a recv (rendezvous)", ch.name)
                }
            } else if let Some(&r) = queue.receivers.first() {
                format!("hands {v} to {}, waiting in recv", thread(r))
            } else {
                format!(
                    "{v} goes into {}'s buffer ({} of {}): send returns at once",
                    ch.name,
                    after.channels[*channel].buffer.len(),
                    ch.capacity
                )
            }
        }
        Instr::Recv { reg: r, channel } => {
            let ch = &p.channels[*channel];
            let queue = &before.channels[*channel];
            if before.threads[t].wait == Wait::Matched {
                format!("{}: recv returns", reg(*r))
            } else if after.threads[t].wait == Wait::Posted {
                format!("nothing on {}: waits for a send", ch.name)
            } else if !queue.buffer.is_empty() {
                format!("{}, from {}'s buffer", reg(*r), ch.name)
            } else if let Some(&(s, _)) = queue.senders.first() {
                format!("{}, from {}'s waiting send", reg(*r), thread(s))
            } else {
                reg(*r)
            }
        }
        Instr::Assert(c) => format!("{} holds", c.text),
        Instr::CriticalBegin => "inside the critical section".to_owned(),
        Instr::CriticalEnd => "left the critical section".to_owned(),
        Instr::Nop => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::puzzle::puzzle_from_toml;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::from(c)
    }

    fn lost_update() -> Puzzle {
        let inc = "counter += 1\n    load r, counter\n    add r, 1\n    store counter, r";
        let text = format!(
            "id = \"lost-update\"\ntitle = \"Lost\"\ngoal = \"assert_fails\"\ndescription = \"d\"\nhints = [\"one\", \"two\"]\nvars = {{ counter = 0 }}\nfinal_assert = \"counter == 2\"\n\n[[threads]]\ncode = '''\n{inc}\n'''\n\n[[threads]]\ncode = '''\n{inc}\n'''\n"
        );
        puzzle_from_toml(&text).expect("valid")
    }

    fn press(v: &mut PuzzleView, keys: &[KeyCode]) -> Action {
        let mut last = Action::None;
        for k in keys {
            last = v.on_key(key(*k));
        }
        last
    }

    #[test]
    fn choosing_threads_wraps_and_digits_pick_directly() {
        let mut v = PuzzleView::new(lost_update());
        assert_eq!(v.on_key(key(KeyCode::Left)), Action::Redraw);
        assert_eq!(v.selected, 1);
        v.on_key(key(KeyCode::Tab));
        assert_eq!(v.selected, 0);
        assert_eq!(v.on_key(key(KeyCode::Char('2'))), Action::Redraw);
        assert_eq!(v.selected, 1);
        assert_eq!(v.on_key(key(KeyCode::Char('3'))), Action::None, "no T3");
        assert_eq!(v.on_key(key(KeyCode::Esc)), Action::Back);
    }

    #[test]
    fn stepping_to_the_goal_reports_solved_once_per_success() {
        let mut v = PuzzleView::new(lost_update());
        assert_eq!(v.on_key(key(KeyCode::Enter)), Action::Redraw);
        assert_eq!(
            v.message.as_ref().map(|m| m.text.as_str()),
            Some("T1: load r, counter → r = 0")
        );
        // T2 loads too; then both finish.
        let last = press(
            &mut v,
            &[
                KeyCode::Right,
                KeyCode::Enter,
                KeyCode::Left,
                KeyCode::Enter,
                KeyCode::Enter,
                KeyCode::Right,
                KeyCode::Enter,
            ],
        );
        assert_eq!(last, Action::Redraw);
        let last = v.on_key(key(KeyCode::Char(' ')));
        assert_eq!(last, Action::Solved("lost-update".into()));
        assert!(v.solved);
        let m = v.message.clone().expect("message");
        assert_eq!(m.tone, Tone::Good);
        assert!(
            m.text.starts_with(
                "T2: store counter, r → assert counter == 2 failed: counter = 1. Solved ✓"
            ),
            "{}",
            m.text
        );
        // Further steps are refused; undo steps back and keeps `solved`.
        assert_eq!(v.on_key(key(KeyCode::Enter)), Action::Redraw);
        assert_eq!(v.message.as_ref().map(|m| m.tone), Some(Tone::Bad));
        v.on_key(key(KeyCode::Char('u')));
        assert_eq!(v.session.status(), Status::Running);
        assert!(v.solved);
        assert_eq!(
            v.on_key(key(KeyCode::Enter)),
            Action::Solved("lost-update".into())
        );
        v.on_key(key(KeyCode::Char('R')));
        assert!(v.session.schedule().is_empty());
        assert!(v.solved);
    }

    #[test]
    fn a_finished_thread_cannot_step_and_says_so() {
        let mut v = PuzzleView::new(lost_update());
        press(&mut v, &[KeyCode::Enter, KeyCode::Enter, KeyCode::Enter]);
        assert_eq!(
            v.message.as_ref().map(|m| m.text.as_str()),
            Some("T1: store counter, r → counter = 1; finished")
        );
        v.on_key(key(KeyCode::Enter));
        assert_eq!(
            v.message.as_ref().map(|m| m.text.as_str()),
            Some("T1 has finished: choose another thread.")
        );
        press(&mut v, &[KeyCode::Right, KeyCode::Enter, KeyCode::Enter]);
        assert_eq!(v.on_key(key(KeyCode::Enter)), Action::Redraw);
        assert_eq!(v.session.status(), Status::Finished);
        assert!(!v.solved);
    }

    #[test]
    fn hints_then_a_solution() {
        let mut v = PuzzleView::new(lost_update());
        v.on_key(key(KeyCode::Char('h')));
        assert_eq!(
            v.message.as_ref().map(|m| m.text.as_str()),
            Some("Hint 1 of 2: one")
        );
        v.on_key(key(KeyCode::Char('h')));
        v.on_key(key(KeyCode::Char('h')));
        assert_eq!(
            v.message.as_ref().map(|m| m.text.as_str()),
            Some("A solution from the start (6 steps): T1 T1 T2 T1 T2 T2")
        );
        assert_eq!(v.hints_shown, 2);
    }

    #[test]
    fn a_long_solution_is_written_in_runs() {
        let p = lost_update();
        assert_eq!(solution_text(&p, &[0, 0, 1]), "T1 T1 T2");
        let long: Vec<ThreadId> = [0; 20].into_iter().chain([1; 21]).chain([0]).collect();
        assert_eq!(solution_text(&p, &long), "T1 ×20, T2 ×21, T1");
    }
}
