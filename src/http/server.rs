//! The HTTP/1.1 server under the routes. It serves at most `max_connections` connections
//! at once; a connection waits for its first request head in a lobby that holds only the
//! bytes that arrived (up to `LOBBY_FACTOR` times as many connections), and past that the
//! kernel's backlog holds new ones, never allocated here. It ends every wait a client can impose on it, as nginx does:
//!
//! - a connection must deliver a complete request head within `header_read_timeout`,
//!   counted from accept, or from the first byte of a later request on the connection
//!   (`client_header_timeout`);
//! - an idle keep-alive connection is closed after `keepalive_timeout`
//!   (`keepalive_timeout`), which must outlast the load balancer's own idle timeout so the
//!   balancer never reuses a connection the server is closing;
//! - a response the client stops reading is abandoned after `send_timeout` without progress
//!   (`send_timeout`).
//!
//! Request bodies are bounded where they are read (the upload parser has its own stall
//! timeout and deadline). A request whose body was not read to its end is answered with
//! `Connection: close`, since the connection cannot carry another request.
//!
//! On shutdown the listener closes (new connections are refused), idle connections close,
//! in-flight requests finish, and whatever still runs after `shutdown_timeout` is dropped.
//!
//! One timer per connection serves all three timeouts: the connection's phase (waiting for
//! a head, busy with a request, idle) lives in atomics updated from inside the connection's
//! own task (its socket reads and writes, the call into the routes, the end of the response
//! body), and the task re-arms the timer after each poll when the deadline moved earlier.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use poem::http::{HeaderValue, header};
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Addr, Endpoint, Response};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::Sleep;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

type BoxBody = http_body_util::combinators::BoxBody<Bytes, io::Error>;

/// How the server treats its connections.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Connections served at once: past their first byte, with hyper's state and buffers.
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub keepalive_timeout: Duration,
    pub send_timeout: Duration,
}

/// Connections accepted whose first request head has not arrived whole wait in a lobby that
/// holds only their bytes (about a KiB each), so a crowd of silent or slow connections
/// (scanners, clients connecting ahead, an attack) neither costs memory nor keeps a prober
/// out. The lobby takes this many times
/// `max_connections`; past it the accept loop stops and the kernel's backlog holds the rest.
pub const LOBBY_FACTOR: usize = 4;

/// Largest read and write buffer of one connection, which also bounds a request head.
/// hyper's default (about 400 KiB) would let each of many slow heads or fast uploads pin
/// that much; 16 KiB (nginx allows 4 × 8 KiB for a head) keeps reads large enough.
const MAX_BUFFER_BYTES: usize = 16 * 1024;

/// How long the accept loop pauses after an accept error (out of file descriptors, say),
/// so a persistent error does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// Serves `endpoint` on `listener` until `shutdown` completes, then drains within
/// `shutdown_timeout`.
pub async fn serve<E>(
    listener: TcpListener,
    endpoint: E,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
    shutdown_timeout: Duration,
) -> io::Result<()>
where
    E: Endpoint<Output = Response> + 'static,
{
    let endpoint = Arc::new(endpoint);
    let local_addr = LocalAddr(Addr::SocketAddr(listener.local_addr()?));
    let accepted_slots = Arc::new(Semaphore::new(
        limits.max_connections.saturating_mul(LOBBY_FACTOR),
    ));
    let served_slots = Arc::new(Semaphore::new(limits.max_connections));
    let connections = TaskTracker::new();
    let draining = CancellationToken::new();
    let abandoning = CancellationToken::new();
    metrics::gauge!("roster_connections_max").set(limits.max_connections as f64);
    let waiting = metrics::gauge!("roster_connections_waiting");

    tokio::pin!(shutdown);
    loop {
        // Taking the slot before accepting leaves connections past the cap in the kernel.
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = Arc::clone(&accepted_slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, remote) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        waiting.increment(1.0);
        let connection = Connection {
            waiting: waiting.clone(),
            endpoint: Arc::clone(&endpoint),
            local_addr: local_addr.clone(),
            remote_addr: RemoteAddr(Addr::SocketAddr(remote)),
            limits,
            draining: draining.clone(),
            served_slots: Arc::clone(&served_slots),
        };
        let abandoned = abandoning.clone();
        connections.spawn(async move {
            tokio::select! {
                () = connection.serve(stream) => {}
                () = abandoned.cancelled() => {}
            }
            drop(slot);
        });
    }

    drop(listener);
    draining.cancel();
    connections.close();
    if tokio::time::timeout(shutdown_timeout, connections.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            remaining = connections.len(),
            "shutdown timeout reached; dropping the connections still open"
        );
        abandoning.cancel();
        connections.wait().await;
    }
    Ok(())
}

