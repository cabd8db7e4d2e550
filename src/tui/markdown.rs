//! Markdown to terminal lines, for the lesson reader.
//!
//! [`render`] turns a lesson body into [`Line`]s that are already wrapped to the
//! width of the reader pane, so the reader can scroll by line index and never needs
//! ratatui's own wrapping.
//!
//! The work happens in three steps:
//!
//! 1. `Builder` folds pulldown-cmark's event stream into a small tree of
//!    `Block`s. Inline content becomes a flat list of styled text runs
//!    (`Inline`); emphasis, links, images and inline code are resolved to styles
//!    and text here, so the layout never sees them again.
//! 2. `Layout` renders the tree for a width. Containers (block quotes, list items)
//!    render their children at a narrower width and put a prefix in front of every
//!    line they get back, which makes nesting of any depth fall out of recursion.
//! 3. `Wrapper` breaks styled runs into lines at word boundaries.
//!
//! A last pass (`finish`) trims trailing blanks, collapses runs of blank lines and
//! guarantees that no line is wider than the requested width.

use std::borrow::Cow;
use std::mem;

use pulldown_cmark::{Alignment, CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::theme::Theme;

/// Columns between tab stops in code blocks.
const TAB_WIDTH: usize = 4;
/// Indentation of code block lines.
const CODE_INDENT: &str = "  ";
/// Prefix of every line inside a block quote.
const QUOTE_BAR: &str = "│ ";
/// Prefix of an empty line inside a block quote (no trailing space).
const QUOTE_BAR_EMPTY: &str = "│";
/// Separator between table columns; its width is [`COLUMN_SEP_WIDTH`].
const COLUMN_SEP: &str = " │ ";
const COLUMN_SEP_WIDTH: usize = 3;
/// Marks text cut off at the right edge.
const ELLIPSIS: &str = "…";
/// Wrapping width used to measure text on a single line (table columns).
const UNLIMITED: usize = usize::MAX / 4;

/// Renders a lesson's Markdown body into terminal lines already wrapped to `width`
/// columns.
///
/// Every returned line is at most `width` columns wide (as measured by
/// `unicode-width`); lines that cannot be wrapped (code, very narrow tables, deep
/// nesting in a tiny pane) are cut off with `…`. The output has no leading or
/// trailing blank lines and never two blank lines in a row — including inside code
/// blocks, where runs of blank lines are shown as one.
///
/// Supported: headings, paragraphs with bold/italic/strikethrough/inline code/links,
/// bullet and numbered lists (nested, tight and loose), fenced and indented code
/// blocks, block quotes, GFM tables and horizontal rules. Raw HTML is shown as plain
/// text and images as `[image: alt]`.
pub fn render(markdown: &str, width: u16, theme: &Theme) -> Vec<Line<'static>> {
    let blocks = Builder::new(theme).build(markdown);
    let width = usize::from(width);
    let ctx = Ctx {
        width: width.max(1),
        base: theme.text(),
        list_depth: 0,
    };
    let lines = Layout { theme }.blocks(&blocks, ctx, Spacing::Loose);
    finish(lines, width)
}

// ---------------------------------------------------------------------------
// Document tree
// ---------------------------------------------------------------------------

/// A run of inline content with its resolved style (relative to the enclosing
/// block's base style), or a forced line break.
#[derive(Debug, Clone, PartialEq)]
enum Inline {
    Text(String, Style),
    Break,
}

/// A block-level element.
#[derive(Debug)]
enum Block {
    Paragraph(Vec<Inline>),
    Heading(u8, Vec<Inline>),
    /// A code block; `lang` is empty when the fence gave none.
    Code {
        lang: String,
        text: String,
    },
    /// Raw HTML, shown as plain text.
    Html(String),
    Quote(Vec<Block>),
    List(List),
    Table(Table),
    Rule,
}

#[derive(Debug)]
struct List {
    /// The first number of an ordered list; `None` for bullet lists.
    start: Option<u64>,
    items: Vec<Vec<Block>>,
    /// Tight lists have no blank lines between their items.
    tight: bool,
}

#[derive(Debug, Default)]
struct Table {
    alignments: Vec<Alignment>,
    head: Vec<Vec<Inline>>,
    rows: Vec<Vec<Vec<Inline>>>,
}

// ---------------------------------------------------------------------------
// Events to tree
// ---------------------------------------------------------------------------

/// Which inline container the collected inlines belong to.
#[derive(Debug, Clone, Copy)]
enum Leaf {
    Paragraph,
    Heading(u8),
    Cell,
}

/// An open block container.
#[derive(Debug)]
struct Frame {
    kind: FrameKind,
    blocks: Vec<Block>,
}

#[derive(Debug)]
enum FrameKind {
    Quote,
    List {
        start: Option<u64>,
        items: Vec<Vec<Block>>,
        loose: bool,
    },
    /// A list item; `loose` is set when it holds real paragraphs, which
    /// pulldown-cmark only emits for loose lists.
    Item {
        loose: bool,
    },
    /// Containers we show as their plain contents (footnote definitions,
    /// definition lists, metadata), so unexpected input never gets lost.
    Other,
}

/// A block whose text is collected verbatim.
#[derive(Debug)]
enum Raw {
    Code { lang: String, text: String },
    Html(String),
}

#[derive(Debug)]
struct PendingLink {
    /// Index into [`Builder::inlines`] where the link text starts.
    start: usize,
    url: String,
}

#[derive(Debug, Default)]
struct PendingImage {
    alt: String,
    /// Images nested inside this image's alt text.
    depth: usize,
}

/// Folds pulldown-cmark events into [`Block`]s.
struct Builder<'t> {
    theme: &'t Theme,
    root: Vec<Block>,
    frames: Vec<Frame>,
    /// Inline content of the current leaf, or of an implicit paragraph (the text
    /// of a tight list item, which comes without paragraph events).
    inlines: Vec<Inline>,
    leaf: Option<Leaf>,
    /// Cumulative inline styles; the last one applies.
    styles: Vec<Style>,
    links: Vec<PendingLink>,
    image: Option<PendingImage>,
    raw: Option<Raw>,
    table: Option<Table>,
    row: Vec<Vec<Inline>>,
}

impl<'t> Builder<'t> {
    fn new(theme: &'t Theme) -> Self {
        Self {
            theme,
            root: Vec::new(),
            frames: Vec::new(),
            inlines: Vec::new(),
            leaf: None,
            styles: Vec::new(),
            links: Vec::new(),
            image: None,
            raw: None,
            table: None,
            row: Vec::new(),
        }
    }

