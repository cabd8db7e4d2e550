//! The rank side of MPI runs: `hpc-tutor mpi-worker`, started by `mpirun` or `srun`.
//!
//! Every rank builds the experiment's kernel from the same parameters and runs its share
//! (task `rank` of `size`). Timing is barrier, `MPI_Wtime`, kernel, barrier, `MPI_Wtime`; the
//! run's time is the maximum over ranks, reduced to rank 0, which prints one
//! [`WorkerLine`] per run. The barriers after work (the kernel's, the serial phase's) wait
//! without keeping their CPU busy ([`quiet_barrier`]), as an idle thread of the thread
//! backend does. Each rank reports the blocking call it is in as a `state` line on its
//! standard output, which the launcher forwards from whatever node the rank is on, so that
//! `hpc-tutor run` can say who waits for whom when a deadline passes. A rank dies with the
//! launcher that started it (`PR_SET_PDEATHSIG`).
//!
//! Experiments about MPI itself have their own loops: `exchange` (send/receive orders),
//! `pingpong` (one-way time per message size), `collectives` (one collective per launch)
//! and `hybrid` (a rayon pool of exactly `threads` threads in every rank).

use crate::kernel::Output;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use mpi::collective::SystemOperation;
use mpi::point_to_point as p2p;
use mpi::traits::*;

use super::launch::WorkerLine;
use crate::experiment::Kind;
use crate::experiment::{self, Params};
use crate::kernel::mc_pi::{McPi, Mode};
use crate::kernel::{Kernel, Outputs, Partial, pingpong as messages};

/// Arguments of `hpc-tutor mpi-worker`.
#[derive(Debug, Clone)]
pub struct WorkerArgs {
    /// Experiment name.
    pub experiment: String,
    /// `KEY=VALUE` parameters.
    pub params: Vec<String>,
    /// Variant, for experiments that compare variants.
    pub variant: Option<String>,
    /// Runs to do (warm-ups and repetitions).
    pub runs: usize,
}

/// Reports the state of one rank to the launcher, as a `state` line of its output.
///
/// The launcher (mpirun, srun) forwards every rank's output to `hpc-tutor run`, whichever
/// node the rank is on, so the watchdog learns where each rank is stuck without a file only
/// one node could see, and nothing is left behind when a run is killed. A state is one
/// short line, one `write` to a pipe: about a microsecond, inside timed sections too.
struct Side {
    rank: usize,
    /// This rank's host, named in every state: the ranks may be on several nodes.
    host: String,
}

impl Side {
    fn new(rank: usize) -> Self {
        Self {
            rank,
            host: crate::cluster::host_name(),
        }
    }

    /// Reports `state` (best effort: it is for diagnosis only): rank 0 on standard output,
    /// in order with its reports; the others on standard error, so that the launcher's
    /// forwarding, which passes on what it reads in chunks, never splits a report of rank
    /// 0 with another rank's line.
    fn set(&self, state: &str) {
        let line = WorkerLine::State {
            rank: self.rank,
            state: state.to_owned(),
            host: Some(self.host.clone()),
        };
        if self.rank == 0 {
            print(&line);
        } else if let Ok(mut text) = serde_json::to_string(&line) {
            use std::io::Write;
            text.push('\n');
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        }
    }
}

/// How long a waiting rank polls its barrier without pause before it starts to nap: ranks
/// that arrive within this of each other leave the barrier as fast as with `MPI_Barrier`
/// (napping from the start cost 0.15–0.25 ms per run of a 1 ms kernel on a busy 2-CPU VM).
const BARRIER_SPIN: Duration = Duration::from_millis(1);
/// The nap between two polls after that: the most a rank's end of the barrier comes late
/// (plus the kernel's timer slack, about 50 µs, and the wake-up), against waits of more
/// than a millisecond.
const BARRIER_NAP: Duration = Duration::from_micros(50);

