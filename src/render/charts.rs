//! Charts of a report, each as SVG and PNG: users and monthly active users per day
//! (lines), servers up per day (line), new servers per day (bars with their values,
//! on an axis of their own), monthly active users by software on the report's last day
//! (top 8 and the rest, bars) and by declared language (top 10, bars). Days with data
//! left out as suspect are marked on the daily charts; growth waves are shaded on the
//! users and new-servers charts.
//!
//! Text is drawn with the embedded DejaVu Sans, registered once, so no system font
//! library is needed. A one-day report has no daily charts: a line of one point says
//! nothing ([`Chart::of`]).
//!
//! Types: [`Chart`] (one chart; [`Chart::svg`] draws it to a string, which the HTML
//! page inlines, [`Chart::describe`] says what it shows in words, for people who cannot
//! see it); [`write_charts`] writes the files, [`SIZE`] is every chart's size.

use std::path::{Path, PathBuf};
use std::sync::Once;

use anyhow::{anyhow, Context};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{register_font, FontStyle};

use crate::number::thousands;
use crate::report::stats::DayReport;
use crate::report::Report;

/// Pixel size of every chart: small enough that its text stays readable when a phone
/// shrinks it to the screen's width.
pub const SIZE: (u32, u32) = (800, 450);
/// Software shown by name in the software chart; the rest are summed in one bar.
const TOP_SOFTWARE: usize = 8;
/// Languages shown in the language chart (a server may declare several, so the rest
/// are not summed: that would count some servers twice).
const TOP_LANGUAGES: usize = 10;
const FONT: &str = "sans-serif";
const LEFT_OUT: RGBColor = RGBColor(230, 120, 0);
const WAVE: RGBColor = RGBColor(240, 200, 40);

/// One of the report's charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chart {
    /// Users and monthly active users per day (lines), growth waves shaded.
    Users,
    /// Servers up per day (line).
    Servers,
    /// New servers per day (bars with their values), growth waves shaded.
    NewServers,
    /// Monthly active users by software on the last day: the top 8, then the rest (bars).
    Software,
    /// Monthly active users by declared language on the last day, the top 10 (bars).
    Languages,
}

impl Chart {
    /// Every chart, in the order reports show them.
    pub const ALL: [Chart; 5] = [
        Chart::Users,
        Chart::Servers,
        Chart::NewServers,
        Chart::Software,
        Chart::Languages,
    ];

    /// The charts `report` has: all of them for a period, only the last day's splits
    /// for a one-day report.
    pub fn of(report: &Report) -> impl Iterator<Item = Chart> {
        let daily = report.days().len() > 1;
        Chart::ALL
            .into_iter()
            .filter(move |c| daily || !c.is_daily())
    }

    fn is_daily(self) -> bool {
        matches!(self, Chart::Users | Chart::Servers | Chart::NewServers)
    }

