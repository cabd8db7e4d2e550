//! Merging results files into sweeps: the tasks of a job array each measure one point of a
//! sweep; put together, they are one run with speedups against the merged 1-worker point.

use crate::kernel::{Output, OutputsExt};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::experiment::{self, Params};
use crate::measure::protocol::{Scaled, fit_record};
use crate::record::Model;
use crate::record::store::{StoreError, load};
use crate::record::{EndRecord, Record, RunRecord, Status};

/// The results files among `paths`: files as given, folders' `.jsonl` files in name order.
pub fn files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, StoreError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|source| StoreError::Io {
                    path: p.display().to_string(),
                    source,
                })?
                .filter_map(Result::ok)
                .map(|e| e.path())
                // Not only regular files: a FIFO or a dangling link named .jsonl is
                // reported when it is read, not passed over in silence.
                .filter(|f| !f.is_dir() && f.extension().is_some_and(|e| e == "jsonl"))
                .collect();
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// The results files that could be read, and why each of the others could not.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Each readable file with its records, in the order given.
    pub inputs: Vec<(PathBuf, Vec<Record>)>,
    /// The problem of each file that could not be read (`path:line: message` or
    /// `path: message`), in the order given.
    pub skipped: Vec<StoreError>,
}

/// Loads each file on its own: one that cannot be read, is empty, or does not start with
/// a run record (an array task that died before its first line) is set aside with its
/// problem, and the others are read.
pub fn load_each(files: &[PathBuf]) -> Loaded {
    let mut loaded = Loaded::default();
    for f in files {
        match load(f) {
            Ok(records) if records.is_empty() => loaded.skipped.push(StoreError::NotResults {
                path: f.display().to_string(),
                message: "empty: no records (a job that ended before its first line?)".to_owned(),
            }),
            Ok(records) if !matches!(records.first(), Some(Record::Run(_))) => {
                loaded.skipped.push(StoreError::BadLine {
                    path: f.display().to_string(),
                    line: 1,
                    message: "not a results file: the first record is not a run record".to_owned(),
                });
            }
            Ok(records) => loaded.inputs.push((f.clone(), records)),
            Err(e) => loaded.skipped.push(e),
        }
    }
    loaded
}

/// Loads every file; the first that [`load_each`] sets aside is the error.
pub fn load_all(files: &[PathBuf]) -> Result<Vec<(PathBuf, Vec<Record>)>, StoreError> {
    let loaded = load_each(files);
    match loaded.skipped.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(loaded.inputs),
    }
}

/// One line per file that could not be read, for a message: `  PATH:LINE: MESSAGE`.
pub fn list_skipped(skipped: &[StoreError]) -> String {
    skipped
        .iter()
        .map(|e| format!("  {e}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One merged sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    /// Its records: run, then per variant the samples and points in worker order, the fit,
    /// diagnoses, and one end record.
    pub records: Vec<Record>,
    /// The files it came from.
    pub sources: Vec<PathBuf>,
    /// Points measured twice (e.g. a resubmitted array task): the later measurement is
    /// kept; each entry says which.
    pub replaced: Vec<String>,
}

/// Groups runs by experiment, backend and parameters and merges each group. A group of
/// one run keeps that run's records as they are. Groups come out in start order.
pub fn merge(inputs: &[(PathBuf, Vec<Record>)]) -> Vec<Sweep> {
    type Key<'a> = (&'a str, &'a str, &'a BTreeMap<String, String>);
    type Member<'a> = (&'a Path, &'a RunRecord, &'a [Record]);
    // Groups in order of first appearance, found by key in a map: one look-up per file.
    let mut groups: Vec<Vec<Member<'_>>> = Vec::new();
    let mut index: HashMap<Key<'_>, usize> = HashMap::new();
    for (path, records) in inputs {
        let Some(Record::Run(run)) = records.first() else {
            continue;
        };
        let key = (run.experiment.as_str(), run.backend.as_str(), &run.params);
        let member = (path.as_path(), run, records.as_slice());
        match index.get(&key) {
            Some(&i) => groups[i].push(member),
            None => {
                index.insert(key, groups.len());
                groups.push(vec![member]);
            }
        }
    }
    let mut sweeps: Vec<Sweep> = groups
        .into_iter()
        .map(|mut members| {
            members.sort_by(|a, b| a.1.started_at.cmp(&b.1.started_at));
            if let [(path, _, records)] = members.as_slice() {
                return Sweep {
                    records: records.to_vec(),
                    sources: vec![path.to_path_buf()],
                    replaced: Vec::new(),
                };
            }
            merge_group(&members)
        })
        .collect();
    sweeps.sort_by(|a, b| started(a).cmp(started(b)));
    sweeps
}