    fn build(mut self, markdown: &str) -> Vec<Block> {
        let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
        for event in Parser::new_ext(markdown, options) {
            self.event(event);
        }
        self.flush_implicit();
        // pulldown-cmark closes everything it opens; this only guards against surprises.
        while let Some(frame) = self.frames.pop() {
            self.close_frame(frame);
        }
        self.root
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text)
            | Event::Html(text)
            | Event::InlineHtml(text)
            | Event::InlineMath(text)
            | Event::DisplayMath(text) => self.text(&text),
            Event::Code(code) => {
                if !self.collect_verbatim(&code) {
                    let style = self.style().patch(self.theme.code());
                    self.push_inline(&code, style);
                }
            }
            Event::FootnoteReference(label) => self.text(&format!("[^{label}]")),
            Event::SoftBreak => self.text(" "),
            Event::HardBreak => {
                if !self.collect_verbatim("\n") {
                    self.inlines.push(Inline::Break);
                }
            }
            Event::Rule => {
                self.flush_implicit();
                self.push_block(Block::Rule);
            }
            Event::TaskListMarker(done) => self.text(if done { "[x] " } else { "[ ] " }),
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph => {
                self.flush_implicit();
                self.leaf = Some(Leaf::Paragraph);
                if let Some(Frame {
                    kind: FrameKind::Item { loose },
                    ..
                }) = self.frames.last_mut()
                {
                    *loose = true;
                }
            }
            Tag::Heading { level, .. } => {
                self.flush_implicit();
                // `HeadingLevel` is a fieldless enum with discriminants 1..=6.
                self.leaf = Some(Leaf::Heading(level as u8));
            }
            Tag::BlockQuote(_) => self.open_frame(FrameKind::Quote),
            Tag::CodeBlock(kind) => {
                self.flush_implicit();
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => {
                        info.split_whitespace().next().unwrap_or("").to_owned()
                    }
                    CodeBlockKind::Indented => String::new(),
                };
                self.raw = Some(Raw::Code {
                    lang,
                    text: String::new(),
                });
            }
            Tag::HtmlBlock => {
                self.flush_implicit();
                self.raw = Some(Raw::Html(String::new()));
            }
            Tag::List(start) => self.open_frame(FrameKind::List {
                start,
                items: Vec::new(),
                loose: false,
            }),
            Tag::Item => self.open_frame(FrameKind::Item { loose: false }),
            Tag::FootnoteDefinition(_)
            | Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
            | Tag::MetadataBlock(_) => self.open_frame(FrameKind::Other),
            Tag::Table(alignments) => {
                self.flush_implicit();
                self.table = Some(Table {
                    alignments,
                    ..Table::default()
                });
            }
            Tag::TableHead | Tag::TableRow => self.row.clear(),
            Tag::TableCell => {
                self.inlines.clear();
                self.leaf = Some(Leaf::Cell);
            }
            Tag::Emphasis => self.push_modifier(Modifier::ITALIC),
            Tag::Strong => self.push_modifier(Modifier::BOLD),
            Tag::Strikethrough => self.push_modifier(Modifier::CROSSED_OUT),
            // Not enabled; pushed anyway so every end tag has something to pop.
            Tag::Superscript | Tag::Subscript => self.push_modifier(Modifier::empty()),
            Tag::Link { dest_url, .. } => {
                let style = self.style().patch(self.theme.link());
                self.styles.push(style);
                self.links.push(PendingLink {
                    start: self.inlines.len(),
                    url: dest_url.into_string(),
                });
            }
            Tag::Image { .. } => match &mut self.image {
                Some(image) => image.depth += 1,
                None => self.image = Some(PendingImage::default()),
            },
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => {
                self.leaf = None;
                let inlines = mem::take(&mut self.inlines);
                self.push_block(Block::Paragraph(inlines));
            }
            TagEnd::Heading(_) => {
                let level = match self.leaf.take() {
                    Some(Leaf::Heading(level)) => level,
                    _ => 1,
                };
                let inlines = mem::take(&mut self.inlines);
                self.push_block(Block::Heading(level, inlines));
            }
            TagEnd::CodeBlock | TagEnd::HtmlBlock => match self.raw.take() {
                Some(Raw::Code { lang, text }) => self.push_block(Block::Code { lang, text }),
                Some(Raw::Html(text)) => self.push_block(Block::Html(text)),
                None => {}
            },
            TagEnd::BlockQuote(_)
            | TagEnd::List(_)
            | TagEnd::Item
            | TagEnd::FootnoteDefinition
            | TagEnd::DefinitionList
            | TagEnd::DefinitionListTitle
            | TagEnd::DefinitionListDefinition
            | TagEnd::MetadataBlock(_) => {
                self.flush_implicit();
                if let Some(frame) = self.frames.pop() {
                    self.close_frame(frame);
                }
            }
            TagEnd::Table => {
                if let Some(table) = self.table.take() {
                    self.push_block(Block::Table(table));
                }
            }
            TagEnd::TableHead => {
                let row = mem::take(&mut self.row);
                if let Some(table) = &mut self.table {
                    table.head = row;
                }
            }
            TagEnd::TableRow => {
                let row = mem::take(&mut self.row);
                if let Some(table) = &mut self.table {
                    table.rows.push(row);
                }
            }
            TagEnd::TableCell => {
                self.leaf = None;
                self.row.push(mem::take(&mut self.inlines));
            }
            TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Superscript
            | TagEnd::Subscript => {
                self.styles.pop();
            }
            TagEnd::Link => {
                self.styles.pop();
                if let Some(link) = self.links.pop() {
                    self.finish_link(link);
                }
            }
            TagEnd::Image => self.finish_image(),
        }
    }

    /// Shows the target after the link text, unless the text already is the target.
    fn finish_link(&mut self, link: PendingLink) {
        if self.image.is_some() || link.url.is_empty() {
            return;
        }
        let text: String = self
            .inlines
            .get(link.start..)
            .unwrap_or_default()
            .iter()
            .filter_map(|inline| match inline {
                Inline::Text(text, _) => Some(text.as_str()),
                Inline::Break => None,
            })
            .collect();
        let text = text.trim();
        let bare_url = link.url.strip_prefix("mailto:").unwrap_or(&link.url);
        if text != link.url && text != bare_url {
            let target = format!(" ({})", link.url);
            self.push_inline(&target, self.theme.dim());
        }
    }

    fn finish_image(&mut self) {
        let Some(image) = &mut self.image else {
            return;
        };
        if image.depth > 0 {
            image.depth -= 1;
            return;
        }
        let alt = mem::take(&mut image.alt);
        self.image = None;
        let alt = alt.trim();
        let text = if alt.is_empty() {
            "[image]".to_owned()
        } else {
            format!("[image: {alt}]")
        };
        self.push_inline(&text, self.theme.dim());
    }

    /// Routes text to the open code/HTML block or image alt text, if any.
    /// Returns `false` when the text is ordinary inline content.
    fn collect_verbatim(&mut self, text: &str) -> bool {
        match (&mut self.raw, &mut self.image) {
            (Some(Raw::Code { text: buf, .. } | Raw::Html(buf)), _) => buf.push_str(text),
            (None, Some(image)) => image.alt.push_str(text),
            (None, None) => return false,
        }
        true
    }

    fn text(&mut self, text: &str) {
        if !self.collect_verbatim(text) {
            self.push_inline(text, self.style());
        }
    }

    fn push_inline(&mut self, text: &str, style: Style) {
        match self.inlines.last_mut() {
            Some(Inline::Text(last, last_style)) if *last_style == style => last.push_str(text),
            _ => self.inlines.push(Inline::Text(text.to_owned(), style)),
        }
    }

    fn style(&self) -> Style {
        self.styles.last().copied().unwrap_or_default()
    }

    fn push_modifier(&mut self, modifier: Modifier) {
        let style = self.style().add_modifier(modifier);
        self.styles.push(style);
    }

    /// Turns inline content outside any paragraph (tight list items) into a paragraph.
    fn flush_implicit(&mut self) {
        if self.leaf.is_none() && !self.inlines.is_empty() {
            let inlines = mem::take(&mut self.inlines);
            self.push_block(Block::Paragraph(inlines));
        }
    }

    fn push_block(&mut self, block: Block) {
        match self.frames.last_mut() {
            Some(frame) => frame.blocks.push(block),
            None => self.root.push(block),
        }
    }

    fn open_frame(&mut self, kind: FrameKind) {
        self.flush_implicit();
        self.frames.push(Frame {
            kind,
            blocks: Vec::new(),
        });
    }

    /// Hands a finished container to its parent.
    fn close_frame(&mut self, frame: Frame) {
        match frame.kind {
            FrameKind::Quote => self.push_block(Block::Quote(frame.blocks)),
            FrameKind::List {
                start,
                mut items,
                loose,
            } => {
                // Blocks directly in a list (not in an item) cannot come from
                // pulldown-cmark; keep them as an item rather than dropping them.
                if !frame.blocks.is_empty() {
                    items.push(frame.blocks);
                }
                self.push_block(Block::List(List {
                    start,
                    items,
                    tight: !loose,
                }));
            }
            FrameKind::Item { loose: item_loose } => match self.frames.last_mut() {
                Some(Frame {
                    kind: FrameKind::List { items, loose, .. },
                    ..
                }) => {
                    items.push(frame.blocks);
                    *loose |= item_loose;
                }
                _ => frame.blocks.into_iter().for_each(|b| self.push_block(b)),
            },
            FrameKind::Other => frame.blocks.into_iter().for_each(|b| self.push_block(b)),
        }
    }
}

