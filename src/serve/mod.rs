//! `tokenskip-studio serve --ssh ADDR` (issue 10, "Over SSH"): a built-in SSH server
//! (russh) that gives every viewer their own TUI at their own terminal size.
//!
//! - [`keys`]: host key (ed25519, created 0600) and `authorized_keys`;
//! - [`server`]: connections, viewers and limits; `handler`: authentication (public
//!   keys only) and channel requests (a `shell` request starts a viewer; exec,
//!   subsystems and forwarding are refused);
//! - [`viewer`]: the per-viewer loop (frame cap, idle timeout) and [`input`], the
//!   key parser; [`writer`]: the ratatui backend's writer into the SSH channel;
//! - [`app`]: what a viewer shows ([`app::ViewerApp`]): their own workbench, or
//!   [`replay`] of a recorded or live session (read by [`recording`]).

pub mod app;
mod handler;
pub mod input;
pub mod keys;
pub mod recording;
pub mod replay;
mod run;
pub mod server;
pub mod viewer;
pub mod writer;

pub use run::{run, Content, ServeError, ServeOptions};
