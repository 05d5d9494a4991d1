//! The SSH side (russh): public-key authentication against the allowed keys (nothing
//! else is offered or accepted), one session channel per connection whose `shell`
//! request starts a viewer (never a shell), and a refusal for everything else: `exec`,
//! subsystems (sftp), X11 and agent forwarding, TCP/stream-local forwarding.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::Arc;

use russh::keys::PublicKey;
use russh::server::{Auth, ChannelOpenHandle, Handle, Msg, Session};
use russh::{Channel, ChannelId, ChannelOpenFailure, Pty};

use super::app::ViewerApp;
use super::keys::is_authorized;
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
    shared: Arc<Shared>,
    id: u64,
    peer: Option<SocketAddr>,
    user: String,
    channel: Option<ChannelId>,
    pty: Option<(String, u16, u16)>,
    colorterm: Option<String>,
    no_color: Option<String>,
    viewer: Option<SyncSender<ViewerEvent>>,
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

fn clamp_cols(v: u32) -> u16 {
    v.clamp(1, MAX_COLS) as u16
}

fn clamp_rows(v: u32) -> u16 {
    v.clamp(1, MAX_ROWS) as u16
}

impl Connection {
    /// Too many connections are open: refuse to authenticate more (viewers and the
    /// ones still logging in together; a flood of half-open logins cannot pile up).
    fn crowded(&self) -> bool {
        self.shared.open.load(Ordering::Acquire) > max_connections(self.shared.max_viewers)
    }

    fn refuse(&self, what: &str, detail: &str) {
        tracing::warn!(conn = self.id, peer = ?self.peer, user = %self.user, what, detail, "refused");
    }

    /// Says `text` on the channel and closes it (exit status 1).
    fn say_and_close(&self, channel: ChannelId, text: &str, session: &mut Session) {
        let _ = session.data(
            channel,
            format!("tokenskip-studio: {text}\r\n").into_bytes(),
        );
        let _ = session.exit_status_request(channel, 1);
        let _ = session.eof(channel);
        let _ = session.close(channel);
    }

    fn start_viewer(&mut self, channel: ChannelId, session: &mut Session) -> Result<(), String> {
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

impl russh::server::Handler for Connection {
    type Error = russh::Error;

    async fn auth_none(&mut self, user: &str) -> Result<Auth, Self::Error> {
        self.user = user.to_string();
        Ok(Auth::reject())
    }

    async fn auth_password(&mut self, user: &str, _password: &str) -> Result<Auth, Self::Error> {
        self.user = user.to_string();
        self.refuse("password authentication", "only public keys are accepted");
        Ok(Auth::reject())
    }

    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        user: &str,
        _submethods: &str,
        _response: Option<russh::server::Response<'a>>,
    ) -> Result<Auth, Self::Error> {
        self.user = user.to_string();
        self.refuse(
            "keyboard-interactive authentication",
            "only public keys are accepted",
        );
        Ok(Auth::reject())
    }

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        key: &PublicKey,
    ) -> Result<Auth, Self::Error> {
        self.user = user.to_string();
        if self.crowded() {
            self.refuse("connection", "too many connections open");
            Ok(Auth::reject())
        } else if is_authorized(&self.shared.allowed, key) {
            Ok(Auth::Accept)
        } else {
            self.refuse(
                "public key",
                &key.fingerprint(Default::default()).to_string(),
            );
            Ok(Auth::reject())
        }
    }

    async fn auth_publickey(&mut self, user: &str, key: &PublicKey) -> Result<Auth, Self::Error> {
        self.user = user.to_string();
        if !self.crowded() && is_authorized(&self.shared.allowed, key) {
            tracing::info!(conn = self.id, user, key = %key.fingerprint(Default::default()), "authenticated");
            Ok(Auth::Accept)
        } else {
            self.refuse(
                "public key",
                &key.fingerprint(Default::default()).to_string(),
            );
            Ok(Auth::reject())
        }
    }

    async fn auth_openssh_certificate(
        &mut self,
        _user: &str,
        _certificate: &russh::keys::Certificate,
    ) -> Result<Auth, Self::Error> {
        self.refuse("certificate", "certificates are not accepted");
        Ok(Auth::reject())
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.channel.is_some() {
            self.refuse("second session channel", "one viewer per connection");
            reply
                .reject(ChannelOpenFailure::AdministrativelyProhibited)
                .await;
        } else {
            self.channel = Some(channel.id());
            reply.accept().await;
        }
        Ok(())
    }

