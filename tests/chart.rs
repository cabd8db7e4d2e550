//! The scaling chart drawn from fixed records with ratatui's `TestBackend`, compared with
//! insta snapshots (monochrome), plus checks that tick labels sit under their points and
//! that no size or data makes drawing panic.

use std::collections::BTreeMap;

use hpc_tutor::chart::{ChartModel, Metric};
use hpc_tutor::record::{
    EndRecord, Environment, FitRecord, Model, PointRecord, Record, RunRecord, Status,
};
use hpc_tutor::tui::theme::Theme;
use hpc_tutor::tui::view::chart::{ChartView, draw};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

fn run(experiment: &str, mode: Option<&str>, cpus: usize, started_at: &str) -> Record {
    let mut params = BTreeMap::from([("samples".to_owned(), "100000000".to_owned())]);
    if let Some(mode) = mode {
        params.insert("mode".to_owned(), mode.to_owned());
    }
    Record::Run(RunRecord {
        run_id: format!("{experiment}-{started_at}"),
        experiment: experiment.into(),
        backend: "threads".into(),
        params,
        workers: vec![1, 2, 4],
        reps: 5,
        warmup: 1,
        env: Environment {
            host: "node01".into(),
            cpu_model: "Test CPU".into(),
            cpus_available: cpus,
            slurm_job_id: None,
            version: "0.1.0".into(),
            git_commit: None,
            busy_before: None,
            mpi: None,
            caches: Vec::new(),
            hosts: Vec::new(),
        },
        started_at: started_at.into(),
        merged_from: Vec::new(),
    })
}

/// A Point record; speedup and efficiency from `t1` as the runner computes them.
fn point(
    workers: usize,
    variant: Option<&str>,
    (median, min, max): (f64, f64, f64),
    t1: f64,
    weak: bool,
    cpus: usize,
) -> Record {
    let n = workers as f64;
    let speedup = if weak { n * t1 / median } else { t1 / median };
    Record::Point(PointRecord {
        workers,
        variant: variant.map(str::to_owned),
        reps: 5,
        median_s: median,
        min_s: min,
        max_s: max,
        ci95_s: [min, max],
        outliers: 0,
        speedup: Some(speedup),
        efficiency: Some(speedup / n),
        karp_flatt: None,
        oversubscribed: workers > cpus,
        setup_s: 0.0001,
        outputs: BTreeMap::new(),
        ranks: None,
        threads: None,
        other_busy: None,
        other_runs: 0,
        inner_runs: 1,
        hosts: Vec::new(),
    })
}

fn fit(model: Model, variant: Option<&str>, s: f64) -> Record {
    Record::Fit(FitRecord {
        model,
        variant: variant.map(str::to_owned),
        serial_fraction: s,
        rmse: 0.02,
        r2: Some(0.98),
        points: 3,
        latency_s: None,
        bandwidth_bytes_s: None,
        meaningful: true,
        caveat: None,
    })
}

fn end() -> Record {
    Record::End(EndRecord {
        status: Status::Ok,
        elapsed_s: 12.0,
        output: Vec::new(),
        message: None,
    })
}

const T0: &str = "2026-11-22T07:15:02+00:00";

/// mc-pi, strong scaling on 2 CPUs: N = 1, 2, 4, the last oversubscribed; Amdahl s = 0.07.
fn strong() -> Vec<Record> {
    let t1 = 1.0;
    vec![
        run("mc-pi", None, 2, T0),
        point(1, None, (1.0, 0.97, 1.06), t1, false, 2),
        point(2, None, (0.53, 0.51, 0.58), t1, false, 2),
        point(4, None, (0.5, 0.47, 0.61), t1, false, 2),
        fit(Model::Amdahl, None, 0.07),
        end(),
    ]
}