/// Calls `done` until it says yes: without pause for [`BARRIER_SPIN`], then with a
/// [`BARRIER_NAP`] sleep between calls, so that a long wait leaves the CPU to others.
fn wait_until(mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        if start.elapsed() >= BARRIER_SPIN {
            std::thread::sleep(BARRIER_NAP);
        }
    }
}

/// A barrier whose waiting ranks sleep: `MPI_Ibarrier`, then `MPI_Test` as [`wait_until`]
/// polls.
///
/// `MPI_Barrier` busy-polls OpenMPI's progress engine: a rank that finishes its share early
/// keeps its core 100 % busy until the last one arrives. On dedicated cores that costs
/// nothing, but when any other program wants a CPU (the launcher, a daemon, a neighbour's
/// job) it must then share the core of a rank that still computes — ranks are bound to
/// their cores — and that rank, the one everybody waits for, gets slower. A thread of the
/// thread backend that has finished sleeps and frees its core; with this barrier a rank
/// does too.
fn quiet_barrier(world: &mpi::topology::SimpleCommunicator) {
    let mut pending = Some(world.immediate_barrier());
    wait_until(|| match pending.take().map(|r| r.test()) {
        Some(Err(still)) => {
            pending = Some(still);
            false
        }
        _ => true,
    });
}

/// The longest host name passed on whole (a DNS name is at most 253 bytes).
const HOST_BYTES: usize = 256;

/// Every rank's host, by rank, on rank 0 (empty on the others): one gather of a fixed-size
/// buffer per rank, once per launch.
fn gather_hosts(
    world: &mpi::topology::SimpleCommunicator,
    rank: usize,
    size: usize,
    host: &str,
) -> Vec<String> {
    let mut mine = [0u8; HOST_BYTES];
    let bytes = host.as_bytes();
    let n = bytes.len().min(HOST_BYTES);
    mine[..n].copy_from_slice(&bytes[..n]);
    let root = world.process_at_rank(0);
    if rank != 0 {
        root.gather_into(&mine[..]);
        return Vec::new();
    }
    let mut all = vec![0u8; HOST_BYTES * size];
    root.gather_into_root(&mine[..], &mut all[..]);
    all.chunks(HOST_BYTES)
        .map(|c| {
            let end = c.iter().position(|&b| b == 0).unwrap_or(c.len());
            String::from_utf8_lossy(&c[..end]).into_owned()
        })
        .collect()
}

