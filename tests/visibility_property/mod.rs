//! The visibility rule, checked against an independent oracle.
//!
//! DESIGN.md ("What a request may see") says every endpoint that returns annotations obeys
//! one rule. This test generates scenarios (users with roles, study groups with owners,
//! facilitators and members, books with access levels, and a sequence of notes, replies,
//! hides, mutes, preference changes, reveals, joins, leaves, audience edits and deletes,
//! opening groups, removals, reports and moderators' hides, and account deletions),
//! applies them through the HTTP API and, at the same time, to a plain in-memory model. Every
//! write's status is predicted by the model. Then, for every user and an anonymous client, on
//! every book, each annotation-returning endpoint must answer exactly what the oracle (a pure
//! function over the model, written from DESIGN.md's text, never calling the store) says.
//!
//! Runs on SQLite and PostgreSQL. `SCHOLIA_PROPTEST_CASES` sets the number of cases (default
//! 12), `SCHOLIA_PROPTEST_SEED` (a u64) replays a run, and `SCHOLIA_PROPTEST_SHRINK` bounds
//! shrinking (default 0: a failing case is printed with its seed instead; shrinking starts a
//! fresh server per attempt).

use crate::common::{self, Backend};
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

use checks::check_all;
use operations::{Scenario, apply, scenario, setup};

type Check = Result<(), String>;

macro_rules! ensure {
    ($cond:expr, $($arg:tt)*) => {
        if !$cond {
            return Err(format!($($arg)*));
        }
    };
}

mod checks;
mod model;
mod operations;
mod spelled_out;

async fn run_case(backend: Backend, scenario: &Scenario) -> Check {
    let Some(mut world) = setup(backend, scenario).await else {
        return Ok(());
    };
    for (i, op) in scenario.ops.iter().enumerate() {
        if let Err(err) = apply(&mut world, i, op).await {
            return Err(format!("{err}\nops so far:\n{}", world.log));
        }
        // Once midway, so transient states are checked too.
        if i == scenario.ops.len() / 2 {
            if let Err(err) = check_all(&world).await {
                return Err(format!("after op {i}: {err}\nops so far:\n{}", world.log));
            }
        }
    }
    let result = check_all(&world).await;
    let notes = &world.model.notes;
    eprintln!(
        "  case: {} users, {} groups ({} ended), {} notes ({} replies, {} removed, {} tombstones, \
         {} hidden, {} anonymous, {} authorless, {} written blind), {} groups open, {} notices, {} reports, \
         {} accounts deleted, statuses {:?}, {} items compared",
        world.model.roles.len(),
        world.model.groups.len(),
        world.model.groups.iter().filter(|g| !g.exists).count(),
        notes.len(),
        notes.iter().filter(|n| n.reply_to.is_some()).count(),
        notes.iter().filter(|n| n.removed).count(),
        notes.iter().filter(|n| n.deleted).count(),
        notes.iter().filter(|n| n.hidden).count(),
        notes.iter().filter(|n| n.anonymous).count(),
        notes.iter().filter(|n| n.authorless).count(),
        notes.iter().filter(|n| n.written_blind).count(),
        world.model.groups.iter().filter(|g| g.open).count(),
        world.model.notices.len(),
        world.model.reports.len(),
        world.model.gone.len(),
        world.statuses,
        world.compared.get(),
    );
    result.map_err(|err| {
        format!(
            "at the end: {err}\nops:\n{}\nmodel: {:#?}",
            world.log, world.model
        )
    })
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn property(backend: Backend) {
    if backend == Backend::Postgres {
        if common::skipping_postgres() {
            return;
        }
        // Reached once here, so that unreachable PostgreSQL fails as itself, not as a case the
        // oracle disagrees with.
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(common::postgres_admin());
    }
    let cases = env_number("SCHOLIA_PROPTEST_CASES", 12) as u32;
    let seed = std::env::var("SCHOLIA_PROPTEST_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    eprintln!("visibility property on {backend:?}: {cases} cases, SCHOLIA_PROPTEST_SEED={seed}");
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        cases,
        max_shrink_iters: env_number("SCHOLIA_PROPTEST_SHRINK", 0) as u32,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
    let result = runner.run(&scenario(), |scenario| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime
            .block_on(run_case(backend, &scenario))
            .map_err(TestCaseError::fail)
    });
    if let Err(err) = result {
        panic!(
            "the server disagrees with the oracle on {backend:?} \
             (replay with SCHOLIA_PROPTEST_SEED={seed}):\n{err}"
        );
    }
}

#[test]
fn sqlite_every_endpoint_matches_the_oracle() {
    property(Backend::Sqlite);
}

#[test]
fn postgres_every_endpoint_matches_the_oracle() {
    property(Backend::Postgres);
}
