//! Builds the application from settings: opens the stores, makes the service, binds the
//! listener (so tests can bind port 0 and ask for the port), then serves until told to
//! stop, and drains.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;

use crate::config::{Backend, Settings};
use crate::domain::{AvatarLimits, AvatarUrls};
use crate::http::server::{self, ConnectionLimits};
use crate::http::upload::{UploadReader, UploadSettings};
use crate::http::{self, AppState};
use crate::service::{ServiceSettings, SpoolBudget, Stores, UserService};
use crate::store::{StoreError, aws, embedded};
use crate::telemetry;

/// How often the stores are checked in the background, for `roster_store_ready`.
const READINESS_WATCH_INTERVAL: Duration = Duration::from_secs(15);

/// How long an upload waits for spool space before it is answered 503.
const SPOOL_WAIT_LIMIT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot open the embedded store under ROSTER_DATA_DIR")]
    EmbeddedStore(#[source] StoreError),
    #[error(transparent)]
    Aws(#[from] aws::AwsSetupError),
    #[error("cannot listen on ROSTER_LISTEN {address}")]
    Bind {
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

pub struct Application {
    listener: TcpListener,
    address: SocketAddr,
    state: Arc<AppState>,
    service: UserService,
    limits: ConnectionLimits,
    shutdown_timeout: Duration,
    sweep: Option<(Duration, Duration)>,
}

impl Application {
    pub async fn build(settings: &Settings) -> Result<Self, StartupError> {
        let stores = open_stores(settings).await?;
        Self::with_stores(settings, stores).await
    }

    /// The application on stores of the caller's choosing (tests wrap the real backends).
    pub async fn with_stores(settings: &Settings, stores: Stores) -> Result<Self, StartupError> {
        // First, so that the gauges set while building (the spool budget's) are recorded.
        let metrics = telemetry::metrics::prometheus();
        let service = service(settings, stores);
        let uploads = UploadReader::new(
            UploadSettings {
                max_avatar_bytes: settings.max_avatar_bytes,
                stall_timeout: settings.upload_stall_timeout,
                deadline: settings.upload_deadline,
            },
            SpoolBudget::new(settings.upload_spool_bytes(), SPOOL_WAIT_LIMIT),
        );
        let state = Arc::new(AppState::new(
            service.clone(),
            uploads,
            usize::from(settings.list_page_size),
            settings.avatar_cache_control(),
            metrics,
        ));
        let max_connections = usize::try_from(settings.max_connections).unwrap_or(usize::MAX);
        let max_connections = within_open_file_limit(max_connections);
        let listener = listen(settings.listen).map_err(|source| StartupError::Bind {
            address: settings.listen,
            source,
        })?;
        let address = listener.local_addr().unwrap_or(settings.listen);
        let sweep = (!settings.orphan_sweep_interval.is_zero())
            .then_some((settings.orphan_sweep_interval, settings.orphan_grace));
        Ok(Self {
            listener,
            address,
            state,
            service,
            limits: ConnectionLimits {
                max_connections,
                header_read_timeout: settings.header_read_timeout,
                keepalive_timeout: settings.keepalive_timeout,
                send_timeout: settings.send_timeout,
            },
            shutdown_timeout: settings.shutdown_timeout,
            sweep,
        })
    }

    /// The address actually bound (the port is chosen by the system for port 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn service(&self) -> &UserService {
        &self.service
    }

    /// Serves until `shutdown` completes; then readiness turns 503 at once, the listener
    /// closes, and in-flight requests, creates and deletes share the shutdown timeout to
    /// finish.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        if let Some((interval, grace)) = self.sweep {
            self.service.spawn_periodic_sweep(interval, grace);
        }
        telemetry::metrics::spawn_upkeep(telemetry::metrics::prometheus());
        self.service.spawn_readiness_watch(READINESS_WATCH_INTERVAL);
        let service = self.service.clone();
        let timeout = self.shutdown_timeout;
        let signalled_at = Arc::new(OnceLock::new());
        let signal = {
            let signalled_at = Arc::clone(&signalled_at);
            async move {
                shutdown.await;
                signalled_at.get_or_init(Instant::now);
                service.begin_shutdown();
                tracing::info!(?timeout, "shutting down; finishing in-flight requests");
            }
        };
        tracing::info!(address = %self.address, "serving");
        server::serve(
            self.listener,
            http::routes(self.state),
            self.limits,
            signal,
            timeout,
        )
        .await?;
        // A create or delete that outlived its request (dropped at the shutdown timeout)
        // still gets to finish or undo itself: its own deadline bounds the wait.
        let spent = signalled_at.get().map_or(Duration::ZERO, Instant::elapsed);
        let wait = timeout
            .saturating_sub(spent)
            .max(self.service.longest_workflow());
        let unfinished = self.service.finish_workflows(wait).await;
        if unfinished > 0 {
            tracing::warn!(
                unfinished,
                "shutdown timeout reached with creates or deletes still running; any avatar they leave is swept later"
            );
        }
        Ok(())
    }
}

