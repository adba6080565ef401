//! Every integration test, in one binary: each file under tests/ is a module of it, so
//! `common` and `tree` are compiled once and the crate is linked once, not once per file.
//! Run one file's tests with `cargo test --test integration books::`.

// First, so that `both_databases!` is in scope in every module below.
#[macro_use]
mod common;
mod tree;

mod account_lifecycle;
mod admin;
mod annotations;
mod books;
mod cli;
mod consent;
mod contract;
mod demo;
mod epub_cfi;
mod epub_hostile;
mod epub_import;
mod first_run;
mod groups;
mod limits;
mod moderation;
mod own_notes;
mod preferences;
mod progress;
mod refresh;
mod rendition;
mod search;
mod sessions_and_tokens;
mod setup;
mod visibility_property;
mod web;
