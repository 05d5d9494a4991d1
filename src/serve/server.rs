//! The SSH side (russh): the server, its connections and their viewers, and the
//! limits (viewers, open connections, terminal size, input queue). What each SSH
//! request gets is in `handler.rs`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::Arc;

use russh::keys::PublicKey;
use russh::server::{ChannelOpenHandle, Handle, Session};
use russh::{ChannelId, ChannelOpenFailure};

use super::app::ViewerApp;
use super::viewer::{self, Exit, ViewerEvent, ViewerLimits};
use super::writer::ChannelWriter;

/// What a new viewer is started with: its terminal as the client announced it.
#[derive(Debug, Clone)]
pub struct ViewerSpec {
    pub cols: u16,
    pub rows: u16,
    /// `TERM` from the pty request (e.g. `xterm-256color`).
    pub term: String,
    /// `COLORTERM` / `NO_COLOR` if the client sent them (only read as colour hints;
    /// no environment is ever set).
    pub colorterm: Option<String>,
    pub no_color: Option<String>,
}

/// Builds a viewer's app (its own TUI).
pub type AppFactory = dyn Fn(&ViewerSpec) -> Result<Box<dyn ViewerApp>, String> + Send + Sync;

/// Shared by all connections.
pub struct Shared {
    pub allowed: Vec<PublicKey>,
    pub limits: ViewerLimits,
    pub max_viewers: usize,
    pub viewers: AtomicUsize,
    pub next_conn: AtomicU64,
    /// Connections open now (authenticated or not).
    pub open: AtomicUsize,
    pub make_app: Box<AppFactory>,
    pub rt: tokio::runtime::Handle,
}

/// Makes a [`Connection`] per client.
#[derive(Clone)]
pub struct Server(pub Arc<Shared>);

impl russh::server::Server for Server {
    type Handler = Connection;

    fn new_client(&mut self, peer: Option<SocketAddr>) -> Connection {
        let id = self.0.next_conn.fetch_add(1, Ordering::Relaxed) + 1;
        let open = self.0.open.fetch_add(1, Ordering::AcqRel) + 1;
        tracing::info!(conn = id, ?peer, open, "connection");
        Connection {
            shared: Arc::clone(&self.0),
            id,
            peer,
            user: String::new(),
            channel: None,
            pty: None,
            colorterm: None,
            no_color: None,
            viewer: None,
        }
    }
}

/// One client connection.
pub struct Connection {
    pub(super) shared: Arc<Shared>,
    pub(super) id: u64,
    pub(super) peer: Option<SocketAddr>,
    pub(super) user: String,
    pub(super) channel: Option<ChannelId>,
    pub(super) pty: Option<(String, u16, u16)>,
    pub(super) colorterm: Option<String>,
    pub(super) no_color: Option<String>,
    pub(super) viewer: Option<SyncSender<ViewerEvent>>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(tx) = self.viewer.take() {
            let _ = tx.try_send(ViewerEvent::Close);
        }
        self.shared.open.fetch_sub(1, Ordering::AcqRel);
        tracing::info!(conn = self.id, peer = ?self.peer, "connection closed");
    }
}

/// A viewer slot; freed when dropped (the viewer thread holds it).
struct Slot(Arc<Shared>);

impl Slot {
    fn take(shared: &Arc<Shared>) -> Option<Slot> {
        shared
            .viewers
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < shared.max_viewers).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot(Arc::clone(shared)))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.viewers.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Largest terminal accepted (a client asking for 65535x65535 would otherwise make
/// every frame buffer gigabytes).
const MAX_COLS: u32 = 1000;
const MAX_ROWS: u32 = 500;
/// Input events queued per viewer; beyond this, keys are dropped (a client that
/// floods input while not reading its screen cannot grow the server's memory).
const INPUT_QUEUE: usize = 1024;

/// Connections allowed open at once: the viewers, plus room for as many logging in.
pub fn max_connections(max_viewers: usize) -> usize {
    max_viewers.saturating_mul(2).saturating_add(8)
}

pub(super) fn clamp_cols(v: u32) -> u16 {
    v.clamp(1, MAX_COLS) as u16
}

pub(super) fn clamp_rows(v: u32) -> u16 {
    v.clamp(1, MAX_ROWS) as u16
}

impl Connection {
    /// Too many connections are open: refuse to authenticate more (viewers and the
    /// ones still logging in together; a flood of half-open logins cannot pile up).
    pub(super) fn crowded(&self) -> bool {
        self.shared.open.load(Ordering::Acquire) > max_connections(self.shared.max_viewers)
    }

    pub(super) fn refuse(&self, what: &str, detail: &str) {
        tracing::warn!(conn = self.id, peer = ?self.peer, user = %self.user, what, detail, "refused");
    }

    /// Logs the refusal and rejects a channel the client asked to open.
    pub(super) async fn refuse_channel(&self, reply: ChannelOpenHandle, what: &str, detail: &str) {
        self.refuse(what, detail);
        reply
            .reject(ChannelOpenFailure::AdministrativelyProhibited)
            .await;
    }

    /// Says `text` on the channel and closes it (exit status 1).
    pub(super) fn say_and_close(&self, channel: ChannelId, text: &str, session: &mut Session) {
        let _ = session.data(
            channel,
            format!("tokenskip-studio: {text}\r\n").into_bytes(),
        );
        let _ = session.exit_status_request(channel, 1);
        let _ = session.eof(channel);
        let _ = session.close(channel);
    }

    pub(super) fn start_viewer(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), String> {
        let (term, cols, rows) = self
            .pty
            .clone()
            .ok_or("the viewer needs a terminal: connect with `ssh -t`")?;
        let slot = Slot::take(&self.shared).ok_or_else(|| {
            format!(
                "{} viewers are connected (the limit); try again later",
                self.shared.max_viewers
            )
        })?;
        let spec = ViewerSpec {
            cols,
            rows,
            term,
            colorterm: self.colorterm.clone(),
            no_color: self.no_color.clone(),
        };
        let mut app = (self.shared.make_app)(&spec)?;
        let (tx, rx) = std::sync::mpsc::sync_channel(INPUT_QUEUE);
        let handle: Handle = session.handle();
        let rt = self.shared.rt.clone();
        let limits = self.shared.limits;
        let conn = self.id;
        let out = ChannelWriter::new(rt.clone(), handle.clone(), channel);
        std::thread::Builder::new()
            .name(format!("ssh-viewer-{conn}"))
            .spawn(move || {
                let _slot = slot;
                tracing::info!(conn, cols, rows, term = %spec.term, "viewer started");
                let counted = out.counter();
                let exit = viewer::run(app.as_mut(), out, (cols, rows), &rx, limits);
                tracing::info!(conn, ?exit, bytes = counted.get(), "viewer ended");
                let code = u32::from(matches!(exit, Exit::Idle | Exit::Broken));
                rt.block_on(async {
                    let _ = handle.exit_status_request(channel, code).await;
                    let _ = handle.eof(channel).await;
                    let _ = handle.close(channel).await;
                });
            })
            .map_err(|e| format!("cannot start the viewer: {e}"))?;
        self.viewer = Some(tx);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_sizes_are_bounded() {
        assert_eq!((clamp_cols(0), clamp_rows(0)), (1, 1));
        assert_eq!((clamp_cols(120), clamp_rows(40)), (120, 40));
        assert_eq!((clamp_cols(65_535), clamp_rows(u32::MAX)), (1000, 500));
    }
}
