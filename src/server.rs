//! Serving connections with deadlines, so slow or silent clients cannot hold them forever:
//! request headers must arrive within `header_read_timeout`, a request's body within
//! `body_read_timeout`, and a connection silent for `idle_timeout` is closed.

use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use http_body::Frame;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

use crate::config::Config;

/// Serves `router` on `listener` until `shutdown` completes, then lets in-flight requests
/// finish before returning.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    config: &Config,
    shutdown: impl Future<Output = ()>,
) {
    let (stop, stopping) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, say: wait instead of spinning.
                    tracing::warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let deadlines = Deadlines::from(config);
        tokio::spawn(connection(
            stream,
            peer,
            router.clone(),
            deadlines,
            stopping.clone(),
        ));
    }
    drop(stopping);
    let _ = stop.send(true);
    stop.closed().await;
}

#[derive(Clone, Copy)]
struct Deadlines {
    header_read: Duration,
    idle: Duration,
    body_read: Duration,
}

impl From<&Config> for Deadlines {
    fn from(config: &Config) -> Self {
        Self {
            header_read: config.header_read_timeout,
            idle: config.idle_timeout,
            body_read: config.body_read_timeout,
        }
    }
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    deadlines: Deadlines,
    mut stopping: watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        io: stream,
        activity: activity.clone(),
    });
    let handling = activity.clone();
    let service = hyper::service::service_fn(move |mut request: axum::http::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let request = request.map(|body| Body::new(BodyDeadline::new(body, deadlines.body_read)));
        let working = Working::new(handling.clone());
        let response = router.clone().oneshot(request);
        async move {
            let response = response.await;
            drop(working);
            response
        }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(deadlines.header_read)
        .serve_connection(io, service);
    let mut conn = pin!(conn);
    let mut closing = false;
    loop {
        let idle_left = deadlines.idle.saturating_sub(activity.idle_for());
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(error = %err, %peer, "connection ended");
                }
                return;
            }
            () = tokio::time::sleep(idle_left) => {
                // A handler at work (a big import, say) is not the client's silence.
                if activity.working.load(Ordering::Relaxed) > 0 {
                    activity.touch();
                    continue;
                }
                if activity.idle_for() < deadlines.idle {
                    continue;
                }
                // Silent for a whole period: finish what is in flight and close; silent
                // through a second period too (a client that stopped reading): drop it.
                if closing {
                    return;
                }
                closing = true;
                activity.touch();
                conn.as_mut().graceful_shutdown();
            }
            _ = stopping.changed(), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// When a connection last moved a byte, and how many of its requests are being handled.
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
    working: AtomicUsize,
}

/// Counts one request in [`Activity::working`] while it lives.
struct Working(Arc<Activity>);

impl Working {
    fn new(activity: Arc<Activity>) -> Self {
        activity.working.fetch_add(1, Ordering::Relaxed);
        Self(activity)
    }
}

impl Drop for Working {
    fn drop(&mut self) {
        self.0.working.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}

impl Activity {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
            working: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let now = self.start.elapsed().as_millis() as u64;
        self.last_ms.store(now, Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// A stream that notes in [`Activity`] every time bytes go through it.
struct Watched {
    io: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = ready!(Pin::new(&mut self.io).poll_read(cx, buf));
        if buf.filled().len() > before {
            self.activity.touch();
        }
        Poll::Ready(result)
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let result = ready!(Pin::new(&mut self.io).poll_write(cx, buf));
        if matches!(result, Ok(n) if n > 0) {
            self.activity.touch();
        }
        Poll::Ready(result)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let result = ready!(Pin::new(&mut self.io).poll_write_vectored(cx, bufs));
        if matches!(result, Ok(n) if n > 0) {
            self.activity.touch();
        }
        Poll::Ready(result)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// A request body that fails once its whole deadline has passed, however it trickles in.
struct BodyDeadline {
    body: Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl BodyDeadline {
    fn new(body: Incoming, within: Duration) -> Self {
        Self {
            body,
            deadline: Box::pin(tokio::time::sleep(within)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
struct BodyTimedOut;

impl http_body::Body for BodyDeadline {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(Box::new(BodyTimedOut))));
        }
        Pin::new(&mut self.body)
            .poll_frame(cx)
            .map_err(axum::BoxError::from)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
