//! Helpers shared by integration tests (each test crate includes what it uses).

pub mod pty;