/// mc-pi, weak scaling on 4 CPUs: N = 1, 2, 4, 8 (8 oversubscribed); Gustafson s = 0.1.
fn weak() -> Vec<Record> {
    let t1 = 1.0;
    vec![
        run("mc-pi", Some("weak"), 4, T0),
        point(1, None, (1.0, 0.98, 1.03), t1, true, 4),
        point(2, None, (1.04, 1.01, 1.08), t1, true, 4),
        point(4, None, (1.1, 1.06, 1.17), t1, true, 4),
        point(8, None, (2.1, 1.98, 2.3), t1, true, 4),
        fit(Model::Gustafson, None, 0.1),
        end(),
    ]
}

/// A second mc-pi run on an 8-CPU node, 47 minutes later, with a larger problem.
fn strong_later() -> Vec<Record> {
    let t1 = 2.4;
    vec![
        run("mc-pi", None, 8, "2026-11-22T08:02:40+00:00"),
        point(1, None, (2.4, 2.35, 2.5), t1, false, 8),
        point(2, None, (1.25, 1.2, 1.3), t1, false, 8),
        point(4, None, (0.68, 0.66, 0.75), t1, false, 8),
        point(8, None, (0.42, 0.4, 0.47), t1, false, 8),
        fit(Model::Amdahl, None, 0.04),
        end(),
    ]
}

/// imbalance on 4 CPUs: static against dynamic scheduling.
fn variants() -> Vec<Record> {
    let (s, d) = (Some("static"), Some("dynamic"));
    vec![
        run("imbalance", None, 4, T0),
        point(1, s, (0.8, 0.79, 0.82), 0.8, false, 4),
        point(1, d, (0.82, 0.8, 0.85), 0.82, false, 4),
        point(2, s, (0.52, 0.5, 0.55), 0.8, false, 4),
        point(2, d, (0.43, 0.42, 0.45), 0.82, false, 4),
        point(4, s, (0.38, 0.36, 0.41), 0.8, false, 4),
        point(4, d, (0.23, 0.22, 0.25), 0.82, false, 4),
        fit(Model::Amdahl, s, 0.29),
        fit(Model::Amdahl, d, 0.04),
        end(),
    ]
}

/// race on 2 CPUs, weak scaling: six variants at N = 1, 2, 4 (4 oversubscribed), each
/// with a Gustafson fit over N = 2; mutex's and false-sharing's are clamped at their
/// bound s = 1.00.
fn race() -> Vec<Record> {
    let mut records = vec![run("race", None, 2, T0)];
    // The run record names only race's own parameters: race scales weakly.
    if let Some(Record::Run(r)) = records.first_mut() {
        r.params = BTreeMap::from([
            ("increments".to_owned(), "200000".to_owned()),
            ("variant".to_owned(), "all".to_owned()),
        ]);
    }
    // (variant, T(2), T(4), fitted s = 2 − S(2), clamped to 0..=1)
    let variants = [
        ("unsynchronized", 0.013, 0.027, 0.46),
        ("atomic", 0.016, 0.033, 0.75),
        ("mutex", 0.09, 0.2, 1.0),
        ("reduction", 0.0101, 0.021, 0.02),
        ("false-sharing", 0.022, 0.045, 1.0),
        ("padded", 0.0112, 0.023, 0.21),
    ];
    for (v, t2, t4, _) in variants {
        let t1 = 0.01;
        for (n, t) in [(1, t1), (2, t2), (4, t4)] {
            let spread = (t * 0.95, t * 1.1);
            records.push(point(n, Some(v), (t, spread.0, spread.1), t1, true, 2));
        }
    }
    for (v, _, _, s) in variants {
        records.push(fit(Model::Gustafson, Some(v), s));
    }
    records.push(end());
    records
}

fn render(model: &ChartModel, metric: Metric, (w, h): (u16, u16)) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    terminal
        .draw(|f| {
            let area = f.area();
            draw(model, metric, &Theme::monochrome(), area, f.buffer_mut());
        })
        .expect("draw");
    terminal
}

fn snapshot(name: &str, runs: &[&[Record]], metric: Metric, size: (u16, u16)) {
    let model = ChartModel::from_runs(runs);
    let terminal = render(&model, metric, size);
    insta::assert_snapshot!(name, terminal.backend().to_string());
}

