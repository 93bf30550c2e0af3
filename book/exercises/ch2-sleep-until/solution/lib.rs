//! Chapter 2 exercise: `sleep_until(deadline)`.
//!
//! `sleep` turns a duration into a deadline; this goes the other way, so that
//! a loop can wake at fixed instants instead of piling up each pass's delay.

use std::time::Instant;

use exp2_sleep::sleep;

/// Waits until `deadline`; returns at the first poll if it has passed.
pub async fn sleep_until(deadline: Instant) {
    // `saturating_duration_since` is zero for a deadline in the past.
    sleep(deadline.saturating_duration_since(Instant::now())).await;
}
