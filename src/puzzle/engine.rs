//! Executing a puzzle: the machine state, one atomic step at a time, and a session with undo.

use std::fmt;

use super::{CmpOp, Condition, Goal, Instr, Operand, Puzzle, ThreadId};

/// Everything that changes while a puzzle runs. Plain data: cloning it is how history and
/// the exhaustive search keep earlier states, and equal states are merged by the search.
///
/// A state belongs to the puzzle it was made from ([`State::initial`]); every method takes
/// that puzzle again, and passing another one is a logic error that may panic.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct State {
    /// Per thread, in [`Puzzle::threads`] order.
    pub threads: Vec<ThreadState>,
    /// Shared variables, in [`Puzzle::vars`] order.
    pub vars: Vec<i64>,
    /// Per mutex: the thread holding it.
    pub lock_owners: Vec<Option<ThreadId>>,
    /// Per semaphore: its count.
    pub semaphores: Vec<i64>,
    /// Per barrier: how many threads have arrived in the current round, and the round.
    pub barriers: Vec<BarrierState>,
    /// Per condition variable: the threads waiting on it, longest-waiting first.
    pub waiters: Vec<Vec<ThreadId>>,
    /// Per channel: its buffered messages and the sends and receives waiting on it.
    pub channels: Vec<ChannelState>,
    /// The assertion failure or misuse that stopped the program, if one did.
    pub failure: Option<Failure>,
}

/// One thread's part of the [`State`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ThreadState {
    /// Index of the next step; equal to the number of steps when the thread has finished.
    pub pc: usize,
    /// Register values, in [`super::Thread::registers`] order.
    pub regs: Vec<i64>,
    /// What the thread is waiting for inside a multi-step `barrier` or `wait`.
    pub wait: Wait,
    /// Between `critical_begin` and `critical_end`.
    pub in_critical: bool,
}

/// Where a thread is inside the instructions that take more than one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Wait {
    /// Not inside one.
    None,
    /// Arrived at the barrier at its pc in this round; waits until the round changes.
    Barrier {
        /// The barrier's round when the thread arrived.
        round: u32,
    },
    /// Sleeping on the condition variable at its pc, until a signal.
    Queued,
    /// Woken by a signal; its next step takes the mutex back.
    Woken,
    /// In the `send` or `recv` at its pc, waiting for the matching call on the channel.
    Posted,
    /// Its `send` or `recv` was matched (the message went across); its next step returns.
    Matched,
}

/// A channel's part of the [`State`]. At most one of its queues is in use at a time: a
/// receive waits only when there is nothing to take, and a send never waits (nor buffers)
/// while a receive is waiting.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ChannelState {
    /// Messages sent eagerly and not yet received, oldest first.
    pub buffer: Vec<i64>,
    /// Sends waiting for a receive (rendezvous), longest-waiting first, with their messages.
    pub senders: Vec<(ThreadId, i64)>,
    /// Receives waiting for a send, longest-waiting first.
    pub receivers: Vec<ThreadId>,
}

/// A barrier's part of the [`State`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BarrierState {
    /// Threads waiting in the current round.
    pub arrived: usize,
    /// Rounds completed so far.
    pub round: u32,
}

/// Something that went wrong in the program.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Failure {
    /// An assertion was false.
    Assert {
        /// The thread whose `assert` failed; `None` for the puzzle's final check.
        thread: Option<ThreadId>,
        /// E.g. `assert counter == 2 failed: counter = 1`.
        message: String,
    },
    /// Two or more threads are inside the critical section (derived, never stored).
    BothInCritical(Vec<ThreadId>),
    /// A synchronisation object was misused, e.g. unlocking a mutex the thread does not hold.
    Misuse {
        /// The thread that did it.
        thread: ThreadId,
        /// What it did.
        message: String,
    },
}

impl Failure {
    /// The failure in words, with thread names.
    pub fn describe(&self, p: &Puzzle) -> String {
        match self {
            Failure::Assert {
                thread: Some(t),
                message,
            } => format!("{}: {message}", thread_name(p, *t)),
            Failure::Assert {
                thread: None,
                message,
            } => format!("at the end: {message}"),
            Failure::BothInCritical(ts) => {
                let names: Vec<&str> = ts.iter().map(|&t| thread_name(p, t)).collect();
                format!(
                    "{} are in the critical section together",
                    names.join(" and ")
                )
            }
            Failure::Misuse { thread, message } => {
                format!("{}: {message}", thread_name(p, *thread))
            }
        }
    }
}

/// Why a thread cannot take a step now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    /// The thread.
    pub thread: ThreadId,
    /// Why.
    pub reason: BlockReason,
}

/// The reasons a thread cannot take a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockReason {
    /// Its next step is `lock m` (or getting `m` back after `wait`), and `owner` holds `m`
    /// (possibly the thread itself: mutexes are not re-entrant).
    Lock {
        /// Mutex index.
        lock: usize,
        /// The holder.
        owner: ThreadId,
        /// Taking the mutex back after being woken from `wait`.
        reacquire: bool,
    },
    /// `down s` with a count of 0.
    Semaphore(usize),
    /// Waiting at a barrier for the others.
    Barrier {
        /// Barrier index.
        barrier: usize,
        /// Threads arrived so far in this round.
        arrived: usize,
    },
    /// Sleeping on a condition variable until a signal.
    Condition(usize),
    /// In `send` on a channel whose buffer is full (or that has none), until a receive
    /// takes the message.
    Send(usize),
    /// In `recv` on a channel with nothing to take, until a send.
    Recv(usize),
    /// The thread has run its last step.
    Finished,
    /// The program has stopped (goal reached, assertion failed, deadlock): undo or reset.
    Over,
}

