//! The wait-for graph as a picture: a run that deadlocked before it measured anything has
//! no points to plot, so its picture is the watchdog's diagnosis — the same content as the
//! terminal's wait-for panel (see [`crate::chart::waitfor`]).
//!
//! Top to bottom: the heading, how long nothing moved, then for two workers waiting for
//! each other two boxes (each worker with what it holds) and an arrow each way labelled with
//! what it waits for, else a line per waiting worker; the cycle; the fixes to run next.

use super::ExportError;
use super::canvas::{Align, Canvas, Rect, rgb};
use super::chart::{MUTED, TEXT, ink};
use super::font::{Font, ellipsize, wrap};
use crate::chart::waitfor::{HEADING, WaitFor, holds};
use crate::record::WaitRecord;
use plotters::style::Color;

/// The red of deadlocks, as on the size chart's ✗.
const BAD: u32 = 0xC0_39_2B;
/// The fixes, in the blue of the lesson card's bullets.
const FIX: u32 = 0x2F_6F_A7;
/// Box outline and fill.
const BOX_LINE: u32 = 0x1F_3A_56;
const BOX_FILL: u32 = 0xF2_F5_F9;

/// The fonts at a scale.
#[derive(Debug, Clone, Copy)]
struct Fonts {
    heading: Font,
    stalled: Font,
    name: Font,
    holds: Font,
    label: Font,
    line: Font,
    cycle: Font,
    fixes: Font,
}

impl Fonts {
    fn at(s: f64) -> Fonts {
        Fonts {
            heading: Font::bold(26.0 * s),
            stalled: Font::regular(17.0 * s),
            name: Font::bold(19.0 * s),
            holds: Font::regular(16.0 * s),
            label: Font::regular(16.0 * s),
            line: Font::regular(17.0 * s),
            cycle: Font::bold(18.0 * s),
            fixes: Font::regular(17.0 * s),
        }
    }
}

/// Two boxes and the arrows between them, measured.
struct Pair<'a> {
    a: &'a WaitRecord,
    b: &'a WaitRecord,
    box_w: f64,
    box_h: f64,
    gap: f64,
    /// What each waits for, fitted to the gap.
    label_a: String,
    label_b: String,
}

/// Everything placed for a scale `s` and a width, before drawing.
struct Layout<'a> {
    s: f64,
    fonts: Fonts,
    stalled: Vec<String>,
    pair: Option<Pair<'a>>,
    /// A line per waiting worker, each wrapped, when there is no pair.
    lines: Vec<Vec<String>>,
    cycle: Vec<String>,
    fixes: Vec<String>,
}

