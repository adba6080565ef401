//! The `scholia` command line: serve, migrate, manage users, import books.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use tracing_subscriber::EnvFilter;
use uuid::Uuid;

use scholia::app::{self, AppState};
use scholia::config::{Config, GlobalArgs, LimitArgs, ServeArgs};
use scholia::epub::Limits;
use scholia::import::ImportOptions;
use scholia::passwords::hash_password;
use scholia::store::Store;
use scholia::store::books::Access;
use scholia::store::users::{NewUser, Role};

#[derive(Parser)]
#[command(
    name = "scholia",
    version,
    about = "Collaborative marginalia for e-books"
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web service (SQLite in the data directory unless DATABASE_URL says otherwise).
    Serve(ServeArgs),
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Import EPUB files, or folders of them (recursively).
    Import {
        /// Files and folders to import.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print one JSON object per file instead of text.
        #[arg(long)]
        json: bool,
        /// Who may read the imported books.
        #[arg(long, value_enum, default_value = "public")]
        access: AccessArg,
        /// Group ids that may read the books (with `--access groups`).
        #[arg(long, value_delimiter = ',')]
        groups: Vec<Uuid>,
        /// The book these files are a new edition of.
        #[arg(long)]
        edition_of: Option<Uuid>,
        #[command(flatten)]
        limits: LimitArgs,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account; asks for the password on the terminal.
    Add {
        /// Login name.
        name: String,
        /// What the account may do: read and annotate, also manage the catalogue, or everything.
        #[arg(long, value_enum, default_value = "reader")]
        role: RoleArg,
        /// Name shown to other readers (default: the login name).
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from the first line of standard input (for scripts).
        #[arg(long)]
        password_stdin: bool,
    },
}

/// `--access`: the store's [`Access`], as the command line spells it.
#[derive(Clone, Copy, ValueEnum)]
enum AccessArg {
    Public,
    SignedIn,
    Groups,
}

impl From<AccessArg> for Access {
    fn from(access: AccessArg) -> Self {
        match access {
            AccessArg::Public => Access::Public,
            AccessArg::SignedIn => Access::SignedIn,
            AccessArg::Groups => Access::Groups,
        }
    }
}

/// `--role`: the store's [`Role`], as the command line spells it.
#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Reader,
    Librarian,
    Admin,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Reader => Role::Reader,
            RoleArg::Librarian => Role::Librarian,
            RoleArg::Admin => Role::Admin,
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    fix_mmap_threshold();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Keeps glibc's malloc from holding on to freed memory. By default it raises its mmap threshold
/// to the largest block it has given back to the system (up to 32 MiB) and its trim threshold
/// to twice that: after a login's Argon2 hash (19 MiB, `Argon2::default()`) every buffer of an
/// import below 19 MiB came from the heap, and 38 MiB had to be free at its top before any went
/// back, so a server's peak while importing an upload was 24 MiB above its peak with the
/// threshold fixed. Setting the threshold turns that adjustment off: blocks of 128 KiB and more (a
/// chapter's text, its HTML) are mapped and unmapped on their own (BENCHMARKS.md, "Import").
fn fix_mmap_threshold() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets a parameter of the allocator, under the allocator's own lock.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut config = Config::from_args(&cli.global)?;
    match cli.command {
        Command::Serve(args) => {
            args.apply(&mut config);
            let state = AppState::open(config).await?;
            if args.demo {
                seed_demo(&state).await?;
            }
            announce_setup_link(&state).await?;
            app::serve(state).await?;
        }
        Command::Migrate => {
            let store = Store::connect(&config.database_url).await?;
            store.migrate().await?;
            eprintln!("database is up to date");
        }
        Command::User(UserCommand::Add {
            name,
            role,
            display_name,
            password_stdin,
        }) => {
            let role = Role::from(role);
            let username = scholia::api::auth::normalize_username(&name)
                .map_err(|e| anyhow::anyhow!(e.detail))?;
            let password = read_password(password_stdin)?;
            scholia::api::auth::validate_password(&password)
                .map_err(|e| anyhow::anyhow!(e.detail))?;
            let display_name = scholia::api::auth::validate_display_name(
                display_name.as_deref().unwrap_or(&username),
            )
            .map_err(|e| anyhow::anyhow!(e.detail))?;
            let store = Store::connect(&config.database_url).await?;
            store.migrate().await?;
            let user = store
                .create_user(NewUser {
                    username: &username,
                    display_name: &display_name,
                    password_hash: &hash_password(&password)?,
                    role,
                })
                .await
                .map_err(|e| {
                    if scholia::store::is_unique_violation(&e) {
                        anyhow::anyhow!("user {username:?} already exists")
                    } else {
                        e.into()
                    }
                })?;
            println!(
                "created {} ({}) with id {}",
                user.username,
                role.as_str(),
                user.id
            );
        }
        Command::Import {
            paths,
            json,
            access,
            groups,
            edition_of,
            limits,
        } => {
            let store = Store::connect(&config.database_url).await?;
            store.migrate().await?;
            let options = ImportOptions {
                access: access.into(),
                groups,
                edition_of,
                imported_by: None,
            };
            let all_ok =
                scholia::cli_import::run(&store, &paths, &Limits::from(&limits), &options, json)
                    .await?;
            store.refresh_statistics().await?;
            store.close().await;
            if !all_ok {
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Seeds the demo and prints the readers' logins, or says why it did not.
async fn seed_demo(state: &AppState) -> anyhow::Result<()> {
    let Some(demo) = scholia::demo::seed(&state.store, &state.config.epub_limits).await? else {
        tracing::warn!("--demo: the database is not empty, so no demo was added");
        println!("Demo: skipped, the database is not empty (it is served as it is).");
        return Ok(());
    };
    let titles: Vec<&str> = demo.books.iter().map(|(_, title)| title.as_str()).collect();
    tracing::info!(books = ?titles, "demo seeded");
    println!("Demo: imported {}.", titles.join("; "));
    println!(
        "Demo: readers in the study group \"{}\" (username / password); sign in at {}/",
        scholia::demo::GROUP_NAME,
        state.config.base_url()
    );
    for reader in &demo.readers {
        println!(
            "  {} / {}  ({})",
            reader.username, reader.password, reader.display_name
        );
    }
    Ok(())
}

/// On a server without an admin (a new one has no account at all), prints a fresh one-time
/// link that creates the admin account: in the log, and as a plain line on standard output
/// for whoever started it.
async fn announce_setup_link(state: &AppState) -> anyhow::Result<()> {
    let Some(token) = state.store.issue_setup_token().await? else {
        return Ok(());
    };
    let url = format!("{}/setup/{token}", state.config.base_url());
    tracing::info!(%url, "no admin yet: open the setup link to create the admin account");
    println!("First run: open {url} to create the admin account (valid for 24 hours).");
    Ok(())
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    anyhow::ensure!(
        from_stdin || std::io::stdin().is_terminal(),
        "no terminal to ask for the password on: pass --password-stdin and write the password \
         as the first line of standard input (e.g. `printf '%s\\n' \"$PASSWORD\" | scholia user \
         add NAME --password-stdin`)"
    );
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    let password = rpassword::prompt_password("Password: ")?;
    let again = rpassword::prompt_password("Password again: ")?;
    anyhow::ensure!(password == again, "the passwords differ");
    Ok(password)
}