impl Blocked {
    /// The reason in words, e.g. `waiting for lock a (held by T1)`.
    pub fn describe(&self, p: &Puzzle) -> String {
        let lock = |i: usize| p.locks.get(i).map_or("?", String::as_str);
        match &self.reason {
            BlockReason::Lock {
                lock: m,
                owner,
                reacquire,
            } => {
                let what = if *reacquire {
                    "woken; waiting to take back lock"
                } else {
                    "waiting for lock"
                };
                if *owner == self.thread {
                    format!("{what} {}, which it holds itself", lock(*m))
                } else {
                    format!("{what} {} (held by {})", lock(*m), thread_name(p, *owner))
                }
            }
            BlockReason::Semaphore(s) => format!(
                "waiting on semaphore {} (count 0)",
                p.semaphores.get(*s).map_or("?", |s| s.name.as_str())
            ),
            BlockReason::Barrier { barrier, arrived } => {
                let (name, parties) = p
                    .barriers
                    .get(*barrier)
                    .map_or(("?", 0), |b| (b.name.as_str(), b.parties));
                format!("waiting at barrier {name} ({arrived} of {parties} arrived)")
            }
            BlockReason::Condition(c) => format!(
                "waiting for a signal on {}",
                p.conditions.get(*c).map_or("?", |c| c.name.as_str())
            ),
            BlockReason::Send(c) => {
                let why = match p.channels.get(*c) {
                    Some(ch) if ch.capacity == 0 => " (no buffer)".to_owned(),
                    Some(ch) => format!(" ({} full, {1} of {1})", ch.name, ch.capacity),
                    None => String::new(),
                };
                format!("in send: {}{why}", waits_for(p, self.thread, *c, true))
            }
            BlockReason::Recv(c) => format!("in recv: {}", waits_for(p, self.thread, *c, false)),
            BlockReason::Finished => "finished".to_owned(),
            BlockReason::Over => "the program has stopped".to_owned(),
        }
    }
}

/// What one call of [`State::step`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepResult {
    /// The thread ran one instruction.
    Ok,
    /// The thread ran its last instruction and is done.
    ThreadFinished,
    /// An assertion failed (the thread's own, or the final check after the last thread
    /// finished); the text says which and with what values.
    AssertFailed(String),
    /// The thread misused a mutex or condition variable; the program stops.
    Misuse(String),
    /// The thread could not run; nothing changed.
    Blocked(Blocked),
}

/// Where the program is, judged against the puzzle's goal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Some thread can take a step and nothing has gone wrong yet.
    Running,
    /// The puzzle's goal holds: solved.
    GoalReached,
    /// No thread can take a step and not all have finished (and that is not the goal).
    Deadlock,
    /// Every thread finished and the goal was not reached.
    Finished,
    /// Something went wrong that is not this puzzle's goal.
    Failed(Failure),
}

impl Status {
    /// Whether the program has stopped: no more steps until undo or reset.
    pub fn is_over(&self) -> bool {
        !matches!(self, Status::Running)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Running => "Running",
            Status::GoalReached => "Goal reached ✓",
            Status::Deadlock => "Deadlock ✗",
            Status::Finished => "Finished without breaking it",
            Status::Failed(_) => "Failed ✗",
        })
    }
}

/// Whom a blocked `send` (`recv_needed`) or `recv` on channel `c` waits for, in words.
fn waits_for(p: &Puzzle, t: ThreadId, c: usize, recv_needed: bool) -> String {
    let name = p.channels.get(c).map_or("?", |ch| ch.name.as_str());
    let peers: Vec<&str> = p
        .channel_peers(c, recv_needed)
        .into_iter()
        .filter(|&u| u != t)
        .map(|u| thread_name(p, u))
        .collect();
    let what = if recv_needed { "recv" } else { "send" };
    match peers.as_slice() {
        [] => format!("waits for a {what} on {name}, which no other thread makes"),
        [one] => format!("waits for {one} to {what} on {name}"),
        _ => format!("waits for {} to {what} on {name}", peers.join(" or ")),
    }
}

/// The name of thread `t`, or `?` for an index out of range.
pub(crate) fn thread_name(p: &Puzzle, t: ThreadId) -> &str {
    p.threads.get(t).map_or("?", |t| t.name.as_str())
}

impl State {
    /// The state before any step.
    pub fn initial(p: &Puzzle) -> Self {
        Self {
            threads: p
                .threads
                .iter()
                .map(|t| ThreadState {
                    pc: 0,
                    regs: vec![0; t.registers.len()],
                    wait: Wait::None,
                    in_critical: false,
                })
                .collect(),
            vars: p.vars.iter().map(|v| v.initial).collect(),
            lock_owners: vec![None; p.locks.len()],
            semaphores: p.semaphores.iter().map(|s| s.initial).collect(),
            barriers: vec![
                BarrierState {
                    arrived: 0,
                    round: 0
                };
                p.barriers.len()
            ],
            waiters: vec![Vec::new(); p.conditions.len()],
            channels: vec![ChannelState::default(); p.channels.len()],
            failure: None,
        }
    }

    /// Whether thread `t` has run its last step.
    pub fn is_finished(&self, p: &Puzzle, t: ThreadId) -> bool {
        match (self.threads.get(t), p.threads.get(t)) {
            (Some(ts), Some(code)) => ts.pc >= code.steps.len(),
            _ => true,
        }
    }

