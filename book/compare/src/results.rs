//! What a run measured: a summary per (measure, runtime), the points of the
//! charts, and how their numbers are written (`time`, `cell`).
//!
//! The suite fills `Results` in; the page and the goals read it. It depends
//! on neither.

use crate::sample::Summary;

/// A chart's line: chart id, runtime, (x, summary at x).
pub type Line = (String, &'static str, Vec<(f64, Summary)>);

/// How a measure's numbers read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Unit {
    /// Nanoseconds, printed in ns, µs, ms or s.
    Time,
    /// Bytes.
    Bytes,
    /// MiB per second.
    MiBps,
}

impl Unit {
    /// Whether more is better: throughput. Times and bytes are costs.
    pub fn higher_is_better(self) -> bool {
        self == Unit::MiBps
    }
}

/// `1.23 µs`, `456 ns`, `12.3 ms`.
pub fn time(ns: f64) -> String {
    let (v, unit) = match ns.abs() {
        a if a >= 1e9 => (ns / 1e9, "s"),
        a if a >= 1e6 => (ns / 1e6, "ms"),
        a if a >= 1e3 => (ns / 1e3, "µs"),
        _ => (ns, "ns"),
    };
    let digits = if v.abs() >= 100.0 {
        0
    } else if v.abs() >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.digits$} {unit}")
}

/// A number in its unit.
pub fn value(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Time => time(v),
        Unit::Bytes => format!("{v:.0} B"),
        Unit::MiBps => format!("{v:.1} MiB/s"),
    }
}

/// A table cell: the median, and the spread when there is more than one
/// sample.
pub fn cell(unit: Unit, s: &Summary) -> String {
    if s.n > 1 {
        format!("{} ±{:.0}%", value(unit, s.median), s.spread_pct())
    } else {
        value(unit, s.median)
    }
}

/// One summary per (measure, runtime), and the series of the charts.
#[derive(Default)]
pub struct Results {
    /// (measure id, runtime, unit, summary), in the order measured.
    pub values: Vec<(String, &'static str, Unit, Summary)>,
    /// The charts' lines.
    pub series: Vec<Line>,
}

impl Results {
    /// Records `runtime`'s summary of `measure`, and prints it.
    pub fn add(&mut self, measure: &str, runtime: &'static str, unit: Unit, summary: Summary) {
        println!("  {measure:<40} {runtime:<8} {}", cell(unit, &summary));
        self.values
            .push((measure.to_string(), runtime, unit, summary));
    }

    /// `runtime`'s summary of `measure`, if it was measured.
    pub fn get(&self, measure: &str, runtime: &str) -> Option<&Summary> {
        self.values
            .iter()
            .find(|(m, r, ..)| m == measure && *r == runtime)
            .map(|(.., s)| s)
    }

    /// The unit `measure` was recorded in (time if it was not).
    pub fn unit(&self, measure: &str) -> Unit {
        self.values
            .iter()
            .find(|v| v.0 == measure)
            .map_or(Unit::Time, |v| v.2)
    }

    /// Adds a point at `x` to `runtime`'s line in `chart`.
    pub fn point(&mut self, chart: &str, runtime: &'static str, x: f64, summary: Summary) {
        match self
            .series
            .iter_mut()
            .find(|(c, r, _)| c == chart && *r == runtime)
        {
            Some((.., points)) => points.push((x, summary)),
            None => self
                .series
                .push((chart.to_string(), runtime, vec![(x, summary)])),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_pick_their_unit_and_digits() {
        assert_eq!(time(1234.0), "1.23 µs");
        assert_eq!(time(12.0), "12.0 ns");
        assert_eq!(time(999.0), "999 ns");
        assert_eq!(time(2.5e9), "2.50 s");
        assert_eq!(time(45.6e6), "45.6 ms");
    }

    #[test]
    fn cells_show_a_spread_only_with_several_samples() {
        let one = Summary::of(&[2048.0]);
        assert_eq!(cell(Unit::Bytes, &one), "2048 B");
        let many = Summary::of(&[90.0, 100.0, 110.0]);
        assert_eq!(cell(Unit::Time, &many), "100 ns ±5%");
        assert_eq!(cell(Unit::MiBps, &many), "100.0 MiB/s ±5%");
    }

    #[test]
    fn results_find_what_was_added() {
        let mut r = Results::default();
        r.add("m", "a", Unit::MiBps, Summary::of(&[1.0]));
        r.add("m", "b", Unit::MiBps, Summary::of(&[2.0]));
        assert_eq!(r.get("m", "b").map(|s| s.median), Some(2.0));
        assert!(r.get("m", "c").is_none());
        assert_eq!(r.unit("m"), Unit::MiBps);
        assert_eq!(r.unit("never"), Unit::Time);
        r.point("chart", "a", 10.0, Summary::of(&[1.0]));
        r.point("chart", "a", 100.0, Summary::of(&[2.0]));
        r.point("chart", "b", 10.0, Summary::of(&[3.0]));
        assert_eq!(r.series.len(), 2);
        assert_eq!(r.series[0].2.len(), 2);
    }
}
