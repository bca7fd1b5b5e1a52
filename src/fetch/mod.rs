//! Fetching documents from fediverse servers politely and safely.
//!
//! Every request goes through [`Fetcher`], on behalf of one visit ([`Session`]), and every
//! hop of it, the first and each redirect alike, is admitted by the [`host::Host`] of the
//! name it goes to: `--exclude` and stored opt-outs, that host's robots.txt (read once per
//! run) and Crawl-delay, its per-host rate and any `Retry-After` it sent, then a global
//! in-flight slot ([`host`]). A resolver never reaches non-public addresses
//! (`resolve`); redirects are followed by hand (at most [`MAX_REDIRECTS`] hops); every
//! decoded body is capped (`body`). Certificates are checked against the system's roots
//! plus `--ca-cert` ([`trust`]).
//!
//! The first request of a visit to a host not known to be up is a probe
//! ([`Contact::Probe`]): it has `--probe-timeout` instead of `--timeout`, and its slot
//! comes from a pool of first-contact slots of its own, so hosts that accept a connection
//! and never answer cannot hold the slots answering hosts need. Once anything is answered,
//! the rest of the visit is [`Contact::Known`].
//!
//! Deadlines: `--timeout` (a probe: `--probe-timeout`) bounds a whole request from its
//! first byte sent, redirects and the body included; `Retry-After` waits come on top, at
//! most `max_retry_wait` in total per request (3 × `--timeout`, at most 60 s), so a request
//! ends within 4 × `--timeout`. A visit as a whole ends after [`VISIT_DEADLINE_TIMEOUTS`] ×
//! `--timeout`, the server's politeness waits included (waiting for a free global slot, the
//! load of other servers, is not held against it). The global slot is held until the
//! response body is read and the [`Page`] dropped, so `--concurrency` bounds both
//! connections and body bytes in memory. Hostile servers cost a failure reason, nothing
//! else.
//!
//! Types: [`Fetcher`], [`Session`], [`FetchConfig`], [`NetworkConfig`], [`Contact`],
//! [`Page`], [`FetchError`].

pub(crate) mod body;
pub mod host;
pub(crate) mod resolve;
pub mod robots;
pub mod trust;

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ipnet::IpNet;
use reqwest::header::{HeaderMap, ACCEPT, LOCATION, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use tokio::time::Instant;
use url::Url;

use crate::domain::Domain;
use crate::outcome::FailureReason;
use crate::seeds::Exclusions;
use body::{read_capped, BodyError};
use host::{Host, Hosts, Refusal, RobotsAnswer, Slot};
use resolve::{GuardedResolver, Lookup, ResolveError};
use robots::Robots;
use rustls::pki_types::CertificateDer;

/// Redirect hops followed for one request.
pub const MAX_REDIRECTS: usize = 5;

/// A visit ends after this many `--timeout`s (5 minutes at the default 20 s): enough for
/// the longest honest visit (50 Misskey peer pages at 1 request a second), short enough
/// that no server keeps a visit slot for long.
pub const VISIT_DEADLINE_TIMEOUTS: u32 = 15;
/// The user agent names the program, its version and where to read about it, so an
/// operator who sees it in a log can find out what it is and how to opt out.
pub fn default_user_agent() -> String {
    format!(
        "fedicensus/{} (+{})",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_HOMEPAGE")
    )
}

/// How the fetcher behaves; built from the crawl options.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    /// `User-Agent` of every request; its product token selects the robots.txt rules.
    pub user_agent: String,
    /// For the whole request: connecting, redirects, waiting and reading the body.
    pub timeout: Duration,
    /// The same for a probe ([`Contact::Probe`]); at most `timeout`.
    pub probe_timeout: Duration,
    /// For opening a connection (`crawl`: half of `--timeout`, at most 10 s).
    pub connect_timeout: Duration,
    /// Requests per second to one host at most (`--per-host-rps`); a longer Crawl-delay
    /// slows a host further.
    pub per_host_rps: f64,
    /// Requests in flight at most (`--concurrency`), in each of the main and first-contact
    /// pools.
    pub concurrency: usize,
    /// Send every request to this address, keeping the server's name in `Host`.
    pub connect_to: Option<SocketAddr>,
    /// Use `http://` (only together with `connect_to`).
    pub plain_http: bool,
    /// Retries after 429/503 before giving up on a request.
    pub max_retries: u32,
    /// A `Retry-After` longer than this is not waited for: the request fails instead.
    pub max_retry_wait: Duration,
    /// Resolver, allowed addresses and trusted certificate authorities.
    pub network: NetworkConfig,
}

