//! Settings shared by every command: where to listen, where data lives, which database.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use crate::epub::Limits;

const REGISTRATIONS_PER_HOUR: usize = 10;
const HEADER_READ_SECS: u64 = 10;
const IDLE_SECS: u64 = 60;
// Room for the largest upload (200 MiB) at under 1 MB/s.
const BODY_READ_SECS: u64 = 300;

/// Flags every `scholia` command takes (names fixed by DESIGN.md).
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Address to listen on.
    #[arg(
        long,
        env = "SCHOLIA_ADDR",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub addr: SocketAddr,
    /// Directory for the SQLite database and other data (default: the platform data directory).
    #[arg(long, env = "SCHOLIA_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Database URL: `sqlite://…` or `postgres://…` (default: sqlite://<data-dir>/scholia.db).
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,
}

/// Flags of `scholia serve` only.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Whether anyone may create a reader account through the API.
    #[arg(long, env = "SCHOLIA_ALLOW_REGISTRATION", default_value_t = true, action = clap::ArgAction::Set)]
    pub allow_registration: bool,
    /// Accounts one address may register per hour.
    #[arg(long, env = "SCHOLIA_REGISTRATIONS_PER_HOUR", default_value_t = REGISTRATIONS_PER_HOUR)]
    pub registrations_per_hour: usize,
    /// The public URL the service is reached at; an https URL makes session cookies Secure.
    #[arg(long, env = "SCHOLIA_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Address of a reverse proxy whose X-Forwarded-For and X-Forwarded-Proto are believed
    /// (repeat, or separate with commas, for several).
    #[arg(long, env = "SCHOLIA_TRUSTED_PROXY", value_delimiter = ',')]
    pub trusted_proxy: Vec<IpAddr>,
    /// Seconds a client may take to send a request's headers.
    #[arg(long, env = "SCHOLIA_HEADER_READ_TIMEOUT", default_value_t = HEADER_READ_SECS)]
    pub header_read_timeout: u64,
    /// Seconds a connection may stay silent (an idle keep-alive) before it is closed.
    #[arg(long, env = "SCHOLIA_IDLE_TIMEOUT", default_value_t = IDLE_SECS)]
    pub idle_timeout: u64,
    /// Seconds a client may take to send a request's body (an upload).
    #[arg(long, env = "SCHOLIA_BODY_READ_TIMEOUT", default_value_t = BODY_READ_SECS)]
    pub body_read_timeout: u64,
    /// On an empty database, first import a few public-domain books and create two demo
    /// readers in a study group with notes (skipped, with a message, on any other).
    #[arg(long)]
    pub demo: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
}

impl ServeArgs {
    /// Applies these flags to a configuration made from the global ones.
    pub fn apply(&self, config: &mut Config) {
        config.allow_registration = self.allow_registration;
        config.registrations_per_hour = self.registrations_per_hour;
        config.public_url = self.public_url.clone();
        config.trusted_proxies = self.trusted_proxy.clone();
        config.header_read_timeout = Duration::from_secs(self.header_read_timeout);
        config.idle_timeout = Duration::from_secs(self.idle_timeout);
        config.body_read_timeout = Duration::from_secs(self.body_read_timeout);
        config.epub_limits = Limits::from(&self.limits);
    }
}