fn print(line: &WorkerLine) {
    use std::io::Write;
    // Rank 0's stdout is forwarded by the launcher and read line by line by `hpc-tutor
    // run`: one whole line per write.
    if let Ok(mut text) = serde_json::to_string(line) {
        text.push('\n');
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
}

/// Runs the worker; returns the process exit status.
pub fn worker(args: &WorkerArgs) -> ExitCode {
    // A rank dies with the process that started it (mpirun, or its daemon): when the run
    // is cancelled or `hpc-tutor run` is killed, the launcher is killed with it, and no rank
    // may go on computing beside the next measurement.
    let parent = nix::unistd::getppid();
    let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL);
    if nix::unistd::getppid() != parent {
        return ExitCode::from(137);
    }
    let Some(universe) = mpi::initialize() else {
        eprintln!("hpc-tutor mpi-worker: MPI is already initialized");
        return ExitCode::FAILURE;
    };
    let world = universe.world();
    // Ranks and sizes are small non-negative numbers.
    let rank = world.rank() as usize;
    let size = world.size() as usize;
    let side = Side::new(rank);
    side.set("starting");

    let fail = |message: String| refuse(rank, message);
    let Some(info) = experiment::find(&args.experiment) else {
        return fail(format!("unknown experiment `{}`", args.experiment));
    };
    let params = match Params::parse(info, &args.params) {
        Ok(p) => p,
        Err(e) => return fail(e.to_string()),
    };
    let hosts = gather_hosts(&world, rank, size, &side.host);
    if rank == 0 {
        print(&WorkerLine::Ready {
            ranks: size,
            library: mpi::environment::library_version().unwrap_or_default(),
            hosts,
        });
    }

    match info.kind {
        Kind::Exchange => return exchange(&world, rank, size, &params, args.runs, &side),
        Kind::Pingpong => return pingpong(&world, rank, size, &params, args.runs, &side),
        Kind::Collectives => {
            let op = args.variant.as_deref().unwrap_or("broadcast");
            return collectives(&world, rank, size, &params, op, args.runs, &side);
        }
        Kind::Hybrid => return hybrid(&world, rank, size, &params, args.runs, &side),
        Kind::Farm => {
            // The variant of the point, else the one the parameters name (`all`: static).
            let variant = args
                .variant
                .as_deref()
                .or(params.choice("distribution"))
                .filter(|v| *v != "all")
                .unwrap_or("static");
            return farm(&world, rank, size, &params, variant, args.runs, &side);
        }
        Kind::Stream => return fail("stream runs on threads only".to_owned()),
        // A program runs under the launcher itself, never as hpc-tutor ranks.
        Kind::Program => return fail("a program runs under mpirun itself (run --exec)".to_owned()),
        // The kernels of the thread backend, each rank running its share.
        Kind::McPi | Kind::Integral | Kind::Amdahl | Kind::Imbalance | Kind::Race | Kind::Locks => {
        }
    }

    let Some(kernel) = info.kernel(&params, args.variant.as_deref()) else {
        return fail(format!("`{}` does not run on MPI", info.name));
    };
    let root = world.process_at_rank(0);
    for _ in 0..args.runs {
        side.set("barrier before the kernel");
        world.barrier();
        let t0 = mpi::time();
        let serial = if rank == 0 { kernel.serial() } else { 0.0 };
        if kernel.has_serial_phase() {
            // The others wait for the serial phase, as in Amdahl's model.
            side.set("barrier after the serial phase");
            quiet_barrier(&world);
        }
        side.set("computing");
        let p = kernel.task(rank, size, size);
        side.set("barrier after the kernel");
        quiet_barrier(&world);
        let elapsed = mpi::time() - t0;

        // Combine on rank 0: the slowest rank's time, and the tasks' results.
        side.set("reduce to rank 0");
        let (count, sum, units) = (p.count, p.sum, p.units);
        if rank == 0 {
            let mut max_t = 0.0f64;
            let (mut c, mut s, mut u) = (0u64, 0.0f64, 0u64);
            root.reduce_into_root(&elapsed, &mut max_t, SystemOperation::max());
            root.reduce_into_root(&count, &mut c, SystemOperation::sum());
            root.reduce_into_root(&sum, &mut s, SystemOperation::sum());
            root.reduce_into_root(&units, &mut u, SystemOperation::sum());
            let combined = [Partial {
                count: c,
                sum: s,
                units: u,
            }];
            let outputs = kernel.finish(serial, &combined, size);
            print(&WorkerLine::Run {
                seconds: max_t,
                outputs,
            });
        } else {
            root.reduce_into(&elapsed, SystemOperation::max());
            root.reduce_into(&count, SystemOperation::sum());
            root.reduce_into(&sum, SystemOperation::sum());
            root.reduce_into(&units, SystemOperation::sum());
        }
    }
    side.set("done");
    ExitCode::SUCCESS
}

