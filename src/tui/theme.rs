//! Colours and text styles, in one place so `NO_COLOR` can turn every colour off at once.

use ratatui::style::{Color, Modifier, Style};

/// The styles the views draw with. With colour off, every style keeps its modifiers
/// (bold, italic, reversed, …) so structure stays visible on a monochrome terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    /// Whether colours are used at all (`false` when `NO_COLOR` is set).
    pub color: bool,
}

impl Theme {
    /// A theme with colours.
    pub const fn colored() -> Self {
        Self { color: true }
    }

    /// A theme without colours, for `NO_COLOR` and snapshot tests of monochrome output.
    pub const fn monochrome() -> Self {
        Self { color: false }
    }

    /// Colours unless the `NO_COLOR` environment variable is set to a non-empty value
    /// (<https://no-color.org>).
    pub fn from_env() -> Self {
        match std::env::var_os("NO_COLOR") {
            Some(v) if !v.is_empty() => Self::monochrome(),
            _ => Self::colored(),
        }
    }

    fn fg(&self, style: Style, color: Color) -> Style {
        if self.color { style.fg(color) } else { style }
    }

    /// Plain body text.
    pub fn text(&self) -> Style {
        Style::default()
    }
    /// Secondary text: hints, key help, counts.
    pub fn dim(&self) -> Style {
        self.fg(Style::default(), Color::DarkGray)
            .add_modifier(if self.color {
                Modifier::empty()
            } else {
                Modifier::DIM
            })
    }
    /// A heading of the given level (1 = top).
    pub fn heading(&self, level: u8) -> Style {
        let base = Style::default().add_modifier(Modifier::BOLD);
        match level {
            1 => self.fg(base.add_modifier(Modifier::UNDERLINED), Color::Cyan),
            2 => self.fg(base, Color::Cyan),
            _ => self.fg(base, Color::LightBlue),
        }
    }
    /// Inline code and code blocks.
    pub fn code(&self) -> Style {
        self.fg(Style::default(), Color::Yellow)
    }
    /// The language label shown on top of a fenced code block.
    pub fn code_label(&self) -> Style {
        self.fg(Style::default(), Color::DarkGray)
            .add_modifier(Modifier::ITALIC)
    }
    /// Block quote text and its bar.
    pub fn quote(&self) -> Style {
        self.fg(Style::default(), Color::Gray)
            .add_modifier(Modifier::ITALIC)
    }
    /// Table borders and list bullets.
    pub fn rule(&self) -> Style {
        self.fg(Style::default(), Color::DarkGray)
    }
    /// Links (the text; the target is shown after it).
    pub fn link(&self) -> Style {
        self.fg(Style::default(), Color::Blue)
            .add_modifier(Modifier::UNDERLINED)
    }
    /// The selected row of a list.
    pub fn selected(&self) -> Style {
        if self.color {
            Style::default()
                .bg(Color::Blue)
                .fg(Color::White)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        }
    }
    /// Something right: a correct answer, a finished lesson.
    pub fn good(&self) -> Style {
        self.fg(Style::default(), Color::Green)
            .add_modifier(Modifier::BOLD)
    }
    /// Something wrong: a wrong answer, a broken lesson file.
    pub fn bad(&self) -> Style {
        self.fg(Style::default(), Color::Red)
            .add_modifier(Modifier::BOLD)
    }
    /// Something to notice: warnings, oversubscription.
    pub fn warn(&self) -> Style {
        self.fg(Style::default(), Color::Yellow)
            .add_modifier(Modifier::BOLD)
    }
    /// Key names in help texts and the footer.
    pub fn key(&self) -> Style {
        self.fg(Style::default(), Color::Cyan)
            .add_modifier(Modifier::BOLD)
    }
    /// The status bar at the bottom.
    pub fn status(&self) -> Style {
        if self.color {
            Style::default().bg(Color::DarkGray).fg(Color::White)
        } else {
            Style::default().add_modifier(Modifier::REVERSED)
        }
    }
    /// A demo caption: bold, high contrast, readable on a projector (reverse video
    /// without colour).
    pub fn caption(&self) -> Style {
        if self.color {
            Style::default()
                .bg(Color::LightYellow)
                .fg(Color::Black)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        }
    }
    /// How many colours [`Theme::series`] cycles through.
    pub const SERIES_COLORS: usize = 4;

    /// The `index`-th data series of a chart (its points, lines and legend entry). Four
    /// colours ([`Theme::SERIES_COLORS`]) that cycle; without colour every series is plain
    /// text and charts tell series apart by marker shape instead.
    pub fn series(&self, index: usize) -> Style {
        const PALETTE: [Color; Theme::SERIES_COLORS] =
            [Color::Cyan, Color::Magenta, Color::Green, Color::LightBlue];
        self.fg(Style::default(), PALETTE[index % PALETTE.len()])
    }
    /// Borders of panels; `focused` is the panel that takes the keys.
    pub fn border(&self, focused: bool) -> Style {
        if focused {
            self.fg(Style::default(), Color::Cyan)
                .add_modifier(Modifier::BOLD)
        } else {
            self.fg(Style::default(), Color::DarkGray)
        }
    }
}
