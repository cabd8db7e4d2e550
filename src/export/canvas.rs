//! A thin drawing layer over a plotters bitmap: shapes, clipped and dashed lines, markers
//! and text, placed in layout pixels.
//!
//! Layout code works in *layout pixels* (the size of the image asked for); the bitmap may be
//! drawn `ss` times larger and averaged down afterwards (supersampling, which smooths the
//! edges of lines plotters draws without anti-aliasing). Text is positioned by its
//! baseline, which is what lining up labels needs.

use plotters::coord::Shift;
use plotters::drawing::DrawingArea;
use plotters::element::{Circle, PathElement, Polygon, Rectangle};
use plotters::prelude::BitMapBackend;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, FontTransform, RGBAColor, RGBColor, ShapeStyle};

use super::ExportError;
use super::font::Font;

/// The plotters drawing area of a whole bitmap.
pub(crate) type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// A rectangle in layout pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    pub fn new(x: f64, y: f64, w: f64, h: f64) -> Rect {
        Rect {
            x,
            y,
            w: w.max(0.0),
            h: h.max(0.0),
        }
    }

    pub fn right(&self) -> f64 {
        self.x + self.w
    }

    pub fn bottom(&self) -> f64 {
        self.y + self.h
    }

    pub fn contains(&self, (x, y): (f64, f64)) -> bool {
        x >= self.x && x <= self.right() && y >= self.y && y <= self.bottom()
    }

    pub fn intersects(&self, o: &Rect) -> bool {
        self.x < o.right() && o.x < self.right() && self.y < o.bottom() && o.y < self.bottom()
    }

    /// The rectangle shrunk by `d` on every side.
    pub fn inset(&self, d: f64) -> Rect {
        Rect::new(self.x + d, self.y + d, self.w - 2.0 * d, self.h - 2.0 * d)
    }
}

/// Horizontal alignment of text at a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Center,
    Right,
}

/// Shapes of point markers; series are told apart by shape as well as colour (the chart
/// model's shapes, so that the PNG and the terminal give a series the same one).
pub(crate) use crate::chart::MarkerShape as Shape;

/// Opaque colour from a hex triple.
pub(crate) const fn rgb(hex: u32) -> RGBColor {
    RGBColor((hex >> 16) as u8, (hex >> 8) as u8, hex as u8)
}

/// Draws on a bitmap in layout pixels.
pub(crate) struct Canvas<'a, 'b> {
    area: &'b Area<'a>,
    /// Device pixels per layout pixel.
    ss: f64,
}

fn draw_err(e: impl std::fmt::Display) -> ExportError {
    ExportError::Draw(e.to_string())
}

impl<'a, 'b> Canvas<'a, 'b> {
    /// A canvas over `area`, which is `ss` times the layout size.
    pub fn new(area: &'b Area<'a>, ss: f64) -> Self {
        Canvas { area, ss }
    }

    fn dev(&self, (x, y): (f64, f64)) -> (i32, i32) {
        ((x * self.ss).round() as i32, (y * self.ss).round() as i32)
    }

    fn width(&self, w: f64) -> u32 {
        (w * self.ss).round().max(1.0) as u32
    }

    /// Fills `r`.
    pub fn fill_rect(&self, r: Rect, color: RGBAColor) -> Result<(), ExportError> {
        let style = ShapeStyle {
            color,
            filled: true,
            stroke_width: 1,
        };
        let (x0, y0) = self.dev((r.x, r.y));
        let (x1, y1) = self.dev((r.right(), r.bottom()));
        if x1 <= x0 || y1 <= y0 {
            return Ok(());
        }
        self.area
            .draw(&Rectangle::new([(x0, y0), (x1 - 1, y1 - 1)], style))
            .map_err(draw_err)
    }

    /// Draws the outline of `r`, `width` pixels wide, inside `r`.
    pub fn stroke_rect(&self, r: Rect, color: RGBAColor, width: f64) -> Result<(), ExportError> {
        let w = width.min(r.w / 2.0).min(r.h / 2.0);
        self.fill_rect(Rect::new(r.x, r.y, r.w, w), color)?;
        self.fill_rect(Rect::new(r.x, r.bottom() - w, r.w, w), color)?;
        self.fill_rect(Rect::new(r.x, r.y + w, w, r.h - 2.0 * w), color)?;
        self.fill_rect(Rect::new(r.right() - w, r.y + w, w, r.h - 2.0 * w), color)
    }