#[test]
fn speedup_with_ideal_and_amdahl_fit() {
    snapshot("speedup_80x24", &[&strong()], Metric::Speedup, (80, 24));
    snapshot("speedup_120x40", &[&strong()], Metric::Speedup, (120, 40));
}

#[test]
fn efficiency() {
    snapshot(
        "efficiency_80x24",
        &[&strong()],
        Metric::Efficiency,
        (80, 24),
    );
}

#[test]
fn time() {
    snapshot("time_80x24", &[&strong()], Metric::Time, (80, 24));
}

#[test]
fn weak_scaling_with_gustafson_fit() {
    snapshot("weak_speedup_80x24", &[&weak()], Metric::Speedup, (80, 24));
    snapshot("weak_time_80x24", &[&weak()], Metric::Time, (80, 24));
}

#[test]
fn two_runs_overlaid() {
    snapshot(
        "overlay_speedup_100x30",
        &[&strong(), &strong_later()],
        Metric::Speedup,
        (100, 30),
    );
}

#[test]
fn two_variants() {
    snapshot(
        "variants_speedup_80x24",
        &[&variants()],
        Metric::Speedup,
        (80, 24),
    );
    snapshot(
        "variants_time_80x24",
        &[&variants()],
        Metric::Time,
        (80, 24),
    );
}

#[test]
fn six_variants_each_have_their_own_marker() {
    snapshot(
        "race_speedup_120x40",
        &[&race()],
        Metric::Speedup,
        (120, 40),
    );
    snapshot("race_speedup_80x24", &[&race()], Metric::Speedup, (80, 24));
    let model = ChartModel::from_runs(&[&race()]);
    assert!(model.weak);
    let text = render(&model, Metric::Speedup, (120, 40))
        .backend()
        .to_string();
    // Monochrome: the markers alone tell the six apart, in the plot and the legend.
    for (glyph, variant) in [
        ('•', "unsynchronized"),
        ('■', "atomic"),
        ('▲', "mutex"),
        ('◆', "reduction"),
        ('▼', "false-sharing"),
        ('★', "padded"),
    ] {
        assert!(
            text.contains(&format!("{glyph} race · {variant}")),
            "{variant}: {text}"
        );
        assert!(text.matches(glyph).count() >= 2, "{glyph} plotted: {text}");
    }
    // mutex's and false-sharing's fits are at their bound: no curve and no s as if it
    // meant something.
    // The legend says it once for both.
    assert!(
        text.contains("no Gustafson fit: s at its bound 1.00 (mutex, false-sharing)"),
        "{text}"
    );
    assert!(!text.contains("fit s=1.00"), "{text}");
    assert!(text.contains("Gustafson fit s=0.75 (atomic)"), "{text}");
}

#[test]
fn empty_model() {
    let records = vec![run("mc-pi", None, 2, T0)];
    snapshot("empty_80x24", &[&records], Metric::Speedup, (80, 24));
    let model = ChartModel::from_runs(&[&records]);
    let text = render(&model, Metric::Time, (80, 24)).backend().to_string();
    assert!(text.contains("waiting for the first point…"), "{text}");
    // Cancelled (c) before its first point: it no longer says it is waiting.
    let mut cancelled = records.clone();
    cancelled.push(hpc_tutor::record::Record::End(
        hpc_tutor::record::EndRecord {
            status: hpc_tutor::record::Status::Cancelled,
            elapsed_s: 1.0,
            output: Vec::new(),
            message: None,
        },
    ));
    let model = ChartModel::from_runs(&[&cancelled]);
    let text = render(&model, Metric::Time, (80, 24)).backend().to_string();
    assert!(!text.contains("waiting"), "{text}");
    assert!(text.contains("cancelled before the first point"), "{text}");
}

#[test]
fn small_area() {
    snapshot("speedup_40x12", &[&strong()], Metric::Speedup, (40, 12));
    snapshot("time_40x12", &[&strong()], Metric::Time, (40, 12));
}

