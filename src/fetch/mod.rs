//! Fetching documents from fediverse servers politely and safely.
//!
//! Every request goes through [`Fetcher`]: the per-host rate limit and the global
//! in-flight cap ([`limit`]), a resolver that never reaches non-public addresses
//! ([`resolve`]), redirects followed by hand (at most [`MAX_REDIRECTS`] hops, each hop
//! checked, limited and resolved like the first request), `Retry-After` honoured on
//! 429 and 503 with a bounded budget, a total timeout per request, and a size cap on
//! every decoded body ([`body`]). Hostile servers cost a failure reason, nothing else.
//! The first request to a host not known to be up is a probe ([`Contact::Probe`]): a
//! short timeout and slots of its own. Certificates are checked against the system's
//! roots plus `--ca-cert` ([`trust`]).
//!
//! Types: [`Fetcher`], [`FetchConfig`], [`NetworkConfig`], [`Contact`], [`Page`],
//! [`FetchError`].

pub mod body;
pub mod limit;
pub mod resolve;
pub mod robots;
pub mod trust;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ipnet::IpNet;
use reqwest::header::{HeaderMap, ACCEPT, LOCATION, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use url::Url;

use crate::domain::Domain;
use crate::outcome::FailureReason;
use body::{read_capped, BodyError};
use limit::Politeness;
use resolve::{GuardedResolver, Lookup, ResolveError};
use rustls::pki_types::CertificateDer;

/// Redirect hops followed for one request.
pub const MAX_REDIRECTS: usize = 5;

/// How the fetcher behaves; built from the crawl options.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    pub user_agent: String,
    /// For the whole request: connecting, redirects, waiting and reading the body.
    pub timeout: Duration,
    /// The same for a probe ([`Contact::Probe`]); at most `timeout`.
    pub probe_timeout: Duration,
    pub connect_timeout: Duration,
    pub per_host_rps: f64,
    pub concurrency: usize,
    /// Send every request to this address, keeping the server's name in `Host`.
    pub connect_to: Option<SocketAddr>,
    /// Use `http://` (only together with `connect_to`).
    pub plain_http: bool,
    /// Retries after 429/503 before giving up on a request.
    pub max_retries: u32,
    /// A `Retry-After` longer than this is not waited for: the request fails instead.
    pub max_retry_wait: Duration,
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
/// capped body.
#[derive(Debug, Clone)]
pub struct Page {
    pub status: StatusCode,
    pub host: Domain,
    pub body: Bytes,
}

/// A request that produced no usable response, with the summary's failure category.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {detail}")]
pub struct FetchError {
    pub reason: FailureReason,
    pub detail: String,
    /// The DNS said the name does not exist (NXDOMAIN, reason `dns`).
    pub nonexistent: bool,
}

impl FetchError {
    pub fn new(reason: FailureReason, detail: impl Into<String>) -> Self {
        FetchError {
            reason,
            detail: detail.into(),
            nonexistent: false,
        }
    }
}

/// The one HTTP client of a crawl.
pub struct Fetcher {
    client: reqwest::Client,
    politeness: Politeness,
    config: FetchConfig,
    requests: AtomicU64,
}

impl Fetcher {
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
            // A connection is only reused between the requests of one visit, which are
            // 1/rps apart. Keeping idle sockets longer piles up one per visited host and
            // runs the process out of file descriptors at crawl scale.
            .pool_max_idle_per_host(1)
            .pool_idle_timeout(
                Duration::from_secs_f64(1.0 / config.per_host_rps.max(1e-3))
                    .min(Duration::from_secs(30))
                    + Duration::from_secs(1),
            )
            .dns_resolver(Arc::new(resolver(&config)?))
            .build()?;
        Ok(Fetcher {
            client,
            politeness: Politeness::new(config.concurrency, config.per_host_rps),
            config,
            requests: AtomicU64::new(0),
        })
    }

    /// Requests sent so far (every attempt and redirect hop counts).
    pub fn requests_sent(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    pub fn politeness(&self) -> &Politeness {
        &self.politeness
    }

    pub async fn get(&self, host: &Domain, path: &str, cap: usize) -> Result<Page, FetchError> {
        self.get_as(Contact::Known, host, path, cap).await
    }

    /// A GET with the timeout and slots of `contact`.
    pub async fn get_as(
        &self,
        contact: Contact,
        host: &Domain,
        path: &str,
        cap: usize,
    ) -> Result<Page, FetchError> {
        let url = self.url(host, path)?;
        self.follow(contact, Method::GET, host.clone(), url, None, cap)
            .await
    }

    pub async fn post_json(
        &self,
        host: &Domain,
        path: &str,
        json: &serde_json::Value,
        cap: usize,
    ) -> Result<Page, FetchError> {
        let body = serde_json::to_vec(json).expect("JSON values serialize");
        let url = self.url(host, path)?;
        let body = Some(Bytes::from(body));
        self.follow(Contact::Known, Method::POST, host.clone(), url, body, cap)
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

    /// Sends a request and follows its redirects and retries. Each attempt is bounded by
    /// the timeout of `contact` (connect, headers and body); redirects and retries are
    /// bounded in number. Waiting for politeness is deliberately not part of any timeout.
    async fn follow(
        &self,
        contact: Contact,
        mut method: Method,
        mut host: Domain,
        mut url: Url,
        mut body: Option<Bytes>,
        cap: usize,
    ) -> Result<Page, FetchError> {
        let mut retries = 0;
        let mut hops = 0;
        loop {
            let response = self
                .send(contact, &method, &host, &url, body.clone())
                .await?;
            let status = response.status();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                hops += 1;
                if hops > MAX_REDIRECTS {
                    return Err(FetchError::new(
                        FailureReason::Redirect,
                        format!("more than {MAX_REDIRECTS} redirects"),
                    ));
                }
                let next = self.redirect_target(&url, response.headers())?;
                if matches!(
                    status,
                    StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND | StatusCode::SEE_OTHER
                ) {
                    method = Method::GET;
                    body = None;
                }
                (host, url) = next;
                continue;
            }
            if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE
            {
                let wait =
                    retry_after(response.headers()).unwrap_or(Duration::from_secs(1 << retries));
                if retries >= self.config.max_retries || wait > self.config.max_retry_wait {
                    return Err(FetchError::new(
                        FailureReason::RateLimited,
                        format!(
                            "{status} from {host} after {retries} retries (Retry-After {wait:?})"
                        ),
                    ));
                }
                retries += 1;
                tokio::time::sleep(wait).await;
                continue;
            }
            let timeout = self.timeout(contact);
            let body = match tokio::time::timeout(timeout, read_capped(response, cap)).await {
                Ok(Ok(body)) => body,
                Ok(Err(BodyError::TooLarge { cap })) => {
                    return Err(FetchError::new(
                        FailureReason::TooLarge,
                        format!("{url} is larger than {cap} bytes"),
                    ))
                }
                Ok(Err(BodyError::Transport(e))) => return Err(classify(&e, &url)),
                Err(_) => {
                    return Err(FetchError::new(
                        FailureReason::Timeout,
                        format!("{url} body not complete within {timeout:?}"),
                    ))
                }
            };
            return Ok(Page { status, host, body });
        }
    }

    fn timeout(&self, contact: Contact) -> Duration {
        match contact {
            Contact::Known => self.config.timeout,
            Contact::Probe => self.config.probe_timeout.min(self.config.timeout),
        }
    }

    async fn send(
        &self,
        contact: Contact,
        method: &Method,
        host: &Domain,
        url: &Url,
        body: Option<Bytes>,
    ) -> Result<reqwest::Response, FetchError> {
        let _slot = self.politeness.acquire(host, contact).await;
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut request = self
            .client
            .request(method.clone(), url.clone())
            .timeout(self.timeout(contact));
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        tracing::trace!(%method, %url, "request");
        request.send().await.map_err(|e| classify(&e, url))
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
/// are rare and a date far ahead would be refused by the wait cap anyway).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    value.parse::<u64>().ok().map(Duration::from_secs)
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
