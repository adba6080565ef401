//! Passwords, secrets and the brakes on password guessing and mass registration.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use rand::RngCore;
use tokio::sync::Semaphore;

/// Longest password accepted, in bytes: longer ones only cost hashing time.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Hashes a password with Argon2id (the argon2 crate's recommended parameters).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

/// Checks `password` against a stored hash. With no hash (unknown user) a dummy hash is
/// checked instead, so an unknown user takes as long to refuse as a wrong password.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    static DUMMY: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| hash_password("not a real password").unwrap_or_default());
    let hash_text = stored.unwrap_or(DUMMY.as_str());
    let Ok(hash) = PasswordHash::new(hash_text) else {
        return false;
    };
    let matches = Argon2::default()
        .verify_password(password.as_bytes(), &hash)
        .is_ok();
    matches && stored.is_some()
}

/// A random URL-safe secret with a recognizable prefix (e.g. `sch_` for API tokens).
pub fn random_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Too many password checks are already waiting: the caller should retry shortly.
#[derive(Debug)]
pub struct Busy;

/// Runs Argon2 work (each hash holds ~19 MiB) at most once per core at a time, with a bounded
/// queue behind it, so a flood of registrations or logins cannot exhaust memory.
pub struct PasswordWork {
    running: Semaphore,
    admitted: Semaphore,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
}

impl Default for PasswordWork {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::new(cores, 64)
    }
}

impl PasswordWork {
    pub fn new(concurrent: usize, waiting: usize) -> Self {
        Self {
            running: Semaphore::new(concurrent),
            admitted: Semaphore::new(concurrent + waiting),
            in_flight: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    /// The most hashes that ever ran at the same time (what the bound is observed by).
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// Runs `work` on the blocking pool once a core is free; [`Busy`] if the queue is full.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<anyhow::Result<T>, Busy> {
        let Ok(_admitted) = self.admitted.try_acquire() else {
            return Err(Busy);
        };
        let Ok(_running) = self.running.acquire().await else {
            return Err(Busy);
        };
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        let done = tokio::task::spawn_blocking(work).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        Ok(done.map_err(anyhow::Error::from))
    }
}

/// Failed logins one (account, address) pair may make in [`LOGIN_WINDOW`] before backing off.
pub const FREE_LOGIN_ATTEMPTS: usize = 10;
/// How long a failed login is remembered.
pub const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);

/// How long an attempt must wait, given the times (µs) of the pair's earlier attempts in the
/// window: nothing for the first [`FREE_LOGIN_ATTEMPTS`], then twice as long after each
/// further one (2 s, 4 s, 8 s, ...; at most the window), counted from the latest attempt.
pub fn login_backoff(earlier: &[i64], now: i64) -> Option<Duration> {
    if earlier.len() < FREE_LOGIN_ATTEMPTS {
        return None;
    }
    let extra = (earlier.len() + 1 - FREE_LOGIN_ATTEMPTS).min(20) as u32;
    let delay = Duration::from_secs(1 << extra).min(LOGIN_WINDOW);
    let latest = earlier.iter().copied().max().unwrap_or(now);
    let since = Duration::from_micros(now.saturating_sub(latest).max(0) as u64);
    delay.checked_sub(since).filter(|wait| !wait.is_zero())
}

/// How long a registration from an address must wait, given the times (µs) of the address's
/// earlier registrations in the last hour, if `per_hour` are spent.
pub fn registration_wait(earlier: &[i64], now: i64, per_hour: usize) -> Option<Duration> {
    if earlier.len() < per_hour {
        return None;
    }
    let oldest = earlier.iter().copied().min().unwrap_or(now);
    let age = Duration::from_micros(now.saturating_sub(oldest).max(0) as u64);
    Some(
        REGISTRATION_WINDOW
            .saturating_sub(age)
            .max(Duration::from_secs(1)),
    )
}

/// The period `--registrations-per-hour` counts over.
pub const REGISTRATION_WINDOW: Duration = Duration::from_secs(3600);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let hash = hash_password("correct horse").unwrap();
        assert!(verify_password("correct horse", Some(&hash)));
        assert!(!verify_password("wrong horse", Some(&hash)));
        assert!(!verify_password("not a real password", None));
    }

    #[test]
    fn logins_back_off_after_the_free_attempts() {
        let second = 1_000_000;
        let now = 100 * second;
        let free: Vec<i64> = vec![now - 10 * second; FREE_LOGIN_ATTEMPTS - 1];
        assert_eq!(login_backoff(&free, now), None);
        let spent: Vec<i64> = vec![now - second; FREE_LOGIN_ATTEMPTS];
        assert_eq!(login_backoff(&spent, now), Some(Duration::from_secs(1)));
        let more: Vec<i64> = vec![now - second; FREE_LOGIN_ATTEMPTS + 2];
        assert_eq!(login_backoff(&more, now), Some(Duration::from_secs(7)));
        let waited: Vec<i64> = vec![now - 9 * second; FREE_LOGIN_ATTEMPTS + 2];
        assert_eq!(login_backoff(&waited, now), None);
    }

    #[tokio::test]
    async fn password_work_beyond_the_queue_is_busy() {
        let work = std::sync::Arc::new(PasswordWork::new(1, 1));
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let first = tokio::spawn({
            let work = work.clone();
            async move { work.run(move || wait.recv().is_ok()).await.is_ok() }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let second = tokio::spawn({
            let work = work.clone();
            async move { work.run(|| true).await.is_ok() }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(work.run(|| true).await.is_err(), "third is turned away");
        release.send(()).unwrap();
        assert!(first.await.unwrap() && second.await.unwrap());
        assert_eq!(work.peak(), 1);
    }
}
