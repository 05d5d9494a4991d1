//! What each SSH request gets: public-key authentication against the allowed keys
//! (nothing else is offered or accepted), one session channel per connection whose
//! `shell` request starts a viewer (never a shell), and a refusal, logged, for
//! everything else: `exec`, subsystems (sftp), X11 and agent forwarding, TCP and
//! stream-local forwarding. `env` is never applied (two colour hints are noted).

use russh::keys::PublicKey;
use russh::server::{Auth, ChannelOpenHandle, Msg, Session};
use russh::{Channel, ChannelId, Pty};

use super::keys::is_authorized;
use super::server::{clamp_cols, clamp_rows, Connection};
use super::viewer::ViewerEvent;

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
            self.refuse_channel(reply, "second session channel", "one viewer per connection")
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
        self.refuse_channel(reply, "x11 channel", "").await;
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
        self.refuse_channel(
            reply,
            "port forwarding (direct-tcpip)",
            &format!("{host}:{port}"),
        )
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
        self.refuse_channel(reply, "forwarded-tcpip channel", &format!("{host}:{port}"))
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
        self.refuse_channel(reply, "stream-local forwarding", path)
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
