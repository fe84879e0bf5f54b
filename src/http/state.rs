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
