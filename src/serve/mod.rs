//! `fedicensus serve`: a read-only HTTP service over the database, with the dashboard.
//!
//! sled lets one process open a database at a time, so a second process could not
//! read while `crawl` or `daily` writes. The service therefore owns the database: it
//! opens it once, answers every request from that one handle, and, with a [`Schedule`]
//! (`--crawl-every`), runs the daily job (crawl, then the day's reports) itself, in the
//! same process, while it keeps answering. sled's reads see every committed write, so
//! a request during a crawl reads the snapshots recorded so far.
//!
//! Routes (GET and HEAD only; any other method is 405): the JSON API under `/api/v1/`
//! (see [`api`]), `/` the dashboard (the daily page with a period picker) and
//! `/report/{file}` the files it links to (`report.json`, `days.csv`, `report.md`,
//! `new_servers.csv`, the charts as SVG), for the period of the `since` and `until`
//! parameters. A bad parameter is 400 with `{"error": …, "parameter": …}`; an unknown
//! day, domain or path is 404 with `{"error": …}`. Every request is logged with its
//! status and duration.
//!
//! Types: [`ServeOptions`], [`Schedule`], [`ApiError`]; function [`serve`].

pub(crate) mod api;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::crawl::{self, CrawlOptions};
use crate::daily;
use crate::report::Report;
use crate::store::Store;

/// How the service runs the daily job itself.
pub(crate) struct Schedule {
    pub(crate) every: Duration,
    /// The options of each run, made afresh (each run is recorded at its own instant).
    pub(crate) options: Box<dyn Fn() -> anyhow::Result<CrawlOptions> + Send + Sync>,
    /// Where each run writes the day's reports, as `daily --reports` does.
    pub(crate) reports: PathBuf,
}

pub(crate) struct ServeOptions {
    pub(crate) addr: SocketAddr,
    pub(crate) schedule: Option<Schedule>,
}

/// Serves until Ctrl-C or SIGTERM. The first line on standard output says where.
pub(crate) async fn serve(store: Store, options: ServeOptions) -> anyhow::Result<()> {
    let store = Arc::new(store);
    let listener = tokio::net::TcpListener::bind(options.addr)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot listen on {}: {e}; pick another --addr",
                options.addr
            )
        })?;
    let addr = listener.local_addr()?;
    if addr.ip().is_loopback() {
        println!(
            "listening on http://{addr}/ (loopback only: other machines cannot connect; \
             pass --addr 0.0.0.0:PORT to serve them)"
        );
    } else {
        println!("listening on http://{addr}/");
        tracing::warn!(
            "serving on {addr}, which is not a loopback address: anyone who can reach it \
             can read the census"
        );
    }
    if let Some(schedule) = options.schedule {
        let store = store.clone();
        // Its own thread and runtime: a crawl's parsing and writing never hold up the
        // threads that answer requests.
        std::thread::Builder::new()
            .name("scheduled-crawl".into())
            .spawn(move || {
                match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime.block_on(crawl_loop(store, schedule)),
                    Err(e) => {
                        tracing::error!("cannot start the crawl's runtime: {e}; no crawl will run")
                    }
                }
            })?;
    }
    axum::serve(listener, router(store.clone()))
        .with_graceful_shutdown(shutdown())
        .await?;
    // A scheduled crawl may still be writing: make what it wrote durable.
    store.flush()?;
    Ok(())
}

/// The service's routes over `store`.
pub(crate) fn router(store: Arc<Store>) -> Router {
    Router::new()
        .route("/", get(dashboard))
        .route("/report/{file}", get(report_file))
        .route("/api/v1/days", get(api::days))
        .route("/api/v1/period", get(api::period))
        .route("/api/v1/languages", get(api::languages))
        .route("/api/v1/servers", get(api::servers))
        .route("/api/v1/servers/{domain}", get(api::server))
        .fallback(|| async { ApiError::NotFound("no such page; the API is under /api/v1/".into()) })
        .layer(axum::middleware::from_fn(log_request))
        .with_state(store)
}

