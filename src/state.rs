//! What every handler and middleware can reach: the store, the configuration and the
//! password hashing pool.

use std::sync::Arc;

use crate::config::Config;
use crate::passwords::PasswordWork;
use crate::store::Store;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub passwords: Arc<PasswordWork>,
}

impl AppState {
    /// Connects to the configured database and brings its schema up to date.
    pub async fn open(config: Config) -> anyhow::Result<Self> {
        let store = Store::connect(&config.database_url).await?;
        store.migrate().await?;
        Ok(Self {
            store,
            config: Arc::new(config),
            passwords: Arc::new(PasswordWork::default()),
        })
    }
}
