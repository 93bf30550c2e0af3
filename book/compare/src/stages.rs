//! The stages under test: THE place to add one.
//!
//! Every stage has the same API, so one macro line adapts a crate to the
//! traits of `rt.rs`: its name in the tables, its crate, and what it has
//! beyond `run` and `yield_now`. Each capability switches on the workloads
//! that need it; a stage without one is skipped there.
//!
//! To add a stage (a scratch copy of a crate, say, to measure a change beside
//! the original): add its path dependency to `Cargo.toml` and its line below.
//! The capabilities:
//!
//! - `sleep`: `sleep(Duration)` (exp2+)
//! - `spawn`: `spawn(fut) -> JoinHandle<T>` (exp3+)
//! - `blocking`: `spawn_blocking(f)` (exp4, exp6)
//! - `net`: `net::{TcpListener, TcpStream}` (exp5, exp6)
//!
//! The stages' `net` has no socketpair (the API contract is TCP alone), so
//! the socketpair ping-pong runs on the peers and threads only; the stages'
//! ping-pong, and its goal, are over TCP on loopback, which every runtime
//! with `net` runs alike.
//!
//! `tuned` is `book/tuned` (package `exp6-tuned`): exp6 plus the speed-ups
//! of the performance chapter, held to stricter goals (`goals.rs`).

stages! {
    "exp1" => exp1_simplest [];
    "exp2" => exp2_sleep [sleep];
    "exp3" => exp3_spawn [sleep, spawn];
    "exp4" => exp4_threadpool [sleep, spawn, blocking];
    "exp5" => exp5_selectors [sleep, spawn, net];
    "exp6" => exp6_combined [sleep, spawn, blocking, net];
    "tuned" => exp6_tuned [sleep, spawn, blocking, net];
}