// ---------------------------------------------------------------------------
// Tree to lines
// ---------------------------------------------------------------------------

/// Where and how a block is rendered.
#[derive(Debug, Clone, Copy)]
struct Ctx {
    /// Columns available; at least 1.
    width: usize,
    /// Style every span is patched onto (quote text is italic, and so on).
    base: Style,
    /// Number of enclosing lists, for the bullet shape.
    list_depth: usize,
}

impl Ctx {
    /// The context for content indented by `columns`.
    fn indented(self, columns: usize) -> Self {
        Self {
            width: self.width.saturating_sub(columns).max(1),
            ..self
        }
    }
}

/// Whether sibling blocks are separated by a blank line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spacing {
    Loose,
    Tight,
}

struct Layout<'t> {
    theme: &'t Theme,
}

impl Layout<'_> {
    fn blocks(&self, blocks: &[Block], ctx: Ctx, spacing: Spacing) -> Vec<Line<'static>> {
        let mut out = Vec::new();
        for block in blocks {
            let lines = self.block(block, ctx);
            if lines.is_empty() {
                continue;
            }
            if spacing == Spacing::Loose && !out.is_empty() {
                out.push(Line::default());
            }
            out.extend(lines);
        }
        out
    }

    fn block(&self, block: &Block, ctx: Ctx) -> Vec<Line<'static>> {
        match block {
            Block::Paragraph(inlines) => wrap(inlines, ctx.width, ctx.base),
            Block::Heading(level, inlines) => self.heading(*level, inlines, ctx),
            Block::Code { lang, text } => self.code(lang, text, ctx),
            Block::Html(text) => html(text, ctx),
            Block::Quote(blocks) => self.quote(blocks, ctx),
            Block::List(list) => self.list(list, ctx),
            Block::Table(table) => self.table(table, ctx),
            Block::Rule => vec![Line::from(Span::styled(
                "─".repeat(ctx.width),
                ctx.base.patch(self.theme.rule()),
            ))],
        }
    }

    /// Heading text; level 1 is underlined with `═`, level 2 with `─`.
    fn heading(&self, level: u8, inlines: &[Inline], ctx: Ctx) -> Vec<Line<'static>> {
        let style = ctx.base.patch(self.theme.heading(level));
        let mut lines = wrap(inlines, ctx.width, style);
        let rule = match level {
            1 => "═",
            2 => "─",
            _ => return lines,
        };
        let text_width = lines.iter().map(Line::width).max().unwrap_or(0);
        if text_width > 0 {
            lines.push(Line::from(Span::styled(
                rule.repeat(text_width),
                style.remove_modifier(Modifier::UNDERLINED),
            )));
        }
        lines
    }

    /// A `── lang ──` label, then the code indented, tabs expanded, long lines cut.
    fn code(&self, lang: &str, text: &str, ctx: Ctx) -> Vec<Line<'static>> {
        let mut lines = Vec::new();
        if !lang.is_empty() {
            let label = Span::styled(
                format!("── {lang} ──"),
                ctx.base.patch(self.theme.code_label()),
            );
            lines.push(truncate_line(Line::from(label), ctx.width));
        }
        let style = ctx.base.patch(self.theme.code());
        // Start as if after a blank line so leading blank lines are skipped.
        let mut after_blank = true;
        for source in text.lines() {
            let expanded = expand_tabs(source);
            if expanded.trim().is_empty() {
                if !after_blank {
                    lines.push(Line::default());
                }
                after_blank = true;
                continue;
            }
            after_blank = false;
            let line = Line::from(vec![
                Span::styled(CODE_INDENT, ctx.base),
                Span::styled(expanded, style),
            ]);
            lines.push(truncate_line(line, ctx.width));
        }
        if lines.last().is_some_and(is_blank) {
            lines.pop();
        }
        lines
    }

    /// Children at width - 2, each line behind a `│ ` bar.
    fn quote(&self, blocks: &[Block], ctx: Ctx) -> Vec<Line<'static>> {
        let style = ctx.base.patch(self.theme.quote());
        let inner = Ctx {
            base: style,
            ..ctx.indented(QUOTE_BAR.width())
        };
        self.blocks(blocks, inner, Spacing::Loose)
            .into_iter()
            .map(|line| {
                if is_blank(&line) {
                    Line::from(Span::styled(QUOTE_BAR_EMPTY, style))
                } else {
                    prefixed(line, Span::styled(QUOTE_BAR, style))
                }
            })
            .collect()
    }

    /// Items behind their markers, continuation lines hang-indented under the text.
    fn list(&self, list: &List, ctx: Ctx) -> Vec<Line<'static>> {
        let count = list.items.len();
        let (markers, marker_style) = match list.start {
            Some(start) => {
                let mut number = start;
                let mut markers = Vec::with_capacity(count);
                for _ in 0..count {
                    markers.push(number);
                    number = number.saturating_add(1);
                }
                let digits = markers.last().map_or(1, |last| last.to_string().len());
                let markers: Vec<String> = markers
                    .iter()
                    .map(|number| format!("{number:>digits$}. "))
                    .collect();
                (markers, ctx.base)
            }
            None => {
                let bullet = match ctx.list_depth {
                    0 => "• ",
                    1 => "◦ ",
                    _ => "▪ ",
                };
                (
                    vec![bullet.to_owned(); count],
                    ctx.base.patch(self.theme.rule()),
                )
            }
        };
        let marker_width = markers.iter().map(|m| m.width()).max().unwrap_or(0);
        let indent = " ".repeat(marker_width);
        let inner = Ctx {
            list_depth: ctx.list_depth + 1,
            ..ctx.indented(marker_width)
        };
        let spacing = if list.tight {
            Spacing::Tight
        } else {
            Spacing::Loose
        };

        let mut out = Vec::new();
        for (index, (item, marker)) in list.items.iter().zip(markers).enumerate() {
            if index > 0 && spacing == Spacing::Loose {
                out.push(Line::default());
            }
            let mut lines = self.blocks(item, inner, spacing).into_iter();
            let first = lines.next().unwrap_or_default();
            out.push(prefixed(first, Span::styled(marker, marker_style)));
            for line in lines {
                if is_blank(&line) {
                    out.push(line);
                } else {
                    out.push(prefixed(line, Span::styled(indent.clone(), ctx.base)));
                }
            }
        }
        out
    }

    /// A table with ` │ ` between columns and a `─┼─` rule under the header. Columns
    /// are as wide as their contents; when that is too wide for the pane the widest
    /// columns shrink and their cells wrap. Once any row wraps, rules separate all
    /// body rows so multi-line rows stay readable.
    fn table(&self, table: &Table, ctx: Ctx) -> Vec<Line<'static>> {
        let columns = table
            .rows
            .iter()
            .map(Vec::len)
            .chain([table.alignments.len(), table.head.len()])
            .max()
            .unwrap_or(0);
        if columns == 0 {
            return Vec::new();
        }
        let header_style = ctx.base.add_modifier(Modifier::BOLD);
        let rule_style = ctx.base.patch(self.theme.rule());

        let mut widths = vec![1; columns];
        let mut minimums = vec![1; columns];
        let all_rows = std::iter::once((&table.head, header_style))
            .chain(table.rows.iter().map(|row| (row, ctx.base)));
        for (row, style) in all_rows {
            for ((width, minimum), cell) in widths.iter_mut().zip(&mut minimums).zip(row) {
                let natural = wrap(cell, UNLIMITED, style)
                    .iter()
                    .map(Line::width)
                    .max()
                    .unwrap_or(0);
                *width = (*width).max(natural);
                *minimum = (*minimum).max(longest_word(cell));
            }
        }
        let available = ctx.width.saturating_sub(COLUMN_SEP_WIDTH * (columns - 1));
        fit_widths(&mut widths, &minimums, available);

        let alignments: Vec<Alignment> = (0..columns)
            .map(|i| table.alignments.get(i).copied().unwrap_or(Alignment::None))
            .collect();
        let row_lines = |row: &[Vec<Inline>], style: Style| {
            table_row(row, &widths, &alignments, style, rule_style)
        };
        let separator = table_separator(&widths, rule_style);

        let mut out = row_lines(&table.head, header_style);
        out.push(separator.clone());
        let body: Vec<Vec<Line<'static>>> = table
            .rows
            .iter()
            .map(|row| row_lines(row, ctx.base))
            .collect();
        let wrapped = body.iter().any(|lines| lines.len() > 1);
        for (index, lines) in body.into_iter().enumerate() {
            if index > 0 && wrapped {
                out.push(separator.clone());
            }
            out.extend(lines);
        }
        out
    }
}

