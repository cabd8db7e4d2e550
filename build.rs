//! Rebuild when lesson files change: `include_dir!` embeds `lessons/`, but on stable Rust
//! cargo does not know the macro read those files.

fn main() {
    println!("cargo:rerun-if-changed=lessons");
}
