//! Line charts as hand-written SVG: axes, ticks, one polyline per runtime
//! through the medians, a whisker from first to third quartile at each
//! point. No crate: a chart is a few dozen elements.

use std::fmt::Write;

use crate::sample::Summary;

/// One line: a name and its points (x, summary of y).
pub struct Series<'a> {
    /// The runtime (or reference) it belongs to, in the legend.
    pub name: &'a str,
    /// Its points, in order of x.
    pub points: &'a [(f64, Summary)],
}

/// A line chart: log-scale x, y linear or log as the data needs.
pub struct Chart<'a> {
    /// Above the plot.
    pub title: &'a str,
    /// Under the x axis.
    pub x_label: &'a str,
    /// Beside the y axis.
    pub y_label: &'a str,
    /// The lines, one colour each.
    pub series: Vec<Series<'a>>,
}

const W: f64 = 720.0;
const H: f64 = 420.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 170.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 60.0;

/// A colour per runtime name, the same in every chart.
fn colour(name: &str) -> &'static str {
    match name {
        "exp1" => "#9ecae1",
        "exp2" => "#6baed6",
        "exp3" => "#3182bd",
        "exp4" => "#08519c",
        "exp5" => "#74c476",
        "exp6" => "#006d2c",
        "tuned" => "#e377c2",
        "tokio" => "#d62728",
        "smol" => "#ff7f0e",
        "threads" => "#7f7f7f",
        "poll(2) call" => "#9467bd",
        "epoll_wait call" => "#8c564b",
        _ => "#17becf",
    }
}

/// A scale from data to pixels, logarithmic or linear.
struct Axis {
    log: bool,
    lo: f64,
    hi: f64,
    from: f64,
    to: f64,
}

impl Axis {
    /// Logarithmic when the data spans more than a factor of 20.
    fn new(values: impl Iterator<Item = f64>, from: f64, to: f64, force_log: bool) -> Axis {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values.filter(|v| v.is_finite() && *v > 0.0) {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if !lo.is_finite() {
            (lo, hi) = (1.0, 10.0);
        }
        let log = force_log || hi / lo > 20.0;
        if log {
            lo = 10f64.powf(lo.log10().floor());
            hi = 10f64.powf(hi.log10().ceil()).max(lo * 10.0);
        } else {
            let step = nice_step(hi / 5.0);
            lo = 0.0;
            hi = (hi / step).ceil() * step;
        }
        Axis {
            log,
            lo,
            hi,
            from,
            to,
        }
    }

    fn px(&self, v: f64) -> f64 {
        let t = if self.log {
            (v.max(self.lo).log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        };
        self.from + t * (self.to - self.from)
    }

    fn ticks(&self) -> Vec<f64> {
        if self.log {
            let (a, b) = (
                self.lo.log10().round() as i32,
                self.hi.log10().round() as i32,
            );
            (a..=b).map(|e| 10f64.powi(e)).collect()
        } else {
            let step = nice_step((self.hi - self.lo) / 5.0);
            let n = ((self.hi - self.lo) / step).round() as usize;
            (0..=n).map(|i| self.lo + i as f64 * step).collect()
        }
    }
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let raw = raw.max(1e-12);
    let p = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * p)
}

/// 1500 → "1.5k", 100000 → "100k", 0.5 → "0.5".
fn short(v: f64) -> String {
    let (v, suffix) = match v.abs() {
        a if a >= 1e9 => (v / 1e9, "G"),
        a if a >= 1e6 => (v / 1e6, "M"),
        a if a >= 1e3 => (v / 1e3, "k"),
        _ => (v, ""),
    };
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}{suffix}")
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl Chart<'_> {
    /// The chart as a standalone SVG document.
    pub fn render(&self) -> String {
        let all = || self.series.iter().flat_map(|s| s.points.iter());
        let x = Axis::new(all().map(|p| p.0), LEFT, W - RIGHT, true);
        let y = Axis::new(
            all().flat_map(|p| [p.1.q1, p.1.q3, p.1.median]),
            H - BOTTOM,
            TOP,
            false,
        );
        let mut svg = String::new();
        let _ = writeln!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(svg, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="24" font-size="15" text-anchor="middle">{}</text>"#,
            (LEFT + W - RIGHT) / 2.0,
            escape(self.title)
        );
        // Grid and ticks.
        for t in x.ticks() {
            let px = x.px(t);
            let _ = writeln!(
                svg,
                r##"<line x1="{px:.1}" y1="{TOP}" x2="{px:.1}" y2="{}" stroke="#e0e0e0"/><text x="{px:.1}" y="{}" text-anchor="middle">{}</text>"##,
                H - BOTTOM,
                H - BOTTOM + 16.0,
                short(t)
            );
        }
        for t in y.ticks() {
            let py = y.px(t);
            let _ = writeln!(
                svg,
                r##"<line x1="{LEFT}" y1="{py:.1}" x2="{}" y2="{py:.1}" stroke="#e0e0e0"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
                W - RIGHT,
                LEFT - 6.0,
                py + 4.0,
                short(t)
            );
        }
        let _ = writeln!(
            svg,
            r##"<rect x="{LEFT}" y="{TOP}" width="{}" height="{}" fill="none" stroke="#333"/>"##,
            W - RIGHT - LEFT,
            H - BOTTOM - TOP
        );
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            (LEFT + W - RIGHT) / 2.0,
            H - 18.0,
            escape(self.x_label)
        );
        let _ = writeln!(
            svg,
            r#"<text transform="translate(18 {}) rotate(-90)" text-anchor="middle">{}{}</text>"#,
            (TOP + H - BOTTOM) / 2.0,
            escape(self.y_label),
            if y.log { " (log scale)" } else { "" }
        );
        // The lines, whiskers and legend.
        for (i, series) in self.series.iter().enumerate() {
            let c = colour(series.name);
            let points: Vec<String> = series
                .points
                .iter()
                .map(|(px, s)| format!("{:.1},{:.1}", x.px(*px), y.px(s.median)))
                .collect();
            let _ = writeln!(
                svg,
                r#"<polyline fill="none" stroke="{c}" stroke-width="2" points="{}"/>"#,
                points.join(" ")
            );
            for (px, s) in series.points {
                let (cx, cy) = (x.px(*px), y.px(s.median));
                let _ = writeln!(
                    svg,
                    r#"<line x1="{cx:.1}" y1="{:.1}" x2="{cx:.1}" y2="{:.1}" stroke="{c}"/><circle cx="{cx:.1}" cy="{cy:.1}" r="3" fill="{c}"/>"#,
                    y.px(s.q1),
                    y.px(s.q3)
                );
            }
            let ly = TOP + 10.0 + i as f64 * 20.0;
            let lx = W - RIGHT + 14.0;
            let _ = writeln!(
                svg,
                r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{c}" stroke-width="2"/><text x="{}" y="{}">{}</text>"#,
                lx + 20.0,
                lx + 26.0,
                ly + 4.0,
                escape(series.name)
            );
        }
        svg.push_str("</svg>\n");
        svg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_numbers() {
        assert_eq!(short(100_000.0), "100k");
        assert_eq!(short(1500.0), "1.5k");
        assert_eq!(short(0.5), "0.5");
        assert_eq!(nice_step(3.0), 5.0);
    }