    /// The file stem, also usable as an HTML id.
    pub fn name(self) -> &'static str {
        match self {
            Chart::Users => "users",
            Chart::Servers => "servers",
            Chart::NewServers => "new-servers",
            Chart::Software => "software",
            Chart::Languages => "languages",
        }
    }

    /// The chart as an SVG document of [`SIZE`] (with a `viewBox`, so it scales when
    /// inlined in HTML).
    pub fn svg(self, report: &Report) -> anyhow::Result<String> {
        let mut svg = String::new();
        draw(
            self,
            report,
            SVGBackend::with_string(&mut svg, SIZE).into_drawing_area(),
        )
        .map_err(|e| anyhow!("cannot draw the {} chart: {e}", self.name()))?;
        Ok(svg)
    }

    /// What the chart shows, in words: its text alternative.
    pub fn describe(self, report: &Report) -> String {
        let days = report.days();
        let (first, last) = (&days[0], report.end());
        let from_to = |what: &str, value: fn(&DayReport) -> i64| {
            format!(
                "{what}: {} on {} and {} on {}",
                thousands(value(first)),
                first.date.in_words(),
                thousands(value(last)),
                last.date.in_words()
            )
        };
        let left_out = days.iter().filter(|d| !d.excluded.is_empty()).count();
        let marks = match left_out {
            0 => String::new(),
            n => format!(
                " Marked: {n} {} with data left out as suspect.",
                if n == 1 { "day" } else { "days" }
            ),
        };
        let shaded = match report {
            Report::Period(p) if !p.waves.is_empty() => {
                let names: Vec<&str> = p.waves.iter().map(|w| w.name.as_str()).collect();
                format!("{marks} Shaded: {}.", names.join(", "))
            }
            _ => marks.clone(),
        };
        let bars = |names: Vec<String>, values: Vec<i64>| {
            let items: Vec<String> = names
                .iter()
                .zip(&values)
                .map(|(n, v)| format!("{n} {}", thousands(*v)))
                .collect();
            match items.is_empty() {
                true => "none".to_string(),
                false => items.join(", "),
            }
        };
        match self {
            Chart::Users => format!(
                "Line chart. {}; {}.{shaded}",
                from_to("Users", |d| d.users.total),
                from_to("monthly active users", |d| d.users.active_month)
            ),
            Chart::Servers => format!(
                "Line chart. {}.{marks}",
                from_to("Servers up", |d| d.servers.up as i64)
            ),
            Chart::NewServers => {
                let new: Vec<(String, u64)> = days[1..]
                    .iter()
                    .filter_map(|d| Some((d.date.month_day(), d.servers.new?)))
                    .filter(|(_, n)| *n > 0)
                    .collect();
                let listed: Vec<String> = new.iter().map(|(d, n)| format!("{d}: {n}")).collect();
                format!(
                    "Bar chart of new servers per day. {} in all{}{}.{shaded}",
                    thousands(new.iter().map(|(_, n)| *n as i64).sum()),
                    if listed.is_empty() { "" } else { "; " },
                    listed.join(", ")
                )
            }
            Chart::Software => {
                let (names, active) = software_split(last);
                format!(
                    "Bar chart of monthly active users by software on {}: {}.",
                    last.date.in_words(),
                    bars(names, active)
                )
            }
            Chart::Languages => {
                let (names, active) = language_split(last);
                format!(
                    "Bar chart of monthly active users by declared language on {}: {}.",
                    last.date.in_words(),
                    bars(names, active)
                )
            }
        }
    }
}

/// Writes the report's charts ([`Chart::of`]) as `.svg` and `.png` into `dir`,
/// returning the paths written.
pub fn write_charts(report: &Report, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for chart in Chart::of(report) {
        let svg = dir.join(format!("{}.svg", chart.name()));
        std::fs::write(&svg, chart.svg(report)?)
            .with_context(|| format!("cannot write {}", svg.display()))?;
        let png = dir.join(format!("{}.png", chart.name()));
        draw(
            chart,
            report,
            BitMapBackend::new(&png, SIZE).into_drawing_area(),
        )
        .map_err(|e| anyhow!("cannot draw {}: {e}", png.display()))?;
        written.extend([svg, png]);
    }
    Ok(written)
}

