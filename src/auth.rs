//! Passwords, secrets and the brake on password guessing.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use rand::RngCore;

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

/// Counts failed logins per account and per client address over a sliding window.
pub struct LoginLimiter {
    window: Duration,
    per_account: usize,
    per_address: usize,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(15 * 60),
            per_account: 10,
            per_address: 50,
            failures: Mutex::new(HashMap::new()),
        }
    }
}

impl LoginLimiter {
    /// How long the caller must wait before another attempt, if either budget is spent.
    pub fn retry_after(&self, username: &str, addr: IpAddr) -> Option<Duration> {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        [
            (account_key(username), self.per_account),
            (address_key(addr), self.per_address),
        ]
        .into_iter()
        .filter_map(|(key, budget)| {
            let times = failures.get_mut(&key)?;
            times.retain(|t| now.duration_since(*t) < self.window);
            (times.len() >= budget).then(|| self.window - now.duration_since(times[0]))
        })
        .max()
    }

    pub fn record_failure(&self, username: &str, addr: IpAddr) {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        for key in [account_key(username), address_key(addr)] {
            failures.entry(key).or_default().push(now);
        }
    }

    /// A successful login clears the account's count (not the address's).
    pub fn record_success(&self, username: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(&account_key(username));
    }
}

fn account_key(username: &str) -> String {
    format!("user:{username}")
}

fn address_key(addr: IpAddr) -> String {
    format!("addr:{addr}")
}

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
    fn limiter_stops_after_budget_and_success_resets_account() {
        let limiter = LoginLimiter {
            per_account: 2,
            ..LoginLimiter::default()
        };
        let addr: IpAddr = [127, 0, 0, 1].into();
        assert!(limiter.retry_after("ann", addr).is_none());
        limiter.record_failure("ann", addr);
        limiter.record_failure("ann", addr);
        assert!(limiter.retry_after("ann", addr).is_some());
        assert!(limiter.retry_after("bob", addr).is_none());
        limiter.record_success("ann");
        assert!(limiter.retry_after("ann", addr).is_none());
    }
}
