//! `index.html`: the report as one page for people who would rather look than read.
//! It leads with the headline, where the new users came from and its caveats, links
//! to the report's files, then the last day's numbers with their change since the day
//! before and the week before, where a period's new users came from, its growth waves,
//! the charts (each with its text alternative), the software and language splits, what
//! was left out as suspect over the report and why, the notes and the method.
//!
//! The page is self-contained so that it opens from disk and can be mailed or archived
//! as one file: the charts are inline SVG, the style is one inline `<style>` on the
//! system font stack, and there are no scripts; its only links are to the files of its
//! report ([`Page`] says where those are). It fits a 390-pixel phone screen without
//! scrolling sideways (wide tables scroll inside their box). Every string that comes
//! from data (software and domain names, reasons, notes, the headline) is written
//! through [`Escaped`]: a server may call its software `<script>`.
//!
//! Scrapers and tests find the key numbers by id, as `<data value="raw">`: `servers-up`,
//! `users-total`, `active-month`, `active-halfyear`, `posts-local`, each with `-day` and
//! `-week` for its change, and `servers-new` with `-week` for the new servers of the 7
//! days through the day (a `<span>` holding "—" when the report does not reach back that
//! far); `growth-continuing`, `growth-newly-counted`, `growth-stopped`,
//! `signups-estimated` for a period; and `headline`, `headline-split`, `caveats`,
//! `files`, `by-software`, `by-language`, `waves`, `excluded`.
//!
//! Types: [`Escaped`] (text made safe for HTML), [`Page`] (where the links point, and
//! the dashboard's period picker); [`index_html`] is the entry point.

mod sections;

use std::fmt::{self, Write};

use crate::day::Day;
use crate::number::{signed, thousands};
use crate::render::charts::Chart;
use crate::render::servers::NEW_SERVERS_CSV;
use crate::report::headline::caveats;
use crate::report::stats::{Coverage, DayReport, Flagged, SplitRow, METHOD};
use crate::report::Report;

const STYLE: &str = r#"
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0;
  --card: #fff; --up: #1a7f37; --down: #cf222e; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f8fa; color: var(--fg); line-height: 1.5;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans",
    "Liberation Sans", "Helvetica Neue", Arial, sans-serif; }
main { max-width: 64rem; margin: 0 auto; padding: 2rem 1.25rem 3rem; }
@media (max-width: 40rem) { main { padding: 1rem .75rem 2rem; } h1 { font-size: 1.6rem; }
  .headline { font-size: 1.15rem; } th, td { padding: .35rem .5rem; } }
h1 { font-size: 2rem; line-height: 1.2; margin: 0; }
h2 { font-size: 1.35rem; margin: 2.5rem 0 .75rem; }
.date { color: var(--muted); margin: .25rem 0 1.25rem; }
.headline { font-size: 1.35rem; font-weight: 600; margin: 0 0 .5rem; }
.caveats, .small { color: var(--muted); }
.tiles { display: grid; gap: 1rem;
  grid-template-columns: repeat(auto-fill, minmax(min(16rem, 100%), 1fr)); }
.scroll { overflow-x: auto; max-width: 100%; }
nav ul { display: flex; flex-wrap: wrap; gap: .25rem 1rem; padding: 0; list-style: none; }
figcaption { color: var(--muted); font-size: .9rem; padding: .25rem .5rem; }
form.picker { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; }
form.picker label { display: flex; flex-direction: column; font-size: .9rem; }
.tile, figure, table { background: var(--card); border: 1px solid var(--line);
  border-radius: .5rem; }
