//! Scholia: collaborative marginalia for e-books.

pub mod epub;
