//! What every handler shares: the store, the limits and the readiness of the service.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use metrics_exporter_prometheus::PrometheusHandle;
use tokio::sync::Mutex;

use crate::domain::AvatarLimits;
use crate::store::{StoreError, UserStore};

pub struct AppState {
    store: Arc<dyn UserStore>,
    avatar_limits: AvatarLimits,
    list_page_size: usize,
    readiness: Readiness,
    metrics: PrometheusHandle,
}

impl AppState {
    pub fn new(
        store: Arc<dyn UserStore>,
        avatar_limits: AvatarLimits,
        list_page_size: usize,
        metrics: PrometheusHandle,
    ) -> Self {
        Self {
            readiness: Readiness::new(Arc::clone(&store), READINESS_CACHE_TTL),
            store,
            avatar_limits,
            list_page_size,
            metrics,
        }
    }

    pub fn store(&self) -> Arc<dyn UserStore> {
        Arc::clone(&self.store)
    }

    pub fn avatar_limits(&self) -> AvatarLimits {
        self.avatar_limits
    }

    pub fn list_page_size(&self) -> usize {
        self.list_page_size
    }

    pub fn readiness(&self) -> &Readiness {
        &self.readiness
    }

    pub fn render_metrics(&self) -> String {
        self.metrics.render()
    }
}

/// How long one readiness answer is reused, so that probes from many kubelets and load
/// balancers cost the backend at most one check per interval.
const READINESS_CACHE_TTL: Duration = Duration::from_secs(1);

pub struct Readiness {
    store: Arc<dyn UserStore>,
    shutting_down: AtomicBool,
    last_check: Mutex<Option<(Instant, bool)>>,
    ttl: Duration,
}

impl Readiness {
    fn new(store: Arc<dyn UserStore>, ttl: Duration) -> Self {
        Self {
            store,
            shutting_down: AtomicBool::new(false),
            last_check: Mutex::new(None),
            ttl,
        }
    }

    /// From now on the service reports not ready, so load balancers stop sending traffic
    /// while in-flight requests finish.
    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    pub async fn check(&self) -> Result<(), StoreError> {
        if self.shutting_down.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable("shutting down".into()));
        }
        // Holding the lock while checking makes concurrent probes share one check.
        let mut last_check = self.last_check.lock().await;
        let ready = match *last_check {
            Some((checked_at, ready)) if checked_at.elapsed() < self.ttl => ready,
            _ => {
                let ready = match self.store.check_ready().await {
                    Ok(()) => true,
                    Err(error) => {
                        tracing::warn!(%error, "readiness check failed");
                        false
                    }
                };
                *last_check = Some((Instant::now(), ready));
                ready
            }
        };
        if ready {
            Ok(())
        } else {
            Err(StoreError::Unavailable("readiness check failed".into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_double::ScriptedStore;

    #[tokio::test]
    async fn concurrent_probes_share_one_store_check() {
        let store = Arc::new(ScriptedStore::new(0, None));
        let readiness = Readiness::new(store.clone(), Duration::from_secs(60));
        let checks = (0..10).map(|_| readiness.check());
        for result in futures_util::future::join_all(checks).await {
            assert!(result.is_ok());
        }
        assert_eq!(store.readiness_checks(), 1);
    }

    #[tokio::test]
    async fn a_stale_answer_is_checked_again() {
        let store = Arc::new(ScriptedStore::new(0, None));
        let readiness = Readiness::new(store.clone(), Duration::ZERO);
        readiness.check().await.unwrap();
        readiness.check().await.unwrap();
        assert_eq!(store.readiness_checks(), 2);
    }

    #[tokio::test]
    async fn a_failing_store_is_not_ready() {
        let mut scripted = ScriptedStore::new(0, None);
        scripted.ready = false;
        let readiness = Readiness::new(Arc::new(scripted), Duration::from_secs(60));
        assert!(matches!(
            readiness.check().await,
            Err(StoreError::Unavailable(_))
        ));
    }

    #[tokio::test]
    async fn shutdown_makes_readiness_fail_at_once_without_asking_the_store() {
        let store = Arc::new(ScriptedStore::new(0, None));
        let readiness = Readiness::new(store.clone(), Duration::from_secs(60));
        readiness.check().await.unwrap();
        readiness.begin_shutdown();
        assert!(matches!(
            readiness.check().await,
            Err(StoreError::Unavailable(_))
        ));
        assert_eq!(store.readiness_checks(), 1);
    }
}
