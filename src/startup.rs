//! Builds the application from settings: opens the store, binds the listener (so tests
//! can bind port 0 and ask for the port), then serves until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use poem::Server;
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};

use crate::config::{Backend, Settings};
use crate::domain::AvatarLimits;
use crate::http::{self, AppState};
use crate::store::aws::{AwsSettings, AwsSetupError, AwsStore};
use crate::store::embedded::EmbeddedStore;
use crate::store::{ObservedStore, StoreError, UserStore};
use crate::telemetry;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot open the embedded store under ROSTER_DATA_DIR: {0}")]
    EmbeddedStore(StoreError),
    #[error(transparent)]
    Aws(#[from] AwsSetupError),
    #[error("cannot listen on ROSTER_LISTEN {address}: {source}")]
    Bind {
        address: SocketAddr,
        source: std::io::Error,
    },
}

pub struct Application {
    acceptor: TcpAcceptor,
    address: SocketAddr,
    state: Arc<AppState>,
    shutdown_timeout: Duration,
}

impl Application {
    pub async fn build(settings: &Settings) -> Result<Self, StartupError> {
        let store = open_store(settings).await?;
        let limits = AvatarLimits {
            max_bytes: settings.max_avatar_bytes,
            max_pixels: settings.max_avatar_pixels,
        };
        let state = Arc::new(AppState::new(
            store,
            limits,
            usize::from(settings.list_page_size),
            telemetry::metrics::prometheus(),
        ));
        let bind_error = |source| StartupError::Bind {
            address: settings.listen,
            source,
        };
        let acceptor = TcpListener::bind(settings.listen)
            .into_acceptor()
            .await
            .map_err(bind_error)?;
        let address = acceptor
            .local_addr()
            .first()
            .and_then(|address| address.as_socket_addr().copied())
            .unwrap_or(settings.listen);
        Ok(Self {
            acceptor,
            address,
            state,
            shutdown_timeout: settings.shutdown_timeout,
        })
    }

    /// The address actually bound (the port is chosen by the system for port 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Serves until `shutdown` completes; then readiness turns 503 at once, no new
    /// connections are taken, and in-flight requests get the shutdown timeout to finish.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let state = Arc::clone(&self.state);
        let timeout = self.shutdown_timeout;
        let signal = async move {
            shutdown.await;
            state.readiness().begin_shutdown();
            tracing::info!(?timeout, "shutting down; finishing in-flight requests");
        };
        tracing::info!(address = %self.address, "serving");
        Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(http::routes(self.state), signal, Some(timeout))
            .await
    }
}

async fn open_store(settings: &Settings) -> Result<Arc<dyn UserStore>, StartupError> {
    Ok(match settings.backend {
        Backend::Embedded => {
            let base_url = settings.avatar_base_url().unwrap_or("");
            let store = EmbeddedStore::open(&settings.data_dir, base_url)
                .map_err(StartupError::EmbeddedStore)?;
            Arc::new(ObservedStore::new(store))
        }
        Backend::Aws => Arc::new(ObservedStore::new(
            AwsStore::connect(AwsSettings {
                table: settings.table.clone(),
                bucket: settings.bucket.clone(),
                avatar_base_url: settings.avatar_base_url().map(str::to_owned),
            })
            .await?,
        )),
    })
}

/// Completes on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