    /// The threads inside the critical section.
    pub fn in_critical(&self) -> Vec<ThreadId> {
        (0..self.threads.len())
            .filter(|&t| self.threads[t].in_critical)
            .collect()
    }

    /// Whether thread `t` may take a step now; if not, why not.
    pub fn enabled(&self, p: &Puzzle, t: ThreadId) -> Result<(), Blocked> {
        if self.status(p).is_over() {
            return Err(Blocked {
                thread: t,
                reason: BlockReason::Over,
            });
        }
        self.can_run(p, t)
    }

    /// Like [`State::enabled`] but ignoring whether the program as a whole has stopped: what
    /// each thread waits for, also in a deadlock.
    pub fn can_run(&self, p: &Puzzle, t: ThreadId) -> Result<(), Blocked> {
        let blocked = |reason| Err(Blocked { thread: t, reason });
        let (Some(ts), Some(code)) = (self.threads.get(t), p.threads.get(t)) else {
            return blocked(BlockReason::Finished);
        };
        let Some(step) = code.steps.get(ts.pc) else {
            return blocked(BlockReason::Finished);
        };
        match &step.instr {
            Instr::Lock(m) => match self.lock_owners[*m] {
                Some(owner) => blocked(BlockReason::Lock {
                    lock: *m,
                    owner,
                    reacquire: false,
                }),
                None => Ok(()),
            },
            Instr::Down(s) if self.semaphores[*s] <= 0 => blocked(BlockReason::Semaphore(*s)),
            Instr::Barrier(b) => match ts.wait {
                Wait::Barrier { round } if self.barriers[*b].round == round => {
                    blocked(BlockReason::Barrier {
                        barrier: *b,
                        arrived: self.barriers[*b].arrived,
                    })
                }
                _ => Ok(()),
            },
            Instr::Wait(c) => match ts.wait {
                Wait::Queued => blocked(BlockReason::Condition(*c)),
                Wait::Woken => {
                    let m = p.conditions[*c].lock;
                    match self.lock_owners[m] {
                        Some(owner) => blocked(BlockReason::Lock {
                            lock: m,
                            owner,
                            reacquire: true,
                        }),
                        None => Ok(()),
                    }
                }
                _ => Ok(()),
            },
            Instr::Send { channel, .. } if ts.wait == Wait::Posted => {
                blocked(BlockReason::Send(*channel))
            }
            Instr::Recv { channel, .. } if ts.wait == Wait::Posted => {
                blocked(BlockReason::Recv(*channel))
            }
            _ => Ok(()),
        }
    }

    /// The program's status, judged against the puzzle's goal.
    pub fn status(&self, p: &Puzzle) -> Status {
        let n = self.threads.len();
        let all_finished = (0..n).all(|t| self.is_finished(p, t));
        let stuck = !all_finished && (0..n).all(|t| self.can_run(p, t).is_err());
        let critical = self.in_critical();
        let goal = match p.goal {
            Goal::AssertFails => matches!(self.failure, Some(Failure::Assert { .. })),
            Goal::BothInCritical => critical.len() >= 2,
            Goal::Deadlock => self.failure.is_none() && stuck,
            Goal::Finish => all_finished && self.failure.is_none() && critical.len() < 2,
        };
        if goal {
            Status::GoalReached
        } else if let Some(f) = &self.failure {
            Status::Failed(f.clone())
        } else if critical.len() >= 2 {
            Status::Failed(Failure::BothInCritical(critical))
        } else if all_finished {
            Status::Finished
        } else if stuck {
            Status::Deadlock
        } else {
            Status::Running
        }
    }

    fn value(&self, t: Option<ThreadId>, o: Operand) -> i64 {
        match o {
            Operand::Int(k) => k,
            Operand::Reg(r) => t
                .and_then(|t| self.threads.get(t))
                .and_then(|ts| ts.regs.get(r))
                .copied()
                .unwrap_or(0),
            Operand::Var(v) => self.vars.get(v).copied().unwrap_or(0),
        }
    }

    fn holds(&self, t: Option<ThreadId>, c: &Condition) -> bool {
        c.op.holds(self.value(t, c.left), self.value(t, c.right))
    }

    /// `assert counter == 2 failed: counter = 1`, naming the values that made it fail.
    fn assert_message(&self, p: &Puzzle, t: Option<ThreadId>, c: &Condition) -> String {
        let mut values = Vec::new();
        for o in [c.left, c.right] {
            let name = match o {
                Operand::Int(_) => continue,
                Operand::Reg(r) => t
                    .and_then(|t| p.threads.get(t))
                    .and_then(|th| th.registers.get(r))
                    .map_or("?", String::as_str),
                Operand::Var(v) => p.vars.get(v).map_or("?", |v| v.name.as_str()),
            };
            let text = format!("{name} = {}", self.value(t, o));
            if !values.contains(&text) {
                values.push(text);
            }
        }
        if values.is_empty() {
            format!("assert {} failed", c.text)
        } else {
            format!("assert {} failed: {}", c.text, values.join(", "))
        }
    }

