//! The HTTP side of the sim: one loopback listener answers for every simulated server,
//! picked by the request's host, and logs every request it receives.
//!
//! Types: [`SimHandle`] (address, world swapping, request log, shutdown on drop) and
//! [`RequestRecord`]; function [`serve`].
//!
//! Connections are served with hyper's `http1` builder over a plain accept loop rather than
//! `axum::serve`, because a dead host must end its connection without any response: the
//! service returns an error and hyper drops the connection. axum supplies the response types.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{header, Request, StatusCode};
use axum::response::{Html, IntoResponse, Json, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use super::payloads::{self, NodeInfoDoc};
use super::truth::normalize_domain;
use super::world::{Behaviour, HostIndex, Kind, SimServer, World};

/// One request as the sim received it.
#[derive(Clone, Debug)]
pub struct RequestRecord {
    /// Host without port, lowercased.
    pub host: String,
    pub method: String,
    /// Path including the query.
    pub path: String,
    pub at: Instant,
    pub user_agent: Option<String>,
}

/// The world being served, with its host index built once per swap.
struct Current {
    world: World,
    index: HostIndex,
}

impl Current {
    fn new(world: World) -> Current {
        let index = HostIndex::new(&world);
        // Flood bodies take a moment to build: build them now, not on the first request
        // (which would then time out).
        for (entry, bytes) in world.servers.iter().filter_map(SimServer::peer_flood) {
            payloads::peer_flood(entry, bytes);
        }
        Current { world, index }
    }

    fn find(&self, host: &str) -> Option<&SimServer> {
        self.index.find(&self.world, host)
    }
}

struct Shared {
    current: RwLock<Arc<Current>>,
    log: Mutex<Vec<RequestRecord>>,
    /// Requests per rate-limited server domain since the last world swap.
    hits: Mutex<HashMap<String, u32>>,
}

/// A poisoned lock only means another request panicked mid-update; the data is still usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn current(&self) -> Arc<Current> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn rate_limited(&self, s: &SimServer) -> bool {
        let limit = s.rate_limit();
        if limit == 0 {
            return false;
        }
        let mut hits = lock(&self.hits);
        let seen = hits.entry(s.domain.clone()).or_default();
        *seen += 1;
        *seen <= limit
    }
}

/// A running sim. Dropping it stops the listener and every open connection.
pub struct SimHandle {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl SimHandle {
    /// Swap the world (the next simulated day). Rate-limit counters start over, so each day's
    /// crawl meets the same 429s.
    pub fn set_world(&self, world: World) {
        *self
            .shared
            .current
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(Current::new(world));
        lock(&self.shared.hits).clear();
    }

    /// A copy of the world being served.
    pub fn world(&self) -> World {
        self.shared.current().world.clone()
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.shared.log).clone()
    }

    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    /// Stop serving now (dropping the handle does the same).
    pub fn shutdown(self) {}
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Serve `world` on `127.0.0.1:<ephemeral>` from the current tokio runtime.
pub async fn serve(world: World) -> io::Result<SimHandle> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared {
        current: RwLock::new(Arc::new(Current::new(world))),
        log: Mutex::new(Vec::new()),
        hits: Mutex::new(HashMap::new()),
    });
    let accept = tokio::spawn(accept_loop(listener, shared.clone()));
    Ok(SimHandle {
        addr,
        shared,
        accept,
    })
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    // Connection tasks live in this set so that aborting the loop aborts them too, hanging
    // ones included.
    let mut connections = JoinSet::new();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Typically out of file descriptors: give closing connections a moment.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        while connections.try_join_next().is_some() {}
        let shared = shared.clone();
        connections.spawn(async move {
            let service = service_fn(move |req| handle(shared.clone(), req));
            // Errors are expected (dead hosts, clients hanging up) and there is no one to
            // tell.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The host a request is for: the absolute-form URI's, else the Host header's, without
/// port, lowercased.
fn request_host<B>(req: &Request<B>) -> String {
    let raw = req.uri().host().or_else(|| {
        req.headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
    });
    let raw = raw.unwrap_or_default();
    let host = match raw.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => raw.split(':').next().unwrap_or_default(),
    };
    host.to_ascii_lowercase()
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> io::Result<Response> {
    let host = request_host(&req);
    lock(&shared.log).push(RequestRecord {
        host: host.clone(),
        method: req.method().as_str().to_owned(),
        path: req
            .uri()
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
            .to_owned(),
        at: Instant::now(),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    });
    let current = shared.current();
    let Some(server) = current.find(&host) else {
        return Ok(html(
            StatusCode::NOT_FOUND,
            "404 Not Found",
            "No site is configured for this host name.",
        ));
    };
    let dead = || io::Error::new(io::ErrorKind::ConnectionAborted, "simulated dead host");
    if server.has(&Behaviour::Dead) {
        return Err(dead());
    }
    if server.has(&Behaviour::Hang) {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        return Err(dead());
    }
    if shared.rate_limited(server) {
        return Ok((
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "1")],
            Json(json!({ "error": "Too many requests" })),
        )
            .into_response());
    }
    Ok(respond(&current, server, &host, req).await)
}

