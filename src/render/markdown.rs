//! The Markdown report: headline, its split and caveats first, then the numbers, where
//! a period's new users came from and its growth waves, the software and language
//! splits, what was left out and why, notes, the per-day series of a period, and the
//! method.
//!
//! Remote text (software names) goes through [`cell`], so a server cannot break a
//! table, add a heading or a link, or send escape sequences to the terminal that
//! `fedicensus report` prints to.
//!
//! Types: none; functions only.

use std::fmt::Write;

use crate::number::{signed, thousands};
use crate::render::wave_cells;
use crate::report::headline::caveats;
use crate::report::stats::{DayReport, Flagged, Growth, SplitRow, METHOD};
use crate::report::{PeriodReport, Report};

/// The whole report as Markdown: `report.md`, and `report --format md`.
pub fn markdown(report: &Report) -> String {
    let end = report.end();
    let mut md = String::new();
    let title = match report {
        Report::Day(_) => end.date.in_words(),
        Report::Period(p) => format!("{} to {}", p.since.in_words(), p.until.in_words()),
    };
    // Writing to a String cannot fail.
    let _ = writeln!(md, "# Fediverse census: {title}\n");
    let split = match report {
        Report::Day(_) => String::new(),
        Report::Period(p) => format!("{} ", p.headline_split),
    };
    let _ = writeln!(md, "**{}** {split}{}\n", report.headline(), caveats(end));
    numbers(&mut md, end);
    if let Report::Period(period) = report {
        growth(&mut md, period);
        waves(&mut md, period);
    }
    software(&mut md, end);
    languages(&mut md, end);
    flagged(&mut md, "Left out as suspect data", &end.excluded);
    flagged(&mut md, "Suspect data included", &end.suspect_included);
    if !end.notes.is_empty() {
        md.push_str("## Notes\n\n");
        for note in &end.notes {
            let _ = writeln!(md, "- {note}");
        }
        md.push('\n');
    }
    if let Report::Period(period) = report {
        md.push_str(&crate::render::servers::new_servers_markdown(
            &period.new_server_list,
        ));
        per_day(&mut md, period);
    }
    let _ = write!(md, "## Method\n\n{METHOD}");
    md
}

fn numbers(md: &mut String, day: &DayReport) {
    let s = &day.servers;
    let up = s.up as i64;
    let covered = |n: u64| format!("{} of {}", thousands(n as i64), thousands(up));
    let new = s
        .new
        .map_or("n/a (first day)".to_string(), |n| thousands(n as i64));
    let rows = [
        ("Servers up", thousands(up), String::new()),
        (
            "… answered that day",
            thousands(s.observed as i64),
            String::new(),
        ),
        (
            "… carried forward (silent ≤ 7 days)",
            thousands(s.carried_forward as i64),
            String::new(),
        ),
        ("New servers", new, String::new()),
        (
            "Gone (30 days silent)",
            thousands(s.gone as i64),
            String::new(),
        ),
        (
            "Left out as suspect",
            thousands(s.excluded as i64),
            String::new(),
        ),
        (
            "Users",
            thousands(day.users.total),
            covered(day.coverage.users_total),
        ),
        (
            "Monthly active users",
            thousands(day.users.active_month),
            covered(day.coverage.active_month),
        ),
        (
            "Half-year active users",
            thousands(day.users.active_halfyear),
            covered(day.coverage.active_halfyear),
        ),
        (
            "Local posts",
            thousands(day.posts.local),
            covered(day.coverage.local_posts),
        ),
    ];
    let _ = writeln!(md, "## Numbers on {}\n", day.date.in_words());
    md.push_str("| | Count | Reported by (servers) |\n|---|---:|---:|\n");
    for (label, value, coverage) in rows {
        let _ = writeln!(md, "| {label} | {value} | {coverage} |");
    }
    md.push('\n');
}

/// The last day's split by software: also what `report --by software` prints.
pub fn software(md: &mut String, day: &DayReport) {
    md.push_str("## By software\n\n");
    if day.by_software.is_empty() {
        md.push_str("No servers counted.\n\n");
        return;
    }
    split_table(md, "Software", &day.software_rows());
}

/// A split as a table: the name, then servers, users and monthly active users.
fn split_table(md: &mut String, name: &str, rows: &[SplitRow]) {
    let _ = writeln!(
        md,
        "| {name} | Servers | Users | Monthly active users |\n|---|---:|---:|---:|"
    );
    for row in rows {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            cell(row.name),
            thousands(row.counts.servers as i64),
            thousands(row.counts.users_total),
            thousands(row.counts.active_month)
        );
    }
    md.push('\n');
}

