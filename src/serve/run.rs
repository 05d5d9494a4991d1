//! Starting the server: keys, content, the tokio runtime, the listener.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::Arc;
use std::time::Duration;

use russh::server::Server as _;
use russh::MethodKind;
use thiserror::Error;

use super::app::{ViewerApp, Workbench};
use super::keys::{load_authorized_keys, load_or_create_host_key};
use super::recording::RecordingReader;
use super::replay::SessionViewer;
use super::server::{Server, Shared, ViewerSpec};
use super::viewer::ViewerLimits;
use crate::tui::color::ColorDepth;
use crate::tui::{config, examples, scoring};

#[derive(Debug, Error)]
pub enum ServeError {
    #[error("host key {path}: {message}")]
    HostKey { path: PathBuf, message: String },
    #[error("authorized keys {path}: {message}")]
    AuthorizedKeys { path: PathBuf, message: String },
    #[error("cannot listen on {addr}: {source} (is another server on that port?)")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Setup(String),
}

/// What viewers see.
#[derive(Debug, Clone)]
pub enum Content {
    /// Their own workbench on a question list (`None`: the built-in examples).
    Workbench { dataset: Option<String> },
    /// A recorded session, replayed for each viewer from the start.
    Session(PathBuf),
    /// The presenter's recording as it is written (`tui --record FILE`), read-only.
    Live(PathBuf),
}

#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub addr: SocketAddr,
    pub authorized_keys: PathBuf,
    pub host_key: PathBuf,
    pub content: Content,
    pub max_viewers: usize,
    pub idle_timeout: Duration,
    pub fps: u32,
    pub theme: Option<String>,
    pub color: Option<ColorDepth>,
}

/// Serves until the process is stopped; `ready` gets the bound address and the host
/// key's fingerprint once the port is open.
pub fn run(opts: ServeOptions, ready: impl FnOnce(SocketAddr, String)) -> Result<(), ServeError> {
    let allowed = load_authorized_keys(&opts.authorized_keys)?;
    let host_key = load_or_create_host_key(&opts.host_key)?;
    let fingerprint = host_key
        .public_key()
        .fingerprint(Default::default())
        .to_string();
    let make_app = app_factory(&opts)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("ssh-server")
        .build()
        .map_err(|e| ServeError::Setup(format!("cannot start the async runtime: {e}")))?;
    let shared = Arc::new(Shared {
        allowed,
        limits: ViewerLimits {
            fps: opts.fps,
            idle: opts.idle_timeout,
        },
        max_viewers: opts.max_viewers,
        viewers: AtomicUsize::new(0),
        next_conn: AtomicU64::new(0),
        open: AtomicUsize::new(0),
        make_app,
        rt: rt.handle().clone(),
    });
    let config = Arc::new(russh::server::Config {
        methods: russh::MethodSet::from(&[MethodKind::PublicKey][..]),
        auth_rejection_time: Duration::from_millis(500),
        auth_rejection_time_initial: Some(Duration::ZERO),
        max_auth_attempts: 6,
        keys: vec![host_key],
        // A backstop for connections that never get to a viewer; viewers end
        // themselves after the idle timeout, with a message.
        inactivity_timeout: Some(opts.idle_timeout + Duration::from_secs(30)),
        nodelay: true,
        ..Default::default()
    });
    let addr = opts.addr;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| ServeError::Bind { addr, source })?;
        tracing::info!(%local, max_viewers = opts.max_viewers, "SSH server listening");
        ready(local, fingerprint);
        let mut server = Server(shared);
        server
            .run_on_socket(config, &listener)
            .await
            .map_err(|e| ServeError::Setup(format!("the SSH server stopped: {e}")))
    })
}

type Factory = Box<super::server::AppFactory>;

/// Builds each viewer's app; the question list and tokenizer are loaded once.
fn app_factory(opts: &ServeOptions) -> Result<Factory, ServeError> {
    let theme_name = opts.theme.clone();
    let color = opts.color;
    let look = move |spec: &ViewerSpec| {
        let env = |k: &str| match k {
            "TERM" => Some(spec.term.clone()),
            "COLORTERM" => spec.colorterm.clone(),
            "NO_COLOR" => spec.no_color.clone(),
            _ => None,
        };
        config::resolve(
            theme_name.as_deref(),
            color,
            config::config_dir().as_deref(),
            env,
        )
        .theme
    };
    match &opts.content {
        Content::Workbench { dataset } => {
            let tokenizer = Arc::new(scoring::fallback_tokenizer().map_err(ServeError::Setup)?);
            let (source, list) = match dataset {
                None => ("built-in".to_string(), examples::builtin()),
                Some(spec) => (
                    spec.clone(),
                    examples::load_dataset(spec).map_err(ServeError::Setup)?,
                ),
            };
            Ok(Box::new(move |spec: &ViewerSpec| {
                let app = Workbench::new(
                    list.clone(),
                    &source,
                    look(spec),
                    Arc::clone(&tokenizer),
                    spec.cols,
                    spec.rows,
                );
                Ok(Box::new(app) as Box<dyn ViewerApp>)
            }))
        }
        Content::Session(path) | Content::Live(path) => {
            let live = matches!(opts.content, Content::Live(_));
            if !live {
                // A bad file fails now, before anyone connects.
                let mut reader = RecordingReader::new(path);
                reader.poll().map_err(ServeError::Setup)?;
                if reader.header().is_none() {
                    return Err(ServeError::Setup(format!(
                        "{}: no session header (is it a `tui --record` file?)",
                        path.display()
                    )));
                }
            }
            let path = path.clone();
            Ok(Box::new(move |spec: &ViewerSpec| {
                let app = SessionViewer::new(&path, live, look(spec), spec.cols, spec.rows)?;
                Ok(Box::new(app) as Box<dyn ViewerApp>)
            }))
        }
    }
}