fn html(status: StatusCode, heading: &str, text: &str) -> Response {
    (status, Html(payloads::html_page(heading, text))).into_response()
}

fn json_error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn raw_json(body: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Build a large body on the blocking pool: the first call takes a while.
async fn off_worker(build: fn() -> Bytes) -> Bytes {
    tokio::task::spawn_blocking(build).await.unwrap_or_default()
}

async fn respond(current: &Current, s: &SimServer, host: &str, req: Request<Incoming>) -> Response {
    let path = req.uri().path().to_owned();
    if s.has(&Behaviour::Gone410) {
        return html(StatusCode::GONE, "410 Gone", "This server has shut down.");
    }
    if path == "/robots.txt" {
        return match payloads::robots(s) {
            Some(robots) => robots.into_response(),
            None => html(
                StatusCode::NOT_FOUND,
                "404 Not Found",
                "No robots.txt here.",
            ),
        };
    }
    if let Some(web) = s.web_domain().filter(|_| host == s.domain) {
        let rest = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
        let location = format!("https://{web}{rest}");
        return (
            StatusCode::MOVED_PERMANENTLY,
            [(header::LOCATION, location)],
        )
            .into_response();
    }
    if s.kind == Kind::NotFediverse {
        return match path.as_str() {
            "/" => html(StatusCode::OK, &s.domain, "Fresh bread every morning."),
            _ => html(StatusCode::NOT_FOUND, "404 Not Found", "Nothing here."),
        };
    }
    if let Some(doc) = payloads::nodeinfo_docs(s).iter().find(|d| d.path == path) {
        return nodeinfo_response(s, doc).await;
    }
    let lookup = |h: &str| normalize_domain(h).and_then(|d| current.find(&d));
    let v1 = s.kind.serves_instance_v1();
    if let Some((entry, bytes)) = s.peer_flood() {
        let peers_endpoint = match s.kind {
            Kind::Misskey => "/api/federation/instances",
            Kind::Lemmy => "/api/v3/federated_instances",
            _ => "/api/v1/instance/peers",
        };
        if path == peers_endpoint {
            return flood(entry, bytes, s.kind == Kind::Lemmy);
        }
    }
    match (req.method().as_str(), path.as_str()) {
        ("GET", "/") => html(StatusCode::OK, &s.domain, "A small fediverse server."),
        ("GET", "/.well-known/nodeinfo") => Json(payloads::well_known(s, host)).into_response(),
        ("GET", "/api/v1/instance") if v1 => Json(payloads::instance_v1(s, host)).into_response(),
        ("GET", "/api/v2/instance") if s.kind.serves_instance_v2() => {
            Json(payloads::instance_v2(s, host)).into_response()
        }
        ("GET", "/api/v1/instance/activity") if s.kind == Kind::Mastodon => {
            Json(payloads::activity(s, chrono::Utc::now().timestamp())).into_response()
        }
        ("GET", "/api/v1/instance/peers") if s.kind == Kind::GoToSocial => {
            json_error(StatusCode::UNAUTHORIZED, "Unauthorized: peers are hidden")
        }
        ("GET", "/api/v1/instance/peers") if v1 && s.has(&Behaviour::OversizedPeers) => {
            raw_json(off_worker(payloads::oversized_peers).await)
        }
        ("GET", "/api/v1/instance/peers") if v1 => {
            Json(payloads::mastodon_peers(s)).into_response()
        }
        ("POST", "/api/federation/instances") if s.kind == Kind::Misskey => {
            misskey_instances(s, req.into_body(), &lookup).await
        }
        ("GET", "/api/v3/federated_instances") if s.kind == Kind::Lemmy => {
            Json(payloads::lemmy_federated(s, &lookup)).into_response()
        }
        _ if v1 => json_error(StatusCode::NOT_FOUND, "Record not found"),
        _ => html(StatusCode::NOT_FOUND, "404 Not Found", "Nothing here."),
    }
}

/// A [`Behaviour::PeerFlood`] body (built with the world), Lemmy's wrapped as its
/// `linked` list.
fn flood(entry: &str, bytes: usize, lemmy: bool) -> Response {
    let list = payloads::peer_flood(entry, bytes);
    if !lemmy {
        return raw_json(list);
    }
    let mut body = br#"{"federated_instances":{"linked":"#.to_vec();
    body.extend_from_slice(&list);
    body.extend_from_slice(b"}}");
    raw_json(Bytes::from(body))
}

async fn nodeinfo_response(s: &SimServer, doc: &NodeInfoDoc) -> Response {
    if s.has(&Behaviour::OversizedNodeInfo) {
        return raw_json(off_worker(payloads::oversized_nodeinfo).await);
    }
    if s.has(&Behaviour::GzipBomb) {
        let body = off_worker(payloads::gzip_bomb).await;
        return (
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CONTENT_ENCODING, "gzip"),
            ],
            body,
        )
            .into_response();
    }
    let profile = format!(
        "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/{}#\"",
        doc.version
    );
    (
        [(header::CONTENT_TYPE, profile)],
        payloads::nodeinfo(s, doc.version).to_string(),
    )
        .into_response()
}