    /// Runs thread `t`'s next step. A thread that cannot run (blocked, finished, or the
    /// program has stopped) changes nothing and gets [`StepResult::Blocked`].
    pub fn step(&mut self, p: &Puzzle, t: ThreadId) -> StepResult {
        if let Err(b) = self.enabled(p, t) {
            return StepResult::Blocked(b);
        }
        let code = &p.threads[t];
        let pc = self.threads[t].pc;
        let instr = &code.steps[pc].instr;
        let mut next = pc + 1;
        let mut failed: Option<StepResult> = None;
        match instr {
            Instr::Load { reg, var } => self.threads[t].regs[*reg] = self.vars[*var],
            Instr::Store { var, value } => self.vars[*var] = self.value(Some(t), *value),
            Instr::Set { reg, value } => {
                self.threads[t].regs[*reg] = self.value(Some(t), *value);
            }
            Instr::Add { reg, value } => {
                let v = self.value(Some(t), *value);
                let r = &mut self.threads[t].regs[*reg];
                *r = r.wrapping_add(v);
            }
            Instr::Sub { reg, value } => {
                let v = self.value(Some(t), *value);
                let r = &mut self.threads[t].regs[*reg];
                *r = r.wrapping_sub(v);
            }
            Instr::JumpIf { cond, target } => {
                if self.holds(Some(t), cond) {
                    next = *target;
                }
            }
            Instr::Jump { target } => next = *target,
            Instr::Lock(m) => self.lock_owners[*m] = Some(t),
            Instr::Unlock(m) => {
                if self.lock_owners[*m] == Some(t) {
                    self.lock_owners[*m] = None;
                } else {
                    let message = format!("unlocks {}, which it does not hold", p.locks[*m]);
                    failed = Some(self.misuse(p, t, message));
                }
            }
            Instr::Wait(c) => {
                let m = p.conditions[*c].lock;
                match self.threads[t].wait {
                    Wait::Woken => {
                        self.lock_owners[m] = Some(t);
                        self.threads[t].wait = Wait::None;
                    }
                    _ if self.lock_owners[m] != Some(t) => {
                        let message = format!(
                            "waits on {} without holding its lock {}",
                            p.conditions[*c].name, p.locks[m]
                        );
                        failed = Some(self.misuse(p, t, message));
                    }
                    _ => {
                        self.lock_owners[m] = None;
                        self.waiters[*c].push(t);
                        self.threads[t].wait = Wait::Queued;
                        next = pc;
                    }
                }
            }
            Instr::Signal(c) => {
                if !self.waiters[*c].is_empty() {
                    let w = self.waiters[*c].remove(0);
                    self.threads[w].wait = Wait::Woken;
                }
            }
            Instr::Broadcast(c) => {
                for w in std::mem::take(&mut self.waiters[*c]) {
                    self.threads[w].wait = Wait::Woken;
                }
            }
            Instr::Down(s) => self.semaphores[*s] -= 1,
            Instr::Up(s) => self.semaphores[*s] = self.semaphores[*s].saturating_add(1),
            Instr::Barrier(b) => {
                if let Wait::Barrier { .. } = self.threads[t].wait {
                    // The barrier opened since this thread arrived: leave it.
                    self.threads[t].wait = Wait::None;
                } else {
                    let parties = p.barriers[*b].parties;
                    let state = &mut self.barriers[*b];
                    state.arrived += 1;
                    if state.arrived >= parties {
                        state.arrived = 0;
                        state.round = state.round.wrapping_add(1);
                    } else {
                        self.threads[t].wait = Wait::Barrier { round: state.round };
                        next = pc;
                    }
                }
            }
            Instr::Send { channel, value } => {
                if self.threads[t].wait == Wait::Matched {
                    // The message was received while this send waited: return.
                    self.threads[t].wait = Wait::None;
                } else {
                    let v = self.value(Some(t), *value);
                    let capacity = p.channels[*channel].capacity;
                    let ch = &mut self.channels[*channel];
                    if !ch.receivers.is_empty() {
                        // A receive is waiting: the message goes straight to it.
                        let r = ch.receivers.remove(0);
                        self.deliver(p, r, v);
                    } else if ch.senders.is_empty() && ch.buffer.len() < capacity {
                        ch.buffer.push(v);
                    } else {
                        ch.senders.push((t, v));
                        self.threads[t].wait = Wait::Posted;
                        next = pc;
                    }
                }
            }
            Instr::Recv { reg, channel } => {
                if self.threads[t].wait == Wait::Matched {
                    // A send delivered the message into the register: return.
                    self.threads[t].wait = Wait::None;
                } else {
                    let ch = &mut self.channels[*channel];
                    if !ch.buffer.is_empty() {
                        self.threads[t].regs[*reg] = ch.buffer.remove(0);
                    } else if !ch.senders.is_empty() {
                        let (s, v) = ch.senders.remove(0);
                        self.threads[s].wait = Wait::Matched;
                        self.threads[t].regs[*reg] = v;
                    } else {
                        ch.receivers.push(t);
                        self.threads[t].wait = Wait::Posted;
                        next = pc;
                    }
                }
            }
            Instr::Assert(c) => {
                if !self.holds(Some(t), c) {
                    let message = self.assert_message(p, Some(t), c);
                    self.failure = Some(Failure::Assert {
                        thread: Some(t),
                        message: message.clone(),
                    });
                    failed = Some(StepResult::AssertFailed(message));
                }
            }
            Instr::CriticalBegin => self.threads[t].in_critical = true,
            Instr::CriticalEnd => self.threads[t].in_critical = false,
            Instr::Nop => {}
        }
        self.threads[t].pc = next;
        if let Some(result) = failed {
            return result;
        }
        if !self.is_finished(p, t) {
            return StepResult::Ok;
        }
        let all_finished = (0..self.threads.len()).all(|u| self.is_finished(p, u));
        if all_finished
            && let Some(c) = &p.final_assert
            && !self.holds(None, c)
        {
            let message = self.assert_message(p, None, c);
            self.failure = Some(Failure::Assert {
                thread: None,
                message: message.clone(),
            });
            return StepResult::AssertFailed(message);
        }
        StepResult::ThreadFinished
    }

