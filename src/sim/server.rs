//! The HTTP side of the sim: one loopback listener answers for every simulated server,
//! picked by the request's host, and logs every request it receives. It speaks plain
//! HTTP ([`serve`], for `--connect-to … --plain-http`) or HTTPS with a certificate per
//! host ([`serve_https`], see `tls`), HTTP/1.1 or HTTP/2.
//!
//! Types: [`SimHandle`] (address, world swapping, request log, shutdown on drop) and
//! [`RequestRecord`]; functions [`serve`], [`serve_http`], [`serve_https`], [`bind_port_443`].
//!
//! Connections are served with hyper's connection builder over a plain accept loop rather
//! than `axum::serve`, because a dead host must end its connection without any response:
//! the service returns an error and hyper drops the connection (HTTP/1.1) or resets the
//! stream (HTTP/2). axum supplies the response types.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{header, Request, StatusCode};
use axum::response::{Html, IntoResponse, Json, Response};
use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use super::payloads::{self, NodeInfoDoc};
use super::tls::{server_config, Fault, TestCa};
use super::truth::normalize_domain;
use super::world::{Behaviour, HostIndex, Kind, SimServer, World};

/// One request as the sim received it.
#[derive(Clone, Debug)]
pub struct RequestRecord {
    /// Host without port, lowercased.
    pub host: String,
    /// The HTTP method, e.g. `GET` (Misskey's federation list is a `POST`).
    pub method: String,
    /// Path including the query.
    pub path: String,
    /// When the sim received the request (monotonic clock), for measuring request pacing.
    pub at: Instant,
    /// The `User-Agent` header, if the request sent one.
    pub user_agent: Option<String>,
}

/// The world being served, with its host index built once per swap.
struct Current {
    world: World,
    index: HostIndex,
    /// Some server answers raw bytes, so each connection's request head is peeked first.
    raw: bool,
}