/// Raw HTML: each source line shown as plain, wrapped text.
fn html(text: &str, ctx: Ctx) -> Vec<Line<'static>> {
    let mut lines: Vec<Line<'static>> = Vec::new();
    for source in text.lines() {
        if source.trim().is_empty() {
            if lines.last().is_some_and(|line| !is_blank(line)) {
                lines.push(Line::default());
            }
            continue;
        }
        let inline = [Inline::Text(source.to_owned(), Style::default())];
        lines.extend(wrap(&inline, ctx.width, ctx.base));
    }
    if lines.last().is_some_and(is_blank) {
        lines.pop();
    }
    lines
}

/// Shrinks the widest columns until the widths sum to at most `available`.
///
/// `widths` come in as each column's natural width (its cells on one line) and
/// `minimums` as its longest word. Columns are cut down to a common cap
/// (water-filling), first never below their longest word so words stay whole. If
/// even the longest words do not fit, the same is done to the word widths, now
/// splitting words. Columns never go below 1, so a table with more columns than
/// `available` stays too wide and gets cut off later.
fn fit_widths(widths: &mut [usize], minimums: &[usize], available: usize) {
    if widths.iter().sum::<usize>() <= available {
        return;
    }
    let floors: Vec<usize> = if minimums.iter().sum::<usize>() <= available {
        minimums
            .iter()
            .zip(widths.iter())
            .map(|(&m, &w)| m.min(w))
            .collect()
    } else {
        for (width, &minimum) in widths.iter_mut().zip(minimums) {
            *width = minimum.clamp(1, (*width).max(1));
        }
        vec![1; widths.len()]
    };
    water_fill(widths, &floors, available);
}

/// Lowers every width above some cap to that cap (but not below its floor), with
/// the largest cap that makes the widths fit in `available` (if any does).
fn water_fill(widths: &mut [usize], floors: &[usize], available: usize) {
    let capped = |cap: usize| -> usize {
        widths
            .iter()
            .zip(floors)
            .map(|(&width, &floor)| width.min(cap).max(floor))
            .sum()
    };
    // Binary search for the largest cap that fits; `low` is the fallback when
    // nothing does (the floors alone are too wide).
    let (mut low, mut high) = (0, widths.iter().copied().max().unwrap_or(0));
    while low < high {
        let mid = low + (high - low).div_ceil(2);
        if capped(mid) <= available {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    let mut spare = available.saturating_sub(capped(low));
    for (width, &floor) in widths.iter_mut().zip(floors) {
        let fitted = (*width).min(low).max(floor);
        // Columns held at the cap share what is left, left to right.
        if fitted < *width && fitted == low && spare > 0 {
            *width = fitted + 1;
            spare -= 1;
        } else {
            *width = fitted;
        }
    }
}

/// The display width of the longest word in `inlines` (words may span styles).
fn longest_word(inlines: &[Inline]) -> usize {
    let mut longest = 0;
    let mut current = 0;
    for inline in inlines {
        match inline {
            Inline::Text(text, _) => {
                for ch in text.chars() {
                    if is_breaking_space(ch) {
                        current = 0;
                    } else {
                        current += ch.width().unwrap_or(0);
                        longest = longest.max(current);
                    }
                }
            }
            Inline::Break => current = 0,
        }
    }
    longest
}

/// The lines of one table row: every cell wrapped to its column, padded to its
/// alignment, the row as tall as its tallest cell.
fn table_row(
    cells: &[Vec<Inline>],
    widths: &[usize],
    alignments: &[Alignment],
    style: Style,
    rule_style: Style,
) -> Vec<Line<'static>> {
    let wrapped: Vec<Vec<Line<'static>>> = widths
        .iter()
        .enumerate()
        .map(|(i, &width)| match cells.get(i) {
            Some(cell) => wrap(cell, width, style),
            None => Vec::new(),
        })
        .collect();
    let height = wrapped.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let mut lines = Vec::with_capacity(height);
    for index in 0..height {
        let mut spans = Vec::new();
        for (column, (cell, &width)) in wrapped.iter().zip(widths).enumerate() {
            if column > 0 {
                spans.push(Span::styled(COLUMN_SEP, rule_style));
            }
            let content = cell.get(index).cloned().unwrap_or_default();
            let pad = width.saturating_sub(content.width());
            let (left, right) = match alignments.get(column) {
                Some(Alignment::Right) => (pad, 0),
                Some(Alignment::Center) => (pad / 2, pad - pad / 2),
                _ => (0, pad),
            };
            if left > 0 {
                spans.push(Span::raw(" ".repeat(left)));
            }
            spans.extend(content.spans);
            if right > 0 {
                spans.push(Span::raw(" ".repeat(right)));
            }
        }
        lines.push(Line::from(spans));
    }
    lines
}

/// The `────┼────` rule; it lines up with [`COLUMN_SEP`].
fn table_separator(widths: &[usize], style: Style) -> Line<'static> {
    let last = widths.len().saturating_sub(1);
    let mut rule = String::new();
    for (column, &width) in widths.iter().enumerate() {
        if column > 0 {
            rule.push('┼');
        }
        let dashes = width + usize::from(column > 0) + usize::from(column < last);
        rule.push_str(&"─".repeat(dashes));
    }
    Line::from(Span::styled(rule, style))
}