struct Connection<E> {
    /// The lobby's gauge, decremented once the connection is served or gone.
    waiting: metrics::Gauge,
    endpoint: Arc<E>,
    local_addr: LocalAddr,
    remote_addr: RemoteAddr,
    limits: ConnectionLimits,
    draining: CancellationToken,
    served_slots: Arc<Semaphore>,
}

impl<E> Connection<E>
where
    E: Endpoint<Output = Response> + 'static,
{
    /// Waits in the lobby for the first request head and for a slot among the served
    /// connections, both within the header timeout; then serves HTTP.
    async fn serve(self, stream: TcpStream) {
        let phase = Arc::new(Phase::new());
        let deadline = tokio::time::Instant::now() + self.limits.header_read_timeout;
        let left_lobby = LeaveOnDrop(self.waiting.clone());
        let read = tokio::select! {
            () = self.draining.cancelled() => return,
            read = tokio::time::timeout_at(deadline, read_first_head(&stream)) => read,
        };
        let head = match read {
            Ok(Some(head)) => head,
            Ok(None) => return,
            Err(_) => return count_closed(Expired::HeaderRead),
        };
        let slot =
            match tokio::time::timeout_at(deadline, Arc::clone(&self.served_slots).acquire_owned())
                .await
            {
                Ok(Ok(slot)) => slot,
                Ok(Err(_)) => return,
                Err(_) => return count_closed(Expired::HeaderRead),
            };
        drop(left_lobby);
        let served = metrics::gauge!("roster_connections_open");
        served.increment(1.0);
        let _leaves = LeaveOnDrop(served);
        // Boxed, so a connection in the lobby costs only this small future.
        Box::pin(self.serve_http(stream, head, phase)).await;
        drop(slot);
    }

    async fn serve_http(self, stream: TcpStream, head: Bytes, phase: Arc<Phase>) {
        let io = TokioIo::new(WatchedIo {
            head: Some(head).filter(|head| !head.is_empty()),
            inner: stream,
            phase: Arc::clone(&phase),
        });
        let service = {
            let phase = Arc::clone(&phase);
            let endpoint = Arc::clone(&self.endpoint);
            let local_addr = self.local_addr.clone();
            let remote_addr = self.remote_addr.clone();
            hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                phase.set(PhaseKind::Busy);
                let phase = Arc::clone(&phase);
                let endpoint = Arc::clone(&endpoint);
                let request = poem_request(request, &local_addr, &remote_addr);
                async move {
                    let (request, body_read) = request;
                    // Boxed: hyper allocates room for this future when a connection opens,
                    // and the routes' future is many kilobytes; idle connections then pay
                    // only for a pointer.
                    let mut response = Box::pin(endpoint.get_response(request)).await;
                    if body_read.is_some_and(|read| !read.load(Ordering::Acquire)) {
                        response
                            .headers_mut()
                            .insert(header::CONNECTION, HeaderValue::from_static("close"));
                    }
                    Ok::<_, Infallible>(finish_response(response, phase))
                }
            })
        };
        let mut builder = http1::Builder::new();
        builder
            .keep_alive(true)
            .header_read_timeout(None)
            .max_buf_size(MAX_BUFFER_BYTES);
        let connection = builder.serve_connection(io, service);
        let watched = Watchdog {
            connection,
            phase,
            limits: self.limits,
            timer: None,
            armed_at: None,
            draining: Box::pin(self.draining.cancelled_owned()),
            shutting_down: false,
        };
        if let Err(error) = watched.await {
            tracing::debug!(%error, "connection ended with an error");
        }
    }
}

/// Turns hyper's request into poem's. A request with a body gets a flag that turns true
/// once the body has been read to its end.
fn poem_request(
    request: hyper::Request<Incoming>,
    local_addr: &LocalAddr,
    remote_addr: &RemoteAddr,
) -> (poem::Request, Option<Arc<AtomicBool>>) {
    let has_body = !request.body().is_end_stream();
    let mut request = poem::Request::from((
        request,
        local_addr.clone(),
        remote_addr.clone(),
        poem::http::uri::Scheme::HTTP,
    ));
    if !has_body {
        return (request, None);
    }
    let read = Arc::new(AtomicBool::new(false));
    let body = BoxBody::from(request.take_body());
    let tracked = CompletionTracked {
        inner: body,
        done: Arc::clone(&read),
    };
    request.set_body(poem::Body::from(BoxBody::new(tracked)));
    (request, Some(read))
}

fn finish_response(response: Response, phase: Arc<Phase>) -> hyper::Response<ResponseBody> {
    let response: hyper::Response<BoxBody> = response.into();
    response.map(|body| ResponseBody {
        inner: body,
        phase: Some(phase),
    })
}

