//! The CPU's vector instructions, chosen at run time: the only module with `unsafe` code.
//!
//! The binary is built for baseline x86-64 (SSE2: 2 lanes of 64 bits), so that it runs on
//! every x86-64 CPU. The hot loops of `mc-pi` ([`super::mc_pi::count_inside_with`]) and
//! `integral` ([`super::integral::Integral::interior_sum_with`]) are also compiled here a
//! second and third time, with AVX2 (4 lanes) and AVX-512 (8 lanes) enabled, and the best
//! [`Path`] the CPU has is taken when a task runs. It is the same Rust source each time (but
//! for how mc-pi tests a point: a shift on SSE2, a compare where there is one, with the same
//! answer), and integer arithmetic and IEEE additions and multiplications (never fused:
//! Rust does not contract `a * b + c` into an FMA) give the same bits whatever the vector
//! width, so every path gives the same counts and sums for the same input; the tests check
//! it on every path the CPU has.
//!
//! Why `unsafe`: calling a function compiled for instructions the CPU may lack is undefined
//! behaviour, so Rust makes the call `unsafe` unless the caller has the feature too. Each
//! call below is made only right after `is_x86_feature_detected!` said the CPU (and the
//! operating system, which must save the wider registers) supports it; the detection is
//! cached by the standard library, so asking on every call costs a load and a test.
//!
//! `amdahl`'s and `imbalance`'s work unit ([`super::busy_work`]) has no path here: it is a
//! chain of dependent xorshift steps, as fast with AVX2 and BMI2 as without (2.6 ns per
//! unit either way, measured on the development machine), because no vector width shortens
//! a chain of dependent operations.

use super::integral::Integral;
use super::mc_pi::count_inside_with;
use super::rng::Lanes;

/// A compilation of the hot loops for one set of vector instructions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// What the binary is built for: SSE2 on x86-64 (every x86-64 CPU has it).
    Baseline,
    /// AVX2: 256-bit integer vectors, 4 lanes of 64 bits.
    Avx2,
    /// AVX-512 (foundation): 512-bit vectors, 8 lanes of 64 bits, and vector rotates.
    Avx512,
}

impl Path {
    /// Every path, from the baseline up.
    pub const ALL: [Path; 3] = [Path::Baseline, Path::Avx2, Path::Avx512];

    /// Its name in messages: `sse2`, `avx2` or `avx512` (`portable` off x86-64, where the
    /// baseline is whatever the target has).
    pub const fn name(self) -> &'static str {
        match self {
            Path::Baseline if cfg!(target_arch = "x86_64") => "sse2",
            Path::Baseline => "portable",
            Path::Avx2 => "avx2",
            Path::Avx512 => "avx512",
        }
    }

    /// Whether this CPU (and its operating system) can run the path.
    pub fn available(self) -> bool {
        match self {
            Path::Baseline => true,
            #[cfg(target_arch = "x86_64")]
            Path::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Path::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(not(target_arch = "x86_64"))]
            Path::Avx2 | Path::Avx512 => false,
        }
    }

    /// The widest path this CPU has: what the kernels use.
    pub fn best() -> Path {
        [Path::Avx512, Path::Avx2]
            .into_iter()
            .find(|p| p.available())
            .unwrap_or(Path::Baseline)
    }
}

/// Points inside the quarter circle among `n` points of `rng` (see
/// [`super::mc_pi::count_inside`]), on `path`; a path this CPU lacks runs the baseline,
/// which gives the same count.
pub fn count_inside(path: Path, rng: &mut Lanes, n: u64) -> u64 {
    #[cfg(target_arch = "x86_64")]
    match path {
        Path::Avx512 if std::arch::is_x86_feature_detected!("avx512f") => {
            // SAFETY: the CPU and OS support AVX-512F: detected on the line above.
            return unsafe { x86::count_inside_avx512(rng, n) };
        }
        Path::Avx2 if std::arch::is_x86_feature_detected!("avx2") => {
            // SAFETY: the CPU and OS support AVX2: detected on the line above.
            return unsafe { x86::count_inside_avx2(rng, n) };
        }
        _ => {}
    }
    let _ = path;
    // 2 lanes at a time: one 128-bit register per state word; shift test (no compare).
    count_inside_with::<2, false>(rng, n)
}

