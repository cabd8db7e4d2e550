//! The shipped puzzles: each can be solved, replaying the search's schedule through the
//! engine reaches the goal, and the correct programs provably cannot be broken.

use hpc_tutor::lesson::{LessonSet, LessonSource};
use hpc_tutor::puzzle::{Goal, Puzzle, Session, Status, StepResult, explore, puzzle_from_toml};

fn shipped() -> Vec<Puzzle> {
    let set = LessonSet::load(&LessonSource::BuiltIn).expect("built-in lessons");
    assert!(set.broken.is_empty(), "{:?}", set.diagnostics());
    set.lessons
        .iter()
        .flat_map(|l| l.puzzles.iter().cloned())
        .collect()
}

fn find(id: &str) -> Puzzle {
    shipped()
        .into_iter()
        .find(|p| p.id == id)
        .unwrap_or_else(|| panic!("puzzle {id} is shipped"))
}

#[test]
fn at_least_six_puzzles_covering_every_goal() {
    let all = shipped();
    assert!(all.len() >= 6, "{} puzzles", all.len());
    for goal in [
        Goal::AssertFails,
        Goal::Deadlock,
        Goal::BothInCritical,
        Goal::Finish,
    ] {
        assert!(all.iter().any(|p| p.goal == goal), "a puzzle with {goal:?}");
    }
    assert!(
        all.iter().any(|p| !p.semaphores.is_empty()),
        "a semaphore puzzle"
    );
    assert!(
        all.iter().any(|p| !p.barriers.is_empty()),
        "a barrier puzzle"
    );
    assert!(
        all.iter().any(|p| !p.conditions.is_empty()),
        "a condition variable puzzle"
    );
    assert!(
        all.iter().any(|p| !p.channels.is_empty()),
        "a message puzzle"
    );
    assert!(
        all.iter().any(|p| p.threads.len() == 3),
        "a three-thread puzzle"
    );
    for p in &all {
        assert!(!p.hints.is_empty(), "{} has hints", p.id);
        assert!((2..=3).contains(&p.threads.len()), "{}", p.id);
    }
}

#[test]
fn every_shipped_puzzle_is_solvable_by_replaying_the_witness() {
    for p in shipped() {
        let result = explore(&p, 100_000);
        assert!(result.complete, "{}: search completes", p.id);
        let witness = result
            .witness
            .unwrap_or_else(|| panic!("{}: the goal is reachable", p.id));
        let mut session = Session::new(p.clone());
        for (i, &t) in witness.iter().enumerate() {
            assert_eq!(session.status(), Status::Running, "{}: step {i}", p.id);
            let r = session.step(t);
            assert!(
                !matches!(r, StepResult::Blocked(_)),
                "{}: step {i} of the witness is blocked: {r:?}",
                p.id
            );
        }
        assert_eq!(session.status(), Status::GoalReached, "{}", p.id);
        assert_eq!(session.schedule(), witness.as_slice());
    }
}

#[test]
fn the_broken_programs_can_be_broken() {
    for p in shipped().into_iter().filter(|p| p.goal != Goal::Finish) {
        let r = explore(&p, 100_000);
        assert!(r.counterexample.is_some(), "{} breaks", p.id);
    }
}

#[test]
fn no_interleaving_breaks_the_locked_counter() {
    let p = find("mutex-counter");
    let r = explore(&p, 100_000);
    assert!(r.complete, "every reachable state was visited");
    assert_eq!(
        r.counterexample, None,
        "no assertion fails, nothing deadlocks"
    );
    assert!(r.goal_reachable);
    // And the same program without the lock can be broken.
    let unlocked = find("lost-update");
    assert!(explore(&unlocked, 100_000).counterexample.is_some());
}

#[test]
fn a_real_mutex_keeps_the_critical_section_exclusive() {
    // The flag lock of `homemade-lock`, with the flag replaced by a mutex.
    let code = "lock m\ncritical section\n    enter\n    leave\nunlock m";
    let text = format!(
        "id = \"fixed\"\ntitle = \"Fixed\"\ngoal = \"finish\"\ndescription = \"d\"\nlocks = [\"m\"]\n\n[[threads]]\ncode = '''\n{code}\n'''\n\n[[threads]]\ncode = '''\n{code}\n'''\n\n[[threads]]\ncode = '''\n{code}\n'''\n"
    );
    let p = puzzle_from_toml(&text).expect("a finish puzzle that holds");
    let r = explore(&p, 100_000);
    assert!(r.complete && r.counterexample.is_none());
    // The flag version lets two threads in.
    let flag = find("homemade-lock");
    let r = explore(&flag, 100_000);
    assert!(r.complete && r.goal_reachable);
}

#[test]
fn the_overdraw_needs_both_checks_before_either_subtraction() {
    let p = find("overdraw");
    let mut s = Session::new(p);
    // T1 checks and withdraws completely before T2 checks: T2 is refused.
    for t in [0, 0, 0, 0, 0, 1, 1] {
        s.step(t);
    }
    assert_eq!(s.status(), Status::Finished);
    assert_eq!(s.state().vars, [20]);
    s.reset();
    // Both check first, then both withdraw.
    for t in [0, 0, 1, 1, 0, 0, 0, 1, 1, 1] {
        s.step(t);
    }
    assert_eq!(s.state().vars, [-30]);
    assert_eq!(s.status(), Status::GoalReached);
}

#[test]
fn the_eager_buffer_hides_the_send_first_deadlock_and_parity_needs_none() {
    // The same send-first code: no buffer deadlocks on every schedule, one message of
    // buffer finishes on every schedule.
    let large = find("send-first-large");
    let small = find("send-first-small");
    for (p, q) in large.threads.iter().zip(&small.threads) {
        assert_eq!(p.steps, q.steps, "the code is the same");
    }
    assert!(large.channels.iter().all(|c| c.capacity == 0));
    assert!(small.channels.iter().all(|c| c.capacity == 1));
    let r = explore(&large, 100_000);
    assert!(r.complete && r.goal_reachable);
    let mut s = Session::new(large.clone());
    for t in [1, 0] {
        s.step(t);
    }
    assert_eq!(s.status(), Status::GoalReached, "either order deadlocks");
    let r = explore(&small, 100_000);
    assert!(r.complete && r.counterexample.is_none());

    // Parity and the odd ring complete with no buffer at all.
    for id in ["parity", "odd-ring"] {
        let p = find(id);
        assert!(p.channels.iter().all(|c| c.capacity == 0), "{id}");
        let r = explore(&p, 100_000);
        assert!(r.complete && r.counterexample.is_none(), "{id}: {r:?}");
    }
}

#[test]
fn a_condition_wait_needs_a_while_and_a_barrier_needs_the_writes_before_it() {
    for (broken, fixed) in [
        ("if-not-while", "while-not-if"),
        ("early-barrier", "write-then-meet"),
        ("half-locked", "mutex-counter"),
        ("two-flags", "peterson"),
    ] {
        let b = explore(&find(broken), 100_000);
        assert!(b.complete && b.goal_reachable, "{broken} can be broken");
        let f = explore(&find(fixed), 100_000);
        assert!(
            f.complete && f.counterexample.is_none(),
            "{fixed} cannot be broken"
        );
    }
    // Three threads can lose two updates at once.
    let p = find("three-way-loss");
    let witness = explore(&p, 100_000).witness.expect("solvable");
    let mut s = Session::new(p);
    for t in witness {
        s.step(t);
    }
    assert_eq!(s.state().vars, [1]);
}
