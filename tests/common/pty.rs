//! A pseudo-terminal for the tests that drive the real binary (`tui_pty`, `serve_ssh`):
//! `libc::openpty` directly (libc is already a dependency), output collected by a thread.
#![allow(dead_code)] // each test crate uses part of it

use std::fs::File;
use std::io::Read;
use std::os::fd::FromRawFd;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Pty {
    pub master: File,
    pub slave: File,
    pub output: Arc<Mutex<Vec<u8>>>,
    size: (u16, u16),
}

pub fn open_pty(cols: u16, rows: u16) -> Pty {
    let (mut master, mut slave) = (0, 0);
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two fds; null name and termios mean defaults.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &ws,
        )
    };
    assert_eq!(rc, 0, "openpty failed");
    // SAFETY: both fds were just opened and are owned here.
    let (master, slave) = unsafe { (File::from_raw_fd(master), File::from_raw_fd(slave)) };
    let output = Arc::new(Mutex::new(Vec::new()));
    let mut reader = master.try_clone().unwrap();
    let sink = Arc::clone(&output);
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    Pty {
        master,
        slave,
        output,
        size: (cols, rows),
    }
}

impl Pty {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).to_string()
    }

    /// The screen a terminal shows after all output so far (parsed with vt100): a frame
    /// drawn as a diff writes only changed cells, so "0.70" may never appear in the bytes.
    pub fn screen(&self) -> String {
        let (cols, rows) = self.size;
        let mut parser = vt100::Parser::new(rows.try_into().unwrap(), cols.try_into().unwrap(), 0);
        parser.process(&self.output.lock().unwrap());
        parser.screen().contents()
    }

    /// Waits until the output after byte `from` contains `needle`, or the screen shows it.
    pub fn wait_for(&self, needle: &str, from: usize, timeout: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < timeout {
            let out = self.output.lock().unwrap();
            if String::from_utf8_lossy(&out[from.min(out.len())..]).contains(needle) {
                return true;
            }
            drop(out);
            if self.screen().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// Waits until the screen satisfies `pred`.
    pub fn wait_screen(&self, pred: impl Fn(&str) -> bool, timeout: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if pred(&self.screen()) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    pub fn len(&self) -> usize {
        self.output.lock().unwrap().len()
    }
}