    /// A polyline, `width` pixels wide.
    pub fn line(
        &self,
        points: &[(f64, f64)],
        color: RGBAColor,
        width: f64,
    ) -> Result<(), ExportError> {
        if points.len() < 2 {
            return Ok(());
        }
        let pts: Vec<(i32, i32)> = points.iter().map(|&p| self.dev(p)).collect();
        let style = ShapeStyle {
            color,
            filled: false,
            stroke_width: self.width(width),
        };
        self.area
            .draw(&PathElement::new(pts, style))
            .map_err(draw_err)
    }

    /// A filled polygon through `points` (closed back to the first).
    pub fn fill_polygon(&self, points: &[(f64, f64)], color: RGBAColor) -> Result<(), ExportError> {
        if points.len() < 3 {
            return Ok(());
        }
        let pts: Vec<(i32, i32)> = points.iter().map(|&p| self.dev(p)).collect();
        let style = ShapeStyle {
            color,
            filled: true,
            stroke_width: 1,
        };
        self.area.draw(&Polygon::new(pts, style)).map_err(draw_err)
    }

    /// A polyline cut to `clip`: the parts outside are left out.
    pub fn clipped_line(
        &self,
        points: &[(f64, f64)],
        clip: Rect,
        color: RGBAColor,
        width: f64,
    ) -> Result<(), ExportError> {
        for piece in clip_polyline(points, clip) {
            self.line(&piece, color, width)?;
        }
        Ok(())
    }

    /// A dashed polyline cut to `clip`: `on` pixels drawn, `off` left out, along the line.
    pub fn dashed_line(
        &self,
        points: &[(f64, f64)],
        clip: Rect,
        (on, off): (f64, f64),
        color: RGBAColor,
        width: f64,
    ) -> Result<(), ExportError> {
        for dash in dashes(points, on, off) {
            self.clipped_line(&dash, clip, color, width)?;
        }
        Ok(())
    }

    /// A point marker of radius `r` centred on `c`: filled with `fill`, or hollow (white
    /// inside a `stroke` ring) when `fill` is `None`. Filled markers get a thin white rim so
    /// that they stand out from lines under them.
    pub fn marker(
        &self,
        shape: Shape,
        c: (f64, f64),
        r: f64,
        fill: Option<RGBAColor>,
        stroke: RGBAColor,
        ring: f64,
    ) -> Result<(), ExportError> {
        let white = rgb(0xFFFFFF).to_rgba();
        match fill {
            Some(fill) => {
                self.shape(shape, c, r + ring * 0.75, white)?;
                self.shape(shape, c, r, fill)
            }
            None => {
                self.shape(shape, c, r + ring * 0.5, stroke)?;
                self.shape(
                    shape,
                    c,
                    (r + ring * 0.5 - ring * inset_factor(shape)).max(0.0),
                    white,
                )
            }
        }
    }

