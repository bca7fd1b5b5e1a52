//! The command line: argument definitions, logging setup and exit codes. Each
//! subcommand's flags live in its own file; the work lives in the library modules.
//!
//! Exit codes (a contract for cron jobs and scripts): 0 success; 1 failure (unusable
//! or locked database, unreadable input, nothing reachable); 2 usage error; 3 the crawl
//! was suspiciously thin (daily); 130 interrupted.
//!
//! Types: [`Cli`], [`Command`]; function [`main`].

pub(crate) mod bench;
pub(crate) mod crawl;
pub(crate) mod daily;
pub(crate) mod demo;
pub(crate) mod export;
pub(crate) mod flags;
pub(crate) mod import;
pub(crate) mod report;
pub(crate) mod serve;
pub(crate) mod server;
pub(crate) mod servers;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// The default database directory.
pub(crate) const DEFAULT_DB: &str = "data/fedicensus.db";

#[derive(Parser, Debug)]
#[command(
    name = "fedicensus",
    version,
    about = "Counts the fediverse: a polite crawler, a durable snapshot history and honest reports.",
    long_about = "fedicensus discovers fediverse servers through peer lists, reads their NodeInfo \
                  and server APIs politely, keeps every snapshot in a sled database, and reports \
                  daily totals, new servers and new users with a stated method.\n\n\
                  Exit codes: 0 success, 1 failure, 2 usage error, 3 thin crawl (daily), 130 interrupted."
)]
pub(crate) struct Cli {
    /// Database directory of crawl, daily, report, server, servers, export, import and
    /// rebuild (also accepted after the command) [default: $FEDICENSUS_DB, else data/fedicensus.db]
    #[arg(long, value_name = "DIR")]
    pub(crate) db: Option<PathBuf>,

    /// More log output (-v: debug, -vv: trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,

    /// Only warnings and errors on stderr; no progress bar.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub(crate) quiet: bool,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Discover servers and record a snapshot of each into the database.
    Crawl(crawl::CrawlArgs),
    Report(report::ReportArgs),
    Daily(daily::DailyArgs),
    Demo(demo::DemoArgs),
    Server(server::ServerArgs),
    Servers(servers::ServersArgs),
    Export(export::ExportArgs),
    Import(import::ImportArgs),
    Serve(serve::ServeArgs),
    /// Measure the crawler and the reporter on synthetic data (the README's Benchmarks).
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Recompute every day's summary and every server's first/last-up times from the
    /// full snapshot history (after a restore, or a fix in the reporter), into a new
    /// tree that replaces the old one in one step. Costs one pass over all snapshots.
    Rebuild(DbArg),
    /// Convert a database written by an older fedicensus to this build's format, in
    /// place and losing nothing (crawls do it by themselves; reports ask for it).
    Upgrade(DbArg),
}

/// `--db` for the commands that use the database; `demo` and `bench` keep their own.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct DbArg {
    /// Database directory (created by crawl if missing) [default: $FEDICENSUS_DB, else
    /// data/fedicensus.db]
    #[arg(long = "db", value_name = "DIR")]
    pub(crate) db: Option<PathBuf>,
}

impl Cli {
    /// The database a command uses: its own `--db`, else the one before the command,
    /// else `$FEDICENSUS_DB`, else [`DEFAULT_DB`].
    pub(crate) fn database(&self, scoped: &DbArg) -> PathBuf {
        scoped
            .db
            .clone()
            .or_else(|| self.db.clone())
            .or_else(|| {
                std::env::var_os("FEDICENSUS_DB")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
            })
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DB))
    }
}

impl Command {
    /// Whether the command talks to servers (simulated ones included).
    fn reaches_servers(&self) -> bool {
        matches!(
            self,
            Command::Crawl(_) | Command::Daily(_) | Command::Demo(_) | Command::Bench(_)
        )
    }
}