/// Two ranks swap `size` bytes in the given order; see the `exchange` experiment.
fn exchange(
    world: &mpi::topology::SimpleCommunicator,
    rank: usize,
    ranks: usize,
    params: &Params,
    runs: usize,
    side: &Side,
) -> ExitCode {
    if ranks != 2 {
        return refuse(rank, format!("exchange needs exactly 2 ranks, not {ranks}"));
    }
    // The size is at most 64 MiB by the parameter's range.
    let bytes = params.int("size").unwrap_or(1) as usize;
    let order = params.choice("order").unwrap_or("send-first").to_owned();
    let other = 1 - rank;
    // Ranks are 0 or 1 here.
    let peer = world.process_at_rank(other as i32);
    let out = vec![rank as u8; bytes];
    let mut inb = vec![0u8; bytes];
    let send = |s: &Side| {
        s.set(&format!("send to rank {other}, {bytes} B, tag 0"));
        peer.send(&out[..]);
    };
    for _ in 0..runs {
        side.set("barrier before the exchange");
        world.barrier();
        let t0 = mpi::time();
        match order.as_str() {
            "parity" if rank % 2 == 1 => {
                side.set(&format!("recv from rank {other}, {bytes} B, tag 0"));
                peer.receive_into(&mut inb[..]);
                send(side);
            }
            "sendrecv" => {
                side.set(&format!("sendrecv with rank {other}, {bytes} B, tag 0"));
                p2p::send_receive_into(&out[..], &peer, &mut inb[..], &peer);
            }
            "nonblocking" => {
                side.set(&format!(
                    "isend/irecv with rank {other}, {bytes} B, then wait"
                ));
                mpi::request::scope(|scope| {
                    let s = peer.immediate_send(scope, &out[..]);
                    let r = peer.immediate_receive_into(scope, &mut inb[..]);
                    s.wait();
                    r.wait();
                });
            }
            // send-first, and the even ranks of parity: send, then receive.
            _ => {
                send(side);
                side.set(&format!("recv from rank {other}, {bytes} B, tag 0"));
                peer.receive_into(&mut inb[..]);
            }
        }
        side.set("barrier after the exchange");
        world.barrier();
        let elapsed = mpi::time() - t0;
        let ok = inb.iter().all(|&b| b as usize == other);
        side.set("reduce to rank 0");
        report(world, rank, elapsed, || {
            Outputs::from([
                (Output::SizeBytes.key().to_owned(), bytes as f64),
                (Output::DataOk.key().to_owned(), if ok { 1.0 } else { 0.0 }),
            ])
        });
    }
    side.set("done");
    ExitCode::SUCCESS
}

/// Tag of a worker's request for a task (`farm` with a manager).
const TAG_REQUEST: i32 = 1;
/// Tag of the manager's answer: a task index, or [`NO_MORE_TASKS`].
const TAG_TASK: i32 = 2;
/// The answer that there are no more tasks.
const NO_MORE_TASKS: u64 = u64::MAX;