/// What a connection is doing, and since when (milliseconds on the process clock).
struct Phase {
    kind: AtomicU8,
    since: AtomicU64,
    /// When a write started waiting for the client to read (0: not waiting).
    write_blocked_since: AtomicU64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum PhaseKind {
    /// Accepted, no byte of a request yet.
    AwaitingHead = 0,
    /// Bytes of a request head arrived on an idle keep-alive connection.
    ReadingHead = 1,
    /// A request is being handled or its response sent.
    Busy = 2,
    /// Between two requests of a keep-alive connection.
    Idle = 3,
}

impl PhaseKind {
    fn from_u8(value: u8) -> Self {
        match value {
            0 => Self::AwaitingHead,
            1 => Self::ReadingHead,
            2 => Self::Busy,
            _ => Self::Idle,
        }
    }
}

impl Phase {
    fn new() -> Self {
        Self {
            kind: AtomicU8::new(PhaseKind::AwaitingHead as u8),
            since: AtomicU64::new(now_millis()),
            write_blocked_since: AtomicU64::new(0),
        }
    }

    fn set(&self, kind: PhaseKind) {
        self.since.store(now_millis(), Ordering::Relaxed);
        self.kind.store(kind as u8, Ordering::Relaxed);
    }

    fn kind(&self) -> PhaseKind {
        PhaseKind::from_u8(self.kind.load(Ordering::Relaxed))
    }

    fn bytes_arrived(&self) {
        if self.kind() == PhaseKind::Idle {
            self.set(PhaseKind::ReadingHead);
        }
    }

    /// The deadline the connection is under now, and what it is for.
    fn deadline(&self, limits: &ConnectionLimits) -> Option<(u64, Expired)> {
        let since = self.since.load(Ordering::Relaxed);
        let after = |timeout: Duration| since.saturating_add(millis(timeout));
        match self.kind() {
            PhaseKind::AwaitingHead | PhaseKind::ReadingHead => {
                Some((after(limits.header_read_timeout), Expired::HeaderRead))
            }
            PhaseKind::Idle => Some((after(limits.keepalive_timeout), Expired::KeepAlive)),
            PhaseKind::Busy => match self.write_blocked_since.load(Ordering::Relaxed) {
                0 => None,
                blocked => Some((
                    blocked.saturating_add(millis(limits.send_timeout)),
                    Expired::Send,
                )),
            },
        }
    }
}

/// Which wait ran out.
#[derive(Debug, Clone, Copy)]
enum Expired {
    HeaderRead,
    KeepAlive,
    Send,
}

impl Expired {
    fn label(self) -> &'static str {
        match self {
            Self::HeaderRead => "header_timeout",
            Self::KeepAlive => "idle_timeout",
            Self::Send => "send_timeout",
        }
    }
}

/// Decrements a gauge when dropped, however the connection ends.
struct LeaveOnDrop(metrics::Gauge);

impl Drop for LeaveOnDrop {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

fn count_closed(reason: Expired) {
    metrics::counter!("roster_connections_closed_total", "reason" => reason.label()).increment(1);
    tracing::debug!(reason = reason.label(), "closing connection");
}

/// The process clock behind [`Phase`]: milliseconds since the first use.
fn now_millis() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    // Starting at 1 keeps 0 free to mean "not set".
    millis(EPOCH.get_or_init(Instant::now).elapsed()) + 1
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn instant_of(millis_on_clock: u64) -> tokio::time::Instant {
    let now = now_millis();
    let ahead = Duration::from_millis(millis_on_clock.saturating_sub(now));
    tokio::time::Instant::now() + ahead
}

/// The largest first request head read in the lobby, as hyper's buffer bounds later ones.
const MAX_HEAD_BYTES: usize = MAX_BUFFER_BYTES;

/// Reads a connection's first request head (and whatever came with it) into a buffer sized
/// to what arrived, as nginx reads into `client_header_buffer_size`: a half-sent head costs
/// its bytes, not hyper's buffers. `None` when the client closed or failed first.
async fn read_first_head(stream: &TcpStream) -> Option<Bytes> {
    let mut head = bytes::BytesMut::new();
    loop {
        stream.readable().await.ok()?;
        if head.capacity() == head.len() {
            head.reserve(head.len().clamp(512, MAX_HEAD_BYTES));
        }
        let before = head.len();
        match stream.try_read_buf(&mut head) {
            Ok(0) => return None,
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
            Err(_) => return None,
        }
        // A head ends with an empty line; hyper judges the rest (and refuses a head too
        // large for its buffer).
        let scan_from = before.saturating_sub(3);
        let ended = head[scan_from..]
            .windows(4)
            .any(|window| window == b"\r\n\r\n")
            || head[scan_from..].windows(2).any(|window| window == b"\n\n");
        if ended || head.len() >= MAX_HEAD_BYTES {
            return Some(head.freeze());
        }
    }
}

pin_project_lite::pin_project! {
    /// The connection's socket, after the first head read in the lobby, reporting reads and
    /// stalled writes to its [`Phase`].
    struct WatchedIo {
        head: Option<Bytes>,
        #[pin]
        inner: TcpStream,
        phase: Arc<Phase>,
    }
}

impl AsyncRead for WatchedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        if let Some(head) = this.head.as_mut() {
            let taken = head.split_to(head.len().min(buf.remaining()));
            buf.put_slice(&taken);
            if head.is_empty() {
                *this.head = None;
            }
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let result = this.inner.poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.phase.bytes_arrived();
        }
        result
    }
}

