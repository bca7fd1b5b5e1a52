//! `fedicensus server DOMAIN`: everything stored about one server, for checking a
//! number by hand: its record (status, first and last seen, aliases) and every snapshot.
//!
//! Types: [`ServerArgs`]; function [`run`].

use anyhow::Context;

use super::{Cli, DbArg};
use crate::domain::Domain;
use crate::store::{Status, Store};
use crate::text;

#[derive(clap::Args, Debug)]
#[command(
    about = "Show one server's record and full snapshot history",
    long_about = "Show what the database holds about one server: its status, when it was \
                  discovered, first and last up, its aliases, and every snapshot (users, \
                  monthly and half-year active users, local posts, software). An alias is \
                  followed to its canonical server. With --json: one JSON object per line \
                  (the record first, then each snapshot), for scripts."
)]
pub(crate) struct ServerArgs {
    /// The server's domain (any spelling: case, unicode or trailing dot).
    pub(crate) domain: String,

    #[command(flatten)]
    pub(crate) db: DbArg,

    /// Print JSON Lines instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

/// The status in words, e.g. "up: answered on its latest visit".
fn status_sentence(status: &Status) -> String {
    match status {
        Status::New => "new: discovered, not visited yet".to_string(),
        Status::Up => "up: answered on its latest visit".to_string(),
        Status::Failed { reason } => {
            format!("failed: its latest visit failed ({reason})")
        }
        Status::OptedOut { how } => {
            format!("opted out: asked not to be counted ({})", how.as_str())
        }
        Status::Alias { canonical } => format!("alias: another name of {canonical}"),
    }
}

pub(crate) fn run(args: &ServerArgs, cli: &Cli) -> anyhow::Result<()> {
    let domain = Domain::parse(&args.domain)
        .with_context(|| format!("'{}'", crate::echo::clip(&args.domain)))?;
    let db = cli.database(&args.db);
    let store = Store::open_existing(&db)?;
    let mut record = store
        .server(&domain)?
        .with_context(|| format!("{domain} is not in the database at {}", db.display()))?;
    if let Status::Alias { canonical } = &record.status {
        eprintln!("{domain} is an alias of {canonical}");
        record = store
            .server(canonical)?
            .with_context(|| format!("the canonical server {canonical} is missing"))?;
    }
    if args.json {
        println!("{}", serde_json::to_string(&record)?);
        for snapshot in store.history(&record.domain) {
            println!("{}", serde_json::to_string(&snapshot?)?);
        }
        return Ok(());
    }
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or("never".to_string(), |t| t.to_rfc3339())
    };
    println!("{}", record.domain);
    println!("  status           {}", status_sentence(&record.status));
    // Stored text may predate the parsers' cleaning: clean it again for the terminal.
    let shown = |t: &Option<String>| t.as_deref().and_then(text::clean);
    println!(
        "  software         {} {}",
        shown(&record.software).unwrap_or_else(|| "?".into()),
        shown(&record.version).unwrap_or_default()
    );
    println!(
        "  discovered       {}",
        record.first_discovered.to_rfc3339()
    );
    println!("  first up         {}", when(record.first_up));
    println!("  last up          {}", when(record.last_up));
    println!("  last attempt     {}", when(record.last_attempt));
    if !record.aliases.is_empty() {
        let aliases: Vec<&str> = record.aliases.iter().map(Domain::as_str).collect();
        println!("  aliases          {}", aliases.join(", "));
    }
    println!();
    println!(
        "{:<26} {:>12} {:>12} {:>12} {:>14}",
        "snapshot at", "users", "active month", "active 6 mo", "local posts"
    );
    let cell = |n: Option<i64>| n.map_or("-".to_string(), crate::number::thousands);
    for snapshot in store.history(&record.domain) {
        let s = snapshot?;
        println!(
            "{:<26} {:>12} {:>12} {:>12} {:>14}",
            s.at.to_rfc3339(),
            cell(s.stats.users_total),
            cell(s.stats.active_month),
            cell(s.stats.active_halfyear),
            cell(s.stats.local_posts)
        );
    }
    Ok(())
}