    /// Hands message `v` to thread `r`, which waits in `recv`: into its register, and its
    /// next step returns.
    fn deliver(&mut self, p: &Puzzle, r: ThreadId, v: i64) {
        let pc = self.threads[r].pc;
        if let Some(Instr::Recv { reg, .. }) = p.threads[r].steps.get(pc).map(|s| &s.instr) {
            self.threads[r].regs[*reg] = v;
        }
        self.threads[r].wait = Wait::Matched;
    }

    fn misuse(&mut self, p: &Puzzle, t: ThreadId, message: String) -> StepResult {
        let failure = Failure::Misuse { thread: t, message };
        let text = failure.describe(p);
        self.failure = Some(failure);
        StepResult::Misuse(text)
    }
}

/// A puzzle being played: its state, the steps taken, and the states before them for undo.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    puzzle: Puzzle,
    state: State,
    history: Vec<State>,
    schedule: Vec<ThreadId>,
}

impl Session {
    /// A session at the puzzle's initial state.
    pub fn new(puzzle: Puzzle) -> Self {
        let state = State::initial(&puzzle);
        Self {
            puzzle,
            state,
            history: Vec::new(),
            schedule: Vec::new(),
        }
    }

    /// The puzzle.
    pub fn puzzle(&self) -> &Puzzle {
        &self.puzzle
    }

    /// The current state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The threads that took the steps so far, in order.
    pub fn schedule(&self) -> &[ThreadId] {
        &self.schedule
    }

    /// The program's status.
    pub fn status(&self) -> Status {
        self.state.status(&self.puzzle)
    }

    /// Whether thread `t` may take a step now; if not, why not.
    pub fn enabled(&self, t: ThreadId) -> Result<(), Blocked> {
        self.state.enabled(&self.puzzle, t)
    }

    /// Runs thread `t`'s next step; remembers the state before it for [`Session::undo`]
    /// unless nothing happened.
    pub fn step(&mut self, t: ThreadId) -> StepResult {
        let before = self.state.clone();
        let result = self.state.step(&self.puzzle, t);
        if !matches!(result, StepResult::Blocked(_)) {
            self.history.push(before);
            self.schedule.push(t);
        }
        result
    }

    /// Takes back the last step. Returns `false` when there is none.
    pub fn undo(&mut self) -> bool {
        match self.history.pop() {
            Some(s) => {
                self.state = s;
                self.schedule.pop();
                true
            }
            None => false,
        }
    }

    /// Back to the initial state, forgetting every step.
    pub fn reset(&mut self) {
        self.state = State::initial(&self.puzzle);
        self.history.clear();
        self.schedule.clear();
    }
}