/// The task farm: rank 0 broadcasts the strings, the tasks are shared out (in static or
/// round-robin chunks, or one at a time by rank 0 as manager), and each rank's count of
/// matches, tasks and busy time is gathered to rank 0.
#[allow(clippy::too_many_arguments)]
fn farm(
    world: &mpi::topology::SimpleCommunicator,
    rank: usize,
    ranks: usize,
    params: &Params,
    variant: &str,
    runs: usize,
    side: &Side,
) -> ExitCode {
    use crate::kernel::farm::{Distribution, Farm};
    let Some(distribution) = Distribution::from_name(variant) else {
        return refuse(rank, format!("farm: unknown distribution `{variant}`"));
    };
    let Some(shape) = experiment::behaviour::FarmExp::shape(params) else {
        return refuse(rank, "farm: parameters missing".to_owned());
    };
    // Rank 0 makes the strings; the others get them by the broadcast of each run.
    let mut farm = if rank == 0 {
        Farm::new(shape, distribution)
    } else {
        Farm::with_data(shape, distribution, vec![0u8; shape.data_len()])
    };
    // With one rank there is nobody to manage: it does every task in order (the baseline).
    let managed = distribution == Distribution::Manager && ranks > 1;
    let root = world.process_at_rank(0);
    let mut row = Vec::new();
    for _ in 0..runs {
        side.set("barrier before the farm");
        world.barrier();
        let t0 = mpi::time();
        side.set("broadcast of the strings from rank 0");
        root.broadcast_into(farm.data_mut());
        let (mut matches, mut done, mut busy, mut handling) = (0u64, 0u64, 0.0f64, 0.0f64);
        if managed && rank == 0 {
            side.set("manager: answering requests for tasks");
            let mut next = 0u64;
            let mut stopped = 0;
            while stopped < ranks - 1 {
                let (_, status) = world.any_process().receive_with_tag::<u64>(TAG_REQUEST);
                let t = mpi::time();
                let answer = if next < shape.tasks {
                    next += 1;
                    next - 1
                } else {
                    stopped += 1;
                    NO_MORE_TASKS
                };
                world
                    .process_at_rank(status.source_rank())
                    .send_with_tag(&answer, TAG_TASK);
                handling += mpi::time() - t;
            }
        } else if managed {
            side.set("worker: asking rank 0 for tasks");
            loop {
                root.send_with_tag(&0u64, TAG_REQUEST);
                let (task, _) = root.receive_with_tag::<u64>(TAG_TASK);
                if task == NO_MORE_TASKS {
                    break;
                }
                let t = mpi::time();
                matches += farm.run_task(task, &mut row);
                busy += mpi::time() - t;
                done += 1;
            }
        } else {
            side.set("computing its tasks");
            let t = mpi::time();
            for task in farm.fixed_tasks(rank, ranks) {
                matches += farm.run_task(task, &mut row);
                done += 1;
            }
            busy = mpi::time() - t;
        }
        side.set("gather of the results to rank 0");
        let mine = [matches as f64, done as f64, busy, handling];
        let mut all = vec![0.0f64; if rank == 0 { 4 * ranks } else { 0 }];
        if rank == 0 {
            root.gather_into_root(&mine[..], &mut all[..]);
        } else {
            root.gather_into(&mine[..]);
        }
        let elapsed = mpi::time() - t0;
        report(world, rank, elapsed, || {
            farm_outputs(&all, managed, elapsed)
        });
    }
    side.set("done");
    ExitCode::SUCCESS
}

/// The outputs of a farm run from every rank's `[matches, tasks, busy s, handling s]`.
fn farm_outputs(all: &[f64], managed: bool, elapsed: f64) -> Outputs {
    let per_rank: Vec<&[f64]> = all.chunks(4).collect();
    // The manager computes no task: the workers are the others.
    let workers: &[&[f64]] = if managed {
        &per_rank[1..]
    } else {
        &per_rank[..]
    };
    let mut out = Outputs::new();
    let sum = |k: usize| workers.iter().map(|r| r[k]).sum::<f64>();
    out.insert(Output::Matches.key().to_owned(), sum(0));
    let tasks = workers.iter().map(|r| r[1]);
    out.insert(
        Output::TasksMin.key().to_owned(),
        tasks.clone().fold(f64::INFINITY, f64::min),
    );
    out.insert(Output::TasksMax.key().to_owned(), tasks.fold(0.0, f64::max));
    let mean = sum(2) / workers.len().max(1) as f64;
    let max = workers.iter().map(|r| r[2]).fold(0.0, f64::max);
    if mean > 0.0 {
        out.insert(Output::LoadImbalance.key().to_owned(), max / mean);
    }
    if managed && elapsed > 0.0 {
        let handling = per_rank.first().map_or(0.0, |r| r[3]);
        out.insert(Output::ManagerBusy.key().to_owned(), handling / elapsed);
    }
    out
}

/// Rank 0 prints an error for everyone; every rank ends with a failure.
fn refuse(rank: usize, message: String) -> ExitCode {
    if rank == 0 {
        print(&WorkerLine::Error { message });
    }
    ExitCode::FAILURE
}

