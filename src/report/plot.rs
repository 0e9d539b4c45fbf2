//! `rl plot`: learning curves as PNG or SVG (plotters). One panel per env; per experiment the
//! mean over seeds with a shaded 95% bootstrap band; the env's solve threshold, as the runs'
//! meta.json record it, as a dashed line (none for results that predate the record).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use super::results::{ExperimentResults, SeedResult, read_episodes};
use super::stats::{Curve, bootstrap_ci, mean};
use crate::error::UsageError;
use crate::rng;

/// Points of the common grid each seed's curve is interpolated onto.
const GRID_POINTS: usize = 200;
/// Bootstrap resamples behind each band point (fixed seed: the same results draw the same band).
const BAND_REPS: usize = 1000;
const PANEL_WIDTH: u32 = 800;
const PANEL_HEIGHT: u32 = 480;

/// The x axis of the curves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum XAxis {
    /// Env steps.
    Steps,
    /// Training wall-clock seconds (evaluation excluded).
    Wall,
}

/// The part of the x axis to draw, `LO..HI` (`--x-range`): each series is interpolated onto a
/// grid over its common range cut to [LO, HI].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct XRange {
    pub lo: f64,
    pub hi: f64,
}

impl XRange {
    /// The whole axis.
    pub const ALL: XRange = XRange {
        lo: f64::NEG_INFINITY,
        hi: f64::INFINITY,
    };
}

impl std::str::FromStr for XRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bounds = s.split_once("..").and_then(|(lo, hi)| {
            let (lo, hi) = (
                lo.trim().parse::<f64>().ok()?,
                hi.trim().parse::<f64>().ok()?,
            );
            (lo.is_finite() && hi.is_finite()).then_some(XRange { lo, hi })
        });
        match bounds {
            Some(r) if r.lo < r.hi => Ok(r),
            Some(_) => Err(format!("'{s}': LO must be below HI")),
            None => Err(format!("'{s}': want LO..HI, two numbers, e.g. 2..50")),
        }
    }
}

/// What the curves show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum YAxis {
    /// Evaluation return (curve.csv).
    EvalReturn,
    /// Length of each training episode by episode number (episodes.csv; --x is ignored), e.g.
    /// Sutton & Barto's Figure 8.2.
    EpisodeLength,
    /// Sum of the training episodes' returns so far (episodes.csv), e.g. S&B Figures 8.4/8.5.
    CumulativeReturn,
    /// Another curve.csv column (a diagnostic, e.g. a bandit's `regret`), read into the seeds'
    /// curves by the caller.
    Column(String),
}

impl std::str::FromStr for YAxis {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "eval-return" | "eval_return_mean" => YAxis::EvalReturn,
            "episode-length" => YAxis::EpisodeLength,
            "cumulative-return" => YAxis::CumulativeReturn,
            column => YAxis::Column(column.to_string()),
        })
    }
}

/// One experiment's line: mean over seeds with its 95% band, on a common grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub label: String,
    pub x: Vec<f64>,
    pub mean: Vec<f64>,
    pub low: Vec<f64>,
    pub high: Vec<f64>,
}

/// One complete seed's curve of `y_axis` against `x_axis` (unsmoothed); `None` for incomplete
/// seeds and for episode curves without a finished episode.
fn seed_curve(s: &SeedResult, x_axis: XAxis, y_axis: &YAxis) -> Result<Option<Curve>, UsageError> {
    let Some(c) = s.curve.as_ref() else {
        return Ok(None);
    };
    if matches!(y_axis, YAxis::EvalReturn | YAxis::Column(_)) {
        let x = match x_axis {
            XAxis::Steps => c.steps.clone(),
            XAxis::Wall => s.wall_s.clone(),
        };
        return Ok(Some(Curve {
            steps: x,
            returns: c.returns.clone(),
        }));
    }
    let episodes = read_episodes(&s.dir.join("episodes.csv"))?;
    if episodes.is_empty() {
        return Ok(None);
    }
    let (x, y) = match y_axis {
        YAxis::EpisodeLength => episodes
            .iter()
            .enumerate()
            .map(|(i, e)| ((i + 1) as f64, e.length))
            .unzip(),
        _ => {
            let mut total = 0.0;
            episodes
                .iter()
                .map(|e| {
                    total += e.episode_return;
                    let x = match x_axis {
                        XAxis::Steps => e.step,
                        XAxis::Wall => e.wall_s,
                    };
                    (x, total)
                })
                .unzip()
        }
    };
    Ok(Some(Curve {
        steps: x,
        returns: y,
    }))
}