/// Die quietly like other Unix tools when the reader of our output goes away
/// (`fedicensus server x | head`), instead of panicking on a broken pipe. Not for
/// commands that talk to servers: there a server hanging up while we write (one speaking
/// plain HTTP on port 443 does) would kill the whole crawl instead of failing a request.
fn die_quietly_on_broken_pipe() {
    #[cfg(unix)]
    // SAFETY: called before the runtime starts any thread; SIG_DFL is always valid.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Writes `text` to stdout for the commands that keep SIGPIPE ignored (those that talk
/// to servers): a reader that went away (`fedicensus daily | head -1`) is no error, as
/// the work it reports on is done and recorded.
pub(crate) fn print_out(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        written => Ok(written?),
    }
}

/// Parses arguments, runs the command, and turns its result into an exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    if let (Some(_), Command::Demo(_) | Command::Bench(_)) = (&cli.db, &cli.command) {
        let e = Cli::command().error(
            clap::error::ErrorKind::ArgumentConflict,
            "--db is not used by demo and bench: they keep their own database (demo: \
             --demo-db, bench: --keep)",
        );
        return usage_error(&e);
    }
    if !cli.command.reaches_servers() {
        die_quietly_on_broken_pipe();
    }
    init_logging(cli.verbose, cli.quiet);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match &cli.command {
            Command::Crawl(args) => crawl::run(args, &cli).await,
            Command::Report(args) => {
                report::run(args, &cli.database(&args.db)).map(|()| ExitCode::SUCCESS)
            }
            Command::Rebuild(db) => rebuild(&cli.database(db)),
            Command::Upgrade(db) => upgrade(&cli.database(db)),
            Command::Daily(args) => daily::run(args, &cli).await,
            Command::Demo(args) => demo::run(args, &cli).await,
            Command::Server(args) => server::run(args, &cli).map(|()| ExitCode::SUCCESS),
            Command::Servers(args) => servers::run(args, &cli).map(|()| ExitCode::SUCCESS),
            Command::Export(args) => export::run(args, &cli).map(|()| ExitCode::SUCCESS),
            Command::Import(args) => import::run(args, &cli).map(|()| ExitCode::SUCCESS),
            Command::Serve(args) => serve::run(args, &cli).await.map(|()| ExitCode::SUCCESS),
            Command::Bench(command) => bench::run(command, &cli).await.map(|()| ExitCode::SUCCESS),
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Prints a clap error (or help) and gives its exit code. An error that quotes a huge
/// argument is clipped (see [`crate::echo`]); help and version are printed as they are.
fn usage_error(e: &clap::Error) -> ExitCode {
    let code = ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
    let text = e.render().to_string();
    if !e.use_stderr() || text.len() <= 4 * crate::echo::MAX_ECHO {
        let _ = e.print();
        return code;
    }
    let clipped: Vec<String> = text.lines().map(crate::echo::clip_words).collect();
    eprintln!("{}", clipped.join("\n"));
    code
}

fn rebuild(db: &std::path::Path) -> anyhow::Result<ExitCode> {
    let store = crate::store::Store::open_upgrading(db)?;
    let done = crate::report::rebuild(&store)?;
    store.close()?;
    println!(
        "rebuilt {} day summaries; {} of {} server records corrected; {} fresh snapshots sealed",
        done.days, done.servers_updated, done.servers, done.sealed
    );
    Ok(ExitCode::SUCCESS)
}

fn upgrade(db: &std::path::Path) -> anyhow::Result<ExitCode> {
    let store = crate::store::Store::open_upgrading(db)?;
    let days = crate::report::derive::settle(&store)?;
    let (snapshots, servers) = (store.snapshot_count(), store.server_count());
    store.close()?;
    println!(
        "the database at {} is in format {}: {snapshots} snapshots of {servers} servers, \
         {days} day summaries derived",
        db.display(),
        crate::store::FORMAT,
    );
    Ok(ExitCode::SUCCESS)
}

/// Whether to draw progress bars: only for a person at a terminal.
pub(crate) fn interactive(cli: &Cli) -> bool {
    !cli.quiet && std::io::stderr().is_terminal()
}

fn init_logging(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "warn",
        (false, 0) => "info",
        (false, 1) => "fedicensus=debug,info",
        (false, _) => "fedicensus=trace,debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