/// The JSON body of Misskey's `federation/instances`; other keys (`sort`, …) are accepted
/// and ignored, the order being stable anyway.
#[derive(Debug, Default, Deserialize)]
struct InstancesQuery {
    limit: Option<usize>,
    offset: Option<usize>,
    host: Option<String>,
}

async fn misskey_instances<'w>(
    s: &SimServer,
    body: Incoming,
    lookup: &(dyn Fn(&str) -> Option<&'w SimServer> + Sync),
) -> Response {
    let invalid = || {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": {
                "message": "Invalid param.",
                "code": "INVALID_PARAM",
                "id": "3d81ceae-475f-4600-b2a8-2bc116157532",
            }})),
        )
            .into_response()
    };
    let Ok(bytes) = axum::body::to_bytes(Body::new(body), 64 * 1024).await else {
        return invalid();
    };
    let query = if bytes.iter().all(u8::is_ascii_whitespace) {
        InstancesQuery::default()
    } else {
        match serde_json::from_slice::<InstancesQuery>(&bytes) {
            Ok(q) => q,
            Err(_) => return invalid(),
        }
    };
    let limit = query
        .limit
        .unwrap_or(payloads::MISSKEY_DEFAULT_LIMIT)
        .clamp(1, payloads::MISSKEY_MAX_LIMIT);
    Json(payloads::misskey_instances(
        s,
        query.offset.unwrap_or(0),
        limit,
        query.host.as_deref(),
        lookup,
    ))
    .into_response()
}