/// Reduces `seconds` to its maximum over ranks on rank 0, which prints it with the outputs
/// `outputs` makes (called on rank 0 only).
fn report(
    world: &mpi::topology::SimpleCommunicator,
    rank: usize,
    seconds: f64,
    outputs: impl FnOnce() -> Outputs,
) {
    let root = world.process_at_rank(0);
    if rank == 0 {
        let mut max_t = 0.0f64;
        root.reduce_into_root(&seconds, &mut max_t, SystemOperation::max());
        print(&WorkerLine::Run {
            seconds: max_t,
            outputs: outputs(),
        });
    } else {
        root.reduce_into(&seconds, SystemOperation::max());
    }
}

/// Two ranks bounce messages of each size; each run's time is one message's one-way time,
/// half a round trip averaged over the run's round trips. The runs go through the sizes in
/// order, `runs / sizes` runs per size.
fn pingpong(
    world: &mpi::topology::SimpleCommunicator,
    rank: usize,
    ranks: usize,
    params: &Params,
    runs: usize,
    side: &Side,
) -> ExitCode {
    if ranks != 2 {
        return refuse(rank, format!("pingpong needs exactly 2 ranks, not {ranks}"));
    }
    let int = |k: &str| params.int(k).unwrap_or(1);
    let sizes = messages::sizes(int("min_size"), int("max_size"));
    if sizes.is_empty() || !runs.is_multiple_of(sizes.len()) {
        return refuse(
            rank,
            format!(
                "pingpong: {runs} runs do not split evenly over {} sizes",
                sizes.len()
            ),
        );
    }
    let per_size = runs / sizes.len();
    let iterations = int("iterations");
    let other = 1 - rank;
    // Ranks are 0 or 1 here; sizes are at most 64 MiB by the parameters' ranges.
    let peer = world.process_at_rank(other as i32);
    let largest = sizes.last().copied().unwrap_or(1) as usize;
    let out = vec![rank as u8; largest];
    let mut inb = vec![0u8; largest];
    for &n in &sizes {
        let bytes = n as usize;
        let trips = messages::round_trips(n, iterations);
        for _ in 0..per_size {
            side.set("barrier before the round trips");
            world.barrier();
            side.set(&format!(
                "pingpong with rank {other}, {bytes} B, {trips} round trips"
            ));
            let t0 = mpi::time();
            for _ in 0..trips {
                if rank == 0 {
                    peer.send(&out[..bytes]);
                    peer.receive_into(&mut inb[..bytes]);
                } else {
                    peer.receive_into(&mut inb[..bytes]);
                    peer.send(&out[..bytes]);
                }
            }
            // Round trips are at most 10^6: exact in f64.
            let one_way = (mpi::time() - t0) / (2 * trips) as f64;
            side.set("reduce to rank 0");
            report(world, rank, one_way, || {
                Outputs::from([
                    (Output::SizeBytes.key().to_owned(), n as f64),
                    (Output::RoundTrips.key().to_owned(), trips as f64),
                ])
            });
        }
    }
    side.set("done");
    ExitCode::SUCCESS
}

/// One collective operation, timed per call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Collective {
    Broadcast,
    Scatter,
    Gather,
    Reduce,
    Allreduce,
}

impl Collective {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "broadcast" => Self::Broadcast,
            "scatter" => Self::Scatter,
            "gather" => Self::Gather,
            "reduce" => Self::Reduce,
            "allreduce" => Self::Allreduce,
            _ => return None,
        })
    }
}

