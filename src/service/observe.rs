//! Store metrics, the same whatever the backend: the duration of every operation of the
//! service and, when one fails, which kind of failure.

use std::future::Future;
use std::time::Instant;

use crate::store::{StoreError, StoreErrorKind};

/// Something whose failure may be the store's.
pub trait StoreFailure {
    fn store_error_kind(&self) -> Option<StoreErrorKind>;
}

impl StoreFailure for StoreError {
    fn store_error_kind(&self) -> Option<StoreErrorKind> {
        Some(self.kind())
    }
}

/// Records the duration of `operation` and, when it fails in the store, which kind of
/// failure. A conflict or a missing user is an answer, not a store failure.
pub async fn measured<T, E: StoreFailure>(
    operation: &'static str,
    work: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let started = Instant::now();
    let result = work.await;
    metrics::histogram!("roster_store_operation_duration_seconds", "operation" => operation)
        .record(started.elapsed().as_secs_f64());
    if let Err(error) = &result
        && let Some(kind) = error.store_error_kind()
    {
        let kind = match kind {
            StoreErrorKind::Unavailable => "unavailable",
            StoreErrorKind::Internal => "internal",
        };
        metrics::counter!("roster_store_errors_total", "operation" => operation, "kind" => kind)
            .increment(1);
    }
    result
}
