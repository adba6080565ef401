//! Settings shared by every command: where to listen, where data lives, which database.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::epub::Limits;

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
    /// Whether anyone may create a reader account through the API.
    #[arg(long, env = "SCHOLIA_ALLOW_REGISTRATION", default_value_t = true, global = true, action = clap::ArgAction::Set)]
    pub allow_registration: bool,
    /// The public URL the service is reached at; an https URL makes session cookies Secure.
    #[arg(long, env = "SCHOLIA_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Limits an EPUB must stay within to be imported (against zip bombs and the like).
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Largest EPUB file accepted, in bytes (also the upload limit).
    #[arg(long, env = "SCHOLIA_MAX_FILE_BYTES", default_value_t = Limits::default().max_file_bytes, global = true)]
    pub max_file_bytes: u64,
    /// Most entries an EPUB archive may hold.
    #[arg(long, env = "SCHOLIA_MAX_ENTRIES", default_value_t = Limits::default().max_entries, global = true)]
    pub max_entries: usize,
    /// Largest uncompressed size of one archive entry, in bytes.
    #[arg(long, env = "SCHOLIA_MAX_ENTRY_BYTES", default_value_t = Limits::default().max_entry_bytes, global = true)]
    pub max_entry_bytes: u64,
    /// Largest uncompressed size of the whole archive, in bytes.
    #[arg(long, env = "SCHOLIA_MAX_TOTAL_BYTES", default_value_t = Limits::default().max_total_bytes, global = true)]
    pub max_total_bytes: u64,
    /// Highest compression ratio of a large entry.
    #[arg(long, env = "SCHOLIA_MAX_COMPRESSION_RATIO", default_value_t = Limits::default().max_compression_ratio, global = true)]
    pub max_compression_ratio: u64,
    /// Deepest element nesting in a chapter.
    #[arg(long, env = "SCHOLIA_MAX_HTML_DEPTH", default_value_t = Limits::default().max_html_depth, global = true)]
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
    /// Where browsers reach the service; an https URL makes session cookies Secure.
    pub public_url: Option<String>,
    /// Largest JSON request body accepted.
    pub max_body_bytes: usize,
    /// Limits on imported EPUBs; `max_file_bytes` is also the upload limit.
    pub epub_limits: Limits,
}

impl Config {
    /// A configuration with defaults around one database URL (what tests and embedders need).
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            addr: ([127, 0, 0, 1], 8080).into(),
            database_url: database_url.into(),
            allow_registration: true,
            public_url: None,
            max_body_bytes: 1024 * 1024,
            epub_limits: Limits::default(),
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
            allow_registration: args.allow_registration,
            public_url: args.public_url.clone(),
            epub_limits: Limits::from(&args.limits),
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