    /// A filled shape of "radius" `r` (half the width of its bounding box).
    fn shape(
        &self,
        shape: Shape,
        (x, y): (f64, f64),
        r: f64,
        color: RGBAColor,
    ) -> Result<(), ExportError> {
        if r <= 0.0 {
            return Ok(());
        }
        let style = ShapeStyle {
            color,
            filled: true,
            stroke_width: 1,
        };
        let poly = |pts: &[(f64, f64)]| -> Vec<(i32, i32)> {
            pts.iter()
                .map(|&(dx, dy)| self.dev((x + dx, y + dy)))
                .collect()
        };
        match shape {
            Shape::Circle => {
                let center = self.dev((x, y));
                let radius = (r * self.ss).round().max(1.0) as i32;
                self.area
                    .draw(&Circle::new(center, radius, style))
                    .map_err(draw_err)
            }
            Shape::Square => {
                let s = r * 0.88;
                self.fill_rect(Rect::new(x - s, y - s, 2.0 * s, 2.0 * s), color)
            }
            Shape::Triangle => {
                let h = r * 1.15;
                let pts = poly(&[(0.0, -h), (h * 0.95, h * 0.7), (-h * 0.95, h * 0.7)]);
                self.area.draw(&Polygon::new(pts, style)).map_err(draw_err)
            }
            Shape::Diamond => {
                let d = r * 1.2;
                let pts = poly(&[(0.0, -d), (d, 0.0), (0.0, d), (-d, 0.0)]);
                self.area.draw(&Polygon::new(pts, style)).map_err(draw_err)
            }
            Shape::TriangleDown => {
                let h = r * 1.15;
                let pts = poly(&[(0.0, h), (h * 0.95, -h * 0.7), (-h * 0.95, -h * 0.7)]);
                self.area.draw(&Polygon::new(pts, style)).map_err(draw_err)
            }
            Shape::Star => {
                // Five points; the inner corners at half the outer radius.
                let outer = r * 1.3;
                let pts: Vec<(f64, f64)> = (0..10)
                    .map(|k| {
                        let radius = if k % 2 == 0 { outer } else { outer * 0.5 };
                        let angle = std::f64::consts::PI * k as f64 / 5.0;
                        // From the top, clockwise (y grows downwards).
                        (radius * angle.sin(), -radius * angle.cos())
                    })
                    .collect();
                self.area
                    .draw(&Polygon::new(poly(&pts), style))
                    .map_err(draw_err)
            }
        }
    }

    /// Text with its baseline at `baseline`, aligned at `x`.
    pub fn text(
        &self,
        text: &str,
        (x, baseline): (f64, f64),
        font: Font,
        color: RGBAColor,
        align: Align,
    ) -> Result<(), ExportError> {
        if text.is_empty() {
            return Ok(());
        }
        let w = font.width(text);
        let left = match align {
            Align::Left => x,
            Align::Center => x - w / 2.0,
            Align::Right => x - w,
        };
        let dev_font = Font {
            size: font.size * self.ss,
            ..font
        };
        // plotters' ab_glyph text puts the baseline half the font size below the top of
        // the text box.
        let top = baseline - font.size / 2.0;
        let style = dev_font
            .desc()
            .color(&color)
            .pos(Pos::new(HPos::Left, VPos::Top));
        self.area
            .draw_text(text, &style, self.dev((left, top)))
            .map_err(draw_err)
    }

    /// Text reading upwards (turned a quarter left), centred on `center_y`, with its baseline
    /// on the vertical line `x = baseline_x`.
    pub fn text_up(
        &self,
        text: &str,
        (baseline_x, center_y): (f64, f64),
        font: Font,
        color: RGBAColor,
    ) -> Result<(), ExportError> {
        let w = font.width(text);
        let dev_font = Font {
            size: font.size * self.ss,
            ..font
        };
        let style = dev_font
            .desc()
            .transform(FontTransform::Rotate270)
            .color(&color)
            .pos(Pos::new(HPos::Left, VPos::Top));
        let origin = (baseline_x - font.size / 2.0, center_y + w / 2.0);
        self.area
            .draw_text(text, &style, self.dev(origin))
            .map_err(draw_err)
    }
}

/// How much thinner than the ring the inside of a hollow marker must be, per shape (the
/// slanted sides of triangles and diamonds need more).
fn inset_factor(shape: Shape) -> f64 {
    match shape {
        Shape::Circle | Shape::Square => 1.0,
        Shape::Diamond => 1.45,
        Shape::Triangle | Shape::TriangleDown => 2.0,
        // The outer radius over the distance of an edge from the centre (0.44 of it).
        Shape::Star => 2.3,
    }
}

