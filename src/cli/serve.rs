//! `fedicensus serve`: the read-only HTTP API and dashboard over the database,
//! optionally running the daily job itself on a schedule (see [`crate::serve`] for why
//! the crawl runs in the same process).
//!
//! Types: [`ServeArgs`]; function [`run`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::crawl::CrawlArgs;
use super::Cli;
use crate::serve::{self, Schedule, ServeOptions};
use crate::store::Store;

#[derive(clap::Args, Debug)]
#[command(
    about = "Serve the census over HTTP: a JSON API and the dashboard (read-only)",
    long_about = "Serve the database over HTTP, read-only: /api/v1/days, /api/v1/period, \
                  /api/v1/languages and /api/v1/servers/DOMAIN as JSON, and / the dashboard \
                  (the daily page with a period picker). Only GET and HEAD. Binds to the \
                  loopback address by default, so only this machine can connect.\n\n\
                  The database can be open in one process at a time: while serve runs, crawl \
                  and daily cannot. With --crawl-every, serve runs the daily job itself (a \
                  crawl with the crawl options below, then the day's reports into --reports) \
                  now and then at that interval, and keeps answering while it crawls."
)]
pub(crate) struct ServeArgs {
    /// Address to listen on. A non-loopback address lets other machines read the census.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "IP:PORT")]
    pub(crate) addr: SocketAddr,

    /// Run the daily job in this process now and then every DURATION (e.g. 24h, 30m,
    /// 90s, 1d).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) crawl_every: Option<Duration>,

    /// Where the scheduled daily job writes its reports.
    #[arg(
        long,
        default_value = "reports",
        value_name = "DIR",
        requires = "crawl_every"
    )]
    pub(crate) reports: PathBuf,

    #[command(flatten)]
    pub(crate) crawl: CrawlArgs,
}

/// "90s", "30m", "24h", "1d": a whole number and a unit.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "'{s}' is not a duration such as 90s, 30m, 24h or 1d"
            ))
        }
    };
    match n.parse::<u64>() {
        Ok(n) if n > 0 => Ok(Duration::from_secs(n * seconds)),
        _ => Err(format!(
            "'{s}' is not a duration such as 90s, 30m, 24h or 1d"
        )),
    }
}

pub(crate) async fn run(args: &ServeArgs, cli: &Cli) -> anyhow::Result<()> {
    let schedule = match args.crawl_every {
        Some(every) => {
            args.crawl.options()?; // a bad seed file fails now, not at the first run
            let crawl = args.crawl.clone();
            Some(Schedule {
                every,
                options: Box::new(move || crawl.options()),
                reports: args.reports.clone(),
            })
        }
        None => None,
    };
    let db = cli.database(&args.crawl.db);
    let store = match schedule {
        Some(_) => Store::open(&db)?,
        None => Store::open_existing(&db)?,
    };
    serve::serve(
        store,
        ServeOptions {
            addr: args.addr,
            schedule,
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        for bad in ["", "0s", "5", "1w", "h", "-1h", "1.5h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
