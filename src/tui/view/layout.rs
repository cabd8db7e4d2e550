//! Where things go on screen. `update` uses the same functions as drawing so that wrapping
//! and scrolling agree with what is shown.

use ratatui::layout::{Constraint, Layout, Rect};

/// The main area and the one-line status bar below it.
pub(crate) fn main_and_status(area: Rect) -> (Rect, Rect) {
    let [main, status] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
    (main, status)
}

/// The catalogue's list (left) and the selected lesson's details (right).
pub(crate) fn catalogue(area: Rect) -> (Rect, Rect) {
    let (main, _) = main_and_status(area);
    let list_width = (main.width * 45 / 100).max(36).min(main.width);
    let [list, detail] =
        Layout::horizontal([Constraint::Length(list_width), Constraint::Min(0)]).areas(main);
    (list, detail)
}

/// Rows of the catalogue list inside its border.
pub fn catalogue_list_height(area: Rect) -> u16 {
    catalogue(area).0.height.saturating_sub(2)
}

/// The reader's text block (left) and its panel (right).
pub(crate) fn reader(area: Rect) -> (Rect, Rect) {
    let (main, _) = main_and_status(area);
    let panel_width = if main.width >= 110 { 38 } else { 28 };
    let [text, panel] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(panel_width)]).areas(main);
    (text, panel)
}

/// The lesson text inside the reader's border, with one column of padding each side.
pub(crate) fn reader_text(area: Rect) -> Rect {
    let (text, _) = reader(area);
    Rect {
        x: text.x + 2,
        y: text.y + 1,
        width: text.width.saturating_sub(4),
        height: text.height.saturating_sub(2),
    }
}

/// The width the lesson text is wrapped to.
pub fn reader_text_width(area: Rect) -> u16 {
    reader_text(area).width.max(1)
}

/// How many lines of lesson text are visible.
pub fn reader_text_height(area: Rect) -> u16 {
    reader_text(area).height
}

/// A rectangle of `width` × `height` centred in `area` (clipped to it).
pub(crate) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

/// The job-script window: most of the main area.
pub(crate) fn job_script(area: Rect) -> Rect {
    let (main, _) = main_and_status(area);
    centered(
        main,
        main.width.saturating_sub(4).min(100),
        main.height.saturating_sub(2),
    )
}

/// How many script lines the job-script window shows below `header` lines (inside the
/// border, above the two footer lines).
pub fn job_script_rows(area: Rect, header: usize) -> u16 {
    let header = u16::try_from(header).unwrap_or(u16::MAX);
    job_script(area)
        .height
        .saturating_sub(2)
        .saturating_sub(header)
        .saturating_sub(2)
}