.tile { padding: 1rem 1.25rem; }
.tile h3 { font-size: 1rem; color: var(--muted); margin: 0; }
.tile p { margin: 0; }
.value { font-size: 2.1rem; font-weight: 700; font-variant-numeric: tabular-nums; }
.change data, .change span { font-weight: 600; font-variant-numeric: tabular-nums; }
.what { color: var(--muted); font-size: .9rem; margin: 0; }
.up { color: var(--up); }
.down { color: var(--down); }
.same, .unknown { color: var(--muted); }
figure { margin: 0 0 1rem; padding: .5rem; }
figure svg { display: block; width: 100%; height: auto; }
table { border-collapse: separate; border-spacing: 0; width: 100%; overflow: hidden; }
th, td { padding: .45rem .9rem; text-align: left; border-bottom: 1px solid var(--line); }
tr:last-child td { border-bottom: 0; }
th { background: #eef1f4; }
.n { text-align: right; font-variant-numeric: tabular-nums; }
.domain { overflow-wrap: anywhere; font-family: ui-monospace, "SFMono-Regular", Menlo,
  Consolas, "Liberation Mono", monospace; }
details { margin-top: 2rem; }
summary { cursor: pointer; font-weight: 600; }
footer { margin-top: 2rem; color: var(--muted); font-size: .9rem; }
"#;

/// Text to be written into HTML, element content or a quoted attribute alike: the
/// characters that could end either are written as entities.
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..at])?;
            f.write_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[at + 1..];
        }
        f.write_str(rest)
    }
}

/// How a number's change over a span (D−k, D] is computed.
enum Kind {
    /// A count on the day: the change is the difference between the span's ends.
    Level(fn(&DayReport) -> i64),
    /// Events of each day: the change is their sum over the span, unknown when a day
    /// in it has no count (the census's first day has no new servers).
    Flow(fn(&DayReport) -> Option<u64>),
}

/// A key number of the page.
struct Measure {
    id: &'static str,
    label: &'static str,
    kind: Kind,
    /// How many of the servers up reported it; `None` for counts of servers.
    coverage: Option<fn(&Coverage) -> u64>,
}

const MEASURES: [Measure; 6] = [
    Measure {
        id: "servers-up",
        label: "Servers up",
        kind: Kind::Level(|d| d.servers.up as i64),
        coverage: None,
    },
    Measure {
        id: "users-total",
        label: "Users",
        kind: Kind::Level(|d| d.users.total),
        coverage: Some(|c| c.users_total),
    },
    Measure {
        id: "active-month",
        label: "Monthly active users",
        kind: Kind::Level(|d| d.users.active_month),
        coverage: Some(|c| c.active_month),
    },
    Measure {
        id: "active-halfyear",
        label: "Half-year active users",
        kind: Kind::Level(|d| d.users.active_halfyear),
        coverage: Some(|c| c.active_halfyear),
    },
    Measure {
        id: "posts-local",
        label: "Local posts",
        kind: Kind::Level(|d| d.posts.local),
        coverage: Some(|c| c.local_posts),
    },
    Measure {
        id: "servers-new",
        label: "New servers",
        kind: Kind::Flow(|d| d.servers.new),
        coverage: None,
    },
];

impl Kind {
    fn on(&self, day: &DayReport) -> Option<i64> {
        match self {
            Kind::Level(value) => Some(value(day)),
            Kind::Flow(count) => count(day).map(|n| n as i64),
        }
    }

    /// `span` runs from D−k through D.
    fn change(&self, span: &[DayReport]) -> Option<i64> {
        match (self, span) {
            (Kind::Level(value), [first, .., last]) => {
                Some(value(last).saturating_sub(value(first)))
            }
            (Kind::Flow(_), [_, after @ ..]) => after.iter().map(|d| self.on(d)).sum(),
            _ => None,
        }
    }
}

/// Where the page's links to its report's files point, and what the page adds for the
/// dashboard.
#[derive(Debug, Clone, Copy, Default)]
pub struct Page<'a> {
    /// Put before each file name: "" next to the files, "2024-01-02/" from the
    /// reports directory, "/report/" on the dashboard.
    pub base: &'a str,
    /// Put after each file name: the dashboard's `?since=…&until=…`.
    pub query: &'a str,
    /// The dashboard's period picker: the first and last day it offers.
    pub picker: Option<(Day, Day)>,
}

impl Page<'_> {
    fn href(&self, file: &str) -> String {
        format!("{}{file}{}", self.base, self.query)
    }
}