/// The series of one experiment: each complete seed's curve (`y_axis` against `x_axis`),
/// smoothed by a trailing moving average over `smooth` points, interpolated onto a grid from the
/// latest first x to the shortest seed's last x (no extrapolation) cut to `range`, then averaged
/// over seeds. `None` when no seed is complete or the range misses the curves.
pub fn series(
    e: &ExperimentResults,
    (x_axis, range): (XAxis, XRange),
    y_axis: &YAxis,
    smooth: usize,
) -> Result<Option<Series>, UsageError> {
    let mut curves: Vec<Curve> = Vec::new();
    for s in &e.seeds {
        if let Some(c) = seed_curve(s, x_axis, y_axis)? {
            curves.push(Curve {
                returns: moving_average(&c.returns, smooth),
                steps: c.steps,
            });
        }
    }
    if curves.is_empty() {
        return Ok(None);
    }
    let end = curves
        .iter()
        .map(|c| *c.steps.last().expect("non-empty"))
        .fold(f64::INFINITY, f64::min);
    let start = curves
        .iter()
        .map(|c| c.steps[0])
        .fold(f64::NEG_INFINITY, f64::max)
        .min(end);
    let (start, end) = (start.max(range.lo), end.min(range.hi));
    if start > end {
        return Ok(None);
    }
    let x: Vec<f64> = (0..GRID_POINTS)
        .map(|i| start + (end - start) * i as f64 / (GRID_POINTS - 1) as f64)
        .collect();
    let mut rng = rng::from_seed(0);
    let (mut m, mut low, mut high) = (Vec::new(), Vec::new(), Vec::new());
    for &xi in &x {
        let values: Vec<f64> = curves.iter().map(|c| c.at(xi)).collect();
        let (lo, hi) = bootstrap_ci(&values, mean, BAND_REPS, &mut rng);
        m.push(mean(&values));
        low.push(lo);
        high.push(hi);
    }
    let n = curves.len();
    Ok(Some(Series {
        label: format!("{} ({})", e.name, super::counted(n, "seed")),
        x,
        mean: m,
        low,
        high,
    }))
}

/// Trailing moving average over `k` points (k ≤ 1: unchanged).
pub fn moving_average(values: &[f64], k: usize) -> Vec<f64> {
    let k = k.max(1);
    (0..values.len())
        .map(|i| {
            let from = (i + 1).saturating_sub(k);
            mean(&values[from..=i])
        })
        .collect()
}

/// Draws `experiments` into `path` (`.png` or `.svg`), the part `range` of the x axis.
pub fn plot(
    experiments: &[ExperimentResults],
    path: &Path,
    (x_axis, range): (XAxis, XRange),
    y_axis: &YAxis,
    smooth: usize,
) -> Result<(), UsageError> {
    let svg = match path.extension().and_then(|e| e.to_str()) {
        Some("svg") => true,
        Some("png") => false,
        _ => {
            return Err(UsageError::new(format!(
                "-o {}: the file must end in .png or .svg",
                path.display()
            )));
        }
    };
    let mut panels: Vec<Panel> = Vec::new();
    for e in experiments {
        let Some(s) = series(e, (x_axis, range), y_axis, smooth)? else {
            continue;
        };
        // The solve threshold is a return: drawn on eval returns only.
        let threshold = e
            .reward_threshold
            .flatten()
            .filter(|_| *y_axis == YAxis::EvalReturn);
        match panels.iter_mut().find(|p| p.env == e.env) {
            Some(p) => {
                p.series.push(s);
                p.threshold = p.threshold.or(threshold);
            }
            None => panels.push(Panel {
                env: e.env.clone(),
                threshold,
                series: vec![s],
            }),
        }
    }
    if panels.is_empty() {
        return Err(UsageError::new(if range == XRange::ALL {
            "nothing to plot: no experiment has a complete seed".to_string()
        } else {
            format!(
                "nothing to plot: no complete seed has points in --x-range {}..{}",
                range.lo, range.hi
            )
        }));
    }
    register_system_font()?;
    let cols = panels.len().min(2) as u32;
    let rows = (panels.len() as u32).div_ceil(cols);
    let size = (PANEL_WIDTH * cols, PANEL_HEIGHT * rows);
    let failed = |e: String| UsageError::new(format!("cannot draw {}: {e}", path.display()));
    if svg {
        draw(
            SVGBackend::new(path, size).into_drawing_area(),
            &panels,
            (x_axis, y_axis),
            (rows, cols),
        )
        .map_err(failed)
    } else {
        draw(
            BitMapBackend::new(path, size).into_drawing_area(),
            &panels,
            (x_axis, y_axis),
            (rows, cols),
        )
        .map_err(failed)
    }
}

