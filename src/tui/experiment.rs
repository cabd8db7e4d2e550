//! The experiment screen's state: the parameter form, the run in progress and its records,
//! the chart shown, and an earlier run to compare with.

use std::path::PathBuf;
use std::time::Instant;

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use crate::chart::Metric;
use crate::experiment::request::{self, RequestError};
use crate::experiment::{Backend, ExperimentInfo, ParamKind, Params, RunRequest};
use crate::lesson::{Preset, Quantity};
use crate::record::Record;

/// One editable line of the form.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// `workers`, `reps`, `warmup`, or a parameter name.
    pub name: String,
    /// The text as typed.
    pub value: String,
    /// What it means and what is allowed.
    pub help: String,
    /// For choice parameters: the options `←`/`→` cycle through.
    pub options: Vec<&'static str>,
    /// For text fields: earlier values `←`/`→` bring back (recently used commands).
    pub recent: Vec<String>,
    /// The most characters that can be typed.
    pub max_len: usize,
    /// Why the value was refused, shown next to the field.
    pub error: Option<String>,
}

/// Characters a number or list field takes.
const SHORT_FIELD: usize = 64;

pub use crate::backend::child::RunState;

/// A run started from this screen, with everything it has reported so far.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveRun {
    /// The tutor's id of the run (not the run record's `run_id`).
    pub id: u64,
    /// The records in arrival order.
    pub records: Vec<Record>,
    /// Where it is.
    pub state: RunState,
    /// When it was started, and the latest clock tick.
    pub started: Instant,
    /// The latest clock tick.
    pub now: Instant,
    /// The results file it is stored in.
    pub stored: Option<PathBuf>,
    /// The last lines of its standard error, for failures.
    pub stderr: Vec<String>,
}

impl LiveRun {
    /// Whether it is still going.
    pub fn active(&self) -> bool {
        matches!(self.state, RunState::Starting | RunState::Running)
    }
}

/// An earlier run shown on the same chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// How it is named in the legend.
    pub label: String,
    /// Its records.
    pub records: Vec<Record>,
}

/// What a key on the experiment screen asks the app to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Nothing changed.
    None,
    /// Something changed: redraw.
    Redraw,
    /// Start this run.
    Run(Box<RunRequest>),
    /// Cancel the run in progress.
    Cancel,
    /// Back to the lesson.
    Back,
    /// Choose an earlier run to compare with.
    History,
    /// Save the charts as a PNG.
    Export,
    /// Show the job script that reproduces the form on a cluster.
    JobScript,
}

/// The experiment screen of one experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentView {
    /// The experiment.
    pub info: &'static ExperimentInfo,
    /// The form.
    pub fields: Vec<Field>,
    /// Selected field.
    pub selected: usize,
    /// Whether the selected field is being typed into; holds the value before editing.
    pub editing: Option<String>,
    /// Which chart is shown.
    pub metric: Metric,
    /// The latest run started here.
    pub run: Option<LiveRun>,
    /// An earlier run overlaid on the chart.
    pub compare: Option<Comparison>,
    /// The first row of the points table shown; `None` follows the newest point.
    pub table_scroll: Option<usize>,
    /// The id of the lesson the screen was opened from (`lesson#program` for a lesson's
    /// program): opening it from another lesson starts again from that lesson's preset.
    pub opened_from: Option<String>,
    /// A warning shown under the form until the screen is opened afresh (e.g. what to
    /// install for a lesson's program).
    pub notice: Option<String>,
}

