//! Numbers as people read them: seconds, bytes, rates, counts. One place for every face
//! (the command line's tables, the tutor, PNG export, the demo).

use crate::record::FitRecord;

/// `α = 0.42 µs, β = 5.12 GB/s`: a latency–bandwidth fit in a few characters.
pub fn latency_bandwidth_text(f: &FitRecord) -> String {
    match (f.latency_s, f.bandwidth_bytes_s) {
        (Some(a), Some(b)) => format!("α = {}, β = {}", latency(a), rate(b / 1e6)),
        _ => "α and β unknown".to_owned(),
    }
}

/// Bytes as people say them: `512 B`, `4 KiB`, `16 MiB` (`1536 B` when not whole KiB).
pub fn bytes(n: f64) -> String {
    if !n.is_finite() || n < 0.0 {
        return "?".to_owned();
    }
    const KIB: f64 = 1024.0;
    const MIB: f64 = 1024.0 * 1024.0;
    if n >= MIB && n % MIB == 0.0 {
        format!("{} MiB", n / MIB)
    } else if n >= KIB && n % KIB == 0.0 {
        format!("{} KiB", n / KIB)
    } else {
        format!("{n} B")
    }
}

/// A rate in MB/s (10^6 bytes per second) with a readable unit: `812.5 MB/s`, `5.12 GB/s`.
pub fn rate(mb_s: f64) -> String {
    if !mb_s.is_finite() {
        "-".to_owned()
    } else if mb_s >= 1000.0 {
        format!("{:.2} GB/s", mb_s / 1000.0)
    } else if mb_s >= 1.0 {
        format!("{mb_s:.1} MB/s")
    } else {
        format!("{:.1} kB/s", mb_s * 1000.0)
    }
}

/// A warning when the CPUs were busy before the run (more than a quarter used by others).
pub fn busy_warning(busy: Option<f64>, cpus: usize) -> Option<String> {
    let b = busy?;
    (b > 0.25).then(|| {
        format!(
            "the {cpus} CPU(s) this run may use were {:.0} % busy with other programs just before it started: \
             they compete with the run, so times are longer and speedups lower than the hardware allows",
            b * 100.0
        )
    })
}

/// Seconds with a unit that keeps 3–4 significant digits.
pub fn seconds(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.3} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}

/// A message time: like [`seconds`], with two decimals below 10 µs (`0.27 µs`), where
/// one-way latencies of shared memory live.
pub fn latency(s: f64) -> String {
    if s.abs() < 1e-5 {
        format!("{:.2} µs", s * 1e6)
    } else {
        seconds(s)
    }
}

/// A number in few characters: whole numbers (counts) in full, others with 5 significant
/// decimals or in scientific notation.
pub fn short(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e6) {
        format!("{v:.3e}")
    } else {
        format!("{v:.5}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned()
    }
}

/// A count in full, in groups of three: `1,234,567`.
pub fn count(v: f64) -> String {
    let digits = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0.0 { format!("-{out}") } else { out }
}

/// A value that is not a count in a few characters: 4 decimals, or scientific notation for
/// very small and very large values; a count (a whole number) in full, grouped.
pub fn value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        count(v)
    } else if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e6) {
        format!("{v:.2e}")
    } else {
        format!("{v:.4}")
    }
}

/// Whether any point of a run had its ranks on more than one node.
pub fn across_nodes<'a>(points: impl IntoIterator<Item = &'a crate::record::PointRecord>) -> bool {
    points
        .into_iter()
        .any(|p| p.hosts.iter().any(|h| Some(h) != p.hosts.first()))
}

/// Where the ranks of a point ran, when on more than one node: `ranks on 2 nodes: 1 + 1`
/// (ranks per node, in the order the nodes first appear); `None` on one node.
pub fn nodes_note(hosts: &[String]) -> Option<String> {
    let mut per_node: Vec<(&str, usize)> = Vec::new();
    for h in hosts {
        match per_node.iter_mut().find(|(n, _)| *n == h.as_str()) {
            Some((_, count)) => *count += 1,
            None => per_node.push((h.as_str(), 1)),
        }
    }
    (per_node.len() > 1).then(|| {
        let counts: Vec<String> = per_node.iter().map(|(_, c)| c.to_string()).collect();
        format!("ranks on {} nodes: {}", per_node.len(), counts.join(" + "))
    })
}

/// A program point's wall time, its start-up and exit (wall time minus the time it printed),
/// how many CPUs it kept busy and its CPU efficiency over the `workers` CPUs it held, for
/// the notes of its row; empty for other points.
pub fn program_notes(outputs: &crate::kernel::Outputs, workers: usize) -> Vec<String> {
    use crate::kernel::{Output, OutputsExt};
    let mut notes = Vec::new();
    if let Some(c) = outputs.output(Output::CpusBusy) {
        notes.push(format!("{c:.2} CPUs busy"));
        // As `seff` reports a job's CPU efficiency: CPU time over wall time × CPUs held
        // (one per worker), however much of that CPU time was useful work.
        if workers > 0 {
            notes.push(format!(
                "CPU efficiency {:.0} %",
                100.0 * c / workers as f64
            ));
        }
    }
    let wall = outputs.output(Output::WallS);
    if let (Some(w), Some(own)) = (wall, outputs.output(Output::ProgramS)) {
        notes.push(format!("wall {}", seconds(w)));
        if w > own {
            notes.push(format!("start-up and exit {}", seconds(w - own)));
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_per_node_are_counted_in_order_of_the_nodes() {
        let h = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(nodes_note(&h(&["n1", "n1"])), None);
        assert_eq!(nodes_note(&[]), None);
        assert_eq!(
            nodes_note(&h(&["n1", "n2", "n1"])).as_deref(),
            Some("ranks on 2 nodes: 2 + 1")
        );
    }

    #[test]
    fn counts_print_whole_and_grouped() {
        assert_eq!(count(5_000_000.0), "5,000,000");
        assert_eq!(count(-1234.0), "-1,234");
        assert_eq!(value(5_000_000.0), "5,000,000");
        assert_eq!(value(1.234_567), "1.2346");
        assert_eq!(value(2.6e-6), "2.60e-6");
    }
}
