//! Who a session is signed in as: the user, the account's session epoch it was signed in
//! under, and the CSRF token cookie-authenticated writes echo. The session layer stores it;
//! handlers, extractors and the CSRF check read it here.

use tower_sessions::Session;
use uuid::Uuid;

use crate::passwords::random_secret;
use crate::problem::ApiResult;

const USER_ID_KEY: &str = "user_id";
const CSRF_KEY: &str = "csrf_token";
const EPOCH_KEY: &str = "session_epoch";

/// The signed-in user of a session, if any.
pub async fn session_user(session: &Session) -> ApiResult<Option<Uuid>> {
    session
        .get::<Uuid>(USER_ID_KEY)
        .await
        .map_err(|e| anyhow::anyhow!("reading session: {e}").into())
}

/// The account's session epoch this session was signed in under (see
/// [`crate::store::Store::user_by_session`]).
pub async fn session_epoch(session: &Session) -> ApiResult<i64> {
    session
        .get::<i64>(EPOCH_KEY)
        .await
        .map(Option::unwrap_or_default)
        .map_err(|e| anyhow::anyhow!("reading session: {e}").into())
}

/// The session's CSRF token, which cookie-authenticated writes may echo in `X-CSRF-Token`.
pub async fn session_csrf_token(session: &Session) -> Option<String> {
    session.get::<String>(CSRF_KEY).await.ok().flatten()
}

/// Signs `user` into the session under a fresh session id (against fixation), the account's
/// current session `epoch` and a new CSRF token.
pub async fn start_session(session: &Session, user: Uuid, epoch: i64) -> ApiResult<String> {
    let csrf = random_secret("");
    let result = async {
        session.cycle_id().await?;
        session.insert(USER_ID_KEY, user).await?;
        session.insert(EPOCH_KEY, epoch).await?;
        session.insert(CSRF_KEY, &csrf).await
    };
    result
        .await
        .map_err(|e| anyhow::anyhow!("writing session: {e}"))?;
    Ok(csrf)
}
