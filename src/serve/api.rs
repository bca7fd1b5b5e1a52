//! The JSON API, with the report's field names:
//! - `GET /api/v1/days?since=&until=`: the days from `since` through `until`
//!   (inclusive; default: every day of the census), oldest first;
//! - `GET /api/v1/period?since=&until=`: the period (since, until] as `report --since`
//!   gives it (default: the last 30 days, as the daily page);
//! - `GET /api/v1/languages?date=`: the split by declared language of a day (default:
//!   the last), with its coverage;
//! - `GET /api/v1/servers?new=&date=&since=&until=&software=`: the list behind a
//!   number, as `fedicensus servers` gives it (see [`report::servers`]): the servers
//!   standing on `date` (default: the last day), or with `new=true` those counted in its
//!   `servers.new`; with `since`, those of the period (since, until];
//! - `GET /api/v1/servers/{domain}`: a server's record and every snapshot (an alias is
//!   followed to its canonical server).
//!
//! Days are `YYYY-MM-DD` (UTC). Reports are built on the blocking pool: they read the
//! database and compute, and must not hold up the service's other requests.
//!
//! Types: none; handlers and [`period_report`].

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Serialize;

use super::ApiError;
use crate::day::Day;
use crate::domain::Domain;
use crate::report::servers::{self, Select, ServerRow};
use crate::report::stats::{DayReport, LanguageRow};
use crate::report::{self, Filter, Report, ReportError, Scope};
use crate::snapshot::Snapshot;
use crate::store::{ServerRecord, Status, Store, StoreError};

/// Days the dashboard and `/api/v1/period` cover when `since` is not given.
pub(crate) const DEFAULT_PERIOD_DAYS: i64 = 30;

type Params = Query<Vec<(String, String)>>;

/// The days named by `allowed` in `params`, each parsed; any other parameter, a
/// repeated one, or a malformed day is a 400 naming it.
fn days_of<const N: usize>(
    params: &[(String, String)],
    allowed: [&str; N],
) -> Result<[Option<Day>; N], ApiError> {
    let mut found = [None; N];
    for (name, value) in params {
        let bad = |error: String| ApiError::BadParameter {
            parameter: name.clone(),
            error,
        };
        let Some(at) = allowed.iter().position(|a| a == name) else {
            return Err(bad(format!(
                "unknown parameter {name:?}; this endpoint takes {}",
                allowed.join(", ")
            )));
        };
        if found[at].is_some() {
            return Err(bad(format!("{name} is given twice; give it once")));
        }
        found[at] = Some(value.parse::<Day>().map_err(|e| {
            bad(format!(
                "{name}={value:?} is not a day: {e}; write YYYY-MM-DD"
            ))
        })?);
    }
    Ok(found)
}

/// Builds a report on the blocking pool, turning report errors into API errors.
async fn build(store: Arc<Store>, scope: Scope) -> Result<Report, ApiError> {
    blocking(move || report::build(&store, scope, &Filter::default())).await
}

/// Runs `work` (a report read) on the blocking pool, turning report errors into API
/// errors.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ReportError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .map_err(|e| match e {
            ReportError::UnknownDay { .. } | ReportError::Store(StoreError::Empty { .. }) => {
                ApiError::NotFound(e.to_string())
            }
            ReportError::Reversed { .. } => ApiError::BadParameter {
                parameter: "since".into(),
                error: e.to_string(),
            },
            ReportError::UnknownSoftware { .. } => ApiError::BadParameter {
                parameter: "software".into(),
                error: e.to_string(),
            },
            ReportError::Store(e) => ApiError::Internal(e.into()),
        })
}

/// `/api/v1/servers`: the servers a day or a period counts (see the module doc).
pub(crate) async fn servers(
    State(store): State<Arc<Store>>,
    Query(params): Params,
) -> Result<Json<Vec<ServerRow>>, ApiError> {
    let mut select = Select::Standing;
    let mut filter = Filter::default();
    let mut days = Vec::new();
    for (name, value) in params {
        let bad = |error: String| ApiError::BadParameter {
            parameter: name.clone(),
            error,
        };
        match name.as_str() {
            "new" => {
                select = match value.as_str() {
                    "true" | "1" => Select::New,
                    "false" | "0" => Select::Standing,
                    _ => return Err(bad(format!("new={value:?}: write new=true or new=false"))),
                }
            }
            "software" if value.is_empty() => {
                return Err(bad(
                    "software is empty; name one, e.g. software=mastodon".into()
                ))
            }
            "software" => filter.software = Some(value),
            _ => days.push((name, value)),
        }
    }
    let [date, since, until] = days_of(&days, ["date", "since", "until"])?;
    let scope = match (date, since, until) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(ApiError::BadParameter {
                parameter: "date".into(),
                error: "give date for a day or since (and until) for a period, not both".into(),
            })
        }
        (_, None, Some(_)) => {
            return Err(ApiError::BadParameter {
                parameter: "until".into(),
                error: "until needs since: give since=YYYY-MM-DD too".into(),
            })
        }
        (date, None, None) => Scope::Day(date),
        (None, Some(since), until) => Scope::Period { since, until },
    };
    let query = servers::Query {
        select,
        ..Default::default()
    };
    let rows = blocking(move || servers::list(&store, scope, &filter, &query)).await?;
    Ok(Json(rows))
}

