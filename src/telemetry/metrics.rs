//! The Prometheus registry behind `/metrics`, installed once per process, with every family
//! described and every counter of a known label set present from the start at 0, so a
//! pod's first event of a kind is an increase Prometheus can see.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Latency buckets in seconds, from a cache-hot read to a slow upload.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How often histogram samples are folded into their buckets when nobody scrapes: the
/// recorder keeps every raw sample (8 bytes) until then, so without it an unscraped server
/// grows, and with it one holds an interval's worth. At 5 s, 100,000 requests a second
/// held 4 MB (the benchmark measured +8.3 MiB over 3.85 M unscraped requests); at 1 s it
/// is a fifth of that, for one wake-up a second.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(1);

/// The store operations measured by the service.
pub const STORE_OPERATIONS: &[&str] = &[
    "create",
    "get",
    "delete",
    "list_page",
    "check_ready",
    "avatar_file",
    "sweep",
];

/// Scan responses of the AWS backend read, by decoder: `roster` (straight into users) or
/// `sdk` (the SDK's own, for a page roster's declined).
pub const SCAN_PAGES: &str = "roster_dynamodb_scan_pages_total";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder handle; the first call installs the recorder.
pub fn prometheus() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new();
            let recorder = builder
                .set_buckets(LATENCY_BUCKETS)
                .map(PrometheusBuilder::build_recorder)
                .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was installed already; /metrics stays empty");
            }
            describe();
            handle
        })
        .clone()
}

/// Folds histogram samples into buckets every second, for as long as the runtime runs.
pub fn spawn_upkeep(handle: PrometheusHandle) {
    spawn_every(UPKEEP_INTERVAL, move || handle.run_upkeep());
}

fn spawn_every(interval: Duration, mut work: impl FnMut() + Send + 'static) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            work();
        }
    });
}

fn describe() {
    describe_counter!(
        "http_requests_total",
        "Requests answered, by method, route template and status."
    );
    describe_histogram!(
        "http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer a request, until its response head is ready, by method, route template and status."
    );
    describe_gauge!("http_requests_in_flight", "Requests being handled now.");
    describe_histogram!(
        "roster_store_operation_duration_seconds",
        Unit::Seconds,
        "Duration of each operation of the service on the stores, by operation."
    );
    describe_counter!(
        "roster_store_errors_total",
        "Store operations that failed, by operation and kind (unavailable or internal)."
    );
    describe_counter!(
        "roster_avatar_bytes_stored_total",
        Unit::Bytes,
        "Bytes of avatars stored by successful creates."
    );
    describe_counter!(
        "roster_listing_aborted_total",
        "Streamed listings cut off by a store failure after their body had started."
    );
    describe_gauge!(
        "roster_connections_open",
        "Client connections served now (past their first byte), against roster_connections_max."
    );
    describe_gauge!(
        "roster_connections_waiting",
        "Client connections accepted that have not sent a byte yet (the lobby, no buffer held)."
    );
    describe_gauge!(
        "roster_connections_max",
        "Client connections served at once (ROSTER_MAX_CONNECTIONS); more wait in the backlog."
    );
    describe_counter!(
        "roster_connections_closed_total",
        "Connections closed by a timeout, by which: header_timeout, idle_timeout, send_timeout."
    );
    describe_counter!(
        "roster_uploads_ended_total",
        "Uploads answered 408 for being too slow, by reason: stalled or deadline."
    );
    describe_gauge!(
        "roster_upload_spool_bytes",
        Unit::Bytes,
        "Temporary disk reserved by uploads in progress."
    );
    describe_gauge!(
        "roster_upload_spool_limit_bytes",
        Unit::Bytes,
        "Temporary disk uploads may reserve at once."
    );
    describe_counter!(
        "roster_creates_undone_total",
        "Creates whose user was not stored and whose avatar was removed again."
    );
    describe_counter!(
        "roster_orphan_sweeps_total",
        "Orphan sweeps run, by outcome: ok or failed."
    );
    describe_counter!(
        "roster_orphans_found_total",
        "Avatar objects found that no user points at, older than the grace."
    );
    describe_counter!(
        "roster_orphans_removed_total",
        "Orphan avatar objects removed."
    );
    describe_counter!(
        SCAN_PAGES,
        "DynamoDB Scan responses read, by decoder: roster (straight into users) or sdk (pages roster's decoder declined)."
    );
    describe_gauge!(
        "roster_store_ready",
        "Whether the last readiness check found the store answering (1) or not (0), by check: users or avatars."
    );

    for operation in STORE_OPERATIONS {
        for kind in ["unavailable", "internal"] {
            metrics::counter!("roster_store_errors_total", "operation" => *operation, "kind" => kind)
                .increment(0);
        }
    }
    for reason in ["header_timeout", "idle_timeout", "send_timeout"] {
        metrics::counter!("roster_connections_closed_total", "reason" => reason).increment(0);
    }
    for reason in ["stalled", "deadline"] {
        metrics::counter!("roster_uploads_ended_total", "reason" => reason).increment(0);
    }
    for decoder in ["roster", "sdk"] {
        metrics::counter!(SCAN_PAGES, "decoder" => decoder).increment(0);
    }
    for outcome in ["ok", "failed"] {
        metrics::counter!("roster_orphan_sweeps_total", "outcome" => outcome).increment(0);
    }
    for counter in [
        "roster_avatar_bytes_stored_total",
        "roster_listing_aborted_total",
        "roster_creates_undone_total",
        "roster_orphans_found_total",
        "roster_orphans_removed_total",
    ] {
        metrics::counter!(counter).increment(0);
    }
    for gauge in [
        "http_requests_in_flight",
        "roster_connections_open",
        "roster_connections_waiting",
        "roster_upload_spool_bytes",
    ] {
        metrics::gauge!(gauge).increment(0.0);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn unscraped_samples_are_folded_every_second() {
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&runs);
        spawn_every(UPKEEP_INTERVAL, move || {
            counted.fetch_add(1, Ordering::SeqCst);
        });
        tokio::time::sleep(Duration::from_millis(3_500)).await;
        assert_eq!(UPKEEP_INTERVAL, Duration::from_secs(1));
        assert_eq!(
            runs.load(Ordering::SeqCst),
            4,
            "at the start, then after 1, 2 and 3 s"
        );
    }
}
