//! The one typeface of exported images: DejaVu Sans, embedded in the binary.
//!
//! Cluster nodes often have no fonts and no fontconfig, so nothing is looked up on the
//! system: the regular and bold faces are compiled in (`assets/fonts/`, license in
//! `assets/fonts/LICENSE`) and registered with plotters' pure-Rust `ab_glyph` text backend
//! under a private family name the first time an image is drawn.

use std::sync::OnceLock;

use plotters::style::{FontDesc, FontFamily, FontStyle};

use super::ExportError;

/// The family name the embedded faces are registered under.
const FAMILY: &str = "hpc-tutor DejaVu Sans";

static REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// Registers the embedded faces once per process; later calls return the first outcome.
pub(crate) fn ensure_registered() -> Result<(), ExportError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FAMILY, FontStyle::Normal, REGULAR).is_ok()
            && plotters::style::register_font(FAMILY, FontStyle::Bold, BOLD).is_ok()
    });
    if ok { Ok(()) } else { Err(ExportError::Font) }
}

/// Regular or bold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Weight {
    Regular,
    Bold,
}

/// A face at a size, in device pixels.
///
/// The size is ab_glyph's: the height from the lowest descender to the highest ascender
/// (about 1.16 em for DejaVu Sans). Capital letters are about 0.63 of it tall.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Font {
    pub size: f64,
    pub weight: Weight,
}

impl Font {
    /// Regular text of `size` pixels.
    pub fn regular(size: f64) -> Self {
        Font {
            size,
            weight: Weight::Regular,
        }
    }

    /// Bold text of `size` pixels.
    pub fn bold(size: f64) -> Self {
        Font {
            size,
            weight: Weight::Bold,
        }
    }

    /// The plotters description of the face.
    pub fn desc(self) -> FontDesc<'static> {
        let style = match self.weight {
            Weight::Regular => FontStyle::Normal,
            Weight::Bold => FontStyle::Bold,
        };
        FontDesc::new(FontFamily::Name(FAMILY), self.size, style)
    }

    /// How wide `text` is, in pixels (0 if the face cannot measure it).
    pub fn width(self, text: &str) -> f64 {
        self.desc()
            .box_size(text)
            .map_or(0.0, |(w, _)| f64::from(w))
    }

    /// Height of capital letters above the baseline.
    pub fn cap_height(self) -> f64 {
        0.63 * self.size
    }

    /// The distance between baselines of wrapped lines.
    pub fn line_height(self) -> f64 {
        1.25 * self.size
    }
}

/// Breaks `text` into lines no wider than `max` pixels in `font`, at spaces; a word wider
/// than a line on its own is broken between characters. Never returns an empty list.
pub(crate) fn wrap(text: &str, font: Font, max: f64) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if font.width(&candidate) <= max {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if font.width(word) <= max {
            line = word.to_owned();
            continue;
        }
        // A single word wider than the line: break it between characters.
        for c in word.chars() {
            let mut next = line.clone();
            next.push(c);
            if font.width(&next) > max && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                line.push(c);
            } else {
                line = next;
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// `text` shortened with `…` to fit `max` pixels in `font`.
pub(crate) fn ellipsize(text: &str, font: Font, max: f64) -> String {
    if font.width(text) <= max {
        return text.to_owned();
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let candidate: String = chars.iter().collect::<String>().trim_end().to_owned() + "…";
        if font.width(&candidate) <= max {
            return candidate;
        }
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_faces_load_and_measure() {
        ensure_registered().expect("fonts register");
        let f = Font::regular(20.0);
        let w = f.width("speedup");
        assert!(w > 40.0 && w < 120.0, "{w}");
        assert!(Font::bold(20.0).width("speedup") > w);
        // Characters the charts use are in the face (not zero-width boxes).
        for s in ["×", "·", "–", "µ", "…", "₂", "≈"] {
            assert!(f.width(s) > 3.0, "{s}");
        }
    }

    #[test]
    fn wrapping_and_ellipsis() {
        ensure_registered().expect("fonts register");
        let f = Font::regular(16.0);
        let lines = wrap(
            "one two three four five six seven",
            f,
            f.width("one two three"),
        );
        assert_eq!(lines, ["one two three", "four five six", "seven"]);
        assert_eq!(wrap("", f, 100.0), [""]);
        let long = wrap("abcdefghijklmnop", f, f.width("abcde"));
        assert!(long.len() >= 3, "{long:?}");
        assert_eq!(long.concat(), "abcdefghijklmnop");
        let short = ellipsize("a rather long legend label", f, f.width("a rather…"));
        assert_eq!(short, "a rather…");
        assert_eq!(ellipsize("fits", f, 100.0), "fits");
    }
}