impl fmt::Display for CmpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::puzzle::parse::puzzle_from_toml_unchecked;
    use crate::puzzle::{explore, puzzle_from_toml};

    /// A puzzle from a compact description: declarations, then one code block per thread.
    fn puzzle(goal: &str, decls: &str, threads: &[&str]) -> Puzzle {
        let mut text =
            format!("id = \"t\"\ntitle = \"T\"\ngoal = \"{goal}\"\ndescription = \"d\"\n{decls}\n");
        for code in threads {
            text.push_str(&format!("\n[[threads]]\ncode = '''\n{code}\n'''\n"));
        }
        match puzzle_from_toml_unchecked(&text) {
            Ok(p) => p,
            Err(e) => panic!("test puzzle does not parse: {e:?}"),
        }
    }

    fn run(p: &Puzzle, schedule: &[ThreadId]) -> (State, Vec<StepResult>) {
        let mut s = State::initial(p);
        let results = schedule.iter().map(|&t| s.step(p, t)).collect();
        (s, results)
    }

    #[test]
    fn load_add_store_lose_an_update_when_interleaved() {
        let inc = "load r, counter\nadd r, 1\nstore counter, r";
        let p = puzzle(
            "assert_fails",
            "vars = { counter = 0 }\nfinal_assert = \"counter == 2\"",
            &[inc, inc],
        );
        let (s, results) = run(&p, &[0, 0, 0, 1, 1, 1]);
        assert_eq!(s.vars, [2]);
        assert_eq!(results[2], StepResult::ThreadFinished);
        assert_eq!(results[5], StepResult::ThreadFinished);
        assert_eq!(s.status(&p), Status::Finished);

        let (s, results) = run(&p, &[0, 1, 0, 0, 1, 1]);
        assert_eq!(s.vars, [1]);
        assert_eq!(
            results[5],
            StepResult::AssertFailed("assert counter == 2 failed: counter = 1".into())
        );
        assert_eq!(s.status(&p), Status::GoalReached);
        assert_eq!(s.threads[1].regs, [1]);
    }

    #[test]
    fn a_held_lock_blocks_and_names_its_holder() {
        let p = puzzle(
            "deadlock",
            "locks = [\"a\", \"b\"]",
            &[
                "lock a\nlock b\nunlock b\nunlock a",
                "lock b\nlock a\nunlock a\nunlock b",
            ],
        );
        let mut s = State::initial(&p);
        assert_eq!(s.step(&p, 0), StepResult::Ok);
        assert_eq!(s.lock_owners, [Some(0), None]);
        assert_eq!(s.step(&p, 1), StepResult::Ok);
        let blocked = s.can_run(&p, 0).expect_err("b is held by T2");
        assert_eq!(blocked.describe(&p), "waiting for lock b (held by T2)");
        let before = s.clone();
        assert!(matches!(s.step(&p, 0), StepResult::Blocked(_)));
        assert_eq!(s, before, "a blocked step changes nothing");
        assert_eq!(s.status(&p), Status::GoalReached, "both wait: deadlock");
        assert_eq!(
            s.enabled(&p, 1).map_err(|b| b.reason),
            Err(BlockReason::Over)
        );
    }

    #[test]
    fn deadlock_that_is_not_the_goal_and_self_deadlock() {
        let p = puzzle(
            "finish",
            "locks = [\"m\"]",
            &["lock m\nlock m\nunlock m", "nop"],
        );
        let (s, _) = run(&p, &[1, 0]);
        assert_eq!(
            s.enabled(&p, 0).map_err(|b| b.describe(&p)),
            Err("the program has stopped".to_owned())
        );
        assert_eq!(s.status(&p), Status::Deadlock);
        assert_eq!(
            s.can_run(&p, 0).map_err(|b| b.describe(&p)),
            Err("waiting for lock m, which it holds itself".to_owned())
        );
    }

    #[test]
    fn unlocking_a_lock_not_held_is_a_misuse() {
        let p = puzzle("finish", "locks = [\"m\"]", &["unlock m", "nop"]);
        let mut s = State::initial(&p);
        assert_eq!(
            s.step(&p, 0),
            StepResult::Misuse("T1: unlocks m, which it does not hold".into())
        );
        assert!(matches!(
            s.status(&p),
            Status::Failed(Failure::Misuse { thread: 0, .. })
        ));
    }

    #[test]
    fn semaphores_count_down_and_block_at_zero() {
        let p = puzzle(
            "finish",
            "semaphores = { items = 1 }",
            &["down items\ndown items", "up items"],
        );
        let mut s = State::initial(&p);
        assert_eq!(s.step(&p, 0), StepResult::Ok);
        assert_eq!(s.semaphores, [0]);
        assert_eq!(
            s.enabled(&p, 0).map_err(|b| b.describe(&p)),
            Err("waiting on semaphore items (count 0)".to_owned())
        );
        assert_eq!(s.step(&p, 1), StepResult::ThreadFinished);
        assert_eq!(s.step(&p, 0), StepResult::ThreadFinished);
        assert_eq!(s.status(&p), Status::GoalReached);
    }

    #[test]
    fn a_barrier_holds_threads_until_all_arrive() {
        let p = puzzle(
            "finish",
            "vars = { x = 0 }\nbarriers = { b = 2 }",
            &[
                "store x, 1\nbarrier b",
                "barrier b\nload r, x\nassert r == 1",
            ],
        );
        let mut s = State::initial(&p);
        assert_eq!(s.step(&p, 1), StepResult::Ok, "T2 arrives");
        assert_eq!(s.threads[1].pc, 0, "and waits at the barrier");
        assert_eq!(
            s.enabled(&p, 1).map_err(|b| b.describe(&p)),
            Err("waiting at barrier b (1 of 2 arrived)".to_owned())
        );
        assert_eq!(s.step(&p, 0), StepResult::Ok);
        assert_eq!(s.step(&p, 0), StepResult::ThreadFinished, "T1 arrives last");
        assert_eq!(s.barriers[0].round, 1);
        assert_eq!(s.step(&p, 1), StepResult::Ok, "T2 leaves the barrier");
        assert_eq!(s.threads[1].pc, 1);
        assert_eq!(s.step(&p, 1), StepResult::Ok);
        assert_eq!(s.step(&p, 1), StepResult::ThreadFinished);
        assert_eq!(s.status(&p), Status::GoalReached);
        let r = explore(&p, 1000);
        assert!(r.complete && r.counterexample.is_none(), "{r:?}");
    }

    #[test]
    fn condition_variables_release_the_lock_and_lose_early_signals() {
        let waiter = "lock m\nload r, ready\njump_if r != 0, go\nwait c\ngo: unlock m";
        let p = puzzle(
            "deadlock",
            "vars = { ready = 0 }\nlocks = [\"m\"]\nconditions = { c = \"m\" }",
            &[waiter, "store ready, 1\nsignal c"],
        );
        // T1 checks, then T2 sets and signals before T1 sleeps: the signal is lost.
        let (s, _) = run(&p, &[0, 0, 1, 1, 0, 0]);
        assert_eq!(s.threads[0].wait, Wait::Queued);
        assert_eq!(s.lock_owners, [None], "wait released the lock");
        assert_eq!(s.status(&p), Status::GoalReached);

        // T1 sleeps first; the signal wakes it and it takes the lock back.
        let (mut s, _) = run(&p, &[0, 0, 0, 0]);
        assert_eq!(s.waiters, [vec![0]]);
        assert_eq!(s.step(&p, 1), StepResult::Ok);
        assert_eq!(s.step(&p, 1), StepResult::ThreadFinished);
        assert_eq!(s.threads[0].wait, Wait::Woken);
        assert_eq!(s.step(&p, 0), StepResult::Ok);
        assert_eq!(s.lock_owners, [Some(0)]);
        assert_eq!(s.step(&p, 0), StepResult::ThreadFinished);
        assert_eq!(s.status(&p), Status::Finished);
    }

    #[test]
    fn critical_sections_are_tracked() {
        let p = puzzle("both_in_critical", "", &["enter\nleave", "enter\nleave"]);
        let (s, _) = run(&p, &[0, 0, 1]);
        assert_eq!(s.in_critical(), [1]);
        assert_eq!(s.status(&p), Status::Running);
        let (s, _) = run(&p, &[0, 1]);
        assert_eq!(s.status(&p), Status::GoalReached);
        let f = puzzle("finish", "", &["enter\nleave", "enter\nleave"]);
        let (s, _) = run(&f, &[0, 1]);
        assert_eq!(
            s.status(&f),
            Status::Failed(Failure::BothInCritical(vec![0, 1]))
        );
    }

    #[test]
    fn a_failed_thread_assert_stops_the_program() {
        let p = puzzle(
            "assert_fails",
            "vars = { x = 0 }",
            &["store x, 1", "load r, x\nassert r == 0\nnop"],
        );
        let (s, results) = run(&p, &[0, 1, 1]);
        assert_eq!(
            results[2],
            StepResult::AssertFailed("assert r == 0 failed: r = 1".into())
        );
        assert_eq!(s.status(&p), Status::GoalReached);
        assert!(s.status(&p).is_over());
        assert_eq!(
            s.failure.as_ref().map(|f| f.describe(&p)),
            Some("T2: assert r == 0 failed: r = 1".to_owned())
        );
    }

    #[test]
    fn session_undo_and_reset() {
        let inc = "load r, counter\nadd r, 1\nstore counter, r";
        let p = puzzle(
            "assert_fails",
            "vars = { counter = 0 }\nfinal_assert = \"counter == 2\"",
            &[inc, inc],
        );
        let mut session = Session::new(p);
        assert!(!session.undo(), "nothing to undo");
        session.step(0);
        session.step(1);
        session.step(0);
        assert_eq!(session.schedule(), [0, 1, 0]);
        assert_eq!(session.state().threads[0].regs, [1]);
        assert!(session.undo());
        assert_eq!(session.schedule(), [0, 1]);
        assert_eq!(session.state().threads[0].regs, [0]);
        assert_eq!(session.state().threads[0].pc, 1);
        for t in [0, 0, 1, 1] {
            session.step(t);
        }
        assert_eq!(session.status(), Status::GoalReached);
        let done = session.state().clone();
        assert!(matches!(session.step(0), StepResult::Blocked(_)));
        assert_eq!(session.state(), &done);
        assert_eq!(
            session.schedule().len(),
            6,
            "a refused step is not recorded"
        );
        session.reset();
        assert_eq!(session.state(), &State::initial(session.puzzle()));
        assert!(session.schedule().is_empty());
        assert!(!session.undo());
    }

    #[test]
    fn search_ends_on_spin_loops_and_stops_at_the_limit() {
        // A busy-wait loop revisits states: the search must still end, and completely.
        let p = puzzle(
            "both_in_critical",
            "vars = { busy = 0 }",
            &[
                "top: load r, busy\njump_if r != 0, top\nstore busy, 1\nenter\nleave\nstore busy, 0",
                "top: load r, busy\njump_if r != 0, top\nstore busy, 1\nenter\nleave\nstore busy, 0",
            ],
        );
        let r = explore(&p, 100_000);
        assert!(r.complete);
        let witness = r.witness.expect("both can get in");
        assert_eq!(
            witness.len(),
            8,
            "shortest: both load, both store, both enter"
        );
        let (s, _) = run(&p, &witness);
        assert_eq!(s.status(&p), Status::GoalReached);

        // A counter that grows forever: infinitely many states.
        let q = puzzle(
            "finish",
            "vars = { x = 0 }",
            &["top: load r, x\nadd r, 1\nstore x, r\njump top", "nop"],
        );
        let r = explore(&q, 500);
        assert!(!r.complete);
        assert!(r.states_explored <= 500);
        assert!(!r.goal_reachable);
    }

    #[test]
    fn the_validator_rejects_a_finish_puzzle_that_deadlocks() {
        let text = "id = \"t\"\ntitle = \"T\"\ngoal = \"finish\"\ndescription = \"d\"\nlocks = [\"a\", \"b\"]\n\n[[threads]]\ncode = '''\nlock a\nlock b\nunlock b\nunlock a\n'''\n\n[[threads]]\ncode = '''\nlock b\nlock a\nunlock a\nunlock b\n'''\n";
        let errors = puzzle_from_toml(text).expect_err("breakable");
        assert_eq!(
            errors[0].message,
            "a `finish` puzzle must not break, but this schedule breaks it: T1 T2"
        );
    }

    const CHANNEL: &str = "channels = { c = 1 }";

    #[test]
    fn a_send_into_a_buffer_with_room_returns_at_once_and_a_full_one_blocks() {
        let p = puzzle("deadlock", CHANNEL, &["send c, 7\nsend c, 8", "recv r, c"]);
        let mut s = State::initial(&p);
        assert_eq!(s.step(&p, 0), StepResult::Ok, "eager: into the buffer");
        assert_eq!(s.channels[0].buffer, [7]);
        assert_eq!(s.threads[0].pc, 1);
        assert_eq!(s.threads[0].wait, Wait::None);
        assert_eq!(s.step(&p, 0), StepResult::Ok, "the send is posted");
        assert_eq!(s.threads[0].pc, 1, "and waits in send");
        assert_eq!(s.threads[0].wait, Wait::Posted);
        assert_eq!(s.channels[0].senders, [(0, 8)]);
        assert_eq!(
            s.enabled(&p, 0).map_err(|b| b.describe(&p)),
            Err("in send: waits for T2 to recv on c (c full, 1 of 1)".to_owned())
        );
        let before = s.clone();
        assert!(matches!(s.step(&p, 0), StepResult::Blocked(_)));
        assert_eq!(s, before);
        // The receive takes the oldest message, from the buffer; the waiting send stays
        // waiting (a rendezvous needs a receive of its own).
        assert_eq!(s.step(&p, 1), StepResult::ThreadFinished);
        assert_eq!(s.threads[1].regs, [7]);
        assert!(s.channels[0].buffer.is_empty());
        assert_eq!(s.threads[0].wait, Wait::Posted);
        assert_eq!(s.status(&p), Status::GoalReached, "T1 waits forever");
    }

    #[test]
    fn a_rendezvous_completes_when_the_receiver_arrives_in_either_order() {
        let p = puzzle(
            "finish",
            "channels = { c = 0 }",
            &["send c, 5", "recv r, c\nassert r == 5"],
        );
        // The sender first: it waits until the receive takes the message, then returns.
        let mut s = State::initial(&p);
        assert_eq!(s.step(&p, 0), StepResult::Ok);
        assert_eq!(
            s.can_run(&p, 0).map_err(|b| b.describe(&p)),
            Err("in send: waits for T2 to recv on c (no buffer)".to_owned())
        );
        assert_eq!(s.step(&p, 1), StepResult::Ok, "T2 takes the message");
        assert_eq!(s.threads[1].regs, [5]);
        assert_eq!(s.threads[1].pc, 1);
        assert_eq!(s.threads[0].wait, Wait::Matched);
        assert_eq!(s.can_run(&p, 0), Ok(()), "T1 may return from send");
        assert_eq!(s.step(&p, 0), StepResult::ThreadFinished);
        assert_eq!(s.threads[0].wait, Wait::None);
        assert_eq!(s.step(&p, 1), StepResult::ThreadFinished);
        assert_eq!(s.status(&p), Status::GoalReached);

        // The receiver first: it waits; the send hands the message straight over.
        let mut s = State::initial(&p);
        assert_eq!(s.step(&p, 1), StepResult::Ok);
        assert_eq!(s.channels[0].receivers, [1]);
        assert_eq!(
            s.can_run(&p, 1).map_err(|b| b.describe(&p)),
            Err("in recv: waits for T1 to send on c".to_owned())
        );
        assert_eq!(
            s.step(&p, 0),
            StepResult::ThreadFinished,
            "nothing to wait for"
        );
        assert_eq!(s.threads[1].regs, [5]);
        assert_eq!(s.threads[1].wait, Wait::Matched);
        assert!(s.channels[0].receivers.is_empty());
        assert_eq!(s.step(&p, 1), StepResult::Ok, "T2 returns from recv");
        assert_eq!(s.threads[1].pc, 1);
        assert_eq!(s.step(&p, 1), StepResult::ThreadFinished);
        assert_eq!(s.status(&p), Status::GoalReached);
        let r = explore(&p, 1000);
        assert!(r.complete && r.counterexample.is_none(), "{r:?}");
    }

    #[test]
    fn messages_keep_their_order_and_a_send_never_overtakes_a_waiting_one() {
        let p = puzzle(
            "finish",
            CHANNEL,
            &[
                "send c, 1\nsend c, 2",
                "recv a, c\nrecv b, c\nrecv d, c",
                "send c, 3",
            ],
        );
        let (s, _) = run(&p, &[0, 0, 1, 2]);
        assert!(s.channels[0].buffer.is_empty(), "room again, but T1 waits");
        assert_eq!(
            s.channels[0].senders,
            [(0, 2), (2, 3)],
            "so T3 queues behind"
        );
        let (s, _) = run(&p, &[0, 0, 1, 2, 1, 1, 0, 2]);
        assert_eq!(s.threads[1].regs, [1, 2, 3]);
        assert_eq!(s.status(&p), Status::GoalReached);
    }

    #[test]
    fn both_ranks_in_send_deadlock_without_a_buffer_and_finish_with_one() {
        let rank = |to: &str, from: &str, v: i64| format!("send {to}, {v}\nrecv r, {from}");
        let p = puzzle(
            "deadlock",
            "channels = { to1 = 0, to0 = 0 }",
            &[&rank("to1", "to0", 1), &rank("to0", "to1", 2)],
        );
        let (s, _) = run(&p, &[0, 1]);
        assert_eq!(s.status(&p), Status::GoalReached);
        assert_eq!(
            s.can_run(&p, 0).map_err(|b| b.describe(&p)),
            Err("in send: waits for T2 to recv on to1 (no buffer)".to_owned())
        );
        assert_eq!(
            s.can_run(&p, 1).map_err(|b| b.describe(&p)),
            Err("in send: waits for T1 to recv on to0 (no buffer)".to_owned())
        );
        let r = explore(&p, 1000);
        assert!(r.complete);
        assert_eq!(r.witness, Some(vec![0, 1]));

        // With room for one message each way, every order completes.
        let q = puzzle(
            "finish",
            "channels = { to1 = 1, to0 = 1 }",
            &[&rank("to1", "to0", 1), &rank("to0", "to1", 2)],
        );
        let r = explore(&q, 1000);
        assert!(r.complete && r.counterexample.is_none(), "{r:?}");
        let (s, _) = run(&q, &[0, 1, 0, 1]);
        assert_eq!(s.threads[0].regs, [2]);
        assert_eq!(s.threads[1].regs, [1]);
        assert_eq!(s.status(&q), Status::GoalReached);
    }
}