/// The page for `report`: its numbers are those of the report's last day, D. The
/// changes need D−1 and D−7 among the report's days (a period report over (D−30, D]
/// has them); where they are missing, the change shows "—".
pub fn index_html(report: &Report, page: &Page) -> anyhow::Result<String> {
    let end = report.end();
    let date = end.date.in_words();
    let split = match report {
        Report::Period(p) => format!(
            "<p class=\"split\" id=\"headline-split\">{}</p>\n",
            Escaped(&p.headline_split)
        ),
        Report::Day(_) => String::new(),
    };
    let mut html = String::new();
    write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Fediverse census: {date}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <main>\n<header>\n<h1>Fediverse census</h1>\n<p class=\"date\">{}</p>\n\
         <p class=\"headline\" id=\"headline\">{}</p>\n{split}\
         <p class=\"caveats\" id=\"caveats\">{}</p>\n</header>\n",
        span_in_words(report),
        Escaped(report.headline()),
        Escaped(&caveats(end)),
    )?;
    if let Some(range) = page.picker {
        picker(&mut html, report, range)?;
    }
    files(&mut html, report, page)?;
    numbers(&mut html, report.days())?;
    if let Report::Period(period) = report {
        sections::growth(&mut html, period)?;
        sections::waves(&mut html, period)?;
    }
    charts(&mut html, report)?;
    software(&mut html, end)?;
    if let Report::Period(period) = report {
        html.push_str(&crate::render::servers::new_servers_html(
            &period.new_server_list,
            &page.href(NEW_SERVERS_CSV),
        ));
    }
    sections::languages(&mut html, end)?;
    sections::left_out(&mut html, report.days())?;
    // Only `--include-suspect` counts suspect servers; saying "none" otherwise would
    // suggest the rules found nothing.
    if !end.suspect_included.is_empty() {
        flagged(
            &mut html,
            "suspect-included",
            "Suspect data included",
            &end.suspect_included,
        )?;
    }
    notes(&mut html, end)?;
    write!(
        html,
        "<footer>Made by fedicensus {} from its database; every day is a UTC calendar \
         day.</footer>\n</main>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    )?;
    Ok(html)
}

/// "November 5, 2022 (UTC)" or "October 27 to November 5, 2022 (UTC)".
fn span_in_words(report: &Report) -> String {
    match report {
        Report::Day(only) => format!("{} (UTC)", only.day.date.in_words()),
        Report::Period(p) => format!("{} to {} (UTC)", p.since.in_words(), p.until.in_words()),
    }
}

/// The dashboard's period picker: a plain GET form, so it needs no script.
fn picker(html: &mut String, report: &Report, (first, last): (Day, Day)) -> fmt::Result {
    let since = report.days()[0].date;
    let until = report.end().date;
    write!(
        html,
        "<form class=\"picker\" id=\"picker\" method=\"get\" action=\"/\">\n\
         <label>From (exclusive)<input type=\"date\" name=\"since\" value=\"{since}\" \
         min=\"{first}\" max=\"{last}\"></label>\n\
         <label>Through<input type=\"date\" name=\"until\" value=\"{until}\" \
         min=\"{first}\" max=\"{last}\"></label>\n\
         <button type=\"submit\">Show</button>\n</form>\n"
    )
}

/// Links to the report's files: the data first, then each chart.
fn files(html: &mut String, report: &Report, page: &Page) -> fmt::Result {
    html.push_str("<nav id=\"files\" aria-label=\"The report's files\">\n<ul>\n");
    for (file, what) in [
        ("report.json", "Report (JSON)"),
        ("days.csv", "Days (CSV)"),
        ("report.md", "Report (Markdown)"),
    ] {
        writeln!(
            html,
            "<li><a href=\"{}\">{what}</a></li>",
            Escaped(&page.href(file))
        )?;
    }
    // A period's directory (and the dashboard) also holds its new servers.
    if let Report::Period(_) = report {
        writeln!(
            html,
            "<li><a href=\"{}\">New servers (CSV)</a></li>",
            Escaped(&page.href(NEW_SERVERS_CSV))
        )?;
    }
    for chart in Chart::of(report) {
        writeln!(
            html,
            "<li><a href=\"{}\">Chart: {} (SVG)</a></li>",
            Escaped(&page.href(&format!("{}.svg", chart.name()))),
            chart.name().replace('-', " ")
        )?;
    }
    html.push_str("</ul>\n</nav>\n");
    Ok(())
}

