//! Build-time facts:
//! - rebuild when lesson files change (`include_dir!` embeds `lessons/`, but on stable Rust
//!   cargo does not know the macro read those files);
//! - the git commit the binary is built from, kept with every result (`HPC_TUTOR_GIT_COMMIT`).

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=lessons");
    println!("cargo:rerun-if-changed=assets/recordings");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    println!("cargo:rustc-env=HPC_TUTOR_GIT_COMMIT={commit}");
}
