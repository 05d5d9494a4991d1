//! A `std::io::Write` into an SSH channel, for the viewer's ratatui backend: writes
//! collect in a buffer, `flush` (once per frame) sends them as one data message and
//! waits for the channel to take it (backpressure: a slow link slows the viewer's
//! frames down instead of queueing them without bound).

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use russh::server::Handle;
use russh::ChannelId;

/// A viewer whose client takes no data for this long is dropped (it stopped reading,
/// and the viewer's thread must not wait forever).
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// Bytes sent so far (shared with whoever logs them).
#[derive(Debug, Clone, Default)]
pub struct ByteCount(Arc<AtomicU64>);

impl ByteCount {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

pub struct ChannelWriter {
    rt: tokio::runtime::Handle,
    handle: Handle,
    channel: ChannelId,
    buf: Vec<u8>,
    sent: ByteCount,
}

impl ChannelWriter {
    /// Call from a thread outside the runtime (it blocks on `rt` to send).
    pub fn new(rt: tokio::runtime::Handle, handle: Handle, channel: ChannelId) -> Self {
        ChannelWriter {
            rt,
            handle,
            channel,
            buf: Vec::with_capacity(16 * 1024),
            sent: ByteCount::default(),
        }
    }

    pub fn counter(&self) -> ByteCount {
        self.sent.clone()
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let data = std::mem::take(&mut self.buf);
        let n = data.len() as u64;
        let (handle, channel) = (&self.handle, self.channel);
        // The timer is made inside the runtime (it needs its time driver).
        let send = async { tokio::time::timeout(SEND_TIMEOUT, handle.data(channel, data)).await };
        match self.rt.block_on(send) {
            Ok(Ok(())) => {}
            Ok(Err(_)) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::BrokenPipe,
                    "the SSH channel is closed",
                ))
            }
            Err(_) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the viewer stopped reading its screen",
                ))
            }
        }
        self.sent.0.fetch_add(n, Ordering::Relaxed);
        Ok(())
    }
}