/// Where names resolve, which addresses may be contacted and which certificate
/// authorities are trusted.
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    /// Ask this DNS server instead of the system resolver (`--dns-server`).
    pub dns_server: Option<SocketAddr>,
    /// For one name's whole lookup.
    pub dns_timeout: Duration,
    /// Non-public ranges that may be contacted anyway (`--allow-address`).
    pub allow_addresses: Vec<IpNet>,
    /// Trusted on top of the system's roots (`--ca-cert`).
    pub ca_certs: Vec<CertificateDer<'static>>,
}

impl Default for NetworkConfig {
    /// The system resolver, public addresses only, the system's roots.
    fn default() -> Self {
        NetworkConfig {
            dns_server: None,
            dns_timeout: Duration::from_secs(5),
            allow_addresses: Vec::new(),
            ca_certs: Vec::new(),
        }
    }
}

/// Who a request goes to, which decides its timeout and its slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contact {
    /// A host that answered on its latest visit, or the rest of a visit whose probe was
    /// answered: the crawl's slots and `timeout`.
    Known,
    /// The first request of a visit to a host not known to be up (never seen, or silent
    /// on its latest visit): `probe_timeout` and the first-contact slots, so hosts that
    /// never answer cannot hold what answering hosts need.
    Probe,
}

/// A response: its status, the host that finally answered (after redirects) and the
/// capped body. It holds one of the `--concurrency` slots until it is dropped, so drop it
/// (keep what was parsed from it) before asking for the next document.
#[derive(Debug)]
pub struct Page {
    /// Status of the final response: redirects are followed, 429 and 503 waited out.
    pub status: StatusCode,
    /// The host that answered, after any redirects.
    pub host: Domain,
    /// The decoded body, at most the request's cap in bytes.
    pub body: Bytes,
    _slot: Slot,
}

/// A request that produced no usable response, with the summary's failure category.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {detail}")]
pub struct FetchError {
    /// The category the crawl summary counts the failure under (`failed`).
    pub reason: FailureReason,
    /// What went wrong, in words, for logs.
    pub detail: String,
    /// Set when the request was not sent because its host opted out (or is excluded, or
    /// robots.txt disallows the path). The reason is then `redirect`: that is how a
    /// visit can reach a host other than its own.
    pub refused: Option<Refusal>,
    /// The DNS said the name does not exist (NXDOMAIN, reason `dns`).
    pub nonexistent: bool,
}

impl FetchError {
    /// A failure of `reason`, neither a refusal nor an NXDOMAIN.
    pub fn new(reason: FailureReason, detail: impl Into<String>) -> Self {
        FetchError {
            reason,
            detail: detail.into(),
            refused: None,
            nonexistent: false,
        }
    }

    fn refused(refusal: Refusal, path: &str) -> Self {
        FetchError {
            reason: FailureReason::Redirect,
            detail: format!(
                "{}{path} not asked: the host opted out ({})",
                refusal.host,
                refusal.how.as_str()
            ),
            refused: Some(refusal),
            nonexistent: false,
        }
    }
}

/// The one HTTP client of a crawl.
pub struct Fetcher {
    client: reqwest::Client,
    hosts: Hosts,
    config: FetchConfig,
    requests: AtomicU64,
}