impl<'a> Layout<'a> {
    fn new(w: &WaitFor<'a>, s: f64, width: f64) -> Layout<'a> {
        let fonts = Fonts::at(s);
        let stalled = wrap(&w.stalled(), fonts.stalled, width);
        let indent = 24.0 * s;
        let pair = w.pair().map(|(a, b)| {
            let text_w = [
                fonts.name.width(&a.who),
                fonts.name.width(&b.who),
                fonts.holds.width(&holds(a)),
                fonts.holds.width(&holds(b)),
            ]
            .into_iter()
            .fold(0.0, f64::max);
            let box_w = (text_w + 40.0 * s).max(170.0 * s).min(width / 3.0);
            let label =
                |x: &WaitRecord| format!("waits for {}", x.waits_for.as_deref().unwrap_or("?"));
            let (la, lb) = (label(a), label(b));
            let room = (width - 2.0 * box_w - 2.0 * indent - 40.0 * s).max(60.0 * s);
            let label_a = ellipsize(&la, fonts.label, room);
            let label_b = ellipsize(&lb, fonts.label, room);
            let widest = fonts.label.width(&label_a).max(fonts.label.width(&label_b));
            let gap = (widest + 40.0 * s).max(200.0 * s);
            Pair {
                a,
                b,
                box_w,
                box_h: 96.0 * s,
                gap,
                label_a,
                label_b,
            }
        });
        let lines = if pair.is_some() {
            Vec::new()
        } else {
            w.diagnosis
                .waits
                .iter()
                .map(|x| wrap(&x.describe(), fonts.line, width - indent))
                .collect()
        };
        let cycle = w
            .cycle()
            .map(|c| wrap(&c, fonts.cycle, width))
            .unwrap_or_default();
        let fixes = w
            .fixes()
            .map(|f| wrap(f, fonts.fixes, width))
            .unwrap_or_default();
        Layout {
            s,
            fonts,
            stalled,
            pair,
            lines,
            cycle,
            fixes,
        }
    }

    /// The gap between parts.
    fn gap(&self) -> f64 {
        20.0 * self.s
    }

    fn height(&self) -> f64 {
        let f = &self.fonts;
        let mut h = f.heading.line_height()
            + self.stalled.len() as f64 * f.stalled.line_height()
            + self.gap();
        h += match &self.pair {
            Some(p) => p.box_h,
            None => self
                .lines
                .iter()
                .map(|l| l.len() as f64 * f.line.line_height() + 4.0 * self.s)
                .sum::<f64>(),
        };
        if !self.cycle.is_empty() {
            h += self.gap() + self.cycle.len() as f64 * f.cycle.line_height();
        }
        if !self.fixes.is_empty() {
            h += self.gap() * 0.6 + self.fixes.len() as f64 * f.fixes.line_height();
        }
        h
    }
}

/// Draws the wait-for graph of `w` into `area`, scaled by `u` (1 at 1200 × 800): larger,
/// up to `grow` times, to fill most of a tall area, and smaller where it would not fit.
pub(crate) fn draw(
    c: &Canvas,
    area: Rect,
    w: &WaitFor,
    u: f64,
    grow: f64,
) -> Result<(), ExportError> {
    let mut layout = Layout::new(w, u, area.w);
    if grow > 1.0 {
        let s = u * (area.h * 0.7 / layout.height()).clamp(1.0, grow);
        layout = Layout::new(w, s, area.w);
    }
    // Shrink until it fits the height (wrapping changes with the size: a few rounds).
    for _ in 0..4 {
        let h = layout.height();
        if h <= area.h || layout.s < 0.2 {
            break;
        }
        let s = layout.s * (area.h / h).max(0.5) * 0.98;
        layout = Layout::new(w, s, area.w);
    }
    let s = layout.s;
    let f = layout.fonts;
    let x = area.x;
    // A little air above when there is room to spare.
    let mut y = area.y + ((area.h - layout.height()) * 0.25).clamp(0.0, 40.0 * s);

    c.text(
        HEADING,
        (x, y + f.heading.cap_height()),
        f.heading,
        ink(TEXT),
        Align::Left,
    )?;
    y += f.heading.line_height();
    for line in &layout.stalled {
        c.text(
            line,
            (x, y + f.stalled.cap_height()),
            f.stalled,
            ink(BAD),
            Align::Left,
        )?;
        y += f.stalled.line_height();
    }
    y += layout.gap();

    match &layout.pair {
        Some(p) => {
            draw_pair(c, p, &f, s, area, y)?;
            y += p.box_h;
        }
        None => {
            for lines in &layout.lines {
                for (k, line) in lines.iter().enumerate() {
                    let base = y + f.line.cap_height();
                    if k == 0 {
                        c.text("•", (x + 6.0 * s, base), f.line, ink(BAD), Align::Left)?;
                    }
                    c.text(line, (x + 24.0 * s, base), f.line, ink(TEXT), Align::Left)?;
                    y += f.line.line_height();
                }
                y += 4.0 * s;
            }
        }
    }

    if !layout.cycle.is_empty() {
        y += layout.gap();
        for line in &layout.cycle {
            c.text(
                line,
                (x, y + f.cycle.cap_height()),
                f.cycle,
                ink(BAD),
                Align::Left,
            )?;
            y += f.cycle.line_height();
        }
    }
    if !layout.fixes.is_empty() {
        y += layout.gap() * 0.6;
        for line in &layout.fixes {
            c.text(
                line,
                (x, y + f.fixes.cap_height()),
                f.fixes,
                ink(FIX),
                Align::Left,
            )?;
            y += f.fixes.line_height();
        }
    }
    Ok(())
}

/// Two boxes side by side, centred in `area` at `top`, with an arrow from each to the other.
fn draw_pair(
    c: &Canvas,
    p: &Pair,
    f: &Fonts,
    s: f64,
    area: Rect,
    top: f64,
) -> Result<(), ExportError> {
    let total = 2.0 * p.box_w + p.gap;
    let left = area.x + ((area.w - total) / 2.0).max(0.0);
    let boxes = [
        Rect::new(left, top, p.box_w, p.box_h),
        Rect::new(left + p.box_w + p.gap, top, p.box_w, p.box_h),
    ];
    for (r, who) in boxes.iter().zip([p.a, p.b]) {
        c.fill_rect(*r, ink(BOX_FILL))?;
        c.stroke_rect(*r, ink(BOX_LINE), 2.0 * s)?;
        let cx = r.x + r.w / 2.0;
        let held = holds(who);
        let (name_y, holds_y) = if held.is_empty() {
            (r.y + r.h / 2.0 + f.name.cap_height() / 2.0, 0.0)
        } else {
            (
                r.y + r.h * 0.42 + f.name.cap_height() / 2.0 - 4.0 * s,
                r.y + r.h * 0.42 + f.name.cap_height() / 2.0 + f.holds.line_height(),
            )
        };
        let inner = r.w - 16.0 * s;
        c.text(
            &ellipsize(&who.who, f.name, inner),
            (cx, name_y),
            f.name,
            ink(TEXT),
            Align::Center,
        )?;
        if !held.is_empty() {
            c.text(
                &ellipsize(&held, f.holds, inner),
                (cx, holds_y),
                f.holds,
                ink(MUTED),
                Align::Center,
            )?;
        }
    }
    let (x0, x1) = (boxes[0].right() + 8.0 * s, boxes[1].x - 8.0 * s);
    let mid = (x0 + x1) / 2.0;
    // A waits for B: the upper arrow, to the right, its label above it.
    let upper = top + p.box_h * 0.3;
    arrow(c, (x0, upper), (x1, upper), s)?;
    c.text(
        &p.label_a,
        (mid, upper - 9.0 * s),
        f.label,
        ink(TEXT),
        Align::Center,
    )?;
    // B waits for A: the lower arrow, to the left, its label below it.
    let lower = top + p.box_h * 0.7;
    arrow(c, (x1, lower), (x0, lower), s)?;
    c.text(
        &p.label_b,
        (mid, lower + 9.0 * s + f.label.cap_height()),
        f.label,
        ink(TEXT),
        Align::Center,
    )?;
    Ok(())
}

/// A horizontal arrow from `from` to `to` with a filled head at `to`.
fn arrow(c: &Canvas, from: (f64, f64), to: (f64, f64), s: f64) -> Result<(), ExportError> {
    let color = rgb(BAD).to_rgba();
    let dir = if to.0 >= from.0 { 1.0 } else { -1.0 };
    let (len, half) = (16.0 * s, 7.0 * s);
    let base = to.0 - dir * len;
    c.line(&[from, (base, to.1)], color, 2.5 * s)?;
    c.fill_polygon(&[to, (base, to.1 - half), (base, to.1 + half)], color)
}