impl ExperimentView {
    /// A form with the lesson's preset, else the defaults; `workers` defaults to the sweep
    /// `hpc-tutor run` would use on `cpus` CPUs.
    pub fn new(info: &'static ExperimentInfo, preset: Option<&Preset>, cpus: usize) -> Self {
        let workers = preset
            .and_then(|p| p.workers.clone())
            .or_else(|| info.fixed_workers().map(|n| vec![n]))
            .unwrap_or_else(|| request::default_workers(cpus));
        let mut fields = vec![
            Field {
                name: "workers".into(),
                value: workers
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
                help: "worker counts, e.g. 1,2,4 (1 to 1024 each)".into(),
                options: vec![],
                recent: vec![],
                max_len: SHORT_FIELD,
                error: None,
            },
            Field {
                name: "reps".into(),
                value: preset.and_then(|p| p.reps).unwrap_or(5).to_string(),
                help: "timed repetitions per point (1 to 1000)".into(),
                options: vec![],
                recent: vec![],
                max_len: SHORT_FIELD,
                error: None,
            },
            Field {
                name: "warmup".into(),
                value: "1".into(),
                help: "untimed warm-up runs per point (0 to 100)".into(),
                options: vec![],
                recent: vec![],
                max_len: SHORT_FIELD,
                error: None,
            },
        ];
        fields.push(Field {
            name: "backend".into(),
            value: preset
                .and_then(|p| p.backend)
                .filter(|b| info.runs_on(*b))
                .or(info.backends.first().copied())
                .map_or("threads", |b| b.name())
                .to_owned(),
            help: if info.runs_on(Backend::Processes) {
                "threads of the program (OMP_NUM_THREADS…), processes it starts itself ({workers}), or MPI ranks under mpirun/srun".into()
            } else if info.backends.len() > 1 {
                "threads of one process, or MPI ranks (needs an MPI build)".into()
            } else {
                format!(
                    "this experiment runs on {} only",
                    info.backend_names().join(", ")
                )
            },
            options: info.backend_names(),
            recent: vec![],
            max_len: SHORT_FIELD,
            error: None,
        });
        for p in info.params {
            let preset_value = preset.and_then(|pr| {
                pr.params.iter().find_map(|kv| {
                    kv.split_once('=')
                        .filter(|(k, _)| *k == p.name)
                        .map(|(_, v)| v.to_owned())
                })
            });
            fields.push(Field {
                name: p.name.to_owned(),
                value: preset_value.unwrap_or_else(|| p.default_text()),
                help: format!("{}; {}", p.help, p.allowed()),
                options: match p.kind {
                    ParamKind::Choice { options, .. } => options.to_vec(),
                    _ => vec![],
                },
                recent: vec![],
                max_len: match p.kind {
                    ParamKind::Text { max_len, .. } => max_len,
                    _ => SHORT_FIELD,
                },
                error: None,
            });
        }
        Self {
            info,
            fields,
            selected: 0,
            editing: None,
            // With one worker count there is no speedup to show: start on the time chart.
            metric: if info.fixed_workers().is_some() {
                Metric::Time
            } else {
                Metric::Speedup
            },
            run: None,
            compare: None,
            table_scroll: None,
            opened_from: None,
            notice: None,
        }
    }

    /// Checks every field; marks the bad ones. Returns the run the form asks for, checked
    /// by the same [`RunRequest::check`] as the command line.
    pub fn validate(&mut self) -> Option<RunRequest> {
        for f in &mut self.fields {
            f.error = None;
        }
        fn mark(f: &mut Field, e: RequestError) {
            let text = e.to_string();
            let prefix = format!("--{}: ", f.name);
            f.error = Some(text.strip_prefix(&prefix).unwrap_or(&text).to_owned());
        }
        let (mut workers, mut reps, mut warmup, mut backend) = (Vec::new(), 0, 0, None);
        let mut params = Vec::new();
        for f in &mut self.fields {
            let v = f.value.trim().to_owned();
            match f.name.as_str() {
                "backend" => match Backend::from_name(&v) {
                    Some(b) if self.info.runs_on(b) => backend = Some(b),
                    _ => {
                        f.error = Some(format!(
                            "`{v}` is not allowed; expected one of {}",
                            self.info.backend_names().join(", ")
                        ));
                    }
                },
                "workers" => match request::parse_workers(&v) {
                    Ok(list) => workers = list,
                    Err(e) => mark(f, e),
                },
                "reps" => match v.parse::<u32>() {
                    Ok(n) if request::REPS.contains(&n) => reps = n,
                    _ => mark(f, RequestError::Reps(v)),
                },
                "warmup" => match v.parse::<u32>() {
                    Ok(n) if request::WARMUP.contains(&n) => warmup = n,
                    _ => mark(f, RequestError::Warmup(v)),
                },
                name => {
                    let pair = format!("{name}={v}");
                    if let Err(e) = Params::parse(self.info, std::slice::from_ref(&pair)) {
                        f.error = Some(e.to_string());
                    }
                    params.push(pair);
                }
            }
        }
        if self.fields.iter().any(|f| f.error.is_some()) {
            return None;
        }
        match RunRequest::check(self.info.name, backend, &workers, reps, warmup, &params) {
            Ok(r) => Some(r),
            Err(e) => {
                // A rule between parameters (e.g. a < b): mark the field it names.
                let i = e
                    .field()
                    .and_then(|name| self.fields.iter().position(|f| f.name == name))
                    .unwrap_or(self.fields.len() - 1);
                mark(&mut self.fields[i], e);
                None
            }
        }
    }