/// The requests of one visit: they share its origin (the visited name, the one host a
/// stored opt-out does not keep from being asked) and its deadline.
pub struct Session<'a> {
    fetcher: &'a Fetcher,
    origin: Domain,
    deadline: Instant,
    /// Nothing answered yet in a visit that started as a [`Contact::Probe`].
    probing: AtomicBool,
}

/// One request, as the redirect loop carries it from hop to hop.
struct Request {
    method: Method,
    host: Domain,
    url: Url,
    body: Option<Bytes>,
}

impl Fetcher {
    /// The client of a crawl: redirects followed by hand, no proxy, no idle connections,
    /// names resolved by the guarded resolver. Fails on an unusable CA certificate or DNS
    /// server.
    pub fn new(config: FetchConfig) -> anyhow::Result<Fetcher> {
        // reqwest is built without a default crypto provider (faster builds); installing
        // it twice is harmless, so the error is ignored.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut headers = HeaderMap::new();
        headers.insert(
            ACCEPT,
            "application/json, application/jrd+json;q=0.9, text/plain;q=0.5, */*;q=0.1"
                .parse()
                .expect("a valid header"),
        );
        let roots = config
            .network
            .ca_certs
            .iter()
            .map(|der| reqwest::Certificate::from_der(der))
            .collect::<Result<Vec<_>, _>>()?;
        let client = reqwest::Client::builder()
            .user_agent(&config.user_agent)
            .tls_certs_merge(roots)
            .default_headers(headers)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            // No idle connections: a visit's requests are 1/rps apart, and pooled sockets of
            // visits that just ended pile up faster than they expire, so only without them
            // does --concurrency bound the open connections (and file descriptors).
            .pool_max_idle_per_host(0)
            .dns_resolver(Arc::new(resolver(&config)?))
            .build()?;
        Ok(Fetcher {
            client,
            hosts: Hosts::new(
                config.concurrency,
                config.per_host_rps,
                Exclusions::default(),
            ),
            config,
            requests: AtomicU64::new(0),
        })
    }

    /// Never asks a name `exclude` covers, also not through a redirect.
    pub fn excluding(mut self, exclude: Exclusions) -> Fetcher {
        self.hosts = Hosts::new(self.config.concurrency, self.config.per_host_rps, exclude);
        self
    }

    /// Requests sent so far (every attempt and redirect hop counts).
    pub fn requests_sent(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// The politeness state of the hosts asked this run, and the slot pools.
    pub fn hosts(&self) -> &Hosts {
        &self.hosts
    }

    /// Requests in flight at most (`--concurrency`, after fitting it to the descriptors).
    pub fn concurrency(&self) -> usize {
        self.config.concurrency
    }

    /// A visit to `origin` starts now; its deadline is [`VISIT_DEADLINE_TIMEOUTS`] ×
    /// `--timeout` away. `contact` is how its first request is made.
    pub fn session(&self, origin: Domain, contact: Contact) -> Session<'_> {
        let total = self.config.timeout.saturating_mul(VISIT_DEADLINE_TIMEOUTS);
        Session {
            fetcher: self,
            origin,
            deadline: far(Instant::now(), total),
            probing: AtomicBool::new(contact == Contact::Probe),
        }
    }

    /// One request on its own (a session of one).
    pub async fn get(&self, host: &Domain, path: &str, cap: usize) -> Result<Page, FetchError> {
        self.session(host.clone(), Contact::Known)
            .get(host, path, cap)
            .await
    }

    /// The URL for `path` on `host`, in the scheme this crawl uses.
    pub fn url(&self, host: &Domain, path: &str) -> Result<Url, FetchError> {
        let scheme = if self.config.plain_http {
            "http"
        } else {
            "https"
        };
        Url::parse(&format!("{scheme}://{host}{path}"))
            .map_err(|e| FetchError::new(FailureReason::Invalid, format!("bad path {path}: {e}")))
    }