/// The charts, each with its description as its text alternative.
fn charts(html: &mut String, report: &Report) -> anyhow::Result<()> {
    html.push_str("<section id=\"charts\">\n<h2>Charts</h2>\n");
    if report.days().len() == 1 {
        html.push_str(
            "<p class=\"small\">A one-day report has no daily charts: report a period \
             (--since) to see the trend.</p>\n",
        );
    }
    for chart in Chart::of(report) {
        let name = chart.name();
        let svg = chart.svg(report)?.replacen(
            "<svg ",
            &format!("<svg role=\"img\" aria-labelledby=\"chart-{name}-desc\" "),
            1,
        );
        write!(
            html,
            "<figure id=\"chart-{name}\">\n{svg}<figcaption id=\"chart-{name}-desc\">{}\
             </figcaption>\n</figure>\n",
            Escaped(&chart.describe(report))
        )?;
    }
    html.push_str("</section>\n");
    Ok(())
}

/// The tiles of the key numbers on the last day, each with its change since one day
/// and one week before.
fn numbers(html: &mut String, days: &[DayReport]) -> fmt::Result {
    let end = &days[days.len() - 1];
    // The days from D−k through D, if the report reaches back to D−k.
    let span = |k: i64| {
        let from = end.date.add_days(-k);
        days.iter()
            .position(|d| d.date == from)
            .map(|at| &days[at..])
    };
    let spans = [("day", 1), ("week", 7)].map(|(suffix, k)| (suffix, k, span(k)));
    write!(
        html,
        "<section id=\"numbers\">\n<h2>Numbers on {}</h2>\n<div class=\"tiles\">\n",
        end.date.in_words()
    )?;
    for m in &MEASURES {
        write!(
            html,
            "<div class=\"tile\">\n<h3>{}</h3>\n<p class=\"value\">",
            m.label
        )?;
        number(html, m.id, m.kind.on(end), false)?;
        html.push_str("</p>\n");
        let (what, spans) = match m.kind {
            Kind::Level(_) => (format!("on {}", end.date.month_day()), &spans[..]),
            // A day's new servers are the value itself; only the week adds to it.
            Kind::Flow(_) => (
                format!("first counted on {}", end.date.month_day()),
                &spans[1..],
            ),
        };
        writeln!(html, "<p class=\"what\">{what}</p>")?;
        for (suffix, k, span) in spans {
            html.push_str("<p class=\"change\">");
            let change = span.and_then(|s| m.kind.change(s));
            let id = format!("{}-{suffix}", m.id);
            match m.kind {
                Kind::Level(_) => {
                    number(html, &id, change, true)?;
                    writeln!(
                        html,
                        " change since {}</p>",
                        end.date.add_days(-k).month_day()
                    )?;
                }
                Kind::Flow(_) => {
                    number(html, &id, change, false)?;
                    writeln!(
                        html,
                        " in all over the {k} days through {}</p>",
                        end.date.month_day()
                    )?;
                }
            }
        }
        if let Some(covered) = m.coverage {
            writeln!(
                html,
                "<p class=\"small\">reported by {} of {} servers</p>",
                thousands(covered(&end.coverage) as i64),
                thousands(end.servers.up as i64)
            )?;
        }
        html.push_str("</div>\n");
    }
    html.push_str("</div>\n");
    if spans.iter().any(|(_, _, span)| span.is_none()) {
        html.push_str(
            "<p class=\"small\">—: the report does not reach back that far (the census is \
             younger, or the period shorter), so there is nothing to compare with.</p>\n",
        );
    }
    html.push_str("</section>\n");
    Ok(())
}

