//! The locks and atomics of the ready queue's protocols: std's, or loom's
//! when the model check runs, so that loom sees every access to them.
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test -p exp6-tuned --release --lib model
//! ```

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, Ordering};
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};
#[cfg(loom)]
pub(crate) use loom::thread;

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};
#[cfg(not(loom))]
pub(crate) use std::thread;
