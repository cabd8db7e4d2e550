//! The puzzle stepper drawn with ratatui's `TestBackend`, without colour, compared with insta
//! snapshots at 80x24 and 120x40 (the stepper gets the screen minus the app's status bar).

use hpc_tutor::lesson::{LessonSet, LessonSource};
use hpc_tutor::puzzle::{Puzzle, puzzle_from_toml};
use hpc_tutor::tui::puzzle::PuzzleView;
use hpc_tutor::tui::theme::Theme;
use hpc_tutor::tui::view::puzzle::draw;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn shipped(id: &str) -> Puzzle {
    let set = LessonSet::load(&LessonSource::BuiltIn).expect("built-in lessons");
    set.lessons
        .iter()
        .flat_map(|l| &l.puzzles)
        .find(|p| p.id == id)
        .cloned()
        .unwrap_or_else(|| panic!("puzzle {id} is shipped"))
}

fn render(view: &PuzzleView, (w, h): (u16, u16)) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    terminal
        .draw(|f| {
            let area = Rect {
                height: h - 1,
                ..f.area()
            };
            draw(view, &Theme::monochrome(), area, f.buffer_mut());
        })
        .expect("draw");
    terminal.backend().to_string()
}

fn snapshot(name: &str, puzzle: &Puzzle, keys: &[KeyCode]) {
    for size in SIZES {
        let mut view = PuzzleView::new(puzzle.clone());
        for k in keys {
            view.on_key(KeyEvent::from(*k));
        }
        insta::assert_snapshot!(format!("{name}_{}x{}", size.0, size.1), render(&view, size));
    }
}

#[test]
fn lost_update_at_the_start() {
    snapshot("puzzle_lost_update_start", &shipped("lost-update"), &[]);
}

#[test]
fn lost_update_solved() {
    use KeyCode::*;
    snapshot(
        "puzzle_lost_update_solved",
        &shipped("lost-update"),
        &[Enter, Right, Enter, Left, Enter, Enter, Right, Enter, Enter],
    );
}

#[test]
fn homemade_lock_in_a_spin_loop_with_a_hint() {
    use KeyCode::*;
    // T1 gets in and holds the flag; T2 spins, sees busy = 1, loops back.
    snapshot(
        "puzzle_homemade_lock_spinning",
        &shipped("homemade-lock"),
        &[Enter, Enter, Enter, Enter, Tab, Enter, Enter, Char('h')],
    );
}

#[test]
fn lock_order_deadlock_shows_what_each_thread_waits_for() {
    use KeyCode::*;
    snapshot(
        "puzzle_lock_order_deadlock",
        &shipped("lock-order"),
        &[Enter, Char('2'), Enter],
    );
}

#[test]
fn consumer_blocked_on_a_semaphore_while_holding_the_lock_and_told_so() {
    use KeyCode::*;
    snapshot(
        "puzzle_consumer_blocked",
        &shipped("consumer-holds-lock"),
        &[Char('2'), Enter, Enter],
    );
}

#[test]
fn three_threads_at_a_barrier() {
    let code = |n: i64| {
        format!(
            "x += {n}\n    load r, x\n    add r, {n}\n    store x, r\nwait for the others\n    barrier b\nassert x == 6"
        )
    };
    let text = format!(
        "id = \"three\"\ntitle = \"Three threads meet\"\ngoal = \"finish\"\ndescription = \"Each thread adds its share, then waits for the others at the barrier.\"\nhints = [\"h\"]\nvars = {{ x = 0 }}\nlocks = [\"m\"]\nbarriers = {{ b = 3 }}\n\n[[threads]]\ncode = '''\nlock m\n{}\nunlock m\n'''\n\n[[threads]]\ncode = '''\nlock m\n{}\nunlock m\n'''\n\n[[threads]]\ncode = '''\nlock m\n{}\nunlock m\n'''\n",
        code(1),
        code(2),
        code(3)
    );
    // The barrier sits inside the lock: a deliberately broken program, drawn mid-run.
    let p = puzzle_from_toml(&text.replace("\"finish\"", "\"deadlock\"")).expect("valid");
    use KeyCode::*;
    snapshot(
        "puzzle_three_threads",
        &p,
        &[Enter, Enter, Enter, Enter, Enter, Right],
    );
}

#[test]
fn the_locked_counter_finishes_with_the_proof() {
    use KeyCode::*;
    snapshot(
        "puzzle_mutex_counter_finished",
        &shipped("mutex-counter"),
        &[
            Enter, Tab, Enter, Tab, Enter, Enter, Enter, Enter, Tab, Enter, Enter, Enter, Enter,
            Enter,
        ],
    );
}

#[test]
fn finishing_without_breaking_a_broken_program() {
    use KeyCode::*;
    snapshot(
        "puzzle_lost_update_finished",
        &shipped("lost-update"),
        &[Enter, Enter, Enter, Right, Enter, Enter, Enter],
    );
}

#[test]
fn both_ranks_in_send_show_the_channels_and_whom_each_waits_for() {
    use KeyCode::*;
    snapshot(
        "puzzle_mpi_send_first_deadlock",
        &shipped("send-first-large"),
        &[Enter, Char('2'), Enter],
    );
}

#[test]
fn an_eager_message_waits_in_the_buffer_while_a_recv_is_matched() {
    use KeyCode::*;
    // Rank 0 sends eagerly and waits in recv; rank 1's send hands its message over.
    snapshot(
        "puzzle_mpi_eager_buffer",
        &shipped("send-first-small"),
        &[Enter, Enter, Char('2'), Enter],
    );
}

#[test]
fn a_ring_of_three_ranks_with_a_rendezvous_pending() {
    use KeyCode::*;
    snapshot(
        "puzzle_mpi_odd_ring",
        &shipped("odd-ring"),
        &[Enter, Char('2'), Enter, Char('3'), Enter],
    );
}