/// The period's change in users, split by where it happened, and the sign-ups.
fn growth(md: &mut String, period: &PeriodReport) {
    let g = &period.growth;
    let servers = |n: u64| thousands(n as i64);
    let _ = writeln!(
        md,
        "## Where the new users came from\n\n| | Servers | Users |\n|---|---:|---:|\n\
         | Change on servers counted on both days | {} | {} |\n\
         | Existing users of newly counted servers (found, not joined) | {} | {} |\n\
         | Users of servers no longer counted | {} | {} |\n\
         | **New users** | | **{}** |\n\
         | Sign-ups reported by the servers that publish them | {} of {} | about {} |\n",
        servers(g.continuing.servers),
        signed(g.continuing.users),
        servers(g.newly_counted.servers),
        signed(g.newly_counted.users),
        servers(g.stopped_counting.servers),
        signed(-g.stopped_counting.users),
        signed(period.new_users),
        servers(period.signups.servers_reporting),
        servers(period.servers_up),
        thousands(period.signups.estimated),
    );
}

fn waves(md: &mut String, period: &PeriodReport) {
    md.push_str("## Growth waves\n\n");
    if period.waves.is_empty() {
        md.push_str("No day of the period was high enough to be part of a wave.\n\n");
        return;
    }
    md.push_str(
        "| Wave | Start | Peak | End | New users | New servers | Servers that grew most |\n\
         |---|---|---|---|---:|---:|---|\n",
    );
    for w in &period.waves {
        let [name, start, peak, end, users, servers, top] = wave_cells(w, |d| format!("`{d}`"));
        let name = cell(&name);
        let _ = writeln!(
            md,
            "| {name} | {start} | {peak} | {end} | {users} | {servers} | {top} |"
        );
    }
    md.push('\n');
}

/// The last day's split by declared language, with its coverage: also what `report
/// --by language` prints.
pub fn languages(md: &mut String, day: &DayReport) {
    md.push_str("## By declared language\n\n");
    let _ = writeln!(
        md,
        "{} of {} servers declared at least one language; a server declaring several is \
         counted under each. Not a split by country: see the Method.\n",
        thousands(day.coverage.languages as i64),
        thousands(day.servers.up as i64)
    );
    if day.by_language.is_empty() {
        return;
    }
    split_table(md, "Language", &day.language_rows());
}

/// Text for a table cell: cleaned like all remote text ([`crate::text::clean`]: no
/// newline, control character or escape sequence), then with whatever Markdown reads as
/// structure escaped: `|` (a cell's end), `[` and `]` (links), `<` and `>` (HTML,
/// autolinks), backticks (code), `\` itself, and a leading `#` (a heading).
pub fn cell(text: &str) -> String {
    let clean = crate::text::clean(text).unwrap_or_default();
    let mut out = String::with_capacity(clean.len() + 8);
    for (i, c) in clean.chars().enumerate() {
        if matches!(c, '|' | '[' | ']' | '<' | '>' | '`' | '\\') || (i == 0 && c == '#') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn flagged(md: &mut String, title: &str, servers: &[Flagged]) {
    if servers.is_empty() {
        return;
    }
    let _ = writeln!(md, "## {title}\n");
    for f in servers {
        let _ = writeln!(md, "- `{}`: {}", f.domain, f.reason);
    }
    md.push('\n');
}

fn per_day(md: &mut String, period: &PeriodReport) {
    md.push_str(
        "## Per day\n\n| Date | Servers up | New | Gone | Users | Change | … of it newly \
         counted | Sign-ups (est.) | Monthly active users |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for day in &period.days {
        let growth = |part: fn(&Growth) -> i64| {
            day.growth
                .as_ref()
                .map_or("–".to_string(), |g| signed(part(g)))
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            day.date,
            thousands(day.servers.up as i64),
            day.servers
                .new
                .map_or("–".to_string(), |n| thousands(n as i64)),
            thousands(day.servers.gone as i64),
            thousands(day.users.total),
            growth(Growth::total),
            growth(|g| g.newly_counted.users),
            thousands(day.signups.per_day()),
            thousands(day.users.active_month)
        );
    }
    md.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_out() {
        assert_eq!(
            cell("evil\n## Pwned | [click](javascript:alert(1)) <b>`x`</b>"),
            r"evil ## Pwned \| \[click\](javascript:alert(1)) \<b\>\`x\`\</b\>"
        );
        assert_eq!(cell("# heading"), r"\# heading");
        assert_eq!(cell("a\\|b"), r"a\\\|b");
        assert_eq!(cell("mastodon\u{1b}[31m"), r"mastodon \[31m");
        assert_eq!(cell("mastodon"), "mastodon");
    }
}