    async fn follow(
        &self,
        session: &Session<'_>,
        mut request: Request,
        cap: usize,
    ) -> Result<Page, FetchError> {
        let (mut retries, mut hops, mut waited) = (0, 0, Duration::ZERO);
        // Until the first hop is sent only the visit's deadline applies (waiting for
        // politeness); from then on the request's own as well.
        let mut deadline = None;
        loop {
            let host = self.hosts.host(&request.host);
            let until = deadline.unwrap_or(session.deadline);
            let (slot, contact) = self.admit(session, &host, &request.url, until).await?;
            let until = *deadline.get_or_insert_with(|| {
                far(Instant::now(), self.timeout(contact)).min(session.deadline)
            });
            let sent = self.send(&request, until).await;
            host.answered(sent.as_ref().map(|_| ()));
            if sent.is_ok() {
                session.answered();
            }
            let response = sent?;
            let status = response.status();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                hops += 1;
                if hops > MAX_REDIRECTS {
                    return Err(FetchError::new(
                        FailureReason::Redirect,
                        format!("more than {MAX_REDIRECTS} redirects"),
                    ));
                }
                request = self.redirect(request, status, response.headers())?;
                continue;
            }
            if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE
            {
                let wait = self.pause(&host, response.headers(), retries, waited)?;
                (retries, waited) = (retries + 1, waited + wait);
                // The wait is not the server's answer time: the deadline moves with it.
                deadline = Some(far(until, wait).min(session.deadline));
                continue;
            }
            let body = self.read_body(response, cap, until, &request.url).await?;
            return Ok(Page {
                status,
                host: request.host,
                body,
                _slot: slot,
            });
        }
    }

    /// Waits until one hop may be sent: past the [gates](Self::gate), for the host's
    /// next turn, then for a slot: a first contact's if the visit is still probing.
    /// Decided after the gates, because reading robots.txt there may have been the
    /// host's first answer, and a host that answered is asked with the full timeout.
    async fn admit(
        &self,
        session: &Session<'_>,
        host: &Host,
        url: &Url,
        deadline: Instant,
    ) -> Result<(Slot, Contact), FetchError> {
        self.gate(session, host, url).await?;
        let contact = session.contact();
        let slot = host.admit(self.hosts.pool(contact), deadline).await?;
        Ok((slot, contact))
    }

    fn timeout(&self, contact: Contact) -> Duration {
        match contact {
            Contact::Known => self.config.timeout,
            Contact::Probe => self.config.probe_timeout.min(self.config.timeout),
        }
    }

    /// The gates of one hop: no request to an excluded or (another name than the visit's)
    /// opted-out host, nor one that did not answer repeatedly; the host's robots.txt is
    /// read first and must allow the path.
    async fn gate(&self, session: &Session<'_>, host: &Host, url: &Url) -> Result<(), FetchError> {
        let path = &url[url::Position::BeforePath..];
        if let Some(refusal) = self.hosts.refusal(&host.name, &session.origin) {
            return Err(FetchError::refused(refusal, path));
        }
        host.check_reachable()?;
        if url.path() != "/robots.txt" {
            match host.robots(self.read_robots(session, &host.name)).await? {
                RobotsAnswer::Unavailable(e) => return Err(e.clone()),
                RobotsAnswer::Rules(rules) if !rules.allows(path) => {
                    let refusal = Refusal {
                        host: host.name.clone(),
                        how: crate::outcome::OptOut::Robots,
                    };
                    return Err(FetchError::refused(refusal, path));
                }
                RobotsAnswer::Rules(_) => {}
            }
        }
        Ok(())
    }

    /// `host`'s robots.txt (RFC 9309): rules when it is served, "allow all" when it is
    /// missing (4xx), unavailable on a server error or when it cannot be fetched.
    fn read_robots<'s>(
        &'s self,
        session: &'s Session<'_>,
        host: &Domain,
    ) -> Pin<Box<dyn Future<Output = Result<RobotsAnswer, FetchError>> + Send + 's>> {
        let host = host.clone();
        Box::pin(async move {
            let request = Request {
                method: Method::GET,
                url: self.url(&host, "/robots.txt")?,
                host,
                body: None,
            };
            let page = match self.follow(session, request, robots::ROBOTS_CAP).await {
                Ok(page) => page,
                Err(e) if e.reason == FailureReason::Local => return Err(e),
                Err(e) => return Ok(RobotsAnswer::Unavailable(e)),
            };
            Ok(if page.status.is_success() {
                RobotsAnswer::Rules(Robots::parse(&self.config.user_agent, &page.body))
            } else if page.status.is_server_error() {
                RobotsAnswer::Unavailable(FetchError::new(
                    FailureReason::HttpStatus,
                    format!("robots.txt answered {}; not crawled this run", page.status),
                ))
            } else {
                RobotsAnswer::Rules(Robots::allow_all())
            })
        })
    }

    /// A 429 or 503: the host is held off for its `Retry-After` (remembered for every
    /// later request to it, at most `max_retry_wait`), and this request waits as long if
    /// its retries and its waiting budget (`max_retry_wait` in total) allow. Returns the
    /// wait.
    fn pause(
        &self,
        host: &Host,
        headers: &HeaderMap,
        retries: u32,
        waited: Duration,
    ) -> Result<Duration, FetchError> {
        let budget = self.config.max_retry_wait;
        let wait = retry_after(headers).unwrap_or(Duration::from_secs(1 << retries.min(10)));
        host.hold_off(far(Instant::now(), wait.min(budget)));
        if retries >= self.config.max_retries || waited.saturating_add(wait) > budget {
            return Err(FetchError::new(
                FailureReason::RateLimited,
                format!(
                    "{} asked to wait {wait:?} after {retries} retries and {waited:?} of waiting; \
                     beyond the request's budget of {budget:?}",
                    host.name
                ),
            ));
        }
        Ok(wait)
    }

    async fn send(
        &self,
        request: &Request,
        deadline: Instant,
    ) -> Result<reqwest::Response, FetchError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let url = &request.url;
        let mut builder = self.client.request(request.method.clone(), url.clone());
        if let Some(body) = &request.body {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        tracing::trace!(method = %request.method, %url, "request");
        match tokio::time::timeout_at(deadline, builder.send()).await {
            Ok(sent) => sent.map_err(|e| classify(&e, url)),
            Err(_) => Err(self.timed_out(url)),
        }
    }

    async fn read_body(
        &self,
        response: reqwest::Response,
        cap: usize,
        deadline: Instant,
        url: &Url,
    ) -> Result<Bytes, FetchError> {
        match tokio::time::timeout_at(deadline, read_capped(response, cap)).await {
            Ok(Ok(body)) => Ok(body),
            Ok(Err(BodyError::TooLarge { cap })) => Err(FetchError::new(
                FailureReason::TooLarge,
                format!("{url} is larger than {cap} bytes"),
            )),
            Ok(Err(BodyError::Transport(e))) => Err(classify_body(&e, url)),
            Err(_) => Err(self.timed_out(url)),
        }
    }

    fn timed_out(&self, url: &Url) -> FetchError {
        FetchError::new(
            FailureReason::Timeout,
            format!(
                "{url} not complete within --timeout {:?} (redirects and waits included) or the visit's deadline",
                self.config.timeout
            ),
        )
    }

    /// The next hop of a redirect; 301, 302 and 303 turn a POST into a GET.
    fn redirect(
        &self,
        request: Request,
        status: StatusCode,
        headers: &HeaderMap,
    ) -> Result<Request, FetchError> {
        let (host, url) = self.redirect_target(&request.url, headers)?;
        let keep_method = !matches!(
            status,
            StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND | StatusCode::SEE_OTHER
        );
        Ok(if keep_method {
            Request {
                host,
                url,
                ..request
            }
        } else {
            Request {
                method: Method::GET,
                host,
                url,
                body: None,
            }
        })
    }

    /// Where a redirect points, if we may follow it: http(s) only, a valid public
    /// name (never an IP literal), no explicit port, and no downgrade from https.
    fn redirect_target(
        &self,
        from: &Url,
        headers: &HeaderMap,
    ) -> Result<(Domain, Url), FetchError> {
        let refuse = |why: String| FetchError::new(FailureReason::Redirect, why);
        let location = headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| refuse(format!("redirect from {from} without a usable Location")))?;
        let mut next = from.join(location).map_err(|e| {
            refuse(format!(
                "redirect from {from} to unparsable {location:?}: {e}"
            ))
        })?;
        match next.scheme() {
            "https" => {}
            "http" if self.config.plain_http || from.scheme() == "http" => {}
            other => return Err(refuse(format!("redirect from {from} to a {other}: URL"))),
        }
        if next.port().is_some() {
            return Err(refuse(format!(
                "redirect from {from} to {next}: explicit ports are not followed"
            )));
        }
        let host = match next.host() {
            Some(url::Host::Domain(name)) => Domain::parse(name)
                .map_err(|e| refuse(format!("redirect from {from} to {next}: {e}")))?,
            _ => {
                return Err(refuse(format!(
                    "redirect from {from} to {next}: not a domain name"
                )))
            }
        };
        if self.config.plain_http {
            // The simulated fediverse speaks plain HTTP only; its redirects say https.
            next.set_scheme("http")
                .map_err(|()| refuse(format!("cannot use http for {next}")))?;
        }
        Ok((host, next))
    }
}