/// Connections the kernel completes and holds before roster accepts them. A backlog that
/// overflows leaves clients with connections the server never sees (the kernel drops
/// their final ACK); the kernel caps this at `net.core.somaxconn`.
const LISTEN_BACKLOG: u32 = 4096;

fn listen(address: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match address {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(LISTEN_BACKLOG)
}

/// File descriptors kept free of connections: the database, avatar files, store clients.
const RESERVED_FILES: u64 = 256;

/// Raises the soft open-file limit as far as the hard limit allows, and returns the number of
/// connections that fits in it (the lobby included), at most `wanted`.
fn within_open_file_limit(wanted: usize) -> usize {
    let lobby = server::LOBBY_FACTOR as u64 + 1;
    let needed = (wanted as u64).saturating_mul(lobby) + RESERVED_FILES;
    let limit = match rlimit::increase_nofile_limit(needed) {
        Ok(limit) => limit,
        Err(error) => {
            tracing::warn!(%error, "cannot read or raise the open-file limit");
            return wanted;
        }
    };
    if limit >= needed {
        return wanted;
    }
    let fitting = usize::try_from(limit.saturating_sub(RESERVED_FILES) / lobby)
        .unwrap_or(usize::MAX)
        .max(1);
    tracing::warn!(
        limit,
        wanted,
        fitting,
        "the open-file limit is too low for ROSTER_MAX_CONNECTIONS; serving fewer connections"
    );
    fitting
}

fn service(settings: &Settings, stores: Stores) -> UserService {
    UserService::new(
        stores,
        ServiceSettings {
            avatar_limits: AvatarLimits {
                max_bytes: settings.max_avatar_bytes,
                max_pixels: settings.max_avatar_pixels,
                max_frames: settings.max_avatar_frames,
                max_total_pixels: settings.max_avatar_total_pixels,
            },
            create_timeout: settings.create_timeout,
        },
    )
}

/// The stores of the configured backend.
pub async fn open_stores(settings: &Settings) -> Result<Stores, StartupError> {
    Ok(match settings.backend {
        Backend::Embedded => {
            let (users, avatars) =
                embedded::open(&settings.data_dir).map_err(StartupError::EmbeddedStore)?;
            let avatars = Arc::new(avatars);
            Stores {
                users: Arc::new(users),
                files: Some(avatars.clone()),
                avatars,
                urls: AvatarUrls::new(settings.avatar_base_url().unwrap_or("")),
            }
        }
        Backend::Aws => {
            let backend = aws::connect(aws::AwsSettings {
                table: settings.table.clone(),
                bucket: settings.bucket.clone(),
                avatar_base_url: settings.avatar_base_url().map(str::to_owned),
                avatar_cache_control: settings.avatar_cache_control(),
            })
            .await?;
            Stores {
                users: Arc::new(backend.users),
                avatars: Arc::new(backend.avatars),
                files: None,
                urls: backend.urls,
            }
        }
    })
}

/// The service alone, without a server: for one-off commands.
pub async fn open_service(settings: &Settings) -> Result<UserService, StartupError> {
    Ok(service(settings, open_stores(settings).await?))
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