impl WatchedIo {
    fn note_write<T>(phase: &Phase, result: &Poll<io::Result<T>>) {
        let blocked = &phase.write_blocked_since;
        match result {
            Poll::Pending => {
                if blocked.load(Ordering::Relaxed) == 0 {
                    blocked.store(now_millis(), Ordering::Relaxed);
                }
            }
            Poll::Ready(_) => blocked.store(0, Ordering::Relaxed),
        }
    }
}

impl AsyncWrite for WatchedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let result = this.inner.poll_write(cx, buf);
        Self::note_write(this.phase, &result);
        result
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let result = this.inner.poll_write_vectored(cx, bufs);
        Self::note_write(this.phase, &result);
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }
}

pin_project_lite::pin_project! {
    /// A request body that says when it has been read to its end.
    struct CompletionTracked {
        #[pin]
        inner: BoxBody,
        done: Arc<AtomicBool>,
    }
}

impl HttpBody for CompletionTracked {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.project();
        let result = this.inner.poll_frame(cx);
        if matches!(result, Poll::Ready(None)) {
            this.done.store(true, Ordering::Release);
        }
        result
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response body that moves its connection to idle once it has been sent (or dropped).
pub struct ResponseBody {
    inner: BoxBody,
    phase: Option<Arc<Phase>>,
}

impl ResponseBody {
    fn finished(&mut self) {
        if let Some(phase) = self.phase.take() {
            phase.set(PhaseKind::Idle);
        }
    }
}

impl Drop for ResponseBody {
    fn drop(&mut self) {
        self.finished();
    }
}

impl HttpBody for ResponseBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let result = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(result, Poll::Ready(None | Some(Err(_)))) {
            self.finished();
        }
        result
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

pin_project_lite::pin_project! {
    /// Drives one hyper connection and closes it when its phase's deadline passes; starts
    /// its graceful shutdown when the server drains.
    struct Watchdog<C> {
        #[pin]
        connection: C,
        phase: Arc<Phase>,
        limits: ConnectionLimits,
        timer: Option<Pin<Box<Sleep>>>,
        armed_at: Option<u64>,
        draining: Pin<Box<tokio_util::sync::WaitForCancellationFutureOwned>>,
        shutting_down: bool,
    }
}

impl<S> Future for Watchdog<http1::Connection<TokioIo<WatchedIo>, S>>
where
    S: hyper::service::HttpService<Incoming, ResBody = ResponseBody>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Output = Result<(), hyper::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if !*this.shutting_down && this.draining.as_mut().poll(cx).is_ready() {
            *this.shutting_down = true;
            this.connection.as_mut().graceful_shutdown();
        }
        if let Poll::Ready(result) = this.connection.as_mut().poll(cx) {
            return Poll::Ready(result);
        }
        loop {
            let Some((deadline, reason)) = this.phase.deadline(this.limits) else {
                *this.armed_at = None;
                return Poll::Pending;
            };
            if deadline <= now_millis() {
                count_closed(reason);
                return Poll::Ready(Ok(()));
            }
            // Re-arm only when the deadline moved earlier than the timer (or there is none):
            // a later deadline is found when the earlier timer fires.
            if this.armed_at.is_none_or(|armed| deadline < armed) {
                let at = instant_of(deadline);
                match this.timer.as_mut() {
                    Some(timer) => timer.as_mut().reset(at),
                    None => *this.timer = Some(Box::pin(tokio::time::sleep_until(at))),
                }
                *this.armed_at = Some(deadline);
            }
            let Some(timer) = this.timer.as_mut() else {
                return Poll::Pending;
            };
            match timer.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                // The timer fired: look again at the deadline in force now.
                Poll::Ready(()) => *this.armed_at = None,
            }
        }
    }
}
