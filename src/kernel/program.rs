//! The learner's own program (`hpc-tutor run --exec`): no compute here. The program
//! executor ([`crate::backend::program`]) starts the command once per run and reports its
//! times; this kernel names those outputs for the timing protocol.

use super::{Kernel, Output, Outputs, OutputsExt, Partial};

/// Stands for a program run by the executor: running it locally does nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Program;

impl Kernel for Program {
    fn task(&self, _index: usize, _tasks: usize, _workers: usize) -> Partial {
        Partial::default()
    }

    fn finish(&self, _serial: f64, _partials: &[Partial], _workers: usize) -> Outputs {
        Outputs::new()
    }

    fn median_outputs(&self) -> &'static [Output] {
        &[Output::WallS, Output::ProgramS, Output::CpuS]
    }

    /// How many CPUs the program kept busy: its median CPU time over its median wall time.
    fn point_outputs(&self, _median_s: f64, outputs: &mut Outputs) {
        if let (Some(cpu), Some(wall)) =
            (outputs.output(Output::CpuS), outputs.output(Output::WallS))
            && wall > 0.0
        {
            outputs.set_output(Output::CpusBusy, cpu / wall);
        }
    }
}
