//! Stamps the binary with the compiler's version and the versions of the
//! peers in Cargo.lock, for the results page.

use std::process::Command;
use std::{env, fs};

fn main() {
    println!("cargo:rerun-if-changed=Cargo.lock");
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|_| "rustc (unknown version)".into());
    println!("cargo:rustc-env=COMPARE_RUSTC={version}");
    let lock = fs::read_to_string("Cargo.lock").unwrap_or_default();
    for name in [
        "tokio",
        "smol",
        "async-executor",
        "async-io",
        "blocking",
        "criterion",
    ] {
        let found = lock
            .split("[[package]]")
            .find(|p| p.contains(&format!("name = \"{name}\"\n")))
            .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = ")))
            .map_or("?", |v| v.trim_matches('"'));
        let key = name.to_uppercase().replace('-', "_");
        println!("cargo:rustc-env=COMPARE_VERSION_{key}={found}");
    }
}