/// The segment `a`–`b` cut to `clip` (Liang–Barsky), if any of it is inside.
fn clip_segment(a: (f64, f64), b: (f64, f64), clip: Rect) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let mut t0: f64 = 0.0;
    let mut t1: f64 = 1.0;
    for (p, q) in [
        (-dx, a.0 - clip.x),
        (dx, clip.right() - a.0),
        (-dy, a.1 - clip.y),
        (dy, clip.bottom() - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    (t0 <= t1).then_some((
        (a.0 + t0 * dx, a.1 + t0 * dy),
        (a.0 + t1 * dx, a.1 + t1 * dy),
    ))
}

/// The parts of a polyline inside `clip`, each a polyline of its own.
pub(crate) fn clip_polyline(points: &[(f64, f64)], clip: Rect) -> Vec<Vec<(f64, f64)>> {
    let mut pieces: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    for w in points.windows(2) {
        let (a, b) = (w[0], w[1]);
        if !(a.0.is_finite() && a.1.is_finite() && b.0.is_finite() && b.1.is_finite()) {
            continue;
        }
        match clip_segment(a, b, clip) {
            Some((p, q)) => {
                let joins = current
                    .last()
                    .is_some_and(|l| (l.0 - p.0).abs() < 1e-9 && (l.1 - p.1).abs() < 1e-9);
                if !joins {
                    if current.len() >= 2 {
                        pieces.push(std::mem::take(&mut current));
                    }
                    current.clear();
                    current.push(p);
                }
                current.push(q);
            }
            None => {
                if current.len() >= 2 {
                    pieces.push(std::mem::take(&mut current));
                }
                current.clear();
            }
        }
    }
    if current.len() >= 2 {
        pieces.push(current);
    }
    pieces
}

/// The dashes of a polyline: pieces `on` long, `off` apart, measured along the line.
pub(crate) fn dashes(points: &[(f64, f64)], on: f64, off: f64) -> Vec<Vec<(f64, f64)>> {
    let period = on + off;
    if !(on > 0.0 && off >= 0.0 && period.is_finite()) {
        return vec![points.to_vec()];
    }
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    // Position along the dash pattern at the start of each segment.
    let mut phase = 0.0f64;
    for w in points.windows(2) {
        let (a, b) = (w[0], w[1]);
        let len = (b.0 - a.0).hypot(b.1 - a.1);
        if !len.is_finite() || len == 0.0 {
            continue;
        }
        let at = |d: f64| (a.0 + (b.0 - a.0) * d / len, a.1 + (b.1 - a.1) * d / len);
        let mut d = 0.0;
        while d < len {
            let in_dash = phase < on;
            let boundary = if in_dash { on - phase } else { period - phase };
            let step = boundary.min(len - d);
            if in_dash {
                if current.is_empty() {
                    current.push(at(d));
                }
                current.push(at(d + step));
            }
            d += step;
            phase += step;
            if phase >= period - 1e-9 {
                phase = 0.0;
            }
            if phase >= on - 1e-9 && phase < on + 1e-9 && !current.is_empty() {
                // A dash just ended.
                out.push(std::mem::take(&mut current));
            }
        }
    }
    if current.len() >= 2 {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_clipped_to_the_rectangle() {
        let r = Rect::new(0.0, 0.0, 10.0, 10.0);
        assert_eq!(
            clip_segment((-5.0, 5.0), (15.0, 5.0), r),
            Some(((0.0, 5.0), (10.0, 5.0)))
        );
        assert_eq!(clip_segment((-5.0, -5.0), (-1.0, 20.0), r), None);
        // A polyline leaving and re-entering gives two pieces.
        let pieces = clip_polyline(&[(1.0, 1.0), (1.0, 20.0), (5.0, 20.0), (5.0, 1.0)], r);
        assert_eq!(pieces.len(), 2, "{pieces:?}");
        assert_eq!(pieces[0], [(1.0, 1.0), (1.0, 10.0)]);
        assert_eq!(pieces[1], [(5.0, 10.0), (5.0, 1.0)]);
    }

    #[test]
    fn dashes_follow_the_pattern_around_corners() {
        // 10 long, then a corner, then 10 more: dashes of 3 every 5.
        let d = dashes(&[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0)], 3.0, 2.0);
        assert_eq!(d.len(), 4, "{d:?}");
        assert_eq!(d[0], [(0.0, 0.0), (3.0, 0.0)]);
        assert_eq!(d[1], [(5.0, 0.0), (8.0, 0.0)]);
        assert_eq!(d[2], [(10.0, 0.0), (10.0, 3.0)]);
        // No pattern: the line as it is.
        assert_eq!(dashes(&[(0.0, 0.0), (1.0, 0.0)], 0.0, 1.0).len(), 1);
    }
}
