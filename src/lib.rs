//! Scholia: collaborative marginalia for e-books.

pub mod anchor;
pub mod api;
pub mod app;
pub mod cli_import;
pub mod client_addr;
pub mod config;
pub mod demo;
pub mod epub;
pub mod import;
pub mod markdown;
pub mod passwords;
pub mod problem;
pub mod security;
pub mod server;
pub mod signin;
pub mod state;
pub mod store;
pub mod web;