    async fn channel_open_x11(
        &mut self,
        _channel: Channel<Msg>,
        _addr: &str,
        _port: u32,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.refuse("x11 channel", "");
        reply
            .reject(ChannelOpenFailure::AdministrativelyProhibited)
            .await;
        Ok(())
    }

    async fn channel_open_direct_tcpip(
        &mut self,
        _channel: Channel<Msg>,
        host: &str,
        port: u32,
        _orig: &str,
        _orig_port: u32,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.refuse("port forwarding (direct-tcpip)", &format!("{host}:{port}"));
        reply
            .reject(ChannelOpenFailure::AdministrativelyProhibited)
            .await;
        Ok(())
    }

    async fn channel_open_forwarded_tcpip(
        &mut self,
        _channel: Channel<Msg>,
        host: &str,
        port: u32,
        _orig: &str,
        _orig_port: u32,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.refuse("forwarded-tcpip channel", &format!("{host}:{port}"));
        reply
            .reject(ChannelOpenFailure::AdministrativelyProhibited)
            .await;
        Ok(())
    }

    async fn channel_open_direct_streamlocal(
        &mut self,
        _channel: Channel<Msg>,
        path: &str,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.refuse("stream-local forwarding", path);
        reply
            .reject(ChannelOpenFailure::AdministrativelyProhibited)
            .await;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn pty_request(
        &mut self,
        channel: ChannelId,
        term: &str,
        cols: u32,
        rows: u32,
        _pix_w: u32,
        _pix_h: u32,
        _modes: &[(Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.channel != Some(channel) || self.viewer.is_some() {
            session.channel_failure(channel)?;
            return Ok(());
        }
        self.pty = Some((
            term.chars().take(64).collect(),
            clamp_cols(cols),
            clamp_rows(rows),
        ));
        session.channel_success(channel)?;
        Ok(())
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        // Never set: two colour hints are remembered, everything else is ignored.
        let value: String = value.chars().take(32).collect();
        match name {
            "COLORTERM" => self.colorterm = Some(value),
            "NO_COLOR" => self.no_color = Some(value),
            _ => {}
        }
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.channel != Some(channel) || self.viewer.is_some() {
            session.channel_failure(channel)?;
            return Ok(());
        }
        session.channel_success(channel)?;
        if let Err(message) = self.start_viewer(channel, session) {
            self.refuse("viewer", &message);
            self.say_and_close(channel, &message, session);
        }
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let cmd: String = String::from_utf8_lossy(data).chars().take(80).collect();
        self.refuse("exec", &cmd);
        session.channel_failure(channel)?;
        let _ = session.extended_data(
            channel,
            1,
            b"tokenskip-studio: commands are not run here; connect without one (ssh -t) for the viewer\r\n".to_vec(),
        );
        let _ = session.exit_status_request(channel, 1);
        let _ = session.eof(channel);
        let _ = session.close(channel);
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.refuse("subsystem", name);
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn x11_request(
        &mut self,
        channel: ChannelId,
        _single: bool,
        _proto: &str,
        _cookie: &str,
        _screen: u32,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.refuse("x11 forwarding", "");
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn agent_request(
        &mut self,
        _channel: ChannelId,
        _session: &mut Session,
    ) -> Result<bool, Self::Error> {
        self.refuse("agent forwarding", "");
        Ok(false)
    }

    async fn tcpip_forward(
        &mut self,
        address: &str,
        port: &mut u32,
        _session: &mut Session,
    ) -> Result<bool, Self::Error> {
        self.refuse("remote port forwarding", &format!("{address}:{port}"));
        Ok(false)
    }

    async fn streamlocal_forward(
        &mut self,
        path: &str,
        _session: &mut Session,
    ) -> Result<bool, Self::Error> {
        self.refuse("remote stream-local forwarding", path);
        Ok(false)
    }

    async fn window_change_request(
        &mut self,
        _channel: ChannelId,
        cols: u32,
        rows: u32,
        _pix_w: u32,
        _pix_h: u32,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(tx) = &self.viewer {
            let _ = tx.try_send(ViewerEvent::Resize {
                cols: clamp_cols(cols),
                rows: clamp_rows(rows),
            });
        }
        Ok(())
    }

    async fn data(
        &mut self,
        _channel: ChannelId,
        data: &[u8],
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(tx) = &self.viewer {
            let _ = tx.try_send(ViewerEvent::Input(data.to_vec()));
        }
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        _channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(tx) = self.viewer.take() {
            let _ = tx.try_send(ViewerEvent::Close);
        }
        Ok(())
    }

    async fn channel_close(
        &mut self,
        _channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(tx) = self.viewer.take() {
            let _ = tx.try_send(ViewerEvent::Close);
        }
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
