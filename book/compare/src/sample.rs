//! The custom sampler, for what criterion's fresh-run-per-sample model fits
//! badly (work whose set-up is costly, or that must run inside one runtime),
//! and the summary of samples every measure is reported with.

use std::time::Duration;

/// How to sample: each sample runs long enough to last `target`, and there
/// are `samples` of them after a calibration.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// How long one sample should last.
    pub target: Duration,
    /// How many samples to take.
    pub samples: usize,
}

impl Plan {
    /// How many iterations make a sample, given a calibration run of
    /// `iters` iterations that took `took`.
    fn iters(self, iters: u64, took: Duration) -> u64 {
        let per_iter = took.as_secs_f64() / iters as f64;
        ((self.target.as_secs_f64() / per_iter.max(1e-12)).ceil() as u64).max(1)
    }
}

/// Doubles the iteration count until a run lasts a tenth of the target;
/// returns the iteration count for a sample.
async fn calibrate_async(plan: Plan, f: &mut impl AsyncFnMut(u64) -> Duration) -> u64 {
    let mut iters = 1;
    loop {
        let took = f(iters).await;
        if took >= plan.target / 10 || iters >= 1 << 30 {
            return plan.iters(iters, took);
        }
        iters *= 2;
    }
}

/// Samples `f(iters) -> time` inside a running task: after calibration,
/// `plan.samples` samples, each the ns per iteration.
pub async fn in_run(plan: Plan, mut f: impl AsyncFnMut(u64) -> Duration) -> Vec<f64> {
    let iters = calibrate_async(plan, &mut f).await;
    let mut samples = Vec::with_capacity(plan.samples);
    for _ in 0..plan.samples {
        samples.push(f(iters).await.as_nanos() as f64 / iters as f64);
    }
    samples
}

/// `in_run` for code outside any runtime.
pub fn outside(plan: Plan, mut f: impl FnMut(u64) -> Duration) -> Vec<f64> {
    let mut iters = 1;
    let iters = loop {
        let took = f(iters);
        if took >= plan.target / 10 || iters >= 1 << 30 {
            break plan.iters(iters, took);
        }
        iters *= 2;
    };
    (0..plan.samples)
        .map(|_| f(iters).as_nanos() as f64 / iters as f64)
        .collect()
}

/// The CPU time of the whole process so far (every thread).
pub fn cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant
    // every Linux supports.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Median and spread of a measure's samples, in the measure's unit.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    /// The median.
    pub median: f64,
    /// The first quartile.
    pub q1: f64,
    /// The third quartile.
    pub q3: f64,
    /// The 99th percentile.
    pub p99: f64,
    /// How many samples.
    pub n: usize,
}

impl Summary {
    /// The summary of `samples`, which must not be empty; quantiles
    /// interpolate linearly between the closest ranks.
    pub fn of(samples: &[f64]) -> Summary {
        assert!(!samples.is_empty(), "no samples");
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        Summary {
            median: quantile(&sorted, 0.5),
            q1: quantile(&sorted, 0.25),
            q3: quantile(&sorted, 0.75),
            p99: quantile(&sorted, 0.99),
            n: sorted.len(),
        }
    }

    /// Every statistic mapped through `f` (a change of unit; for a
    /// decreasing `f`, such as time to throughput, the quartiles swap).
    pub fn map(self, f: impl Fn(f64) -> f64) -> Summary {
        let (q1, q3) = (f(self.q1), f(self.q3));
        Summary {
            median: f(self.median),
            q1: q1.min(q3),
            q3: q1.max(q3),
            p99: f(self.p99),
            n: self.n,
        }
    }

    /// Half the interquartile range relative to the median, in percent.
    pub fn spread_pct(&self) -> f64 {
        if self.median == 0.0 {
            return 0.0;
        }
        (self.q3 - self.q1) / 2.0 / self.median.abs() * 100.0
    }
}

/// Linear interpolation between the closest ranks of sorted `xs`.
fn quantile(xs: &[f64], q: f64) -> f64 {
    let pos = q * (xs.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    xs[lo] + (xs[hi] - xs[lo]) * (pos - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartiles_of_one_to_five() {
        let s = Summary::of(&[5.0, 1.0, 3.0, 2.0, 4.0]);
        assert_eq!((s.q1, s.median, s.q3), (2.0, 3.0, 4.0));
        assert!((s.spread_pct() - 100.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn quantiles_interpolate_between_ranks() {
        let xs: Vec<f64> = (0..=100).map(f64::from).collect();
        let s = Summary::of(&xs);
        assert_eq!((s.median, s.p99, s.n), (50.0, 99.0, 101));
        let s = Summary::of(&[10.0, 20.0]);
        assert_eq!((s.q1, s.median, s.q3), (12.5, 15.0, 17.5));
        assert!((s.p99 - 19.9).abs() < 1e-9);
        let one = Summary::of(&[7.0]);
        assert_eq!((one.q1, one.median, one.p99), (7.0, 7.0, 7.0));
        assert_eq!(Summary::of(&[0.0, 0.0]).spread_pct(), 0.0);
    }

    #[test]
    #[should_panic(expected = "no samples")]
    fn no_samples_is_a_bug() {
        Summary::of(&[]);
    }

    #[test]
    fn a_decreasing_map_swaps_the_quartiles() {
        // ns per 1 MiB round to MiB/s: a shorter time is a higher throughput.
        let s = Summary::of(&[1e6, 2e6, 4e6]).map(|ns| 1e9 / ns);
        assert_eq!(s.median, 500.0);
        assert!(s.q1 <= s.median && s.median <= s.q3, "{s:?}");
        assert_eq!((s.q1, s.q3), (1e9 / 3e6, 1e9 / 1.5e6));
    }

    #[test]
    fn a_plan_sizes_samples_from_the_calibration() {
        let plan = Plan {
            target: Duration::from_millis(20),
            samples: 3,
        };
        assert_eq!(plan.iters(1000, Duration::from_millis(2)), 10_000);
        assert_eq!(plan.iters(1, Duration::from_secs(1)), 1);
        // Fake work taking 1 µs per iteration.
        let mut calls = Vec::new();
        let samples = outside(plan, |iters| {
            calls.push(iters);
            Duration::from_micros(iters)
        });
        assert_eq!(samples, [1000.0; 3]);
        // Doubling until 2 ms (a tenth of the target), then 20 ms samples.
        assert_eq!(calls.iter().filter(|&&n| n == 20_000).count(), 3);
        assert_eq!(
            calls[..calls.len() - 3],
            [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048]
        );
    }
}
