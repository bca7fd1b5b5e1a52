//! Both benchmarks at toy sizes, so they keep compiling and running. What they measure
//! is not checked: a test machine's timings mean nothing. What they count is.

use fedicensus::bench::crawl::{self, CrawlBench};
use fedicensus::bench::report::{self, ReportBench};
use indicatif::ProgressBar;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_bench_crawls_the_simulated_world_into_a_kept_database() {
    let keep = tempfile::tempdir().unwrap();
    let dir = keep.path().join("bench");
    let bench = CrawlBench {
        servers: 50,
        seed: 7,
        concurrency: 16,
        per_host_rps: 50.0,
        tls: false,
    };
    let result = crawl::run(&bench, Some(&dir), &ProgressBar::hidden())
        .await
        .unwrap();

    let s = &result.summary;
    assert!(s.known <= 50 && s.servers_up >= 30, "{s:?}");
    assert_eq!(s.up + s.failed_total(), s.attempted, "{s:?}");
    assert!(s.requests > s.attempted as u64);
    assert_eq!(result.kept.as_deref(), Some(dir.as_path()));
    assert!(dir.join("db").is_dir() && result.db_bytes > 0);

    let table = result.table().to_string();
    assert!(table.contains("requests per second"), "{table}");
    let json = serde_json::to_value(&result).unwrap();
    assert_eq!(json["summary"]["attempted"], s.attempted);
    assert!(json["requests_per_sec"].is_number());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_bench_over_https_counts_what_plain_http_counts_and_shows_the_cost() {
    let bench = CrawlBench {
        servers: 40,
        seed: 3,
        concurrency: 16,
        per_host_rps: 50.0,
        tls: true,
    };
    let result = crawl::run(&bench, None, &ProgressBar::hidden())
        .await
        .unwrap();
    let plain = result.plain_http.as_ref().expect("a plain-HTTP baseline");
    let s = &result.summary;
    assert!(s.servers_up >= 20, "{s:?}");
    assert_eq!(s.servers_up, plain.servers_up, "{s:?}");
    assert_eq!(s.failed.get("tls").copied().unwrap_or(0), 0, "{s:?}");
    let table = result.table().to_string();
    assert!(table.contains("HTTPS cost over plain HTTP"), "{table}");
}

#[test]
fn report_bench_writes_the_history_and_times_every_step() {
    let bench = ReportBench {
        servers: 50,
        days: 5,
    };
    let result = report::run(&bench, None, &ProgressBar::hidden()).unwrap();

    // Most servers answer every day; late arrivals, outages and deaths thin it out.
    assert!(
        result.snapshots > 150 && result.snapshots <= 250,
        "{result:?}"
    );
    assert_eq!(result.daily_entries as u64, result.snapshots);
    let phases: Vec<&str> = result.phases.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        phases,
        [
            "write history",
            "report, one day",
            "report, period of 5 days",
            "rebuild daily rollup"
        ]
    );
    assert!(result.kept.is_none());

    let table = result.table().to_string();
    assert!(table.contains("snapshots written"), "{table}");
    let json = serde_json::to_value(&result).unwrap();
    assert_eq!(json["phases"].as_array().unwrap().len(), 4);
}