/// Σ f(a + i·h) over `range` for `k` (see [`Integral::interior_sum_with`]), on `path`; a
/// path this CPU lacks runs the baseline, which gives the same bits.
pub fn interior_sum(path: Path, k: &Integral, range: std::ops::Range<u64>) -> f64 {
    #[cfg(target_arch = "x86_64")]
    match path {
        Path::Avx512 if std::arch::is_x86_feature_detected!("avx512f") => {
            // SAFETY: the CPU and OS support AVX-512F: detected on the line above.
            return unsafe { x86::interior_sum_avx512(k, range) };
        }
        Path::Avx2 if std::arch::is_x86_feature_detected!("avx2") => {
            // SAFETY: the CPU and OS support AVX2: detected on the line above.
            return unsafe { x86::interior_sum_avx2(k, range) };
        }
        _ => {}
    }
    let _ = path;
    k.interior_sum_with(range)
}

/// STREAM's triad `a[i] = b[i] + s·c[i]` over the shortest of the three, on `path`.
pub fn triad(path: Path, a: &mut [f64], b: &[f64], c: &[f64], s: f64) {
    #[cfg(target_arch = "x86_64")]
    match path {
        Path::Avx512 if std::arch::is_x86_feature_detected!("avx512f") => {
            // SAFETY: the CPU and OS support AVX-512F: detected on the line above.
            return unsafe { x86::triad_avx512(a, b, c, s) };
        }
        Path::Avx2 if std::arch::is_x86_feature_detected!("avx2") => {
            // SAFETY: the CPU and OS support AVX2: detected on the line above.
            return unsafe { x86::triad_avx2(a, b, c, s) };
        }
        _ => {}
    }
    let _ = path;
    super::stream::triad_with(a, b, c, s);
}

/// STREAM's copy `a[i] = b[i]`, on `path`.
pub fn copy(path: Path, a: &mut [f64], b: &[f64]) {
    #[cfg(target_arch = "x86_64")]
    match path {
        Path::Avx512 if std::arch::is_x86_feature_detected!("avx512f") => {
            // SAFETY: the CPU and OS support AVX-512F: detected on the line above.
            return unsafe { x86::copy_avx512(a, b) };
        }
        Path::Avx2 if std::arch::is_x86_feature_detected!("avx2") => {
            // SAFETY: the CPU and OS support AVX2: detected on the line above.
            return unsafe { x86::copy_avx2(a, b) };
        }
        _ => {}
    }
    let _ = path;
    super::stream::copy_with(a, b);
}

