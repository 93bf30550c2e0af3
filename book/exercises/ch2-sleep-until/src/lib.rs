//! Chapter 2 exercise: `sleep_until(deadline)`.
//!
//! `sleep` turns a duration into a deadline; this goes the other way, so that
//! a loop can wake at fixed instants instead of piling up each pass's delay.
//! Write `sleep_until`: the `todo!()` below.

// Until the `todo!()` is written, the argument and the import go unused.
#![allow(unused_variables, unused_imports)]

use std::time::Instant;

use exp2_sleep::sleep;

/// Waits until `deadline`; returns at the first poll if it has passed.
pub async fn sleep_until(deadline: Instant) {
    todo!("sleep for the time left until the deadline, or none if it has passed")
}