/// `<data id value>` for a known number, a "—" otherwise. A change is shown signed and
/// coloured by its sign; a count is shown plain.
fn number(html: &mut String, id: &str, n: Option<i64>, change: bool) -> fmt::Result {
    let Some(n) = n else {
        return write!(html, "<span id=\"{id}\" class=\"unknown\">—</span>");
    };
    if !change {
        return write!(
            html,
            "<data id=\"{id}\" value=\"{n}\">{}</data>",
            thousands(n)
        );
    }
    let class = match n.signum() {
        1 => "up",
        -1 => "down",
        _ => "same",
    };
    write!(
        html,
        "<data id=\"{id}\" class=\"{class}\" value=\"{n}\">{}</data>",
        signed(n)
    )
}

fn software(html: &mut String, day: &DayReport) -> fmt::Result {
    html.push_str("<section>\n<h2>By software</h2>\n");
    if day.by_software.is_empty() {
        html.push_str("<p>No servers counted.</p>\n</section>\n");
        return Ok(());
    }
    split_table(html, "by-software", "Software", &day.software_rows())?;
    html.push_str("</section>\n");
    Ok(())
}

/// A split as a table: the name, then servers, users and monthly active users.
fn split_table(html: &mut String, id: &str, name: &str, rows: &[SplitRow]) -> fmt::Result {
    write!(
        html,
        "<div class=\"scroll\"><table id=\"{id}\">\n<thead><tr><th>{name}</th>\
         <th class=\"n\">Servers</th><th class=\"n\">Users</th>\
         <th class=\"n\">Monthly active users</th></tr></thead>\n<tbody>\n"
    )?;
    for row in rows {
        writeln!(
            html,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td></tr>",
            Escaped(row.name),
            thousands(row.counts.servers as i64),
            thousands(row.counts.users_total),
            thousands(row.counts.active_month)
        )?;
    }
    html.push_str("</tbody>\n</table></div>\n");
    Ok(())
}

/// The flagged servers with their reasons.
fn flagged(html: &mut String, id: &str, title: &str, servers: &[Flagged]) -> fmt::Result {
    write!(html, "<section>\n<h2>{title}</h2>\n")?;
    if servers.is_empty() {
        write!(html, "<p id=\"{id}\">None.</p>\n</section>\n")?;
        return Ok(());
    }
    write!(
        html,
        "<div class=\"scroll\"><table id=\"{id}\">\n<thead><tr><th>Server</th><th>Reason</th></tr></thead>\n<tbody>\n"
    )?;
    for f in servers {
        writeln!(
            html,
            "<tr><td class=\"domain\">{}</td><td>{}</td></tr>",
            Escaped(f.domain.as_str()),
            Escaped(&f.reason)
        )?;
    }
    html.push_str("</tbody>\n</table></div>\n</section>\n");
    Ok(())
}

/// The day's notes and the method, folded: the rules behind every number.
fn notes(html: &mut String, day: &DayReport) -> fmt::Result {
    if !day.notes.is_empty() {
        html.push_str("<section id=\"notes\">\n<h2>Notes</h2>\n<ul>\n");
        for note in &day.notes {
            writeln!(html, "<li>{}</li>", Escaped(note))?;
        }
        html.push_str("</ul>\n</section>\n");
    }
    html.push_str("<details id=\"method\">\n<summary>How the census counts</summary>\n<ul>\n");
    for rule in METHOD.lines().filter_map(|l| l.strip_prefix("- ")) {
        writeln!(html, "<li>{}</li>", Escaped(rule))?;
    }
    html.push_str("</ul>\n</details>\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_what_ends_text_or_attributes() {
        let escaped = |s: &str| Escaped(s).to_string();
        assert_eq!(
            escaped("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(escaped(r#"a"b'c&d"#), "a&quot;b&#39;c&amp;d");
        assert_eq!(escaped("&amp;"), "&amp;amp;");
        assert_eq!(
            escaped("mastodon.social — ünïcode"),
            "mastodon.social — ünïcode"
        );
        assert_eq!(escaped(""), "");
    }

    #[test]
    fn the_method_is_a_list_of_rules() {
        // The page lists METHOD's bullets; a reworded METHOD must keep that shape.
        let rules = METHOD.lines().filter(|l| l.starts_with("- ")).count();
        assert_eq!(rules, METHOD.lines().count());
    }
}