#[test]
fn a_single_point() {
    let records = vec![
        run("mc-pi", None, 2, T0),
        point(1, None, (1.0, 0.97, 1.06), 1.0, false, 2),
    ];
    snapshot("single_point_60x16", &[&records], Metric::Speedup, (60, 16));
}

/// The cells of `buf` as rows of single-width symbols.
fn grid(buf: &Buffer) -> Vec<Vec<String>> {
    let a = buf.area;
    (a.top()..a.bottom())
        .map(|y| {
            (a.left()..a.right())
                .map(|x| buf.cell((x, y)).map_or(" ", |c| c.symbol()).to_owned())
                .collect()
        })
        .collect()
}

/// The rectangle of the legend box (`┌` … `┘`) above row `axis`, if drawn.
fn legend_box(cells: &[Vec<String>], axis: usize) -> Option<(usize, usize, usize, usize)> {
    for (y, row) in cells.iter().enumerate().take(axis) {
        if let Some(x0) = row.iter().position(|c| c == "┌") {
            let x1 = x0 + row[x0..].iter().position(|c| c == "┐")?;
            let y1 = y + cells[y..].iter().position(|r| r[x1] == "┘")?;
            return Some((x0, y, x1, y1));
        }
    }
    None
}

/// Checks that each worker tick label is centred on the column of the points for that N.
fn assert_ticks_under_points(
    records: &[Record],
    metric: Metric,
    size: (u16, u16),
    expect: &[usize],
) {
    let model = ChartModel::from_runs(&[records]);
    let terminal = render(&model, metric, size);
    let cells = grid(terminal.backend().buffer());
    let text = terminal.backend().to_string();

    // The x axis is the last row with a corner (the legend box may have one higher up).
    let axis = cells
        .iter()
        .rposition(|r| r.iter().any(|c| c == "└"))
        .unwrap_or_else(|| panic!("no x axis in\n{text}"));
    // Tick labels: runs of digits on the row under the axis, by their middle column.
    let labels = &cells[axis + 1];
    let mut ticks: Vec<(usize, usize)> = Vec::new();
    let mut x = 0;
    while x < labels.len() {
        if labels[x].chars().all(|c| c.is_ascii_digit()) && labels[x] != " " {
            let start = x;
            while x < labels.len() && labels[x].chars().all(|c| c.is_ascii_digit()) {
                x += 1;
            }
            let value: String = labels[start..x].concat();
            let value: usize = value.parse().expect("a number");
            ticks.push((value, start + (x - start - 1) / 2));
        } else {
            x += 1;
        }
    }

    // Measured points: marker cells above the axis, outside the legend box.
    let legend = legend_box(&cells, axis);
    let mut columns: Vec<usize> = Vec::new();
    for (y, row) in cells.iter().enumerate().take(axis) {
        for (x, c) in row.iter().enumerate() {
            let in_legend = legend
                .is_some_and(|(x0, y0, x1, y1)| (x0..=x1).contains(&x) && (y0..=y1).contains(&y));
            if (c == "•" || c == "○") && !in_legend {
                columns.push(x);
            }
        }
    }
    columns.sort_unstable();
    columns.dedup();
    assert_eq!(
        columns.len(),
        expect.len(),
        "markers at {columns:?} in\n{text}"
    );
    for (n, col) in expect.iter().zip(&columns) {
        let tick = ticks.iter().find(|(v, _)| v == n);
        assert_eq!(
            tick.map(|t| t.1),
            Some(*col),
            "{size:?} {metric:?}: label {n} vs its points at column {col}; labels {ticks:?}\n{text}"
        );
    }
}