impl Current {
    fn new(world: World) -> Current {
        let index = HostIndex::new(&world);
        // Flood bodies take a moment to build: build them now, not on the first request
        // (which would then time out).
        for (entry, bytes) in world.servers.iter().filter_map(SimServer::peer_flood) {
            payloads::peer_flood(entry, bytes);
        }
        let raw = world.servers.iter().any(|s| {
            s.find(|b| matches!(b, Behaviour::Raw(_)).then_some(()))
                .is_some()
        });
        Current { world, index, raw }
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
    /// Bodies being streamed now, and the most at once ([`Behaviour::PaddedPeers`]).
    streaming: AtomicUsize,
    most_streaming: AtomicUsize,
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
    /// The address the listener is bound to: where the crawler must connect to, whatever
    /// host it asks for.
    pub addr: SocketAddr,
    /// The test CA's certificate (PEM) when serving HTTPS.
    pub ca_pem: Option<String>,
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

    /// Empties the request log, e.g. between simulated days.
    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    /// The most [`Behaviour::PaddedPeers`] bodies that were streaming at the same time.
    pub fn most_bodies_streaming(&self) -> usize {
        self.shared.most_streaming.load(Ordering::SeqCst)
    }

    /// Stop serving now (dropping the handle does the same).
    pub fn shutdown(self) {}
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Serve `world` over plain HTTP on `127.0.0.1:<ephemeral>` from the current tokio
/// runtime.
pub async fn serve(world: World) -> io::Result<SimHandle> {
    serve_http(world, TcpListener::bind(("127.0.0.1", 0)).await?).await
}

/// Serve `world` over plain HTTP on `listener` (on port 443: a server that never set up
/// TLS).
pub async fn serve_http(world: World, listener: TcpListener) -> io::Result<SimHandle> {
    start(world, listener, None)
}

/// Serve `world` over HTTPS on `listener`, with a fresh test CA (see
/// [`SimHandle::ca_pem`]) and a certificate per host chosen by SNI.
pub async fn serve_https(world: World, listener: TcpListener) -> io::Result<SimHandle> {
    let ca = Arc::new(TestCa::new("fedicensus sim test CA").map_err(io::Error::other)?);
    start(world, listener, Some(ca))
}

fn start(world: World, listener: TcpListener, ca: Option<Arc<TestCa>>) -> io::Result<SimHandle> {
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared {
        current: RwLock::new(Arc::new(Current::new(world))),
        log: Mutex::new(Vec::new()),
        hits: Mutex::new(HashMap::new()),
        streaming: AtomicUsize::new(0),
        most_streaming: AtomicUsize::new(0),
    });
    let ca_pem = ca.as_ref().map(|ca| ca.pem().to_owned());
    let tls = match ca {
        Some(ca) => {
            let lookup = shared.clone();
            let fault_of = move |name: &str| lookup.current().find(name).and_then(Fault::of);
            let config = server_config(ca, Box::new(fault_of)).map_err(io::Error::other)?;
            Some(TlsAcceptor::from(Arc::new(config)))
        }
        None => None,
    };
    let accept = tokio::spawn(accept_loop(listener, shared.clone(), tls));
    Ok(SimHandle {
        addr,
        ca_pem,
        shared,
        accept,
    })
}

/// A listener on port 443, as real servers use, of a loopback address of its own
/// (127.x.y.z outside 127.0.0.0/16, which tests keep for listeners that must see nothing):
/// with a DNS server answering that address, a crawl reaches the sim exactly as it
/// reaches a real server. Binding port 443 needs root (or `CAP_NET_BIND_SERVICE`).
pub async fn bind_port_443() -> io::Result<TcpListener> {
    let mut last = None;
    for attempt in 0..64u64 {
        let [a, b, c, ..] = RandomState::new()
            .hash_one((std::process::id(), attempt))
            .to_le_bytes();
        let ip = Ipv4Addr::new(127, a.max(1), b, c.max(1));
        match TcpListener::bind((ip, 443)).await {
            Ok(listener) => return Ok(listener),
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                return Err(io::Error::new(
                    e.kind(),
                    format!(
                        "binding {ip}:443 was refused ({e}): serving the sim on port 443 needs \
                         root or CAP_NET_BIND_SERVICE"
                    ),
                ))
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free loopback address for port 443")))
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, tls: Option<TlsAcceptor>) {
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
        let tls = tls.clone();
        connections.spawn(async move {
            match tls {
                // A failed handshake is the client's business (it was told why).
                Some(tls) => {
                    if let Ok(stream) = tls.accept(stream).await {
                        let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
                        serve_connection(stream, shared, h2).await;
                    }
                }
                None => {
                    let mut stream = stream;
                    if shared.current().raw && answered_raw(&shared, &mut stream).await {
                        return;
                    }
                    serve_connection(stream, shared, false).await;
                }
            }
        });
    }
}

/// Peeks at a plain HTTP connection's request head and, if it is for a server that answers
/// raw bytes, logs the request, sends them and closes. Returns whether it did. (Raw
/// answers are for plain connections only: over TLS the head cannot be peeked at.)
async fn answered_raw(shared: &Shared, stream: &mut tokio::net::TcpStream) -> bool {
    let mut buf = vec![0u8; 8192];
    let mut head = String::new();
    for _ in 0..200 {
        let Ok(n) = stream.peek(&mut buf).await else {
            return false;
        };
        head = String::from_utf8_lossy(&buf[..n]).into_owned();
        if n == 0 || n == buf.len() || head.contains("\r\n\r\n") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (key, value) = l.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    };
    let host = header("host")
        .unwrap_or_default()
        .split(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let current = shared.current();
    let Some(answer) = current.find(&host).and_then(|s| {
        s.find(|b| match b {
            Behaviour::Raw(answer) => Some(*answer),
            _ => None,
        })
    }) else {
        return false;
    };
    let mut request_line = head.lines().next().unwrap_or_default().split(' ');
    lock(&shared.log).push(RequestRecord {
        host,
        method: request_line.next().unwrap_or_default().to_owned(),
        path: request_line.next().unwrap_or_default().to_owned(),
        at: Instant::now(),
        user_agent: header("user-agent"),
    });
    // Errors mean the client already hung up.
    let _ = stream.write_all(answer.bytes()).await;
    let _ = stream.shutdown().await;
    true
}

/// HTTP/2 when the client chose it by ALPN, else HTTP/1.1.
async fn serve_connection<S>(stream: S, shared: Arc<Shared>, h2: bool)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req| handle(shared.clone(), req));
    let io = TokioIo::new(stream);
    // Errors are expected (dead hosts, clients hanging up) and there is no one to tell.
    let _ = if h2 {
        http2::Builder::new(TokioExecutor::new())
            .serve_connection(io, service)
            .await
    } else {
        http1::Builder::new().serve_connection(io, service).await
    };
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
    let latency = server.latency_ms();
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency.into())).await;
    }
    let dead = || io::Error::new(io::ErrorKind::ConnectionAborted, "simulated dead host");
    if server.has(&Behaviour::Dead) {
        return Err(dead());
    }
    if server.has(&Behaviour::Hang) {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        return Err(dead());
    }
    if let Some(wait) = server.find(|b| match b {
        Behaviour::RetryAfterAlways(wait) => Some(*wait),
        _ => None,
    }) {
        if req.uri().path() != "/robots.txt" {
            return Ok(too_many_requests(&wait.to_string()));
        }
    }
    if shared.rate_limited(server) {
        return Ok(too_many_requests("1"));
    }
    if let Some(hop) = slow_redirect(server, &req).await {
        return Ok(hop);
    }
    Ok(respond(&shared, &current, server, &host, req).await)
}

