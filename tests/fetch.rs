//! The fetcher against hostile servers on 127.0.0.1: redirect loops, redirects to
//! addresses, slow drips, oversized and gzip-bombed bodies, endless 429s.

use std::io::Write;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use fedicensus::domain::Domain;
use fedicensus::fetch::{FetchConfig, Fetcher};
use fedicensus::outcome::FailureReason;

mod common;

async fn hostile_server() -> std::net::SocketAddr {
    let bomb = {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![b' '; 8 * 1024 * 1024]).unwrap();
        gz.finish().unwrap()
    };
    let app = Router::new()
        .route("/loop", get(|| async { redirect("/loop") }))
        .route("/to-ip", get(|| async { redirect("http://127.0.0.1/x") }))
        .route(
            "/to-port",
            get(|| async { redirect("http://other.social:8080/x") }),
        )
        .route(
            "/to-ftp",
            get(|| async { redirect("ftp://other.social/x") }),
        )
        .route(
            "/hop",
            get(|| async { redirect("https://www.hostile.social/ok") }),
        )
        .route("/ok", get(|| async { "fine" }))
        .route("/big", get(|| async { vec![b'x'; 2 * 1024 * 1024] }))
        .route(
            "/bomb",
            get(move || {
                let bomb = bomb.clone();
                async move { ([(header::CONTENT_ENCODING, "gzip")], bomb).into_response() }
            }),
        )
        .route(
            "/drip",
            get(|| async {
                let stream = futures_stream();
                Response::new(Body::from_stream(stream))
            }),
        )
        .route(
            "/busy",
            get(|| async {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, "3600")],
                    "slow down",
                )
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// One byte every 300 ms, forever: a slow-drip body.
fn futures_stream() -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send {
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    tokio::spawn(async move {
        while tx.send(Ok(vec![b'.'])).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

fn redirect(to: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, to.to_string())]).into_response()
}

fn fetcher(addr: std::net::SocketAddr) -> Fetcher {
    Fetcher::new(FetchConfig {
        connect_to: Some(addr),
        plain_http: true,
        ..common::fetch_config()
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_answers_fail_with_a_reason_and_cost_little() {
    let addr = hostile_server().await;
    let f = fetcher(addr);
    let host = Domain::parse("hostile.social").unwrap();
    let reason =
        |r: Result<fedicensus::fetch::Page, fedicensus::fetch::FetchError>| r.unwrap_err().reason;

    // The host's robots.txt is read before its first request, once.
    assert_eq!(&f.get(&host, "/ok", 1024).await.unwrap().body[..], b"fine");
    assert_eq!(f.requests_sent(), 2, "robots.txt, then the document");
    let before = f.requests_sent();
    assert_eq!(
        reason(f.get(&host, "/loop", 1024).await),
        FailureReason::Redirect
    );
    assert_eq!(f.requests_sent() - before, 6, "5 hops followed, then stop");
    assert_eq!(
        reason(f.get(&host, "/to-ip", 1024).await),
        FailureReason::Redirect
    );
    assert_eq!(
        reason(f.get(&host, "/to-port", 1024).await),
        FailureReason::Redirect
    );
    assert_eq!(
        reason(f.get(&host, "/to-ftp", 1024).await),
        FailureReason::Redirect
    );

    let page = f.get(&host, "/hop", 1024).await.unwrap();
    assert_eq!(
        page.host.as_str(),
        "www.hostile.social",
        "the answering host is reported"
    );
    assert_eq!(&page.body[..], b"fine");

    assert_eq!(
        reason(f.get(&host, "/big", 1024 * 1024).await),
        FailureReason::TooLarge
    );
    let started = Instant::now();
    assert_eq!(
        reason(f.get(&host, "/bomb", 1024 * 1024).await),
        FailureReason::TooLarge
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the bomb is stopped at the cap"
    );

    let started = Instant::now();
    assert_eq!(
        reason(f.get(&host, "/drip", 1024 * 1024).await),
        FailureReason::Timeout
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a slow drip costs one timeout"
    );

    let started = Instant::now();
    assert_eq!(
        reason(f.get(&host, "/busy", 1024).await),
        FailureReason::RateLimited
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "a Retry-After beyond the cap is not waited for"
    );
}