impl Session<'_> {
    /// The name this visit is to.
    pub fn origin(&self) -> &Domain {
        &self.origin
    }

    /// How the next request is made: a probe until something was answered.
    fn contact(&self) -> Contact {
        if self.probing.load(Ordering::Relaxed) {
            Contact::Probe
        } else {
            Contact::Known
        }
    }

    fn answered(&self) {
        self.probing.store(false, Ordering::Relaxed);
    }

    /// GETs `path` on `host` as part of this visit, reading at most `cap` bytes of body.
    pub async fn get(&self, host: &Domain, path: &str, cap: usize) -> Result<Page, FetchError> {
        self.send(Method::GET, host, path, None, cap).await
    }

    /// POSTs `json` to `path` on `host` as part of this visit (Misskey's API), reading at
    /// most `cap` bytes of body.
    pub async fn post_json(
        &self,
        host: &Domain,
        path: &str,
        json: &serde_json::Value,
        cap: usize,
    ) -> Result<Page, FetchError> {
        let body = serde_json::to_vec(json).expect("JSON values serialize");
        self.send(Method::POST, host, path, Some(Bytes::from(body)), cap)
            .await
    }

    /// Whether a server may file its numbers under `name` (a name it claims): only if a
    /// visit to `name` would be let through, which reads `name`'s robots.txt if it was not
    /// read yet, and sends nothing else.
    pub async fn may_claim(&self, name: &Domain) -> Result<(), FetchError> {
        let host = self.fetcher.hosts.host(name);
        let url = self.fetcher.url(name, "/.well-known/nodeinfo")?;
        self.fetcher.gate(self, &host, &url).await
    }

    async fn send(
        &self,
        method: Method,
        host: &Domain,
        path: &str,
        body: Option<Bytes>,
        cap: usize,
    ) -> Result<Page, FetchError> {
        let request = Request {
            method,
            url: self.fetcher.url(host, path)?,
            host: host.clone(),
            body,
        };
        self.fetcher.follow(self, request, cap).await
    }
}