/// Limits an EPUB must stay within to be imported (against zip bombs and the like).
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Largest EPUB file accepted, in bytes (also the upload limit).
    #[arg(long, env = "SCHOLIA_MAX_FILE_BYTES", default_value_t = Limits::default().max_file_bytes)]
    pub max_file_bytes: u64,
    /// Most entries an EPUB archive may hold.
    #[arg(long, env = "SCHOLIA_MAX_ENTRIES", default_value_t = Limits::default().max_entries)]
    pub max_entries: usize,
    /// Largest uncompressed size of one archive entry, in bytes.
    #[arg(long, env = "SCHOLIA_MAX_ENTRY_BYTES", default_value_t = Limits::default().max_entry_bytes)]
    pub max_entry_bytes: u64,
    /// Largest uncompressed size of the whole archive, in bytes.
    #[arg(long, env = "SCHOLIA_MAX_TOTAL_BYTES", default_value_t = Limits::default().max_total_bytes)]
    pub max_total_bytes: u64,
    /// Highest compression ratio of a large entry.
    #[arg(long, env = "SCHOLIA_MAX_COMPRESSION_RATIO", default_value_t = Limits::default().max_compression_ratio)]
    pub max_compression_ratio: u64,
    /// Deepest element nesting in a chapter.
    #[arg(long, env = "SCHOLIA_MAX_HTML_DEPTH", default_value_t = Limits::default().max_html_depth)]
    pub max_html_depth: usize,
}

impl From<&LimitArgs> for Limits {
    fn from(args: &LimitArgs) -> Self {
        Limits {
            max_file_bytes: args.max_file_bytes,
            max_entries: args.max_entries,
            max_entry_bytes: args.max_entry_bytes,
            max_total_bytes: args.max_total_bytes,
            max_compression_ratio: args.max_compression_ratio,
            max_html_depth: args.max_html_depth,
        }
    }
}

/// Resolved configuration of a running service.
#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub database_url: String,
    pub allow_registration: bool,
    /// Accounts one client address may register per hour.
    pub registrations_per_hour: usize,
    /// Reverse proxies whose forwarded client address and scheme are believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// How long a client may take to send a request's headers.
    pub header_read_timeout: Duration,
    /// How long a connection may stay silent before it is closed.
    pub idle_timeout: Duration,
    /// How long a client may take to send a request's body.
    pub body_read_timeout: Duration,
    /// Where browsers reach the service; an https URL makes session cookies Secure.
    pub public_url: Option<String>,
    /// Largest JSON request body accepted.
    pub max_body_bytes: usize,
    /// Limits on imported EPUBs; `max_file_bytes` is also the upload limit.
    pub epub_limits: Limits,
    /// Where an uploaded file is written while it arrives and is imported; each is deleted
    /// once its request is answered. The OS temporary directory (`TMPDIR`) by default.
    pub spool_dir: PathBuf,
}

impl Config {
    /// A configuration with defaults around one database URL (what tests and embedders need).
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            addr: ([127, 0, 0, 1], 8080).into(),
            database_url: database_url.into(),
            allow_registration: true,
            registrations_per_hour: REGISTRATIONS_PER_HOUR,
            trusted_proxies: Vec::new(),
            header_read_timeout: Duration::from_secs(HEADER_READ_SECS),
            idle_timeout: Duration::from_secs(IDLE_SECS),
            body_read_timeout: Duration::from_secs(BODY_READ_SECS),
            public_url: None,
            max_body_bytes: 1024 * 1024,
            epub_limits: Limits::default(),
            spool_dir: std::env::temp_dir(),
        }
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|url| url.starts_with("https://"))
    }

    /// Where browsers reach the service: the public URL, else `http://` and the listen address.
    pub fn base_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.addr),
        }
    }

    pub fn from_args(args: &GlobalArgs) -> anyhow::Result<Self> {
        let database_url = match &args.database_url {
            Some(url) => url.clone(),
            None => {
                let dir = match &args.data_dir {
                    Some(dir) => dir.clone(),
                    None => default_data_dir()?,
                };
                std::fs::create_dir_all(&dir).map_err(|e| {
                    anyhow::anyhow!("cannot create data directory {}: {e}", dir.display())
                })?;
                sqlite_url(&dir.join("scholia.db"))
            }
        };
        Ok(Self {
            addr: args.addr,
            ..Self::new(database_url)
        })
    }
}

fn default_data_dir() -> anyhow::Result<PathBuf> {
    directories::ProjectDirs::from("", "", "scholia")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .ok_or_else(|| anyhow::anyhow!("no home directory: pass --data-dir or DATABASE_URL"))
}

pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}