/// The loops compiled with wider vectors. Each function is safe to define; only calling it
/// on a CPU without the feature is undefined, which the dispatchers above rule out.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Integral, Lanes, count_inside_with};

    #[target_feature(enable = "avx2")]
    pub(super) fn count_inside_avx2(rng: &mut Lanes, n: u64) -> u64 {
        // 8 lanes at a time: two of the 16 registers per state word, no spills.
        count_inside_with::<8, true>(rng, n)
    }

    #[target_feature(enable = "avx512f")]
    pub(super) fn count_inside_avx512(rng: &mut Lanes, n: u64) -> u64 {
        // All 16 lanes at once: two of the 32 registers per state word.
        count_inside_with::<16, true>(rng, n)
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn interior_sum_avx2(k: &Integral, range: std::ops::Range<u64>) -> f64 {
        k.interior_sum_with(range)
    }

    #[target_feature(enable = "avx512f")]
    pub(super) fn interior_sum_avx512(k: &Integral, range: std::ops::Range<u64>) -> f64 {
        k.interior_sum_with(range)
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn triad_avx2(a: &mut [f64], b: &[f64], c: &[f64], s: f64) {
        crate::kernel::stream::triad_with(a, b, c, s);
    }

    #[target_feature(enable = "avx512f")]
    pub(super) fn triad_avx512(a: &mut [f64], b: &[f64], c: &[f64], s: f64) {
        crate::kernel::stream::triad_with(a, b, c, s);
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn copy_avx2(a: &mut [f64], b: &[f64]) {
        crate::kernel::stream::copy_with(a, b);
    }

    #[target_feature(enable = "avx512f")]
    pub(super) fn copy_avx512(a: &mut [f64], b: &[f64]) {
        crate::kernel::stream::copy_with(a, b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::rng::{LANES, Xoshiro256pp};

    /// The paths this CPU has. Each one it lacks is named on standard error, written
    /// around the test harness's capture (which holds back only `print!` and `eprint!`), so
    /// that a skipped path shows in every `cargo test` output, never passed in silence.
    fn available_or_say_skipped(test: &str) -> Vec<Path> {
        use std::io::Write;
        Path::ALL
            .into_iter()
            .filter(|p| {
                let ok = p.available();
                if !ok {
                    let _ = writeln!(
                        std::io::stderr(),
                        "{test}: SKIPPED the {} path: this CPU does not have it",
                        p.name()
                    );
                }
                ok
            })
            .collect()
    }

    /// The count, one generator at a time, the plain way: lane `j` is the worker's stream
    /// jumped `j` times and draws one number a round; the last, partial round is drawn by
    /// every lane and counted in the first lanes. Also the lanes' state at the end.
    fn reference(seed: u64, worker: usize, n: u64) -> (u64, Lanes) {
        let (rounds, rest) = (n / LANES as u64, n % LANES as u64);
        let mut lanes = Lanes::new(Xoshiro256pp::for_worker(seed, worker));
        let mut g = Xoshiro256pp::for_worker(seed, worker);
        let mut inside = 0;
        for j in 0..LANES as u64 {
            let drawn = rounds + u64::from(j < rest);
            for _ in 0..drawn {
                let v = g.next_u64();
                let (x, y) = (v >> 33, v & ((1 << 31) - 1));
                inside += u64::from(x * x + y * y < 1 << 62);
            }
            g = Xoshiro256pp::for_worker(seed, worker);
            for _ in 0..=j {
                g.jump();
            }
        }
        for _ in 0..rounds + u64::from(rest > 0) {
            lanes.next_block();
        }
        (inside, lanes)
    }

    #[test]
    fn every_path_counts_the_same_points() {
        let paths = available_or_say_skipped("every_path_counts_the_same_points");
        // Whole rounds, partial rounds, and fewer points than lanes.
        for (seed, worker, n) in [
            (42, 0, 1_000_000),
            (42, 1, 1_000_003),
            (7, 3, 65_551),
            (0, 0, 5),
            (u64::MAX, 2, 0),
        ] {
            let start = Lanes::new(Xoshiro256pp::for_worker(seed, worker));
            let (want, base) = reference(seed, worker, n);
            for &p in &paths {
                let mut rng = start.clone();
                assert_eq!(
                    count_inside(p, &mut rng, n),
                    want,
                    "{} path, seed {seed}, worker {worker}, n {n}",
                    p.name()
                );
                // The generators end in the same state too.
                assert_eq!(rng, base, "{} path: the state after n {n}", p.name());
            }
        }
    }

    #[test]
    fn every_path_sums_the_same_bits() {
        let paths = available_or_say_skipped("every_path_sums_the_same_bits");
        for (a, b, n, range) in [
            (0.0, 100.0, 1_000_000, 1..1_000_000),
            (-3.5, 7.25, 999_983, 17..500_004),
            (1e-3, 2.0, 10, 1..10),
        ] {
            let k = Integral { a, b, n };
            let want = interior_sum(Path::Baseline, &k, range.clone());
            for &p in &paths {
                let got = interior_sum(p, &k, range.clone());
                assert_eq!(
                    got.to_bits(),
                    want.to_bits(),
                    "{} path: {got} vs {want} for {a}..{b}, n {n}, {range:?}",
                    p.name()
                );
            }
        }
    }

    #[test]
    fn the_best_path_is_available() {
        assert!(Path::best().available());
        eprintln!("this CPU's kernel path: {}", Path::best().name());
    }

    /// `unsafe` stays in this file: no other source file of the crate has an `unsafe`
    /// block, function, impl or trait, or allows `unsafe_code` (the lint forbids it in
    /// every other module; this catches a module declared without the attribute).
    #[test]
    fn unsafe_is_confined_to_this_module() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = vec![root.join("build.rs")];
        let mut dirs = vec![root.join("src"), root.join("tests")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("source folder") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
        let this = root.join("src/kernel/simd.rs");
        let words = [
            "unsafe {",
            "unsafe{",
            "unsafe fn",
            "unsafe impl",
            "unsafe trait",
            "unsafe extern",
        ];
        for file in files.iter().filter(|f| **f != this) {
            let text = std::fs::read_to_string(file).expect("source file");
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                // The one exception: the declaration of this module.
                let declares_simd = file.ends_with("src/kernel/mod.rs")
                    && code.trim() == "#[allow(unsafe_code)]"
                    && lines.get(i + 1).map(|l| l.trim()) == Some("pub mod simd;");
                assert!(
                    declares_simd
                        || !(code.contains("allow(unsafe_code)")
                            || words.iter().any(|w| code.contains(w))),
                    "{}:{}: unsafe code outside src/kernel/simd.rs: {line}",
                    file.display(),
                    i + 1
                );
            }
        }
    }
}