/// Every rank calls the collective `op` on `size` bytes of 8-byte numbers per rank,
/// `iterations` times between two barriers; the run's time is the slowest rank's
/// barrier-to-barrier time divided by the calls. After the timed calls, each rank checks
/// what it received (`data_ok` is 1 when every rank got the right numbers).
fn collectives(
    world: &mpi::topology::SimpleCommunicator,
    rank: usize,
    ranks: usize,
    params: &Params,
    op: &str,
    runs: usize,
    side: &Side,
) -> ExitCode {
    let Some(op) = Collective::from_name(op) else {
        return refuse(rank, format!("unknown collective `{op}`"));
    };
    // At most 16 MiB by the parameter's range: 2 Mi numbers.
    let size = params.int("size").unwrap_or(8);
    let count = (size / 8).max(1) as usize;
    let calls = params.int("iterations").unwrap_or(1);
    let root = world.process_at_rank(0);
    let me = rank as f64;
    // Rank r's own numbers are r + 1; scatter's block for rank r holds r + 1 too.
    let mine = vec![me + 1.0; count];
    let mut recv = vec![0.0f64; count];
    let on_root = |n: usize| if rank == 0 { n } else { 0 };
    let mut all = vec![0.0f64; on_root(count * ranks)];
    if rank == 0 && op == Collective::Scatter {
        for (r, block) in all.chunks_mut(count).enumerate() {
            block.fill(r as f64 + 1.0);
        }
    }
    let mut bcast = if rank == 0 {
        vec![42.0f64; count]
    } else {
        vec![0.0f64; count]
    };
    let sum = (ranks * (ranks + 1) / 2) as f64;
    for _ in 0..runs {
        side.set("barrier before the collective");
        world.barrier();
        side.set(&format!(
            "{} collective, {size} B per rank, {calls} calls",
            format!("{op:?}").to_lowercase()
        ));
        let t0 = mpi::time();
        for _ in 0..calls {
            match op {
                Collective::Broadcast => root.broadcast_into(&mut bcast[..]),
                Collective::Scatter if rank == 0 => root.scatter_into_root(&all[..], &mut recv[..]),
                Collective::Scatter => root.scatter_into(&mut recv[..]),
                Collective::Gather if rank == 0 => root.gather_into_root(&mine[..], &mut all[..]),
                Collective::Gather => root.gather_into(&mine[..]),
                Collective::Reduce if rank == 0 => {
                    root.reduce_into_root(&mine[..], &mut recv[..], SystemOperation::sum());
                }
                Collective::Reduce => root.reduce_into(&mine[..], SystemOperation::sum()),
                Collective::Allreduce => {
                    world.all_reduce_into(&mine[..], &mut recv[..], SystemOperation::sum());
                }
            }
        }
        side.set("barrier after the collective");
        world.barrier();
        // Calls are at most 10^5: exact in f64.
        let per_call = (mpi::time() - t0) / calls as f64;
        let ok = match op {
            Collective::Broadcast => bcast.iter().all(|&v| v == 42.0),
            Collective::Scatter => recv.iter().all(|&v| v == me + 1.0),
            Collective::Gather => all
                .chunks(count)
                .enumerate()
                .all(|(r, b)| b.iter().all(|&v| v == r as f64 + 1.0)),
            Collective::Reduce if rank == 0 => recv.iter().all(|&v| v == sum),
            Collective::Reduce => true,
            Collective::Allreduce => recv.iter().all(|&v| v == sum),
        };
        side.set("reduce to rank 0");
        let ok = u64::from(ok);
        let mut all_ok = 0u64;
        if rank == 0 {
            root.reduce_into_root(&ok, &mut all_ok, SystemOperation::min());
        } else {
            root.reduce_into(&ok, SystemOperation::min());
        }
        report(world, rank, per_call, || {
            Outputs::from([
                (Output::SizeBytes.key().to_owned(), size as f64),
                (Output::Calls.key().to_owned(), calls as f64),
                (Output::DataOk.key().to_owned(), all_ok as f64),
            ])
        });
        if op == Collective::Broadcast && rank != 0 {
            // The next run checks a fresh copy.
            bcast.fill(0.0);
        }
        recv.fill(0.0);
    }
    side.set("done");
    ExitCode::SUCCESS
}