// ---------------------------------------------------------------------------
// Word wrapping
// ---------------------------------------------------------------------------

/// Wraps inline content to `width` columns at word boundaries, patching every
/// style onto `base`. Runs of whitespace become single spaces; words wider than
/// the width are split.
fn wrap(inlines: &[Inline], width: usize, base: Style) -> Vec<Line<'static>> {
    let mut wrapper = Wrapper::new(width.max(1));
    for inline in inlines {
        match inline {
            Inline::Text(text, style) => wrapper.push_text(text, base.patch(*style)),
            Inline::Break => wrapper.hard_break(),
        }
    }
    wrapper.finish()
}

/// A greedy line breaker over styled text. Words may change style midway
/// (`**bold**ness`) and are kept together.
struct Wrapper {
    width: usize,
    lines: Vec<Line<'static>>,
    line: Vec<Span<'static>>,
    line_width: usize,
    /// The word being collected; its buffers are reused from word to word.
    word: Word,
    /// Style of the whitespace before the pending word, if there was any.
    space: Option<Style>,
}

/// A word in the making: its text and where each of its styles starts.
#[derive(Debug, Default)]
struct Word {
    text: String,
    /// Byte offsets into `text` where a style starts, in order.
    styles: Vec<(usize, Style)>,
}

impl Word {
    fn push(&mut self, part: &str, style: Style) {
        if self.styles.last().is_none_or(|&(_, last)| last != style) {
            self.styles.push((self.text.len(), style));
        }
        self.text.push_str(part);
    }

    fn clear(&mut self) {
        self.text.clear();
        self.styles.clear();
    }

    /// The differently styled parts of the word.
    fn parts(&self) -> impl Iterator<Item = (&str, Style)> {
        let ends = self
            .styles
            .iter()
            .skip(1)
            .map(|&(start, _)| start)
            .chain([self.text.len()]);
        self.styles.iter().zip(ends).map(|(&(start, style), end)| {
            // Offsets were taken from `text.len()` between pushes of whole `&str`s,
            // so they are always char boundaries; `get` just avoids a panic path.
            (self.text.get(start..end).unwrap_or_default(), style)
        })
    }

    /// Display width, measured per part rather than per char: emoji with
    /// variation selectors are wider than the sum of their chars.
    fn width(&self) -> usize {
        self.parts().map(|(text, _)| text.width()).sum()
    }
}

impl Wrapper {
    fn new(width: usize) -> Self {
        Self {
            width,
            lines: Vec::new(),
            line: Vec::new(),
            line_width: 0,
            word: Word::default(),
            space: None,
        }
    }

    fn push_text(&mut self, text: &str, style: Style) {
        let mut rest = text;
        while !rest.is_empty() {
            let word_end = rest.find(is_breaking_space).unwrap_or(rest.len());
            if word_end > 0 {
                self.word.push(&rest[..word_end], style);
                rest = &rest[word_end..];
            }
            let space_end = rest.find(|ch| !is_breaking_space(ch)).unwrap_or(rest.len());
            if space_end > 0 {
                self.end_word();
                self.space.get_or_insert(style);
                rest = &rest[space_end..];
            }
        }
    }

    fn hard_break(&mut self) {
        self.end_word();
        self.space = None;
        // Never start with, or repeat, an empty line.
        let last_blank = self.lines.last().is_none_or(|line| line.spans.is_empty());
        if !self.line.is_empty() || !last_blank {
            self.new_line();
        }
    }

    fn finish(mut self) -> Vec<Line<'static>> {
        self.end_word();
        if !self.line.is_empty() {
            self.new_line();
        }
        self.lines
    }

    fn new_line(&mut self) {
        self.lines.push(Line::from(mem::take(&mut self.line)));
        self.line_width = 0;
    }

    /// Places the pending word: after a space on this line if it fits, else on the
    /// next line, split across lines if it is wider than a whole line.
    fn end_word(&mut self) {
        if self.word.text.is_empty() {
            return;
        }
        let mut word = mem::take(&mut self.word);
        let word_width = word.width();
        let space = self.space.take();
        if self.line_width > 0 && self.line_width + 1 + word_width <= self.width {
            push_span(&mut self.line, " ", space.unwrap_or_default());
            self.line_width += 1;
            self.append(&word, word_width);
        } else {
            if self.line_width > 0 {
                self.new_line();
            }
            if word_width <= self.width {
                self.append(&word, word_width);
            } else {
                self.split(&word);
            }
        }
        word.clear();
        self.word = word;
    }

    fn append(&mut self, word: &Word, word_width: usize) {
        for (text, style) in word.parts() {
            push_span(&mut self.line, text, style);
        }
        self.line_width += word_width;
    }

    /// Puts a word that is wider than the line on as many lines as it needs.
    fn split(&mut self, word: &Word) {
        for (text, style) in word.parts() {
            for ch in text.chars() {
                let ch_width = ch.width().unwrap_or(0);
                if self.line_width > 0 && self.line_width + ch_width > self.width {
                    self.new_line();
                }
                push_char(&mut self.line, ch, style);
                self.line_width += ch_width;
            }
        }
    }
}

/// Whitespace that may break a line. No-break spaces stay inside their word;
/// control characters count as spaces so they never reach the terminal.
fn is_breaking_space(ch: char) -> bool {
    (ch.is_whitespace() && ch != '\u{a0}' && ch != '\u{202f}') || ch.is_control()
}

/// Appends text to the last span if it has the same style, else as a new span.
fn push_span(spans: &mut Vec<Span<'static>>, text: &str, style: Style) {
    match spans.last_mut() {
        Some(last) if last.style == style => last.content.to_mut().push_str(text),
        _ => spans.push(Span::styled(text.to_owned(), style)),
    }
}

fn push_char(spans: &mut Vec<Span<'static>>, ch: char, style: Style) {
    match spans.last_mut() {
        Some(last) if last.style == style => last.content.to_mut().push(ch),
        _ => spans.push(Span::styled(ch.to_string(), style)),
    }
}