/// Registers the embedded DejaVu Sans under [`FONT`]: every backend lays text out
/// with it, and a process needs it only once.
fn register_fonts() {
    static FONTS: Once = Once::new();
    FONTS.call_once(|| {
        for (style, bytes) in [
            (FontStyle::Normal, dejavu::sans::regular()),
            (FontStyle::Bold, dejavu::sans::bold()),
        ] {
            register_font(FONT, style, bytes)
                .unwrap_or_else(|_| panic!("the embedded DejaVu Sans is a valid font"));
        }
    });
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;
type Frame<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

fn draw<DB: DrawingBackend>(
    chart: Chart,
    report: &Report,
    root: DrawingArea<DB, Shift>,
) -> DrawResult<DB> {
    register_fonts();
    root.fill(&WHITE)?;
    let days = report.days();
    let dates: Vec<String> = days
        .iter()
        .map(|d| d.date.date().format("%b %-d").to_string())
        .collect();
    let span = match (days.first(), report.end()) {
        (Some(first), last) if first.date != last.date => {
            format!("{} to {}", first.date.month_day(), last.date.in_words())
        }
        (_, last) => last.date.in_words(),
    };
    let left_out: Vec<usize> = (0..days.len())
        .filter(|&i| !days[i].excluded.is_empty())
        .collect();
    let wave_spans: Vec<(usize, usize)> = match report {
        Report::Period(p) => p
            .waves
            .iter()
            .filter_map(|w| {
                let at = |day| days.iter().position(|d| d.date == day);
                Some((at(w.start)?, at(w.end)?))
            })
            .collect(),
        Report::Day(_) => Vec::new(),
    };
    let on_day = format!("on {}", report.end().date.in_words());
    match chart {
        Chart::Users => {
            let total: Vec<i64> = days.iter().map(|d| d.users.total).collect();
            let active: Vec<i64> = days.iter().map(|d| d.users.active_month).collect();
            let y_max = max(&[&total, &active]);
            let mut frame = frame(&root, &format!("Users, {span}"), &dates, "Users", y_max)?;
            waves(&mut frame, &wave_spans, y_max)?;
            line(&mut frame, "Users", &total, BLUE)?;
            line(&mut frame, "Monthly active users", &active, RED)?;
            marks(&mut frame, &left_out, y_max)?;
            legend(&mut frame)?;
        }
        Chart::Servers => {
            let up: Vec<i64> = days.iter().map(|d| d.servers.up as i64).collect();
            let y_max = max(&[&up]);
            let mut frame = frame(
                &root,
                &format!("Servers up, {span}"),
                &dates,
                "Servers up",
                y_max,
            )?;
            line(&mut frame, "Servers up", &up, BLUE)?;
            marks(&mut frame, &left_out, y_max)?;
            legend(&mut frame)?;
        }
        Chart::NewServers => {
            let new: Vec<i64> = days
                .iter()
                .map(|d| d.servers.new.unwrap_or(0) as i64)
                .collect();
            let y_max = max(&[&new]);
            let mut frame = frame(
                &root,
                &format!("New servers per day, {span}"),
                &dates,
                "New servers",
                y_max,
            )?;
            waves(&mut frame, &wave_spans, y_max)?;
            bars(&mut frame, "New servers", &new, GREEN, true)?;
            marks(&mut frame, &left_out, y_max)?;
            legend(&mut frame)?;
        }
        Chart::Software | Chart::Languages => {
            let (what, (names, active)) = match chart {
                Chart::Software => ("software", software_split(report.end())),
                _ => ("declared language", language_split(report.end())),
            };
            let title = format!("Monthly active users by {what}, {on_day}");
            let y_max = max(&[&active]);
            let mut frame = frame(&root, &title, &names, "Monthly active users", y_max)?;
            bars(&mut frame, "Monthly active users", &active, BLUE, false)?;
        }
    }
    root.present()
}

/// The top software by monthly active users, then one bar for the rest: named if it
/// is a single software (so chart and table agree), "N others" if more.
fn software_split(day: &DayReport) -> (Vec<String>, Vec<i64>) {
    let rows = &day.by_software;
    let shown = if rows.len() == TOP_SOFTWARE + 1 {
        rows.len()
    } else {
        TOP_SOFTWARE
    };
    let (mut names, mut active): (Vec<String>, Vec<i64>) = rows
        .iter()
        .take(shown)
        .map(|r| (r.software.clone(), r.counts.active_month))
        .unzip();
    if rows.len() > shown {
        names.push(format!("{} others", rows.len() - shown));
        active.push(rows[shown..].iter().map(|r| r.counts.active_month).sum());
    }
    (names, active)
}

/// The top declared languages by monthly active users.
fn language_split(day: &DayReport) -> (Vec<String>, Vec<i64>) {
    day.by_language
        .iter()
        .take(TOP_LANGUAGES)
        .map(|r| (r.language.clone(), r.counts.active_month))
        .unzip()
}

fn max(series: &[&[i64]]) -> i64 {
    series
        .iter()
        .flat_map(|s| s.iter().copied())
        .max()
        .unwrap_or(0)
}

/// Axes, title and labels: x is the index into `labels` (dates or names), y runs from
/// 0 to a little above `y_max`, titled `y_desc`, with few grid lines.
fn frame<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    labels: &[String],
    y_desc: &str,
    y_max: i64,
) -> Result<Frame<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    let n = labels.len().max(1) as f64;
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 24).into_font().style(FontStyle::Bold))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(90)
        .build_cartesian_2d(-0.5..n - 0.5, 0.0..top(y_max))?;
    let label = |x: &f64| {
        let i = x.round();
        let on_tick = (x - i).abs() < 1e-6 && i >= 0.0;
        labels
            .get(i as usize)
            .filter(|_| on_tick)
            .cloned()
            .unwrap_or_default()
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(BLACK.mix(0.12))
        .x_labels(match labels.len() {
            // Every name of a split; some dates of a long series.
            n @ 0..=10 => n.max(1),
            _ => 6,
        })
        .y_labels(5)
        .x_label_formatter(&label)
        .y_label_formatter(&|y| thousands(*y as i64))
        .y_desc(y_desc)
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 18))
        .draw()?;
    Ok(chart)
}