fn started(s: &Sweep) -> &str {
    match s.records.first() {
        Some(Record::Run(r)) => &r.started_at,
        _ => "",
    }
}

/// Where a point sits in a sweep: workers, variant and message size.
type PointKey = (Option<String>, usize, Option<u64>);

fn merge_group(members: &[(&Path, &RunRecord, &[Record])]) -> Sweep {
    let first = members[0].1;
    let sources = members.iter().map(|m| m.0.to_path_buf()).collect();
    // The later measurement of a point wins; remember which run each point came from.
    let mut points: BTreeMap<PointKey, (usize, crate::record::PointRecord)> = BTreeMap::new();
    let mut replaced = Vec::new();
    for (i, (path, _, records)) in members.iter().enumerate() {
        for r in records.iter() {
            if let Record::Point(p) = r {
                let size = p.outputs.output(Output::SizeBytes).map(|b| b as u64);
                let key = (p.variant.clone(), p.workers, size);
                if let Some((j, _)) = points.insert(key, (i, p.clone())) {
                    replaced.push(format!(
                        "{} worker(s){}: {} replaces {}",
                        p.workers,
                        p.variant
                            .as_ref()
                            .map(|v| format!(" ({v})"))
                            .unwrap_or_default(),
                        path.display(),
                        members[j].0.display()
                    ));
                }
            }
        }
    }

    let info = experiment::find(&first.experiment);
    let params: Vec<String> = first
        .params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let model = info.and_then(|i| Params::parse(i, &params).ok().and_then(|p| i.model(&p)));
    let weak = model == Some(Model::Gustafson);

    let mut workers: Vec<usize> = points.keys().map(|k| k.1).collect();
    workers.sort_unstable();
    workers.dedup();
    let hosts: Vec<&str> = {
        let mut h: Vec<&str> = members.iter().map(|m| m.1.env.host.as_str()).collect();
        h.dedup();
        h
    };
    let mut env = first.env.clone();
    env.host = hosts.join(",");
    // Every job that measured a point (the tasks of an array have their own job ids).
    let mut jobs: Vec<&str> = members
        .iter()
        .filter_map(|m| m.1.env.slurm_job_id.as_deref())
        .collect();
    jobs.dedup();
    env.slurm_job_id = (!jobs.is_empty()).then(|| jobs.join(","));
    env.cpus_available = members
        .iter()
        .map(|m| m.1.env.cpus_available)
        .min()
        .unwrap_or(env.cpus_available);
    env.busy_before = members
        .iter()
        .filter_map(|m| m.1.env.busy_before)
        .reduce(f64::max);
    let run = RunRecord {
        run_id: format!("{}-merged", first.run_id),
        workers,
        reps: members.iter().map(|m| m.1.reps).max().unwrap_or(first.reps),
        warmup: members
            .iter()
            .map(|m| m.1.warmup)
            .max()
            .unwrap_or(first.warmup),
        env,
        merged_from: members.iter().map(|m| m.1.run_id.clone()).collect(),
        ..first.clone()
    };

    let run_count = run.merged_from.len();
    let mut out = vec![Record::Run(run)];
    // The samples of each run by worker count and variant, gathered in one pass (not
    // searched for again for every point).
    let mut samples: HashMap<(usize, usize, Option<&str>), Vec<&Record>> = HashMap::new();
    for (i, (_, _, records)) in members.iter().enumerate() {
        for r in records.iter() {
            if let Record::Sample(s) = r {
                samples
                    .entry((i, s.workers, s.variant.as_deref()))
                    .or_default()
                    .push(r);
            }
        }
    }
    // The points are sorted by variant first: each variant's points are one run of them.
    let all: Vec<(&PointKey, &(usize, crate::record::PointRecord))> = points.iter().collect();
    for group in all.chunk_by(|a, b| a.0.0 == b.0.0) {
        let variant = group[0].0.0.clone();
        let mut speedups = Vec::new();
        let mut messages = Vec::new();
        let mut kept: Vec<crate::record::PointRecord> = Vec::new();
        let base: BTreeMap<Option<u64>, f64> = group
            .iter()
            .filter(|(k, (_, p))| k.1 == 1 && p.reps > 0)
            .map(|(k, (_, p))| (k.2, p.median_s))
            .collect();
        for &(key, (from, point)) in group {
            let mut p = point.clone();
            // The samples of the kept measurement, from the run that made it.
            if let Some(kept) = samples.get(&(*from, p.workers, p.variant.as_deref())) {
                out.extend(kept.iter().map(|&r| r.clone()));
            }
            if model.is_some_and(Model::is_scaling_law) && p.reps > 0 {
                let scaled = base
                    .get(&key.2)
                    .map(|&t1| Scaled::new(t1, p.median_s, p.workers, weak));
                p.speedup = scaled.map(|x| x.speedup);
                p.efficiency = scaled.map(|x| x.efficiency);
                p.karp_flatt = scaled.and_then(|x| x.karp_flatt);
                if let Some(x) = scaled
                    && !p.oversubscribed
                {
                    speedups.push((p.workers, x.speedup));
                }
            }
            if let Some(b) = key.2
                && p.reps > 0
            {
                messages.push((b as f64, p.median_s));
            }
            kept.push(p.clone());
            out.push(Record::Point(p));
        }
        if let Some(mut fit) = fit_record(model, variant, &speedups, &messages) {
            let configured = crate::experiment::find(&first.experiment)
                .and_then(|e| e.configured_serial_param())
                .and_then(|k| first.params.get(k))
                .and_then(|v| v.parse::<f64>().ok());
            crate::measure::protocol::judge_fit(&mut fit, &kept, configured);
            out.push(Record::Fit(fit));
        }
    }
    for (_, _, records) in members {
        out.extend(
            records
                .iter()
                .filter(|r| matches!(r, Record::Diagnosis(_)))
                .cloned(),
        );
    }
    // How the sweep ended: from the runs it still depends on. A run whose points were all
    // measured again later (a resubmitted array task) no longer counts; one that measured
    // nothing counts if its worker counts are missing.
    let kept_from: HashSet<usize> = points.values().map(|(from, _)| *from).collect();
    let measured: HashSet<usize> = points.keys().map(|k| k.1).collect();
    let counts = |i: usize, run: &RunRecord| {
        kept_from.contains(&i) || run.workers.iter().any(|w| !measured.contains(w))
    };
    let members: Vec<_> = members
        .iter()
        .enumerate()
        .filter(|(i, m)| counts(*i, m.1))
        .map(|(_, m)| m)
        .collect();
    let ends: Vec<&EndRecord> = members
        .iter()
        .filter_map(|m| {
            m.2.iter().rev().find_map(|r| match r {
                Record::End(e) => Some(e),
                _ => None,
            })
        })
        .collect();
    let unfinished = members.len() - ends.len();
    let worst = ends.iter().find(|e| e.status != Status::Ok);
    let mut message = format!("merged {} runs", run_count);
    if unfinished > 0 {
        message.push_str(&format!(", {unfinished} of them without an end record"));
    }
    if let Some(e) = worst {
        message.push_str(&format!(
            "; one ended {:?}: {}",
            e.status,
            e.message.as_deref().unwrap_or("")
        ));
    }
    out.push(Record::End(EndRecord {
        status: worst.map_or(
            if unfinished > 0 {
                Status::Failed
            } else {
                Status::Ok
            },
            |e| e.status,
        ),
        elapsed_s: ends.iter().map(|e| e.elapsed_s).sum(),
        output: Vec::new(),
        message: Some(message),
    }));
    Sweep {
        records: out,
        sources,
        replaced,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Environment, PointRecord, SampleRecord};

    fn run(id: &str, started: &str, workers: usize, host: &str) -> RunRecord {
        RunRecord {
            run_id: id.into(),
            experiment: "amdahl".into(),
            backend: "threads".into(),
            params: BTreeMap::from([
                ("serial".to_owned(), "0.1".to_owned()),
                ("work".to_owned(), "1000000".to_owned()),
            ]),
            workers: vec![workers],
            reps: 3,
            warmup: 1,
            env: Environment {
                host: host.into(),
                cpu_model: "cpu".into(),
                cpus_available: 4,
                slurm_job_id: Some(id.into()),
                version: "0".into(),
                git_commit: None,
                busy_before: Some(0.0),
                mpi: None,
                caches: Vec::new(),
                hosts: Vec::new(),
            },
            started_at: started.into(),
            merged_from: Vec::new(),
        }
    }

    fn task(id: &str, started: &str, workers: usize, median: f64, host: &str) -> Vec<Record> {
        vec![
            Record::Run(run(id, started, workers, host)),
            Record::Sample(SampleRecord {
                workers,
                variant: None,
                rep: 0,
                warmup: false,
                seconds: median,
                inner_runs: 1,
            }),
            Record::Point(PointRecord {
                workers,
                variant: None,
                reps: 3,
                median_s: median,
                min_s: median,
                max_s: median,
                ci95_s: [median, median],
                outliers: 0,
                // What the task computed alone: no 1-worker point to compare with.
                speedup: if workers == 1 { Some(1.0) } else { None },
                efficiency: if workers == 1 { Some(1.0) } else { None },
                karp_flatt: None,
                oversubscribed: false,
                setup_s: 0.001,
                outputs: BTreeMap::new(),
                ranks: None,
                threads: None,
                other_busy: None,
                other_runs: 0,
                inner_runs: 1,
                hosts: Vec::new(),
            }),
            Record::End(EndRecord {
                status: Status::Ok,
                elapsed_s: median * 4.0,
                output: Vec::new(),
                message: None,
            }),
        ]
    }

    fn points(records: &[Record]) -> Vec<&PointRecord> {
        records
            .iter()
            .filter_map(|r| match r {
                Record::Point(p) => Some(p),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn array_tasks_become_one_sweep_with_speedups_against_the_merged_base() {
        // Tasks finish out of order and on two nodes.
        let inputs = vec![
            (
                PathBuf::from("r/t2.jsonl"),
                task("12_2", "2026-11-22T10:00:02+00:00", 4, 0.325, "n2"),
            ),
            (
                PathBuf::from("r/t0.jsonl"),
                task("12_0", "2026-11-22T10:00:00+00:00", 1, 1.0, "n1"),
            ),
            (
                PathBuf::from("r/t1.jsonl"),
                task("12_1", "2026-11-22T10:00:01+00:00", 2, 0.55, "n1"),
            ),
        ];
        let sweeps = merge(&inputs);
        assert_eq!(sweeps.len(), 1);
        let s = &sweeps[0];
        let Some(Record::Run(r)) = s.records.first() else {
            panic!("run first")
        };
        assert_eq!(r.workers, [1, 2, 4]);
        assert_eq!(r.merged_from, ["12_0", "12_1", "12_2"]);
        assert_eq!(r.run_id, "12_0-merged");
        assert_eq!(r.env.host, "n1,n2");
        assert_eq!(r.env.slurm_job_id.as_deref(), Some("12_0,12_1,12_2"));
        let p = points(&s.records);
        assert_eq!(p.iter().map(|p| p.workers).collect::<Vec<_>>(), [1, 2, 4]);
        let s2 = p[1].speedup.expect("against the merged base");
        assert!((s2 - 1.0 / 0.55).abs() < 1e-12);
        assert!((p[2].efficiency.expect("base") - 1.0 / 0.325 / 4.0).abs() < 1e-12);
        assert!(p[2].karp_flatt.is_some());
        assert!(
            s.records
                .iter()
                .any(|r| matches!(r, Record::Fit(f) if f.model == Model::Amdahl)),
            "Amdahl is fitted to the merged points"
        );
        let samples = s
            .records
            .iter()
            .filter(|r| matches!(r, Record::Sample(_)))
            .count();
        assert_eq!(samples, 3);
        match s.records.last() {
            Some(Record::End(e)) => {
                assert_eq!(e.status, Status::Ok);
                assert_eq!(e.message.as_deref(), Some("merged 3 runs"));
            }
            other => panic!("end last, got {other:?}"),
        }
        // Written and read back, the merged run is a valid results file.
        for r in &s.records {
            Record::from_line(&r.to_line()).expect("parses");
        }
    }

    #[test]
    fn a_rerun_task_replaces_its_point_and_other_sweeps_stay_apart() {
        let mut other = task("13_0", "2026-11-22T11:00:00+00:00", 1, 2.0, "n1");
        if let Some(Record::Run(r)) = other.first_mut() {
            r.params.insert("serial".into(), "0.5".into());
        }
        let mut failed = task("12_1", "2026-11-22T10:00:01+00:00", 2, 0.9, "n1");
        failed.pop();
        let inputs = vec![
            (
                PathBuf::from("a.jsonl"),
                task("12_0", "2026-11-22T10:00:00+00:00", 1, 1.0, "n1"),
            ),
            (PathBuf::from("b.jsonl"), failed),
            (
                PathBuf::from("c.jsonl"),
                task("14_1", "2026-11-22T10:30:00+00:00", 2, 0.6, "n1"),
            ),
            (PathBuf::from("d.jsonl"), other),
        ];
        let sweeps = merge(&inputs);
        assert_eq!(sweeps.len(), 2, "serial=0.5 is another sweep");
        assert_eq!(sweeps[0].replaced.len(), 1, "{:?}", sweeps[0].replaced);
        assert!(sweeps[0].replaced[0].contains("c.jsonl replaces b.jsonl"));
        let p = points(&sweeps[0].records);
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].median_s, 0.6);
        match sweeps[0].records.last() {
            Some(Record::End(e)) => {
                assert_eq!(e.status, Status::Ok, "the failed task was measured again");
                assert_eq!(e.message.as_deref(), Some("merged 3 runs"));
            }
            other => panic!("end last, got {other:?}"),
        }
        // A sweep of one run is that run, untouched.
        assert_eq!(sweeps[1].records, inputs[3].1);
    }

    #[test]
    fn a_task_that_did_not_finish_makes_the_sweep_fail() {
        let mut died = task("12_1", "2026-11-22T10:00:01+00:00", 2, 0.9, "n1");
        died.pop();
        let inputs = vec![
            (
                PathBuf::from("a.jsonl"),
                task("12_0", "2026-11-22T10:00:00+00:00", 1, 1.0, "n1"),
            ),
            (PathBuf::from("b.jsonl"), died),
        ];
        let sweeps = merge(&inputs);
        match sweeps[0].records.last() {
            Some(Record::End(e)) => {
                assert_eq!(e.status, Status::Failed);
                assert_eq!(
                    e.message.as_deref(),
                    Some("merged 2 runs, 1 of them without an end record")
                );
            }
            other => panic!("end last, got {other:?}"),
        }
    }
}