// ---------------------------------------------------------------------------
// Line helpers
// ---------------------------------------------------------------------------

/// Expands tabs to the next multiple of [`TAB_WIDTH`] columns and drops other
/// control characters.
fn expand_tabs(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut column = 0;
    for ch in line.chars() {
        if ch == '\t' {
            let spaces = TAB_WIDTH - column % TAB_WIDTH;
            out.extend(std::iter::repeat_n(' ', spaces));
            column += spaces;
        } else if !ch.is_control() {
            out.push(ch);
            column += ch.width().unwrap_or(0);
        }
    }
    out
}

/// `line` with `prefix` in front.
fn prefixed(mut line: Line<'static>, prefix: Span<'static>) -> Line<'static> {
    line.spans.insert(0, prefix);
    line
}

/// Whether a line shows nothing but whitespace.
fn is_blank(line: &Line<'_>) -> bool {
    line.spans.iter().all(|span| span.content.trim().is_empty())
}

/// Cuts a line to `max` columns, ending it with `…` in the style of the cut span.
fn truncate_line(line: Line<'static>, max: usize) -> Line<'static> {
    if line.width() <= max {
        return line;
    }
    let Some(budget) = max.checked_sub(ELLIPSIS.width()) else {
        return Line::default();
    };
    let mut spans = Vec::new();
    let mut used = 0;
    let mut cut_style = Style::default();
    for span in line.spans {
        let span_width = span.width();
        if used + span_width <= budget {
            used += span_width;
            spans.push(span);
            continue;
        }
        cut_style = span.style;
        let mut kept = String::new();
        let mut kept_width = 0;
        for ch in span.content.chars() {
            let ch_width = ch.width().unwrap_or(0);
            if used + kept_width + ch_width > budget {
                break;
            }
            kept.push(ch);
            kept_width += ch_width;
        }
        // A string can be wider than the sum of its chars (emoji variation selectors).
        while used + kept.width() > budget && kept.pop().is_some() {}
        if !kept.is_empty() {
            spans.push(Span::styled(kept, cut_style));
        }
        break;
    }
    spans.push(Span::styled(ELLIPSIS, cut_style));
    Line::from(spans)
}

/// Removes trailing whitespace; a blank line ends up with no spans.
fn trim_end(line: &mut Line<'static>) {
    while let Some(last) = line.spans.last_mut() {
        let keep = last.content.trim_end().len();
        if keep == 0 {
            line.spans.pop();
            continue;
        }
        match &mut last.content {
            Cow::Borrowed(text) => *text = &text[..keep],
            Cow::Owned(text) => text.truncate(keep),
        }
        break;
    }
}

/// The last pass: trims trailing whitespace, drops leading, trailing and repeated
/// blank lines, and cuts every line to `width`.
fn finish(lines: Vec<Line<'static>>, width: usize) -> Vec<Line<'static>> {
    let mut out: Vec<Line<'static>> = Vec::with_capacity(lines.len());
    for mut line in lines {
        trim_end(&mut line);
        let line = truncate_line(line, width);
        if line.spans.is_empty() && out.last().is_none_or(|last| last.spans.is_empty()) {
            continue;
        }
        out.push(line);
    }
    if out.last().is_some_and(|line| line.spans.is_empty()) {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use ratatui::style::Color;

    use super::*;

    /// A document with a bit of everything, for the invariants.
    const VARIED: &str = r#"# Amdahl's law and the limits of parallel speedup

Parallel programs rarely scale *perfectly*. **Amdahl's law** says that if a fraction
`p` of the work can run in parallel, the speedup on `n` cores is at most
`1 / ((1 - p) + p / n)`. See [the article](https://en.wikipedia.org/wiki/Amdahl%27s_law)
or <https://example.org>.

A hard\
break, ~~struck~~ text, ***bold italic***, **bold with *italic* inside**, and
supercalifragilisticexpialidocious_very_long_identifier_name_that_never_ends_here.
Wide text: 並列計算は難しいですが、とても面白いです。並列計算は難しい。 ⚠️ Emoji ⚠️ too.

## Things to try

- Run with one thread
- Run with two threads, and then with many more threads so that this line wraps
  - nested item with a bit more text so it wraps too, under the nested bullet
    - third level with `inline code` and a [link](https://example.org/a/rather/long/path)
      1. ordered inside
      2. deeper still, with enough words to wrap at the narrowest width we test
- Back at level one

8. eight
9. nine
10. ten

* loose item one

* loose item two
  with continuation

  > a quote inside a list item, long enough to wrap around at narrow widths

```python
def speedup(p, n):
	return 1 / ((1 - p) + p / n)   # a comment that makes this line rather long for narrow panes


print(speedup(0.9, 8))
```

    indented code with a long line that goes on and on and on and on and on and on and on

> A quote with **bold** and `code` that is long enough to wrap at narrow widths.
>
> > nested quote with a table:
> >
> > | a | b |
> > |---|--:|
> > | 1 | 2 |

| Threads | Time (s) | Speedup | Notes |
|--------:|:--------:|---------|-------|
| 1 | 10.0 | 1.0 | baseline run on a single core of the machine |
| 2 | 5.2 | 1.92 | *almost* linear, see <https://example.org/speedup/notes> |
| 8 | 1.9 | 5.26 | memory bandwidth starts to matter here |

---

<div class="note">
Raw html block

</div>

Inline <kbd>Ctrl</kbd> html and an image ![a plot of speedup](plot.png) and [^1] footnote.

[^1]: The footnote text.

### Level three
#### Level four
##### Level five
###### Level six
"#;

    fn plain(lines: &[Line<'_>]) -> Vec<String> {
        lines
            .iter()
            .map(|line| {
                line.spans
                    .iter()
                    .map(|span| span.content.as_ref())
                    .collect()
            })
            .collect()
    }

    fn render_plain(markdown: &str, width: u16) -> Vec<String> {
        plain(&render(markdown, width, &Theme::monochrome()))
    }

    /// The first span whose text contains `needle`.
    fn span_with<'a>(lines: &'a [Line<'static>], needle: &str) -> &'a Span<'static> {
        lines
            .iter()
            .flat_map(|line| &line.spans)
            .find(|span| span.content.contains(needle))
            .unwrap_or_else(|| panic!("no span contains {needle:?} in {:#?}", plain(lines)))
    }

    fn assert_fits(lines: &[Line<'_>], width: u16) {
        for (text, line) in plain(lines).iter().zip(lines) {
            assert!(
                text.width() <= usize::from(width) && line.width() <= usize::from(width),
                "line wider than {width}: {text:?} ({})",
                text.width()
            );
        }
    }

    #[test]
    fn lines_never_exceed_the_width() {
        for theme in [Theme::colored(), Theme::monochrome()] {
            for width in [20, 37, 80, 120] {
                let lines = render(VARIED, width, &theme);
                assert!(
                    lines.len() > 50,
                    "width {width}: only {} lines",
                    lines.len()
                );
                assert_fits(&lines, width);
            }
        }
    }

    #[test]
    fn tiny_widths_do_not_panic_and_still_fit() {
        for width in 0..20 {
            let lines = render(VARIED, width, &Theme::colored());
            assert_fits(&lines, width);
        }
    }

    #[test]
    fn empty_input_gives_no_lines() {
        assert!(render("", 40, &Theme::colored()).is_empty());
        assert!(render("\n\n   \n", 40, &Theme::colored()).is_empty());
    }

    #[test]
    fn paragraphs_wrap_at_word_boundaries() {
        let text = "Parallel programs rarely scale perfectly because some part of the \
                    work is always serial, and communication between workers costs time.";
        let lines = render_plain(text, 30);
        assert!(lines.len() > 2);
        for line in &lines {
            assert!(line.width() <= 30, "{line:?}");
            assert_eq!(line.trim(), line, "no leading or trailing spaces");
        }
        let words: Vec<&str> = lines.iter().flat_map(|l| l.split(' ')).collect();
        let expected: Vec<&str> = text.split_whitespace().collect();
        assert_eq!(words, expected, "every word whole, in order");
        // Greedy: the next word would not have fit on the line before.
        for pair in lines.windows(2) {
            let next_word = pair[1].split(' ').next().unwrap_or_default();
            assert!(pair[0].width() + 1 + next_word.width() > 30, "{pair:?}");
        }
    }

    #[test]
    fn soft_breaks_join_and_hard_breaks_split() {
        assert_eq!(render_plain("one\ntwo", 40), ["one two"]);
        assert_eq!(render_plain("one\\\ntwo", 40), ["one", "two"]);
        assert_eq!(render_plain("one  \ntwo", 40), ["one", "two"]);
    }

    #[test]
    fn words_longer_than_the_width_are_split() {
        let lines = render_plain("see abcdefghijklmnopqrstuvwxyz0123456789 end", 20);
        assert_eq!(
            lines,
            ["see", "abcdefghijklmnopqrst", "uvwxyz0123456789 end"]
        );
    }

    #[test]
    fn words_with_mixed_styles_stay_whole() {
        let lines = render("aaaa bbbb **bold**ness", 16, &Theme::colored());
        assert_eq!(plain(&lines), ["aaaa bbbb", "boldness"]);
        assert!(
            span_with(&lines, "bold")
                .style
                .add_modifier
                .contains(Modifier::BOLD)
        );
        assert!(
            !span_with(&lines, "ness")
                .style
                .add_modifier
                .contains(Modifier::BOLD)
        );
    }

    #[test]
    fn inline_styles_carry_modifiers() {
        let theme = Theme::colored();
        let lines = render(
            "**strong** *soft* ~~gone~~ `let x` ***both*** *it **bo** it*",
            80,
            &theme,
        );
        let has = |needle: &str, modifier: Modifier| {
            span_with(&lines, needle)
                .style
                .add_modifier
                .contains(modifier)
        };
        assert!(has("strong", Modifier::BOLD) && !has("strong", Modifier::ITALIC));
        assert!(has("soft", Modifier::ITALIC) && !has("soft", Modifier::BOLD));
        assert!(has("gone", Modifier::CROSSED_OUT));
        assert_eq!(span_with(&lines, "let x").style, theme.code());
        assert!(has("both", Modifier::BOLD | Modifier::ITALIC));
        assert!(has("bo", Modifier::BOLD | Modifier::ITALIC));
        assert_eq!(plain(&lines), ["strong soft gone let x both it bo it"]);
    }

    #[test]
    fn links_show_their_target_unless_it_is_the_text() {
        let theme = Theme::colored();
        let lines = render(
            "[docs](https://x.org/d) and <https://x.org> and <me@x.org>",
            80,
            &theme,
        );
        assert_eq!(
            plain(&lines),
            ["docs (https://x.org/d) and https://x.org and me@x.org"]
        );
        assert_eq!(span_with(&lines, "docs").style, theme.link());
        assert_eq!(span_with(&lines, "(https://x.org/d)").style, theme.dim());
    }

    #[test]
    fn headings_are_styled_and_spaced() {
        let theme = Theme::colored();
        let lines = render("# Title\ntext\n## Sub\n### Third\nmore", 40, &theme);
        assert_eq!(
            plain(&lines),
            [
                "Title",
                "═════",
                "",
                "text",
                "",
                "Sub",
                "───",
                "",
                "Third",
                "",
                "more"
            ]
        );
        assert_eq!(span_with(&lines, "Title").style, theme.heading(1));
        assert_eq!(span_with(&lines, "Third").style, theme.heading(3));
    }

    #[test]
    fn nested_lists_indent_and_hang() {
        let markdown = "\
- first item with enough text to wrap
  - nested item that also wraps around
    - deepest
- second";
        assert_eq!(
            render_plain(markdown, 24),
            [
                "• first item with enough",
                "  text to wrap",
                "  ◦ nested item that",
                "    also wraps around",
                "    ▪ deepest",
                "• second",
            ]
        );
    }

    #[test]
    fn bullets_use_the_rule_style() {
        let theme = Theme::colored();
        let lines = render("- item", 20, &theme);
        assert_eq!(span_with(&lines, "•").style, theme.rule());
    }

    #[test]
    fn ordered_lists_honour_the_start_number() {
        assert_eq!(
            render_plain("3. three\n4. four with more words\n5. five", 14),
            ["3. three", "4. four with", "   more words", "5. five"]
        );
    }

    #[test]
    fn ordered_lists_right_align_long_numbers() {
        let markdown: String = (1..=11).map(|n| format!("{n}. item\n")).collect();
        let lines = render_plain(&markdown, 20);
        assert_eq!(lines.len(), 11);
        assert_eq!(lines[0], " 1. item");
        assert_eq!(lines[8], " 9. item");
        assert_eq!(lines[9], "10. item");
    }

    #[test]
    fn tight_and_loose_lists() {
        assert_eq!(
            render_plain("- a\n- b\n\nafter", 20),
            ["• a", "• b", "", "after"]
        );
        assert_eq!(
            render_plain("- a\n\n- b\n\n  b2\n\nafter", 20),
            ["• a", "", "• b", "", "  b2", "", "after"]
        );
    }

    #[test]
    fn code_blocks_keep_lines_and_truncate() {
        let theme = Theme::colored();
        let markdown = "```rust\nfn main() {\n\tlet a_rather_long_name = 1 + 2 + 3 + 4;\n}\n```";
        let lines = render(markdown, 30, &theme);
        assert_eq!(
            plain(&lines),
            [
                "── rust ──",
                "  fn main() {",
                "      let a_rather_long_name …",
                "  }",
            ]
        );
        assert_eq!(lines[1].width(), 13);
        assert_eq!(lines[2].width(), 30);
        assert_eq!(span_with(&lines, "── rust ──").style, theme.code_label());
        assert_eq!(span_with(&lines, "fn main").style, theme.code());
    }

    #[test]
    fn code_blocks_are_not_rewrapped() {
        let markdown = "```\nshort words that would wrap\n```";
        assert_eq!(
            render_plain(markdown, 20),
            ["  short words that …"],
            "no label without a language, one line cut instead of wrapped"
        );
    }

    #[test]
    fn indented_code_has_no_label() {
        assert_eq!(
            render_plain("text\n\n    x = 1\n    y = 2", 20),
            ["text", "", "  x = 1", "  y = 2"]
        );
    }

    #[test]
    fn block_quotes_get_a_bar_and_nest() {
        let theme = Theme::colored();
        let lines = render(
            "> quoted text that wraps around\n>\n> > inner **bold**",
            20,
            &theme,
        );
        assert_eq!(
            plain(&lines),
            [
                "│ quoted text that",
                "│ wraps around",
                "│",
                "│ │ inner bold"
            ]
        );
        assert_eq!(span_with(&lines, "quoted").style, theme.quote());
        let bold = span_with(&lines, "bold").style;
        assert!(
            bold.add_modifier
                .contains(Modifier::BOLD | Modifier::ITALIC)
        );
    }

    #[test]
    fn tables_align_columns() {
        let markdown = "\
| left | center | right |
|:-----|:------:|------:|
| a | b | c |
| longer | x | 12345 |";
        assert_eq!(
            render_plain(markdown, 60),
            [
                "left   │ center │ right",
                "───────┼────────┼──────",
                "a      │   b    │     c",
                "longer │   x    │ 12345",
            ]
        );
    }

    #[test]
    fn table_cells_keep_styles_and_headers_are_bold() {
        let theme = Theme::colored();
        let lines = render("| Head |\n|---|\n| `code` **b** |", 40, &theme);
        assert!(
            span_with(&lines, "Head")
                .style
                .add_modifier
                .contains(Modifier::BOLD)
        );
        assert_eq!(span_with(&lines, "code").style, theme.code());
        assert!(
            span_with(&lines, "b")
                .style
                .add_modifier
                .contains(Modifier::BOLD)
        );
        assert_eq!(span_with(&lines, "───").style, theme.rule());
    }

    #[test]
    fn wide_tables_shrink_the_widest_column_and_wrap() {
        let markdown = "\
| n | note |
|--:|------|
| 1 | a long note that cannot fit on one line |
| 2 | short |";
        let lines = render_plain(markdown, 24);
        assert_eq!(
            lines,
            [
                "n │ note",
                "──┼─────────────────────",
                "1 │ a long note that",
                "  │ cannot fit on one",
                "  │ line",
                "──┼─────────────────────",
                "2 │ short",
            ]
        );
    }

    #[test]
    fn shrinking_keeps_words_whole_when_possible() {
        let mut widths = [7, 8, 7, 44];
        fit_widths(&mut widths, &[7, 4, 7, 9], 28);
        assert_eq!(widths.iter().sum::<usize>(), 28);
        assert!(widths.iter().zip([7, 4, 7, 9]).all(|(w, m)| *w >= m));
        let mut widths = [10, 10];
        fit_widths(&mut widths, &[10, 10], 5);
        assert_eq!(widths, [3, 2], "words split when nothing else fits");
        let mut widths = [3, 50];
        fit_widths(&mut widths, &[3, 5], 30);
        assert_eq!(widths, [3, 27], "only the widest column shrinks");
    }

    #[test]
    fn rules_span_the_width() {
        let theme = Theme::colored();
        let lines = render("a\n\n---\n\nb", 25, &theme);
        assert_eq!(plain(&lines)[2], "─".repeat(25));
        assert_eq!(lines[2].spans[0].style, theme.rule());
    }

    #[test]
    fn html_is_plain_text_and_images_show_alt_text() {
        let theme = Theme::colored();
        let lines = render(
            "<div>\nraw\n</div>\n\nsee <b>this</b> ![a plot](p.png) ![](q.png)",
            60,
            &theme,
        );
        assert_eq!(
            plain(&lines),
            [
                "<div>",
                "raw",
                "</div>",
                "",
                "see <b>this</b> [image: a plot] [image]"
            ]
        );
        assert_eq!(span_with(&lines, "[image: a plot]").style, theme.dim());
    }

    #[test]
    fn no_repeated_leading_or_trailing_blank_lines() {
        let markdown = format!("\n\n{VARIED}\n```\n\n\na\n\n\n\nb\n\n```\n\n> \n\n- \n\n");
        for width in [20, 37, 80, 120] {
            let lines = render_plain(&markdown, width);
            let blank = |line: &String| line.trim().is_empty();
            assert!(
                !lines.first().is_some_and(blank),
                "leading blank at {width}"
            );
            assert!(
                !lines.last().is_some_and(blank),
                "trailing blank at {width}"
            );
            for pair in lines.windows(2) {
                assert!(
                    !(blank(&pair[0]) && blank(&pair[1])),
                    "double blank at {width}"
                );
            }
        }
    }

    #[test]
    fn monochrome_has_no_colors() {
        for width in [20, 60, 120] {
            for line in render(VARIED, width, &Theme::monochrome()) {
                assert_eq!(line.style, Style::default());
                for span in &line.spans {
                    assert_eq!(span.style.fg, None, "{span:?}");
                    assert_eq!(span.style.bg, None, "{span:?}");
                }
            }
        }
        // The colored theme does use colors, so the check above means something.
        let colored = render(VARIED, 60, &Theme::colored());
        let colors = colored
            .iter()
            .flat_map(|l| &l.spans)
            .filter_map(|s| s.style.fg);
        assert!(colors.clone().any(|c| c == Color::Yellow));
    }

    #[test]
    fn snapshot_lesson() {
        let markdown = "\
# Strong scaling

When you add **more cores** to a *fixed-size* problem, the run time should drop.
How far it drops is limited by the serial part of the program — this is
[Amdahl's law](https://en.wikipedia.org/wiki/Amdahl%27s_law).

## Try it

1. Run the experiment with `threads = 1`.
2. Double the threads and run again:
   - note the wall time,
   - compute the speedup `T1 / Tn`.
3. Repeat until the speedup stops growing.

```bash
hpc-tutor run strong-scaling --threads 1 2 4 8 --repeat 3 --output results/strong-scaling.csv
```

> **Tip:** a speedup *above* the number of cores (superlinear) usually means the
> problem suddenly fits in cache.

---

That's all for now.";
        insta::assert_snapshot!("lesson_60", render_plain(markdown, 60).join("\n"));
    }

    #[test]
    fn snapshot_tables_and_lists() {
        let markdown = "\
| Threads | Time (s) | Speedup | Efficiency | Comment |
|--------:|---------:|:-------:|:----------:|---------|
| 1 | 12.40 | 1.00 | 100% | baseline |
| 2 | 6.35 | 1.95 | 98% | nearly ideal |
| 4 | 3.40 | 3.65 | 91% | memory bandwidth starts to show in the profile |
| 8 | 2.10 | 5.90 | 74% | *hyper-threads*, not real cores |

Loose list:

- Measure first.

- Then optimise the part that dominates the run time, and measure again
  to check that it helped.

  ```c
  #pragma omp parallel for reduction(+:sum)
  for (int i = 0; i < n; i++) sum += a[i];
  ```

8. eight
9. nine
10. ten";
        insta::assert_snapshot!("tables_and_lists_60", render_plain(markdown, 60).join("\n"));
    }

    #[test]
    fn snapshot_varied() {
        insta::assert_snapshot!("varied_60", render_plain(VARIED, 60).join("\n"));
    }
}