/// The resolver of a crawl: every name to `--connect-to`, else through `--dns-server`,
/// else through the system's resolver.
fn resolver(config: &FetchConfig) -> anyhow::Result<GuardedResolver> {
    let net = &config.network;
    let lookup = match (config.connect_to, net.dns_server) {
        (Some(addr), _) => Lookup::Fixed(addr),
        (None, Some(server)) => Lookup::server(server, net.dns_timeout)?,
        (None, None) => Lookup::System,
    };
    Ok(GuardedResolver::new(
        lookup,
        net.allow_addresses.clone(),
        net.dns_timeout,
    ))
}

/// `Retry-After` in seconds (HTTP dates are treated as "soon": servers that send them
/// are rare and a date far ahead would be refused by the wait cap anyway). Any u64 is
/// safe: the wait is capped before it is added to a clock.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    value.parse::<u64>().ok().map(Duration::from_secs)
}

/// `from + wait`, or a century ahead where that would overflow the clock (remote input
/// decides `wait`).
fn far(from: Instant, wait: Duration) -> Instant {
    from.checked_add(wait)
        .or_else(|| from.checked_add(Duration::from_secs(100 * 365 * 86_400)))
        .unwrap_or(from)
}

/// Sorts an error while reading a body: the server answered, so what is not a timeout or
/// our own shortage is a protocol error (cut short, bad chunking, bad compression).
fn classify_body(error: &reqwest::Error, url: &Url) -> FetchError {
    let detail = format!("{url}: {}", error_chain(error));
    if out_of_local_resources(error) {
        FetchError::new(FailureReason::Local, detail)
    } else if error.is_timeout() {
        FetchError::new(FailureReason::Timeout, detail)
    } else {
        FetchError::new(FailureReason::Protocol, detail)
    }
}