fn line<'a, DB: DrawingBackend + 'a>(
    frame: &mut Frame<'a, DB>,
    label: &str,
    values: &[i64],
    color: RGBColor,
) -> DrawResult<DB> {
    let points = values
        .iter()
        .enumerate()
        .map(|(i, v)| (i as f64, *v as f64));
    frame
        .draw_series(LineSeries::new(points, color.stroke_width(3)).point_size(4))?
        .label(label)
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(3)));
    Ok(())
}

fn bars<'a, DB: DrawingBackend + 'a>(
    frame: &mut Frame<'a, DB>,
    label: &str,
    values: &[i64],
    color: RGBColor,
    value_labels: bool,
) -> DrawResult<DB> {
    let style = color.mix(0.6).filled();
    let rects = values.iter().enumerate().map(|(i, v)| {
        let x = i as f64;
        Rectangle::new([(x - 0.35, 0.0), (x + 0.35, *v as f64)], style)
    });
    frame
        .draw_series(rects)?
        .label(label)
        .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], style));
    if value_labels {
        let font = (FONT, 15)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        let texts = values
            .iter()
            .enumerate()
            .filter(|(_, v)| **v > 0)
            .map(|(i, v)| Text::new(thousands(*v), (i as f64, *v as f64), font.clone()));
        frame.draw_series(texts)?;
    }
    Ok(())
}

/// The top of a chart's y axis: room above the data for the legend and the marks.
fn top(y_max: i64) -> f64 {
    y_max.max(1) as f64 * 1.3
}

/// Shades the days of each growth wave (`spans` of day indices, inclusive).
fn waves<'a, DB: DrawingBackend + 'a>(
    frame: &mut Frame<'a, DB>,
    spans: &[(usize, usize)],
    y_max: i64,
) -> DrawResult<DB> {
    if spans.is_empty() {
        return Ok(());
    }
    let style = WAVE.mix(0.25).filled();
    frame
        .draw_series(spans.iter().map(|&(start, end)| {
            Rectangle::new(
                [(start as f64 - 0.5, 0.0), (end as f64 + 0.5, top(y_max))],
                style,
            )
        }))?
        .label("Growth wave")
        .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], style));
    Ok(())
}

/// Marks the days at `indices` (those with data left out as suspect) above the data.
fn marks<'a, DB: DrawingBackend + 'a>(
    frame: &mut Frame<'a, DB>,
    indices: &[usize],
    y_max: i64,
) -> DrawResult<DB> {
    if indices.is_empty() {
        return Ok(());
    }
    let y = y_max.max(1) as f64 * 1.2;
    let style = LEFT_OUT.filled();
    frame
        .draw_series(
            indices
                .iter()
                .map(|&i| TriangleMarker::new((i as f64, y), 7, style)),
        )?
        .label("Day with data left out as suspect")
        .legend(move |(x, y)| TriangleMarker::new((x + 10, y), 7, style));
    Ok(())
}

fn legend<'a, DB: DrawingBackend + 'a>(frame: &mut Frame<'a, DB>) -> DrawResult<DB> {
    frame
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 15))
        .draw()
}
