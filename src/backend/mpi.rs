//! The rank side of MPI runs: `hpc-tutor mpi-worker`, started by `mpirun` or `srun`.
//!
//! Every rank builds the experiment's kernel from the same parameters and runs its share
//! (task `rank` of `size`). Timing is barrier, `MPI_Wtime`, kernel, barrier, `MPI_Wtime`; the
//! run's time is the maximum over ranks, reduced to rank 0, which prints one
//! [`WorkerLine`] per run. Each rank writes the blocking call it is in to its side-channel
//! file, so that a launcher whose deadline passes can say who waits for whom.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mpi::collective::SystemOperation;
use mpi::point_to_point as p2p;
use mpi::traits::*;

use super::launch::{WorkerLine, side_channel_file};
use crate::experiment::{self, Params};
use crate::kernel::{Outputs, Partial};

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
    /// Folder of the per-rank state files.
    pub side_channel: Option<PathBuf>,
}

/// Reports the state of one rank through its side-channel file.
struct Side {
    file: Option<PathBuf>,
}

impl Side {
    fn new(dir: Option<&Path>, rank: usize) -> Self {
        Self {
            file: dir.map(|d| side_channel_file(d, rank)),
        }
    }

    /// Writes `state` (best effort: the side channel is for diagnosis only).
    fn set(&self, state: &str) {
        if let Some(f) = &self.file {
            let _ = std::fs::write(f, state);
        }
    }
}

fn print(line: &WorkerLine) {
    // Rank 0's stdout is a pipe read line by line by the launcher.
    if let Ok(text) = serde_json::to_string(line) {
        println!("{text}");
    }
}

/// Runs the worker; returns the process exit status.
pub fn worker(args: &WorkerArgs) -> ExitCode {
    let Some(universe) = mpi::initialize() else {
        eprintln!("hpc-tutor mpi-worker: MPI is already initialized");
        return ExitCode::FAILURE;
    };
    let world = universe.world();
    // Ranks and sizes are small non-negative numbers.
    let rank = world.rank() as usize;
    let size = world.size() as usize;
    let side = Side::new(args.side_channel.as_deref(), rank);
    side.set("starting");

    let fail = |message: String| {
        if rank == 0 {
            print(&WorkerLine::Error { message });
        }
        ExitCode::FAILURE
    };
    let Some(info) = experiment::find(&args.experiment) else {
        return fail(format!("unknown experiment `{}`", args.experiment));
    };
    let params = match Params::parse(info, &args.params) {
        Ok(p) => p,
        Err(e) => return fail(e.to_string()),
    };
    if rank == 0 {
        print(&WorkerLine::Ready {
            ranks: size,
            library: mpi::environment::library_version().unwrap_or_default(),
        });
    }

    if info.name == "exchange" {
        return exchange(&world, rank, size, &params, args.runs, &side);
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
            world.barrier();
        }
        side.set("computing");
        let p = kernel.task(rank, size, size);
        side.set("barrier after the kernel");
        world.barrier();
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
        if rank == 0 {
            print(&WorkerLine::Error {
                message: format!("exchange needs exactly 2 ranks, not {ranks}"),
            });
        }
        return ExitCode::FAILURE;
    }
    // The size is at most 64 MiB by the parameter's range.
    let bytes = params.int("size").unwrap_or(1) as usize;
    let order = params.choice("order").unwrap_or("send-first").to_owned();
    let other = 1 - rank;
    // Ranks are 0 or 1 here.
    let peer = world.process_at_rank(other as i32);
    let out = vec![rank as u8; bytes];
    let mut inb = vec![0u8; bytes];
    let root = world.process_at_rank(0);
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
        if rank == 0 {
            let mut max_t = 0.0f64;
            root.reduce_into_root(&elapsed, &mut max_t, SystemOperation::max());
            let outputs = Outputs::from([
                ("size_bytes".to_owned(), bytes as f64),
                ("data_ok".to_owned(), if ok { 1.0 } else { 0.0 }),
            ]);
            print(&WorkerLine::Run {
                seconds: max_t,
                outputs,
            });
        } else {
            root.reduce_into(&elapsed, SystemOperation::max());
        }
    }
    side.set("done");
    ExitCode::SUCCESS
}