#[test]
fn tick_labels_sit_under_their_points() {
    let sizes = [(40, 12), (57, 15), (80, 24), (123, 37), (200, 60)];
    for size in sizes {
        for metric in Metric::ALL {
            assert_ticks_under_points(&strong(), metric, size, &[1, 2, 4]);
        }
        assert_ticks_under_points(&weak(), Metric::Speedup, size, &[1, 2, 4, 8]);
    }
    // A sweep to 64 workers: 7 ticks.
    let mut wide = vec![run("mc-pi", None, 64, T0)];
    for n in [1, 2, 4, 8, 16, 32, 64] {
        let t = 1.0 / (0.05 + 0.95 / n as f64);
        wide.push(point(
            n,
            None,
            (1.0 / t, 0.98 / t, 1.03 / t),
            1.0,
            false,
            64,
        ));
    }
    for size in [(80, 24), (200, 60)] {
        assert_ticks_under_points(&wide, Metric::Time, size, &[1, 2, 4, 8, 16, 32, 64]);
    }
}

#[test]
fn never_panics_at_any_size() {
    let strong = strong();
    let weak = weak();
    let later = strong_later();
    let variants = variants();
    let race = race();
    let empty = vec![run("mc-pi", None, 2, T0)];
    let nan = vec![
        run("mc-pi", None, 1, T0),
        point(
            1,
            None,
            (f64::NAN, f64::NAN, f64::INFINITY),
            f64::NAN,
            false,
            1,
        ),
        point(2, None, (0.0, 0.0, 0.0), 0.0, false, 1),
        point(1000, None, (1e300, 1e-300, f64::MAX), 1.0, false, 1),
        fit(Model::Amdahl, None, f64::INFINITY),
    ];
    let models = [
        ChartModel::from_runs(&[&strong]),
        ChartModel::from_runs(&[&weak]),
        ChartModel::from_runs(&[&strong, &later]),
        ChartModel::from_runs(&[&variants]),
        ChartModel::from_runs(&[&race, &race]),
        ChartModel::from_runs(&[&empty]),
        ChartModel::from_runs(&[&nan]),
        ChartModel::default(),
    ];
    let mut sizes: Vec<(u16, u16)> = vec![(200, 60), (40, 12)];
    for w in [0, 1, 2, 5, 11, 13, 20, 33, 47] {
        for h in [0, 1, 3, 4, 5, 7, 8, 12] {
            sizes.push((w, h));
        }
    }
    for model in &models {
        for metric in Metric::ALL {
            for (i, theme) in [Theme::colored(), Theme::monochrome()].iter().enumerate() {
                // Styles do not change the layout: the many small sizes once are enough.
                let sizes = if i == 0 { &sizes[..] } else { &sizes[..2] };
                for &(w, h) in sizes {
                    let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
                    // Also drawn at an offset, and into an area larger than the buffer.
                    ratatui::widgets::Widget::render(
                        ChartView::new(model, metric, theme),
                        Rect::new(0, 0, w, h),
                        &mut buf,
                    );
                    let mut big = Buffer::empty(Rect::new(0, 0, w + 5, h + 3));
                    draw(
                        model,
                        metric,
                        theme,
                        Rect::new(5, 3, w + 10, h + 10),
                        &mut big,
                    );
                }
            }
        }
        let mut huge = Buffer::empty(Rect::new(0, 0, 255, 255));
        draw(
            model,
            Metric::Speedup,
            &Theme::colored(),
            huge.area,
            &mut huge,
        );
    }
}

#[test]
fn colours_only_with_colour_on() {
    use ratatui::style::Color;
    let records = variants();
    let model = ChartModel::from_runs(&[&records]);
    let area = Rect::new(0, 0, 80, 24);
    let colours = |theme: &Theme| {
        let mut buf = Buffer::empty(area);
        draw(&model, Metric::Speedup, theme, area, &mut buf);
        buf.content()
            .iter()
            .flat_map(|c| [c.fg, c.bg])
            .filter(|c| *c != Color::Reset)
            .collect::<Vec<_>>()
    };
    assert!(colours(&Theme::monochrome()).is_empty());
    let coloured = colours(&Theme::colored());
    // The two series have their own colours.
    assert!(coloured.contains(&Color::Cyan) && coloured.contains(&Color::Magenta));
}