    /// Handles a key.
    pub fn on_key(&mut self, key: KeyEvent) -> Action {
        if let Some(before) = &self.editing {
            let f = &mut self.fields[self.selected];
            match key.code {
                KeyCode::Enter => {
                    self.editing = None;
                    self.validate_quietly();
                }
                KeyCode::Esc => {
                    f.value = before.clone();
                    self.editing = None;
                }
                KeyCode::Backspace => {
                    f.value.pop();
                }
                KeyCode::Char(c) if !c.is_control() && f.value.chars().count() < f.max_len => {
                    f.value.push(c);
                }
                _ => return Action::None,
            }
            return Action::Redraw;
        }
        let running = self.run.as_ref().is_some_and(LiveRun::active);
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => {
                if self.selected == 0 {
                    return Action::None;
                }
                self.selected -= 1;
                Action::Redraw
            }
            KeyCode::Down | KeyCode::Char('j') => {
                if self.selected + 1 >= self.fields.len() {
                    return Action::None;
                }
                self.selected += 1;
                Action::Redraw
            }
            KeyCode::Left | KeyCode::Right => {
                let f = &mut self.fields[self.selected];
                if f.options.is_empty() && !f.recent.is_empty() {
                    // Text fields bring back earlier values, newest first.
                    let n = f.recent.len();
                    let i = f.recent.iter().position(|r| *r == f.value);
                    let next = match (i, key.code == KeyCode::Right) {
                        (None, _) => 0,
                        (Some(i), true) => (i + 1) % n,
                        (Some(i), false) => (i + n - 1) % n,
                    };
                    f.value = f.recent[next].clone();
                    f.error = None;
                    return Action::Redraw;
                }
                if f.options.is_empty() {
                    return Action::None;
                }
                let i = f.options.iter().position(|o| *o == f.value).unwrap_or(0);
                let n = f.options.len();
                let next = if key.code == KeyCode::Right {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                };
                f.value = f.options[next].to_owned();
                f.error = None;
                Action::Redraw
            }
            KeyCode::Enter | KeyCode::Char('e') => {
                if self.fields[self.selected].options.is_empty() {
                    self.editing = Some(self.fields[self.selected].value.clone());
                } else {
                    // Choices cycle instead of being typed.
                    return self.on_key(KeyEvent::from(KeyCode::Right));
                }
                Action::Redraw
            }
            KeyCode::Char('r') if !running => match self.validate() {
                Some(request) => {
                    self.table_scroll = None;
                    Action::Run(Box::new(request))
                }
                None => Action::Redraw,
            },
            KeyCode::Char('c') if running => Action::Cancel,
            KeyCode::Char('v') => {
                // Message-size runs have two charts: time and bandwidth.
                let sizes = self.run.as_ref().is_some_and(|r| {
                    crate::chart::ChartKind::of(&[r.records.as_slice()])
                        == crate::chart::ChartKind::MessageSizes
                });
                self.metric = self.metric.next_for(sizes);
                Action::Redraw
            }
            KeyCode::PageUp | KeyCode::PageDown => {
                let rows = self.run.as_ref().map_or(0, |r| {
                    r.records
                        .iter()
                        .filter(|x| matches!(x, Record::Point(_)))
                        .count()
                });
                if rows == 0 {
                    return Action::None;
                }
                let top = self
                    .table_scroll
                    .unwrap_or(rows.saturating_sub(1))
                    .min(rows - 1);
                self.table_scroll = Some(if key.code == KeyCode::PageUp {
                    top.saturating_sub(5)
                } else {
                    (top + 5).min(rows - 1)
                });
                Action::Redraw
            }
            KeyCode::Char('o') => Action::History,
            KeyCode::Char('s') => Action::Export,
            KeyCode::Char('b') => Action::JobScript,
            KeyCode::Char('d') if self.compare.is_some() => {
                self.compare = None;
                Action::Redraw
            }
            KeyCode::Esc => Action::Back,
            _ => Action::None,
        }
    }

    /// The value of field `name`, trimmed.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value.trim())
    }

    /// Whether the form runs on MPI ranks.
    pub fn mpi(&self) -> bool {
        !self.info.runs_on(Backend::Threads) || self.value("backend") == Some(Backend::Mpi.name())
    }

    /// The worker counts and parameters as the form has them now (also while a field is
    /// being typed into); `None` while one of them cannot be read.
    fn sweep(&self) -> Option<(Vec<u16>, Params)> {
        let workers: Vec<u16> = self
            .value("workers")?
            .split(',')
            .map(|w| {
                w.trim()
                    .parse::<u16>()
                    .ok()
                    .filter(|w| (1..=1024).contains(w))
            })
            .collect::<Option<_>>()?;
        if workers.is_empty() {
            return None;
        }
        let pairs: Vec<String> = self
            .info
            .params
            .iter()
            .filter_map(|p| self.value(p.name).map(|v| format!("{}={v}", p.name)))
            .collect();
        let params = Params::parse(self.info, &pairs).ok()?;
        Some((workers, params))
    }

    /// What the form asks of the machine, for the job-script advisor; `None` while a field
    /// cannot be read.
    pub fn advice_request(&self) -> Option<crate::cluster::advice::Request> {
        let (workers, params) = self.sweep()?;
        Some(crate::cluster::advice::Request {
            mpi: self.mpi(),
            workers: workers.into_iter().map(usize::from).collect(),
            threads_per_rank: self.info.threads_per_rank(&params),
            fixed_workers: self.info.fixed_workers().is_some(),
        })
    }

    /// The job script's request for the form as it stands, with whether the experiment
    /// scales weakly (for the time estimate). Its time limit is left for the caller (0 s);
    /// `exe` is the hpc-tutor the job runs. Marks bad fields and says what is wrong when
    /// the form cannot run.
    pub fn job_spec(
        &mut self,
        system: &crate::cluster::SystemInfo,
        exe: &str,
    ) -> Result<(crate::cluster::jobscript::JobSpec, bool), String> {
        use crate::cluster::jobscript::{JobSpec, shell_word};
        if self.validate().is_none() {
            return Err(
                "fix the marked fields first: the job script runs the form as it is".into(),
            );
        }
        let (given, params) = self
            .sweep()
            .ok_or_else(|| "fix the marked fields first".to_owned())?;
        let mpi = self.mpi();
        let workers = request::sweep_workers(self.info, &params, mpi, &given, system)?;
        let number = |name: &str| {
            self.value(name)
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0)
        };
        let (reps, warmup) = (number("reps"), number("warmup"));
        let threads_per_rank = self.info.threads_per_rank(&params);
        let list = workers
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let backend = self
            .value("backend")
            .and_then(Backend::from_name)
            .filter(|b| self.info.runs_on(*b))
            .unwrap_or(if mpi { Backend::Mpi } else { Backend::Threads });
        let mut made_by = format!(
            "hpc-tutor slurm script {} --backend {backend} --workers {list} --reps {reps} --warmup {warmup}",
            self.info.name
        );
        let params = params.to_strings();
        for (k, v) in &params {
            made_by.push_str(" --param ");
            made_by.push_str(&shell_word(&format!("{k}={v}")));
        }
        made_by.push_str(&format!(
            "\n#          (the same, from the experiment screen of hpc-tutor {} on {})",
            env!("CARGO_PKG_VERSION"),
            system.host
        ));
        let spec = JobSpec::new(
            self.info.name,
            backend,
            workers,
            (reps, warmup),
            params,
            threads_per_rank,
            system,
            exe,
            made_by,
        );
        let pairs: Vec<String> = spec
            .params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let weak = Params::parse(self.info, &pairs).is_ok_and(|p| self.info.weak_scaling(&p));
        Ok((spec, weak))
    }

    /// For a program run: the exact command line of the form's first worker count, as it
    /// will run (`None` while the form cannot run, or for the built-in experiments).
    pub fn command_preview(&self, cpus: usize) -> Option<String> {
        if self.info.kind != crate::experiment::Kind::Program {
            return None;
        }
        let (workers, params) = self.sweep()?;
        let backend = Backend::from_name(self.value("backend")?)?;
        let n = workers.first().map_or(1, |&w| usize::from(w));
        let spec = crate::backend::program::ProgramSpec::new(
            &params,
            backend,
            crate::backend::launch::Launcher::default_here(),
            cpus,
            std::time::Duration::from_secs(1),
        )
        .ok()?;
        (!spec.command.trim().is_empty()).then(|| spec.shown(n))
    }

    fn validate_quietly(&mut self) {
        // Mark problems as soon as a field is left, but keep others' marks fresh too.
        let _ = self.validate();
    }

    /// Progress of the live run: (runs done, runs in all, current point's workers, rep).
    pub fn progress(&self) -> Option<(usize, usize)> {
        let run = self.run.as_ref()?;
        let Some(Record::Run(r)) = run.records.first() else {
            return None;
        };
        let variants = self
            .info
            .variants(
                &Params::parse(
                    self.info,
                    &r.params
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>(),
                )
                .unwrap_or_default(),
            )
            .len()
            .max(1);
        let total = variants * r.workers.len() * (r.reps + r.warmup);
        let done = run
            .records
            .iter()
            .filter(|x| matches!(x, Record::Sample(_)))
            .count();
        Some((done, total))
    }
}