/// Sorts a transport error into the summary's categories.
fn classify(error: &reqwest::Error, url: &Url) -> FetchError {
    for e in causes(error) {
        if let Some(resolve) = e.downcast_ref::<ResolveError>() {
            let reason = match resolve {
                ResolveError::Forbidden { .. } => FailureReason::ForbiddenAddress,
                _ => FailureReason::Dns,
            };
            let mut failure = FetchError::new(reason, resolve.to_string());
            failure.nonexistent = matches!(resolve, ResolveError::NxDomain { .. });
            return failure;
        }
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            let detail = format!("{url}: {}", trust::tls_failure(tls));
            return FetchError::new(FailureReason::Tls, detail);
        }
        // The server answered, but not in HTTP: a garbage status line, HTTP/0.9, an
        // invalid Content-Length.
        if e.downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_parse)
        {
            return FetchError::new(
                FailureReason::Protocol,
                format!("{url}: {}", error_chain(error)),
            );
        }
    }
    let detail = format!("{url}: {}", error_chain(error));
    if out_of_local_resources(error) {
        return FetchError::new(FailureReason::Local, detail);
    }
    if error.is_timeout() {
        FetchError::new(FailureReason::Timeout, detail)
    } else {
        FetchError::new(FailureReason::Connect, detail)
    }
}

/// Errors that are ours, not the server's: too many open files, no buffer space.
fn out_of_local_resources(error: &reqwest::Error) -> bool {
    causes(error).any(|e| {
        e.downcast_ref::<std::io::Error>()
            // EMFILE, ENFILE, ENOBUFS, ENOMEM
            .is_some_and(|io| matches!(io.raw_os_error(), Some(24 | 23 | 105 | 12)))
    })
}

/// An error and its causes, including the error an `io::Error` wraps: its `source()`
/// skips that one (rustls reports handshake failures that way).
fn causes<'e>(
    error: &'e (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'e (dyn std::error::Error + 'static)> {
    let mut pending = vec![error];
    std::iter::from_fn(move || {
        let e = pending.pop()?;
        if let Some(source) = e.source() {
            pending.push(source);
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            pending.push(inner);
        }
        Some(e)
    })
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}