/// Runs the daily job now and then every `schedule.every`, for as long as the service runs.
async fn crawl_loop(store: Arc<Store>, schedule: Schedule) {
    loop {
        match daily_job(&store, &schedule).await {
            Ok(outcome) => tracing::info!(
                day = %outcome.day,
                dir = %outcome.dir.display(),
                "scheduled crawl done: {}",
                outcome.headline
            ),
            Err(e) => tracing::error!("scheduled crawl failed: {e:#}; trying again next time"),
        }
        tokio::time::sleep(schedule.every).await;
    }
}

async fn daily_job(store: &Store, schedule: &Schedule) -> anyhow::Result<daily::DailyOutcome> {
    let options = (schedule.options)()?;
    let summary = crawl::crawl(store, &options, &indicatif::ProgressBar::hidden()).await?;
    let day = crate::day::Day::of(summary.at);
    let outcome = daily::write_reports(store, day, &schedule.reports, &summary)?;
    if let Some(warning) = outcome.health.warning(day) {
        tracing::warn!("{warning}");
    }
    Ok(outcome)
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            term.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Logs each request with its status and how long the answer took.
async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let uri = request.uri().clone();
    let response = next.run(request).await;
    tracing::info!(
        %method,
        %uri,
        status = response.status().as_u16(),
        ms = format!("{:.1}", started.elapsed().as_secs_f64() * 1000.0),
        "request"
    );
    response
}

/// Why a request failed, as the JSON body and status the client gets.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// 400: a parameter is unknown, malformed or out of order.
    BadParameter { parameter: String, error: String },
    /// 404: no such day, server or page.
    NotFound(String),
    /// 500: the database failed.
    Internal(anyhow::Error),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            ApiError::BadParameter { parameter, error } => (
                StatusCode::BAD_REQUEST,
                serde_json::json!({ "error": error, "parameter": parameter }),
            ),
            ApiError::NotFound(error) => {
                (StatusCode::NOT_FOUND, serde_json::json!({ "error": error }))
            }
            ApiError::Internal(e) => {
                tracing::error!("request failed: {e:#}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    serde_json::json!({ "error": format!("{e:#}") }),
                )
            }
        };
        (status, Json(body)).into_response()
    }
}

/// The dashboard: the daily page for the chosen period, with the period picker.
async fn dashboard(
    State(store): State<Arc<Store>>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let (report, range) = api::period_report(store, &params).await?;
    let query = format!(
        "?since={}&until={}",
        report.days()[0].date,
        report.end().date
    );
    let page = crate::render::html::Page {
        base: "/report/",
        query: &query,
        picker: Some(range),
    };
    let html = crate::render::html::index_html(&report, &page).map_err(ApiError::Internal)?;
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}

/// One of the files the dashboard links to, for the period of the parameters.
async fn report_file(
    State(store): State<Arc<Store>>,
    Path(file): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    use crate::render;
    let (report, _) = api::period_report(store, &params).await?;
    let (kind, body) = match file.as_str() {
        "report.json" => ("application/json", render::json(&report)),
        "days.csv" => (
            "text/csv; charset=utf-8",
            render::csv::days_csv(report.days()),
        ),
        "report.md" => (
            "text/markdown; charset=utf-8",
            render::markdown::markdown(&report),
        ),
        render::servers::NEW_SERVERS_CSV => match &report {
            Report::Period(period) => (
                "text/csv; charset=utf-8",
                render::servers::csv(&period.new_server_list),
            ),
            Report::Day(_) => {
                return Err(ApiError::NotFound(format!(
                    "no file {file:?} in a day's report"
                )))
            }
        },
        _ => {
            let chart = render::charts::Chart::of(&report)
                .find(|c| file.strip_suffix(".svg") == Some(c.name()))
                .ok_or_else(|| ApiError::NotFound(format!("no file {file:?} in a report")))?;
            (
                "image/svg+xml",
                chart.svg(&report).map_err(ApiError::Internal)?,
            )
        }
    };
    Ok(([(header::CONTENT_TYPE, kind)], body).into_response())
}