    #[test]
    fn axes_go_log_when_the_data_spans_decades() {
        let log = Axis::new([10.0, 100_000.0].into_iter(), 0.0, 400.0, false);
        assert!(log.log);
        assert_eq!(log.ticks(), [10.0, 100.0, 1000.0, 10_000.0, 100_000.0]);
        assert_eq!(log.px(10.0), 0.0);
        assert_eq!(log.px(100_000.0), 400.0);
        assert!((log.px(1000.0) - 200.0).abs() < 1e-9);

        // Linear from zero, up to a round number; y runs downwards.
        let lin = Axis::new([3.0, 47.0].into_iter(), 300.0, 100.0, false);
        assert!(!lin.log);
        assert_eq!((lin.lo, lin.hi), (0.0, 50.0));
        assert_eq!(lin.ticks(), [0.0, 10.0, 20.0, 30.0, 40.0, 50.0]);
        assert_eq!(lin.px(25.0), 200.0);
    }

    #[test]
    fn a_chart_draws_each_series_with_its_colour() {
        let s = |v: f64| Summary::of(&[v * 0.9, v, v * 1.1]);
        let tuned = [(10.0, s(100.0)), (100.0, s(120.0)), (1000.0, s(150.0))];
        let tokio = [(10.0, s(200.0)), (100.0, s(210.0)), (1000.0, s(230.0))];
        let chart = Chart {
            title: "a < b & c",
            x_label: "n",
            y_label: "ns",
            series: vec![
                Series {
                    name: "tuned",
                    points: &tuned,
                },
                Series {
                    name: "tokio",
                    points: &tokio,
                },
            ],
        };
        let svg = chart.render();
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 6);
        assert!(svg.contains("a &lt; b &amp; c"));
        assert!(!svg.contains("a < b"));
        assert!(svg.contains(&format!(r#"stroke="{}""#, colour("tuned"))));
        assert!(svg.contains(">tuned</text>") && svg.contains(">tokio</text>"));
        // Every stage and peer has a colour of its own.
        let names = [
            "exp1", "exp2", "exp3", "exp4", "exp5", "exp6", "tuned", "tokio", "smol",
        ];
        let mut colours: Vec<_> = names.iter().map(|n| colour(n)).collect();
        colours.sort();
        colours.dedup();
        assert_eq!(colours.len(), names.len());
        assert!(!colours.contains(&colour("unknown")));
    }
}
