//! Charts of a report, each as SVG and PNG: users and monthly active users per day
//! (lines), servers up per day (line) with new servers per day (bars), and monthly
//! active users by software on the report's last day (top 8 and the rest, bars).
//!
//! Text is drawn with the embedded DejaVu Sans, registered once, so no system font
//! library is needed. The x axis is a day index labelled with dates, so a one-day
//! report still gets a valid chart (one point).
//!
//! Types: [`Chart`] (one chart; [`Chart::svg`] draws it to a string, which the HTML
//! page inlines); [`write_charts`] writes the files, [`SIZE`] is every chart's size.

use std::path::{Path, PathBuf};
use std::sync::Once;

use anyhow::{anyhow, Context};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

use crate::render::number::thousands;
use crate::report::stats::DayReport;
use crate::report::Report;

/// Pixel size of every chart.
pub const SIZE: (u32, u32) = (1000, 600);
/// Software shown by name in the software chart; the rest are summed as "other".
const TOP_SOFTWARE: usize = 8;
const FONT: &str = "sans-serif";

/// One of the report's charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chart {
    Users,
    Servers,
    Software,
}

impl Chart {
    pub const ALL: [Chart; 3] = [Chart::Users, Chart::Servers, Chart::Software];

    /// The file stem, also usable as an HTML id.
    pub fn name(self) -> &'static str {
        match self {
            Chart::Users => "users",
            Chart::Servers => "servers",
            Chart::Software => "software",
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
}

/// Writes `users`, `servers` and `software` charts as `.svg` and `.png` into `dir`,
/// returning the paths written.
pub fn write_charts(report: &Report, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for chart in Chart::ALL {
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
            format!("{} to {}", first.date.in_words(), last.date.in_words())
        }
        (_, last) => last.date.in_words(),
    };
    let day_axis = "Day (UTC)";
    match chart {
        Chart::Users => {
            let total: Vec<i64> = days.iter().map(|d| d.users.total).collect();
            let active: Vec<i64> = days.iter().map(|d| d.users.active_month).collect();
            let mut frame = frame(
                &root,
                &format!("Users, {span}"),
                (day_axis, &dates),
                "Users",
                max(&[&total, &active]),
            )?;
            line(&mut frame, "Users", &total, BLUE)?;
            line(&mut frame, "Monthly active users", &active, RED)?;
            legend(&mut frame)?;
        }
        Chart::Servers => {
            let up: Vec<i64> = days.iter().map(|d| d.servers.up as i64).collect();
            let new: Vec<i64> = days
                .iter()
                .map(|d| d.servers.new.unwrap_or(0) as i64)
                .collect();
            let mut frame = frame(
                &root,
                &format!("Servers, {span}"),
                (day_axis, &dates),
                "Servers",
                max(&[&up, &new]),
            )?;
            bars(&mut frame, "New servers", &new, GREEN)?;
            line(&mut frame, "Servers up", &up, BLUE)?;
            legend(&mut frame)?;
        }
        Chart::Software => {
            let (names, active) = software_split(report.end());
            let title = format!(
                "Monthly active users by software, {}",
                report.end().date.in_words()
            );
            let mut frame = frame(
                &root,
                &title,
                ("Software", &names),
                "Monthly active users",
                max(&[&active]),
            )?;
            bars(&mut frame, "Monthly active users", &active, BLUE)?;
        }
    }
    root.present()
}

/// The top software by monthly active users, then "other" for the rest.
fn software_split(day: &DayReport) -> (Vec<String>, Vec<i64>) {
    let mut names: Vec<String> = Vec::new();
    let mut active: Vec<i64> = Vec::new();
    for row in day.by_software.iter().take(TOP_SOFTWARE) {
        names.push(row.software.clone());
        active.push(row.active_month);
    }
    if day.by_software.len() > TOP_SOFTWARE {
        names.push("other".into());
        active.push(
            day.by_software[TOP_SOFTWARE..]
                .iter()
                .map(|r| r.active_month)
                .sum(),
        );
    }
    (names, active)
}

fn max(series: &[&[i64]]) -> i64 {
    series
        .iter()
        .flat_map(|s| s.iter().copied())
        .max()
        .unwrap_or(0)
}

/// Axes, title and labels: x is the index into `labels` (dates or software names),
/// y runs from 0 to a little above `y_max`.
fn frame<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    (x_desc, labels): (&str, &[String]),
    y_desc: &str,
    y_max: i64,
) -> Result<Frame<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    let n = labels.len().max(1) as f64;
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 28).into_font().style(FontStyle::Bold))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(100)
        .build_cartesian_2d(-0.5..n - 0.5, 0.0..(y_max.max(1) as f64) * 1.1)?;
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
        .x_labels(labels.len().clamp(1, 10))
        .x_label_formatter(&label)
        .y_label_formatter(&|y| thousands(*y as i64))
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 17))
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
