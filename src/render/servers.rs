//! Server lists ([`ServerRow`]s) as a terminal table, CSV, and the Markdown section of
//! a report's new servers.
//!
//! Types: none; functions [`table`], [`csv`], [`new_servers_markdown`],
//! [`new_servers_html`].

use std::fmt::Write;

use chrono::SecondsFormat;

use crate::number::thousands;
use crate::render::html::Escaped;
use crate::render::markdown::cell;
use crate::report::servers::ServerRow;

/// The file, in a report directory, that lists every new server of the period.
pub(crate) const NEW_SERVERS_CSV: &str = "new_servers.csv";
/// How many new servers a report shows; the CSV has them all.
pub(crate) const NEW_SERVERS_SHOWN: usize = 50;

const HEADER: [&str; 12] = [
    "domain",
    "day",
    "counts",
    "rule",
    "software",
    "first_up",
    "read_at",
    "users_total",
    "active_month",
    "active_halfyear",
    "local_posts",
    "reason",
];

fn opt(n: Option<i64>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

fn instant(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
        .unwrap_or_default()
}

/// One row per server; unknown numbers are empty cells.
pub(crate) fn csv(rows: &[ServerRow]) -> String {
    use crate::report::servers::Standing;
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(HEADER)
        .expect("writing to memory cannot fail");
    for r in rows {
        let (rule, reason) = match &r.standing {
            Standing::Suspect { rule, reason, .. } => (rule.to_string(), reason.clone()),
            _ => (String::new(), String::new()),
        };
        out.write_record([
            r.domain.to_string(),
            r.day.to_string(),
            r.standing.describe(),
            rule,
            r.numbers.software.clone(),
            instant(r.numbers.first_up),
            instant(Some(r.numbers.read_at)),
            opt(r.numbers.users_total),
            opt(r.numbers.active_month),
            opt(r.numbers.active_halfyear),
            opt(r.numbers.local_posts),
            reason,
        ])
        .expect("writing to memory cannot fail");
    }
    String::from_utf8(out.into_inner().expect("writing to memory cannot fail"))
        .expect("csv of UTF-8 fields is UTF-8")
}

fn number(n: Option<i64>) -> String {
    n.map_or("?".into(), thousands)
}

/// An aligned table for a terminal, with a count line at the end.
pub(crate) fn table(rows: &[ServerRow]) -> String {
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.domain.to_string(),
                number(r.numbers.users_total),
                number(r.numbers.active_month),
                r.numbers.software.clone(),
                r.numbers
                    .first_up
                    .map(|t| t.date_naive().to_string())
                    .unwrap_or_default(),
                format!("{} ({})", r.standing.describe(), r.day),
            ]
        })
        .collect();
    let header = [
        "domain",
        "users",
        "active",
        "software",
        "first up",
        "counts (day)",
    ];
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut text = String::new();
    for row in std::iter::once(header.map(str::to_owned)).chain(cells) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (c, w))| match i {
                1 | 2 => format!("{c:>w$}"),
                _ => format!("{c:<w$}"),
            })
            .collect();
        let _ = writeln!(text, "{}", line.join("  ").trim_end());
    }
    let _ = writeln!(text, "{} servers", thousands(rows.len() as i64));
    text
}

/// The report's "New servers" section: the top [`NEW_SERVERS_SHOWN`] by users and a
/// link to the full list.
pub(crate) fn new_servers_markdown(rows: &[ServerRow]) -> String {
    let mut md = format!("## New servers ({})\n\n", thousands(rows.len() as i64));
    if rows.is_empty() {
        md.push_str("No server was counted as new in this period.\n\n");
        return md;
    }
    let shown = rows.len().min(NEW_SERVERS_SHOWN);
    let _ = writeln!(
        md,
        "The {shown} largest by users; every one is in [{NEW_SERVERS_CSV}]({NEW_SERVERS_CSV}).\n"
    );
    md.push_str(
        "| Server | Software | First up | Users | Monthly active |\n|---|---|---|---:|---:|\n",
    );
    for r in &rows[..shown] {
        let [domain, software, first_up, users, active] = shown_cells(r);
        let _ = writeln!(
            md,
            "| {} | {} | {first_up} | {users} | {active} |",
            cell(&domain),
            cell(&software)
        );
    }
    md.push('\n');
    md
}

/// One shown row of the "New servers" section, unescaped: server, software, first-up
/// day, users, monthly active (each format escapes the remote text its own way).
fn shown_cells(r: &ServerRow) -> [String; 5] {
    [
        r.domain.to_string(),
        r.numbers.software.clone(),
        r.numbers
            .first_up
            .map(|t| t.date_naive().to_string())
            .unwrap_or_default(),
        number(r.numbers.users_total),
        number(r.numbers.active_month),
    ]
}

/// The page's "New servers" section: the top [`NEW_SERVERS_SHOWN`] by users, linking
/// to the file with the full list at `href`.
pub(crate) fn new_servers_html(rows: &[ServerRow], href: &str) -> String {
    let mut html = format!(
        "<section id=\"new-servers\">\n<h2>New servers ({})</h2>\n",
        thousands(rows.len() as i64)
    );
    if rows.is_empty() {
        html.push_str("<p>No server was counted as new in this period.</p>\n</section>\n");
        return html;
    }
    let shown = rows.len().min(NEW_SERVERS_SHOWN);
    let _ = write!(
        html,
        "<p>The {shown} largest by users; every one is in <a href=\"{}\"><code>{NEW_SERVERS_CSV}\
         </code></a>.</p>\n<div class=\"scroll\"><table>\n<thead><tr>\
         <th>Server</th><th>Software</th><th>First up</th><th>Users</th>\
         <th>Monthly active</th></tr></thead>\n<tbody>\n",
        Escaped(href)
    );
    for r in &rows[..shown] {
        let [domain, software, first_up, users, active] = shown_cells(r);
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{first_up}</td><td class=\"n\">{users}</td><td \
             class=\"n\">{active}</td></tr>",
            Escaped(&domain),
            Escaped(&software)
        );
    }
    html.push_str("</tbody>\n</table></div>\n</section>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::day::Day;
    use crate::domain::Domain;
    use crate::report::servers::{Numbers, Standing};

    #[test]
    fn new_servers_escape_remote_text_in_each_format() {
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let row = ServerRow {
            domain: Domain::parse("pipe.social").unwrap(),
            day: Day::of(at),
            standing: Standing::Observed,
            numbers: Numbers {
                software: "evil|<b>soft".into(),
                read_at: at,
                first_up: Some(at),
                users_total: Some(1234),
                active_month: None,
                active_halfyear: None,
                local_posts: None,
            },
        };
        let md = new_servers_markdown(std::slice::from_ref(&row));
        assert!(
            md.contains("| pipe.social | evil\\|\\<b\\>soft | 2023-11-14 | 1,234 |"),
            "{md}"
        );
        let html = new_servers_html(&[row], NEW_SERVERS_CSV);
        assert!(html.contains("<td>evil|&lt;b&gt;soft</td>"), "{html}");
    }
}
