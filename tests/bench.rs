//! The benchmarks at toy sizes, so they keep compiling and running. What they measure
//! is not checked: a test machine's timings mean nothing. What they count is.

use fedicensus::bench::crawl::{self, CrawlBench};
use fedicensus::bench::history::HistorySize;
use fedicensus::bench::report;
use fedicensus::sim::NetShape;
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
        probe_timeout: Some(0.5),
        shape: NetShape {
            latency_ms: (5, 20),
            refusing_pct: 10,
            hanging_pct: 10,
            outages_per_mille: 200,
        },
        days: 6,
        tls: false,
    };
    let result = crawl::run(&bench, Some(&dir), &ProgressBar::hidden())
        .await
        .unwrap();

    let s = &result.summary;
    assert!(s.known <= 50 && s.servers_up >= 30, "{s:?}");
    assert_eq!(s.up + s.failed_total(), s.attempted, "{s:?}");
    assert!(s.requests > s.attempted as u64);
    assert!(s.failed["timeout"] > 0, "hanging servers time out: {s:?}");
    // A lower bound on the wall time cannot exceed it.
    let bound = &result.bound;
    assert!(bound.secs > 0.0 && bound.ratio <= 1.0, "{bound:?}");
    assert_eq!(result.later_days.len(), 5);
    // Servers in outages of four days or more get liveness checks from their fifth day.
    let checks: usize = result
        .later_days
        .iter()
        .map(|d| d.summary.liveness_checks)
        .sum();
    assert!(checks > 0, "{:?}", result.later_days);
    assert_eq!(result.kept.as_deref(), Some(dir.as_path()));
    assert!(dir.join("db").is_dir() && result.db_bytes > 0);

    let table = result.table().to_string();
    assert!(table.contains("requests per second"), "{table}");
    assert!(table.contains("reached of the bound"), "{table}");
    assert!(table.contains("liveness checks ("), "{table}");
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
        probe_timeout: None,
        shape: NetShape {
            latency_ms: (0, 0),
            refusing_pct: 0,
            hanging_pct: 0,
            outages_per_mille: 0,
        },
        days: 1,
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
    let bench = HistorySize {
        servers: 50,
        days: 5,
    };
    let exe = std::path::Path::new(env!("CARGO_BIN_EXE_fedicensus"));
    let result = report::run(&bench, exe, None, &ProgressBar::hidden()).unwrap();

    // Most servers answer every day; late arrivals, outages and deaths thin it out.
    assert!(
        result.snapshots > 150 && result.snapshots <= 250,
        "{result:?}"
    );
    assert_eq!(result.days_derived, 5);
    let phases: Vec<&str> = result.phases.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        phases,
        [
            "write history (bulk)",
            "derive day summaries",
            "report, one day",
            "report, period of 5 days",
            "report, period of 5 days, --software mastodon",
            "report, period of 5 days, --include-suspect",
            "rebuild"
        ]
    );
    assert!(result.phases.iter().all(|p| p.secs > 0.0));
    assert!(result.bytes_per_snapshot > 0.0);
    assert!(result.kept.is_none());

    let table = result.table().to_string();
    assert!(table.contains("snapshots written"), "{table}");
    let json = serde_json::to_value(&result).unwrap();
    assert_eq!(json["phases"].as_array().unwrap().len(), 7);
}

#[test]
fn export_bench_exports_and_imports_every_snapshot() {
    use fedicensus::bench::export;
    let bench = HistorySize {
        servers: 40,
        days: 6,
    };
    let result = export::run(&bench, None, &ProgressBar::hidden()).unwrap();
    assert!(result.snapshots > 100);
    let names: Vec<&str> = result.phases.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names.len(), 6, "{names:?}");
    assert_eq!(names[5], "derive the imported days' summaries");
    assert!(result.csv_bytes > 0 && result.parquet_bytes > 0);
    assert!(result.import_rows_per_sec > 0.0 && result.check_rows_per_sec > 0.0);
    assert!(result.table().to_string().contains("rows a second"));
}