/// Why a measurement differs from a prediction, in a sentence or two.
pub fn explain_gap(quantity: Quantity, predicted: f64, measured: f64) -> String {
    let rel = if measured.abs() > 1e-12 {
        (predicted - measured) / measured.abs()
    } else {
        0.0
    };
    if rel.abs() <= 0.05 {
        return "Within 5 %: the model explains this measurement well.".to_owned();
    }
    let better_than_measured = match quantity {
        // For time, predicting less time than measured is the optimistic side.
        Quantity::Time => predicted < measured,
        Quantity::SerialFraction | Quantity::KarpFlatt => predicted < measured,
        Quantity::Speedup | Quantity::Efficiency => predicted > measured,
    };
    if better_than_measured {
        "The real run did worse than the model: it pays costs the model leaves out — starting \
         and synchronizing workers, memory bandwidth shared by the cores, and other programs on \
         the same CPUs (this tutor included). On a busy or oversubscribed node the gap grows."
            .to_owned()
    } else {
        "The real run did better than the model: caches (each worker's share fits better in \
         its own cache), clock speed changes, or noise. Look at the confidence interval before \
         trusting a small difference."
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::find;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::from(c)
    }

    #[test]
    fn form_starts_from_the_preset_and_builds_run_arguments() {
        let info = find("amdahl").expect("registered");
        let preset = Preset {
            workers: Some(vec![1, 2]),
            reps: Some(3),
            params: vec!["serial=0.3".into()],
            backend: None,
        };
        let mut v = ExperimentView::new(info, Some(&preset), 8);
        let args = v.validate().expect("valid").child_args();
        assert_eq!(
            args,
            [
                "run",
                "amdahl",
                "--backend",
                "threads",
                "--workers",
                "1,2",
                "--reps",
                "3",
                "--warmup",
                "1",
                "--param",
                "serial=0.3",
                "--param",
                "work=100000000",
                "--format",
                "json",
                "--no-store"
            ]
        );
        let v2 = ExperimentView::new(info, None, 8);
        assert_eq!(v2.fields[0].value, "1,2,4,8");
    }

    /// The bug that kept three lessons from running in the tutor: the form of an experiment
    /// that runs on MPI ranks only gave `--backend` twice, and clap refused the run.
    #[test]
    fn every_experiment_form_round_trips_through_the_childs_arguments() {
        use clap::Parser;
        for info in crate::experiment::EXPERIMENTS
            .iter()
            .filter(|e| e.runnable())
        {
            let mut form = ExperimentView::new(info, None, 2);
            // A program run needs its command; a time pattern with spaces and quotes too.
            for (name, value) in [
                ("command", "python3 'my prog.py' --workers {workers}"),
                ("time_from", "Execution time: ([0-9.]+) s"),
            ] {
                if let Some(f) = form.fields.iter_mut().find(|f| f.name == name) {
                    f.value = value.to_owned();
                }
            }
            let request = form.validate().expect("the defaults are valid");
            let args = request.child_args();
            let cli = crate::cli::Cli::try_parse_from(
                std::iter::once("hpc-tutor".to_owned()).chain(args.iter().cloned()),
            )
            .unwrap_or_else(|e| panic!("{}: {args:?} does not parse: {e}", info.name));
            let Some(crate::cli::Command::Run(run)) = cli.command else {
                panic!("{}: not a run", info.name)
            };
            assert_eq!(run.request().expect("valid"), request, "{}", info.name);
        }
    }

    #[test]
    fn bad_fields_are_marked_and_nothing_starts() {
        let info = find("mc-pi").expect("registered");
        let mut v = ExperimentView::new(info, None, 2);
        v.on_key(key(KeyCode::Enter));
        for _ in 0..3 {
            v.on_key(key(KeyCode::Backspace));
        }
        v.on_key(key(KeyCode::Char('0')));
        v.on_key(key(KeyCode::Enter));
        assert_eq!(v.fields[0].value, "0");
        assert!(v.fields[0].error.is_some());
        assert_eq!(
            v.on_key(key(KeyCode::Char('r'))),
            Action::Redraw,
            "nothing starts"
        );
        // samples out of range: the same message as the command line.
        v.fields[0].value = "1,2".into();
        let samples = v
            .fields
            .iter()
            .position(|f| f.name == "samples")
            .expect("field");
        v.fields[samples].value = "5".into();
        assert!(v.validate().is_none());
        assert_eq!(
            v.fields[samples].error.as_deref(),
            Some(
                "parameter `samples`: `5` is not allowed; expected a whole number from 1000 to 100000000000"
            )
        );
    }

    #[test]
    fn choices_cycle_and_editing_can_be_undone() {
        let info = find("mc-pi").expect("registered");
        let mut v = ExperimentView::new(info, None, 2);
        let mode = v
            .fields
            .iter()
            .position(|f| f.name == "mode")
            .expect("field");
        v.selected = mode;
        v.on_key(key(KeyCode::Right));
        assert_eq!(v.fields[mode].value, "weak");
        v.on_key(key(KeyCode::Right));
        assert_eq!(v.fields[mode].value, "strong");
        v.selected = 1;
        v.on_key(key(KeyCode::Enter));
        v.on_key(key(KeyCode::Char('9')));
        v.on_key(key(KeyCode::Esc));
        assert_eq!(v.fields[1].value, "5");
        assert_eq!(v.editing, None);
    }

    #[test]
    fn gap_explanations_depend_on_the_direction() {
        assert!(explain_gap(Quantity::Speedup, 1.54, 1.52).starts_with("Within 5 %"));
        assert!(explain_gap(Quantity::Speedup, 1.9, 1.5).contains("did worse"));
        assert!(explain_gap(Quantity::Speedup, 1.5, 1.9).contains("did better"));
        assert!(explain_gap(Quantity::SerialFraction, 0.3, 0.4).contains("did worse"));
    }
}