fn too_many_requests(retry_after: &str) -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, retry_after.to_owned())],
        Json(json!({ "error": "Too many requests" })),
    )
        .into_response()
}

/// [`Behaviour::SlowRedirects`]: after the delay, a redirect to the next hop, until the
/// last one, which is answered normally.
async fn slow_redirect(s: &SimServer, req: &Request<Incoming>) -> Option<Response> {
    let (hops, delay_ms) = s.find(|b| match b {
        Behaviour::SlowRedirects { hops, delay_ms } => Some((*hops, *delay_ms)),
        _ => None,
    })?;
    if req.uri().path() == "/robots.txt" {
        return None;
    }
    let hop: u32 = req
        .uri()
        .query()
        .and_then(|q| q.strip_prefix("hop="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    (hop < hops).then(|| {
        let location = format!("{}?hop={}", req.uri().path(), hop + 1);
        (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
    })
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

async fn respond(
    shared: &Arc<Shared>,
    current: &Current,
    s: &SimServer,
    host: &str,
    req: Request<Incoming>,
) -> Response {
    let path = req.uri().path().to_owned();
    if s.has(&Behaviour::Gone410) {
        return html(StatusCode::GONE, "410 Gone", "This server has shut down.");
    }
    if path == "/robots.txt" {
        return match payloads::robots(s) {
            Some(robots) => robots.to_owned().into_response(),
            None => html(
                StatusCode::NOT_FOUND,
                "404 Not Found",
                "No robots.txt here.",
            ),
        };
    }
    let redirect_to = s.web_domain().filter(|_| host == s.domain).or_else(|| {
        s.find(|b| match b {
            Behaviour::RedirectTo(to) => Some(to.as_str()),
            _ => None,
        })
    });
    if let Some(web) = redirect_to {
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
        ("GET", "/api/v1/instance/peers") if v1 && padded_peers(s).is_some() => {
            let (bytes, chunk_ms) = padded_peers(s).unwrap_or_default();
            stream_padding(shared.clone(), bytes, chunk_ms)
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

fn padded_peers(s: &SimServer) -> Option<(usize, u64)> {
    s.find(|b| match b {
        Behaviour::PaddedPeers { bytes, chunk_ms } => Some((*bytes, *chunk_ms)),
        _ => None,
    })
}

/// A chunked body of `bytes` spaces, 64 KiB every `chunk_ms`, counted in the streaming
/// gauge while it lasts (until the client has it all or hangs up).
fn stream_padding(shared: Arc<Shared>, bytes: usize, chunk_ms: u64) -> Response {
    const CHUNK: usize = 64 * 1024;
    struct Streaming(Arc<Shared>);
    impl Drop for Streaming {
        fn drop(&mut self) {
            self.0.streaming.fetch_sub(1, Ordering::SeqCst);
        }
    }
    let now = shared.streaming.fetch_add(1, Ordering::SeqCst) + 1;
    shared.most_streaming.fetch_max(now, Ordering::SeqCst);
    // The gauge drops as the last chunk is handed over (or when the client hangs up), so
    // a client that starts its next request once it has a body never sees an overlap.
    let guard = Some(Streaming(shared));
    let chunks =
        futures_util::stream::unfold((bytes, guard), move |(left, mut guard)| async move {
            if left == 0 {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(chunk_ms)).await;
            let n = left.min(CHUNK);
            if n == left {
                guard.take();
            }
            Some((
                Ok::<_, io::Error>(Bytes::from(vec![b' '; n])),
                (left - n, guard),
            ))
        });
    (
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(chunks),
    )
        .into_response()
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