/// MPI ranks × threads: every rank runs its share of mc-pi on a rayon pool of exactly
/// `threads` threads (built before the first run, outside the timing). Task
/// `rank · threads + thread` of `ranks · threads` runs on each thread, so the estimate is
/// the one the thread backend gives on `ranks · threads` threads.
fn hybrid(
    world: &mpi::topology::SimpleCommunicator,
    rank: usize,
    ranks: usize,
    params: &Params,
    runs: usize,
    side: &Side,
) -> ExitCode {
    // At most 256 by the parameter's range.
    let threads = params.int("threads").unwrap_or(1) as usize;
    let kernel = McPi {
        samples: params.int("samples").unwrap_or(1_000),
        mode: Mode::Strong,
        seed: params.int("seed").unwrap_or(0),
    };
    side.set(&format!("starting {threads} threads"));
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(move |i| format!("rank-{rank}-thread-{i}"))
        .build()
    {
        Ok(p) => p,
        Err(e) => {
            return refuse(
                rank,
                format!("rank {rank}: cannot start {threads} threads: {e}"),
            );
        }
    };
    // Every thread runs once before the timing, so that its start is not kernel time.
    pool.broadcast(|_| ());
    let tasks = ranks * threads;
    let root = world.process_at_rank(0);
    for _ in 0..runs {
        side.set("barrier before the kernel");
        world.barrier();
        let t0 = mpi::time();
        side.set(&format!("computing on {threads} threads"));
        let parts: Vec<Partial> =
            pool.broadcast(|ctx| kernel.task(rank * threads + ctx.index(), tasks, tasks));
        side.set("barrier after the kernel");
        quiet_barrier(world);
        let elapsed = mpi::time() - t0;
        side.set("reduce to rank 0");
        let count: u64 = parts.iter().map(|p| p.count).sum();
        let units: u64 = parts.iter().map(|p| p.units).sum();
        let (mut c, mut u) = (0u64, 0u64);
        if rank == 0 {
            root.reduce_into_root(&count, &mut c, SystemOperation::sum());
            root.reduce_into_root(&units, &mut u, SystemOperation::sum());
        } else {
            root.reduce_into(&count, SystemOperation::sum());
            root.reduce_into(&units, SystemOperation::sum());
        }
        report(world, rank, elapsed, || {
            let combined = [Partial {
                count: c,
                sum: 0.0,
                units: u,
            }];
            kernel.finish(0.0, &combined, tasks)
        });
    }
    side.set("done");
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// CPU seconds this thread has used (user and system), from /proc.
    fn thread_cpu_s() -> f64 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("/proc");
        let after = &stat[stat.rfind(')').expect("comm") + 1..];
        // Fields 14 and 15 (utime, stime) are the 12th and 13th after the command name.
        let f: Vec<f64> = after
            .split_whitespace()
            .skip(11)
            .take(2)
            .map(|v| v.parse().expect("ticks"))
            .collect();
        // Linux reports these in USER_HZ, 100 on every architecture we build for.
        (f[0] + f[1]) / 100.0
    }

    #[test]
    fn a_long_wait_sleeps_instead_of_spinning() {
        let flag = Arc::new(AtomicBool::new(false));
        let setter = {
            let flag = Arc::clone(&flag);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(400));
                flag.store(true, Ordering::Release);
            })
        };
        let cpu0 = thread_cpu_s();
        let t0 = Instant::now();
        let mut polls = 0u64;
        wait_until(|| {
            polls += 1;
            flag.load(Ordering::Acquire)
        });
        let waited = t0.elapsed();
        let cpu = thread_cpu_s() - cpu0;
        setter.join().expect("setter");
        assert!(waited >= Duration::from_millis(400), "{waited:?}");
        // Spinning would use about 0.4 s; napping uses a few ticks at most.
        assert!(cpu < 0.1, "waiting 0.4 s used {cpu} s of CPU");
        // 1 ms of polling (tens of thousands of polls), then one poll per nap (about 0.1 ms
        // with the timer slack): far from the tens of millions of 0.4 s of spinning.
        assert!(polls < 500_000, "{polls} polls");
    }
}