/// The census's first and last day, or a 404 if it has none.
fn census_days(store: &Store) -> Result<(Day, Day), ApiError> {
    let days = store
        .crawl_days()
        .map_err(|e| ApiError::Internal(e.into()))?;
    match (days.first(), days.last()) {
        (Some(&first), Some(&last)) => Ok((first, last)),
        _ => Err(ApiError::NotFound(format!(
            "the database at {} holds no crawl yet",
            store.path().display()
        ))),
    }
}

/// The period of `since` and `until` (defaults: the last [`DEFAULT_PERIOD_DAYS`] days
/// through the last day), and the census's first and last day.
pub(crate) async fn period_report(
    store: Arc<Store>,
    params: &[(String, String)],
) -> Result<(Report, (Day, Day)), ApiError> {
    let [since, until] = days_of(params, ["since", "until"])?;
    let (first, last) = census_days(&store)?;
    let end = until.unwrap_or(last);
    let since = since.unwrap_or_else(|| end.add_days(-DEFAULT_PERIOD_DAYS).max(first));
    let report = build(store, Scope::Period { since, until }).await?;
    Ok((report, (first, last)))
}

pub(crate) async fn days(
    State(store): State<Arc<Store>>,
    Query(params): Params,
) -> Result<Json<Vec<DayReport>>, ApiError> {
    let [since, until] = days_of(&params, ["since", "until"])?;
    let (first, _) = census_days(&store)?;
    let since = since.unwrap_or(first);
    match build(store, Scope::Period { since, until }).await? {
        Report::Period(period) => Ok(Json(period.days)),
        Report::Day(only) => Ok(Json(vec![only.day])),
    }
}

pub(crate) async fn period(
    State(store): State<Arc<Store>>,
    Query(params): Params,
) -> Result<Json<Report>, ApiError> {
    Ok(Json(period_report(store, &params).await?.0))
}

/// A day's split by declared language.
#[derive(Serialize)]
pub(crate) struct Languages {
    pub(crate) date: Day,
    pub(crate) servers_up: u64,
    /// Counting servers that declared at least one language.
    pub(crate) servers_declaring: u64,
    pub(crate) by_language: Vec<LanguageRow>,
}

pub(crate) async fn languages(
    State(store): State<Arc<Store>>,
    Query(params): Params,
) -> Result<Json<Languages>, ApiError> {
    let [date] = days_of(&params, ["date"])?;
    let report = build(store, Scope::Day(date)).await?;
    let day = report.end();
    Ok(Json(Languages {
        date: day.date,
        servers_up: day.servers.up,
        servers_declaring: day.coverage.languages,
        by_language: day.by_language.clone(),
    }))
}

/// Everything stored about one server.
#[derive(Serialize)]
pub(crate) struct ServerHistory {
    /// The name asked for, when it is an alias of `record.domain`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) alias: Option<Domain>,
    pub(crate) record: ServerRecord,
    pub(crate) snapshots: Vec<Snapshot>,
}

pub(crate) async fn server(
    State(store): State<Arc<Store>>,
    Path(name): Path<String>,
) -> Result<Json<ServerHistory>, ApiError> {
    let domain = Domain::parse(&name).map_err(|e| ApiError::BadParameter {
        parameter: "domain".into(),
        error: format!("{name:?} is not a domain name: {e}"),
    })?;
    tokio::task::spawn_blocking(move || history(&store, domain))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .map(Json)
}

fn history(store: &Store, domain: Domain) -> Result<ServerHistory, ApiError> {
    let internal = |e: StoreError| ApiError::Internal(e.into());
    let unknown = |d: &Domain| ApiError::NotFound(format!("{d} is not in the database"));
    let mut record = store
        .server(&domain)
        .map_err(internal)?
        .ok_or_else(|| unknown(&domain))?;
    let mut alias = None;
    if let Status::Alias { canonical } = &record.status {
        let canonical = canonical.clone();
        record = store
            .server(&canonical)
            .map_err(internal)?
            .ok_or_else(|| unknown(&canonical))?;
        alias = Some(domain);
    }
    let snapshots = store
        .history(&record.domain)
        .collect::<Result<_, _>>()
        .map_err(internal)?;
    Ok(ServerHistory {
        alias,
        record,
        snapshots,
    })
}