/// The curves of one env, with its solve threshold.
struct Panel {
    env: String,
    threshold: Option<f64>,
    series: Vec<Series>,
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    panels: &[Panel],
    (x_axis, y_axis): (XAxis, &YAxis),
    grid: (u32, u32),
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let areas = root.split_evenly((grid.0 as usize, grid.1 as usize));
    for (panel, area) in panels.iter().zip(areas) {
        let (env, series, threshold) = (&panel.env, &panel.series, panel.threshold);
        let x_max = series
            .iter()
            .map(|s| *s.x.last().expect("grid"))
            .fold(0.0, f64::max);
        let x_min = series
            .iter()
            .map(|s| s.x[0])
            .fold(f64::INFINITY, f64::min)
            .min(x_max);
        let ys = series
            .iter()
            .flat_map(|s| s.low.iter().chain(&s.high))
            .chain(threshold.iter());
        let (y_min, y_max) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| {
            (lo.min(*y), hi.max(*y))
        });
        let pad = ((y_max - y_min) * 0.05).max(1e-6);
        let x_hi = if x_max > x_min { x_max } else { x_min + 1.0 };
        let mut chart = ChartBuilder::on(&area)
            .caption(env, ("sans-serif", 24))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(x_min..x_hi, (y_min - pad)..(y_max + pad))
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(match (y_axis, x_axis) {
                (YAxis::EpisodeLength, _) => "training episode",
                (_, XAxis::Steps) => "env steps",
                (_, XAxis::Wall) => "training seconds",
            })
            .y_desc(format!(
                "{} (mean over seeds, 95% CI)",
                match y_axis {
                    YAxis::EvalReturn => "eval return",
                    YAxis::EpisodeLength => "steps per episode",
                    YAxis::CumulativeReturn => "cumulative training return",
                    YAxis::Column(column) => column,
                }
            ))
            .x_label_formatter(&|x| compact(*x, 1e3))
            .y_label_formatter(&|y| compact(*y, 1e4))
            .light_line_style(BLACK.mix(0.03))
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(err)?;
        for (i, s) in series.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let band: Vec<(f64, f64)> =
                s.x.iter()
                    .zip(&s.high)
                    .chain(s.x.iter().zip(&s.low).rev())
                    .map(|(x, y)| (*x, *y))
                    .collect();
            chart
                .draw_series(std::iter::once(Polygon::new(band, color.mix(0.2).filled())))
                .map_err(err)?;
            chart
                .draw_series(LineSeries::new(
                    s.x.iter().copied().zip(s.mean.iter().copied()),
                    color.stroke_width(2),
                ))
                .map_err(err)?
                .label(s.label.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        if let Some(t) = threshold {
            let dashes = DashedLineSeries::new(
                vec![(x_min, t), (x_hi, t)],
                8,
                6,
                BLACK.mix(0.6).stroke_width(1),
            );
            chart
                .draw_series(dashes)
                .map_err(err)?
                .label(format!("solved ({t})"))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.6)));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .label_font(("sans-serif", 14))
            .draw()
            .map_err(err)?;
    }
    root.present().map_err(err)
}

/// Axis labels without trailing zeros (20k, 1.5M, 0.25, -200); thousands as `k` from `k_from`.
fn compact(v: f64, k_from: f64) -> String {
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    match v.abs() {
        a if a >= 1e6 => trim(format!("{:.2}", v / 1e6)) + "M",
        a if a >= k_from => trim(format!("{:.1}", v / 1e3)) + "k",
        _ => trim(format!("{v:.3}")),
    }
}

/// Text needs a TrueType font: `RL_FONT`, else a common system font.
fn register_system_font() -> Result<(), UsageError> {
    let candidates = [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/System/Library/Fonts/Supplemental/Arial.ttf",
        "/Library/Fonts/Arial.ttf",
        "C:\\Windows\\Fonts\\arial.ttf",
    ];
    let chosen = std::env::var("RL_FONT")
        .ok()
        .into_iter()
        .chain(candidates.iter().map(|c| c.to_string()));
    for path in chosen {
        if let Ok(bytes) = std::fs::read(&path) {
            // plotters keeps fonts for the whole process.
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            return register_font("sans-serif", FontStyle::Normal, bytes)
                .map_err(|_| UsageError::new(format!("{path}: not a TrueType font")));
        }
    }
    Err(UsageError::new(
        "rl plot needs a TrueType font: set RL_FONT=/path/to/font.ttf (Debian: apt install fonts-dejavu-core)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_labels() {
        assert_eq!(compact(20000.0, 1e4), "20k");
        assert_eq!(compact(5000.0, 1e3), "5k");
        assert_eq!(compact(5000.0, 1e4), "5000");
        assert_eq!(compact(1_500_000.0, 1e3), "1.5M");
        assert_eq!(compact(-200.0, 1e4), "-200");
        assert_eq!(compact(0.25, 1e4), "0.25");
        assert_eq!(compact(0.0, 1e4), "0");
    }

    #[test]
    fn x_range_parses_lo_dot_dot_hi() {
        let r: XRange = "2..50".parse().unwrap();
        assert_eq!((r.lo, r.hi), (2.0, 50.0));
        let r: XRange = " -1.5 .. 1e3".parse().unwrap();
        assert_eq!((r.lo, r.hi), (-1.5, 1000.0));
        for bad in ["50..2", "3..3", "2-50", "..50", "a..b", "0..inf"] {
            assert!(bad.parse::<XRange>().is_err(), "{bad}");
        }
    }

    #[test]
    fn trailing_moving_average() {
        assert_eq!(
            moving_average(&[1.0, 3.0, 5.0, 7.0], 2),
            [1.0, 2.0, 4.0, 6.0]
        );
        assert_eq!(moving_average(&[1.0, 3.0], 1), [1.0, 3.0]);
        assert_eq!(moving_average(&[1.0, 3.0], 0), [1.0, 3.0]);
    }
}
