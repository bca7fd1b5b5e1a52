//! The page's sections about where growth came from and who it reaches: a period's
//! growth split and waves, the language split, and what was left out over the report.
//!
//! Types: none; functions only, each writing one `<section>`.

use std::collections::BTreeMap;
use std::fmt::{self, Write};

use super::Escaped;
use crate::day::Day;
use crate::domain::Domain;
use crate::number::{signed, thousands};
use crate::render::wave_cells;
use crate::report::stats::DayReport;
use crate::report::PeriodReport;

/// Where the period's new users came from, and the sign-ups.
pub(crate) fn growth(html: &mut String, period: &PeriodReport) -> fmt::Result {
    let g = &period.growth;
    write!(
        html,
        "<section id=\"growth\">\n<h2>Where the new users came from</h2>\n\
         <p>From {} to {}: the change in users, split by where it happened.</p>\n\
         <div class=\"scroll\"><table>\n<thead><tr><th></th><th class=\"n\">Servers</th>\
         <th class=\"n\">Users</th></tr></thead>\n<tbody>\n",
        period.since.in_words(),
        period.until.in_words()
    )?;
    for (id, label, servers, users) in [
        (
            "growth-continuing",
            "Change on servers counted on both days",
            g.continuing.servers,
            g.continuing.users,
        ),
        (
            "growth-newly-counted",
            "Existing users of newly counted servers (found, not joined)",
            g.newly_counted.servers,
            g.newly_counted.users,
        ),
        (
            "growth-stopped",
            "Users of servers no longer counted",
            g.stopped_counting.servers,
            -g.stopped_counting.users,
        ),
    ] {
        writeln!(
            html,
            "<tr><td>{label}</td><td class=\"n\">{}</td><td class=\"n\">\
             <data id=\"{id}\" value=\"{users}\">{}</data></td></tr>",
            thousands(servers as i64),
            signed(users)
        )?;
    }
    writeln!(
        html,
        "<tr><th>New users</th><td></td><th class=\"n\">{}</th></tr>\n\
         <tr><td>Sign-ups reported by the servers that publish them</td>\
         <td class=\"n\">{} of {}</td><td class=\"n\">about <data id=\"signups-estimated\" \
         value=\"{}\">{}</data></td></tr>\n</tbody>\n</table></div>\n</section>",
        signed(period.new_users),
        thousands(period.signups.servers_reporting as i64),
        thousands(period.servers_up as i64),
        period.signups.estimated,
        thousands(period.signups.estimated)
    )
}

/// The period's growth waves, or that there were none.
pub(crate) fn waves(html: &mut String, period: &PeriodReport) -> fmt::Result {
    html.push_str("<section>\n<h2>Growth waves</h2>\n");
    if period.waves.is_empty() {
        html.push_str(
            "<p id=\"waves\">No day of the period was high enough to be part of a wave \
             (the rule is in the method below).</p>\n</section>\n",
        );
        return Ok(());
    }
    html.push_str(
        "<div class=\"scroll\"><table id=\"waves\">\n<thead><tr><th>Wave</th><th>Start</th>\
         <th>Peak</th><th>End</th><th class=\"n\">New users</th>\
         <th class=\"n\">New servers</th><th>Servers that grew most</th></tr></thead>\n<tbody>\n",
    );
    for w in &period.waves {
        let [name, start, peak, end, users, servers, top] =
            wave_cells(w, |d| Escaped(d).to_string());
        writeln!(
            html,
            "<tr><td>{}</td><td>{start}</td><td>{peak}</td><td>{end}</td><td class=\"n\">{users}</td>\
             <td class=\"n\">{servers}</td><td class=\"domain\">{top}</td></tr>",
            Escaped(&name),
        )?;
    }
    html.push_str("</tbody>\n</table></div>\n</section>\n");
    Ok(())
}

/// The last day's split by declared language, with its coverage.
pub(crate) fn languages(html: &mut String, day: &DayReport) -> fmt::Result {
    write!(
        html,
        "<section>\n<h2>By declared language</h2>\n<p class=\"small\">{} of {} servers \
         declared at least one language; a server declaring several is counted under each. \
         A language is not a country: see the method.</p>\n",
        thousands(day.coverage.languages as i64),
        thousands(day.servers.up as i64)
    )?;
    if day.by_language.is_empty() {
        html.push_str("<p id=\"by-language\">No language declared.</p>\n</section>\n");
        return Ok(());
    }
    super::split_table(html, "by-language", "Language", &day.language_rows())?;
    html.push_str("</section>\n");
    Ok(())
}

/// One server left out by one rule over the report: on which days, and the reason on
/// the last of them.
struct LeftOut<'a> {
    first: Day,
    last: Day,
    days: usize,
    reason: &'a str,
}

/// Everything left out as suspect on any day of the report, with its days (the
/// charts mark those days).
pub(crate) fn left_out(html: &mut String, days: &[DayReport]) -> fmt::Result {
    let mut all: BTreeMap<(&Domain, &str), LeftOut> = BTreeMap::new();
    for day in days {
        for f in &day.excluded {
            let entry = all.entry((&f.domain, f.rule)).or_insert(LeftOut {
                first: day.date,
                last: day.date,
                days: 0,
                reason: &f.reason,
            });
            entry.last = day.date;
            entry.days += 1;
            entry.reason = &f.reason;
        }
    }
    html.push_str("<section>\n<h2>Left out as suspect data</h2>\n");
    if all.is_empty() {
        html.push_str("<p id=\"excluded\">None.</p>\n</section>\n");
        return Ok(());
    }
    html.push_str(
        "<div class=\"scroll\"><table id=\"excluded\">\n<thead><tr><th>Server</th>\
         <th>Reason (on the last day it applied)</th><th>Days</th></tr></thead>\n<tbody>\n",
    );
    for ((domain, _), l) in &all {
        let when = if l.first == l.last {
            l.first.to_string()
        } else {
            format!("{} to {} ({} days)", l.first, l.last, l.days)
        };
        writeln!(
            html,
            "<tr><td class=\"domain\">{}</td><td>{}</td><td>{when}</td></tr>",
            Escaped(domain.as_str()),
            Escaped(l.reason)
        )?;
    }
    html.push_str("</tbody>\n</table></div>\n</section>\n");
    Ok(())
}
