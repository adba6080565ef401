//! Browser-facing defences: security headers and the CSRF check on cookie-authenticated writes.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use crate::client_addr::forwarded_https;
use crate::config::Config;
use crate::problem::ApiError;
use crate::signin::{session_csrf_token, session_user};
use crate::state::AppState;

/// The policy for the web app's own pages: only the reader's own scripts (not `'self'`, which
/// would also admit anything served under `/api`, such as a book's files), no plugins, no
/// framing. `{scripts}` becomes the list [`script_sources`] makes.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src {scripts}; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; \
    connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; \
    form-action 'self'";

/// Adds the security headers to every response that has not set its own.
pub async fn headers(req: Request, next: Next) -> Response {
    let host = req.headers().get(header::HOST).cloned();
    let mut response = next.run(req).await;
    let policy = CONTENT_SECURITY_POLICY.replace("{scripts}", &script_sources(host.as_ref()));
    let headers = response.headers_mut();
    if let Ok(policy) = HeaderValue::from_str(&policy) {
        headers
            .entry(header::CONTENT_SECURITY_POLICY)
            .or_insert(policy);
    }
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}

/// The reader's scripts on the host the request was sent to: each top-level `.js` file of
/// `web/` and each folder holding scripts. A source naming `http:` also admits `https:`.
/// Without a `Host`, none.
fn script_sources(host: Option<&HeaderValue>) -> String {
    let Some(host) = host.and_then(|h| h.to_str().ok()).filter(|h| {
        !h.is_empty()
            && h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
    }) else {
        return "'none'".to_owned();
    };
    let paths = crate::web::script_paths();
    if paths.is_empty() {
        return "'none'".to_owned();
    }
    paths
        .iter()
        .map(|path| format!("http://{host}/{path}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Refuses a write that a browser may have sent on another site's behalf.
///
/// Writes with a bearer token carry no ambient credentials and pass. Otherwise a request
/// with an `Origin` must come from this origin (scheme, host and port); one without `Origin`
/// that the session layer signs in must echo the session's CSRF token in `X-CSRF-Token`.
/// Whether it is signed in is the session layer's own answer, not a reading of the `Cookie`
/// header that could differ from the one it makes.
pub async fn csrf_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if is_safe(req.method()) || has_bearer(req.headers()) {
        return next.run(req).await;
    }
    let session = req.extensions().get::<Session>().cloned();
    let allowed = match req.headers().get(header::ORIGIN) {
        Some(origin) => is_same_origin(origin, &req, &state.config),
        None => match session {
            None => true,
            Some(session) => match session_user(&session).await {
                Ok(None) => true,
                Ok(Some(_)) => {
                    let sent = req
                        .headers()
                        .get("x-csrf-token")
                        .and_then(|v| v.to_str().ok());
                    let expected = session_csrf_token(&session).await;
                    matches!((sent, expected), (Some(sent), Some(expected)) if sent == expected)
                }
                Err(err) => return err.into_response(),
            },
        },
    };
    if allowed {
        next.run(req).await
    } else {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "cross-site request refused: send a same-origin Origin header or the X-CSRF-Token from /api/me",
        )
        .into_response()
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn has_bearer(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer "))
}

/// Whether `Origin` is the configured public URL, or names the scheme, host and port this
/// request was sent to (https only when a trusted proxy says the client used it).
fn is_same_origin(origin: &HeaderValue, req: &Request, config: &Config) -> bool {
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if config
        .public_url
        .as_deref()
        .is_some_and(|url| url.trim_end_matches('/').eq_ignore_ascii_case(origin))
    {
        return true;
    }
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let https =
        peer.is_some_and(|peer| forwarded_https(peer, req.headers(), &config.trusted_proxies));
    let scheme = if https { "https://" } else { "http://" };
    let authority = origin
        .get(..scheme.len())
        .filter(|prefix| prefix.eq_ignore_ascii_case(scheme))
        .map(|_| &origin[scheme.len()..]);
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok());
    matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
}

/// Gives error responses that carry no body of their own, or a plain-text one from a layer
/// (405 from routing, 413 from the body limit), a problem body.
pub async fn problem_bodies(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    if (status.is_client_error() || status.is_server_error())
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_none_or(|v| v.as_bytes().starts_with(b"text/plain"))
    {
        let detail = status.canonical_reason().unwrap_or("error").to_lowercase();
        let mut replaced = ApiError::new(status, detail).into_response();
        for name in [header::ALLOW, header::RETRY_AFTER] {
            if let Some(value) = response.headers().get(&name) {
                replaced.headers_mut().insert(name, value.clone());
            }
        }
        return replaced;
    }
    response
}
