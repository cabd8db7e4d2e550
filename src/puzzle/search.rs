//! Exhaustive search over every interleaving of a puzzle.
//!
//! Breadth-first over the graph of reachable states, merging equal states, so that busy-wait
//! loops (which revisit a state) end the search instead of running forever, and so that the
//! schedules found are the shortest ones. A limit on the number of states bounds the search
//! for programs whose state space is very large or infinite (e.g. a counter that grows in a
//! loop); [`SearchResult::complete`] says whether the limit was hit.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};

use super::engine::{State, Status};
use super::{Goal, Puzzle, ThreadId};

/// What [`explore`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchResult {
    /// Some interleaving reaches the puzzle's goal.
    pub goal_reachable: bool,
    /// A shortest schedule (the thread of each step) that reaches the goal.
    pub witness: Option<Vec<ThreadId>>,
    /// A shortest schedule that breaks the program: an assertion fails, two threads are in
    /// the critical section together, a thread misuses a lock, or the threads deadlock.
    /// For the `finish` puzzles, `None` together with [`SearchResult::complete`] proves that
    /// no interleaving breaks them.
    pub counterexample: Option<Vec<ThreadId>>,
    /// Distinct states reached.
    pub states_explored: usize,
    /// Every reachable state was visited: the limit was not hit.
    pub complete: bool,
}

/// Explores every interleaving of `puzzle`, visiting at most `limit` distinct states.
pub fn explore(puzzle: &Puzzle, limit: usize) -> SearchResult {
    let limit = limit.max(1);
    let initial = State::initial(puzzle);
    // Each discovered state: the state it was reached from and the thread that stepped.
    let mut parents: Vec<Option<(usize, ThreadId)>> = vec![None];
    let mut index: HashMap<State, usize> = HashMap::new();
    index.insert(initial.clone(), 0);
    let mut queue: VecDeque<(usize, State)> = VecDeque::from([(0, initial)]);
    let mut witness_at = None;
    let mut counterexample_at = None;
    let mut complete = true;

    while let Some((id, state)) = queue.pop_front() {
        let status = state.status(puzzle);
        if status == Status::GoalReached && witness_at.is_none() {
            witness_at = Some(id);
        }
        if breaks(puzzle.goal, &status) && counterexample_at.is_none() {
            counterexample_at = Some(id);
        }
        if status.is_over() {
            continue;
        }
        for t in 0..puzzle.threads.len() {
            if state.enabled(puzzle, t).is_err() {
                continue;
            }
            let mut next = state.clone();
            next.step(puzzle, t);
            if index.len() >= limit && !index.contains_key(&next) {
                complete = false;
                continue;
            }
            if let Entry::Vacant(slot) = index.entry(next.clone()) {
                let new_id = parents.len();
                slot.insert(new_id);
                parents.push(Some((id, t)));
                queue.push_back((new_id, next));
            }
        }
    }

    let path = |mut at: usize| {
        let mut steps = Vec::new();
        while let Some(Some((parent, t))) = parents.get(at) {
            steps.push(*t);
            at = *parent;
        }
        steps.reverse();
        steps
    };
    SearchResult {
        goal_reachable: witness_at.is_some(),
        witness: witness_at.map(path),
        counterexample: counterexample_at.map(path),
        states_explored: parents.len(),
        complete,
    }
}

/// Whether a state with `status` is one where the program went wrong.
fn breaks(goal: Goal, status: &Status) -> bool {
    match status {
        Status::GoalReached => goal != Goal::Finish,
        Status::Deadlock | Status::Failed(_) => true,
        Status::Running | Status::Finished => false,
    }
}
