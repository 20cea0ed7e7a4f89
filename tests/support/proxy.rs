//! A TCP proxy of the test's own between an engine and its server, to play
//! the server's faults without touching a shared server: `freeze` stops
//! every byte both ways while keeping the connections open (a paused or
//! black-holed server), `kill` drops every connection and refuses new ones
//! (a dead server), `resume` goes back to forwarding on the same port.
//!
//! It runs on a thread and runtime of its own, so it keeps working whatever
//! the test's runtime does.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

const FORWARD: u8 = 0;
const FROZEN: u8 = 1;
const DEAD: u8 = 2;

/// The proxy; dropping it stops it.
pub struct FaultProxy {
    addr: SocketAddr,
    state: Arc<AtomicU8>,
    changed: watch::Sender<u8>,
    thread: Option<std::thread::JoinHandle<()>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `target`.
    pub fn start(target: SocketAddr) -> FaultProxy {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
        let addr = probe.local_addr().expect("local addr");
        drop(probe);
        let state = Arc::new(AtomicU8::new(FORWARD));
        let (changed, watch_rx) = watch::channel(FORWARD);
        let (stop, stop_rx) = tokio::sync::oneshot::channel();
        let thread_state = state.clone();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("proxy runtime");
            rt.block_on(run(addr, target, thread_state, watch_rx, stop_rx, ready_tx));
        });
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("proxy listening");
        FaultProxy {
            addr,
            state,
            changed,
            thread: Some(thread),
            stop: Some(stop),
        }
    }

    /// Where engines should connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops forwarding bytes, both ways, keeping every connection open;
    /// new connections are accepted and then hang too.
    pub fn freeze(&self) {
        self.set(FROZEN);
    }

    /// Drops every connection and refuses new ones.
    pub fn kill(&self) {
        self.set(DEAD);
    }

    /// Forwards again (after `freeze`, the held bytes flow on).
    pub fn resume(&self) {
        self.set(FORWARD);
    }

    fn set(&self, state: u8) {
        self.state.store(state, Ordering::SeqCst);
        let _ = self.changed.send(state);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn run(
    addr: SocketAddr,
    target: SocketAddr,
    state: Arc<AtomicU8>,
    mut changed: watch::Receiver<u8>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
    ready: std::sync::mpsc::Sender<()>,
) {
    let mut ready = Some(ready);
    loop {
        // Listening only while not dead: a dead server refuses connections.
        let listener = loop {
            if state.load(Ordering::SeqCst) != DEAD {
                match TcpListener::bind(addr).await {
                    Ok(l) => break l,
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            } else {
                tokio::select! {
                    _ = &mut stop => return,
                    _ = changed.changed() => {}
                }
            }
        };
        if let Some(ready) = ready.take() {
            let _ = ready.send(());
        }
        loop {
            tokio::select! {
                _ = &mut stop => return,
                accepted = listener.accept() => {
                    if let Ok((client, _)) = accepted {
                        tokio::spawn(pipe_pair(client, target, state.clone(), changed.clone()));
                    }
                }
                _ = changed.changed() => {
                    if state.load(Ordering::SeqCst) == DEAD {
                        break; // drops the listener; connections see DEAD and close
                    }
                }
            }
        }
    }
}

async fn pipe_pair(
    client: TcpStream,
    target: SocketAddr,
    state: Arc<AtomicU8>,
    changed: watch::Receiver<u8>,
) {
    let Ok(server) = TcpStream::connect(target).await else {
        return;
    };
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let up = pipe(cr, sw, state.clone(), changed.clone());
    let down = pipe(sr, cw, state, changed);
    tokio::select! {
        _ = up => {}
        _ = down => {}
    }
}

/// Copies one direction, holding bytes while frozen and ending when dead.
async fn pipe(
    mut from: impl AsyncReadExt + Unpin,
    mut to: impl AsyncWriteExt + Unpin,
    state: Arc<AtomicU8>,
    mut changed: watch::Receiver<u8>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        // Wait while frozen; stop when dead.
        loop {
            match state.load(Ordering::SeqCst) {
                FORWARD => break,
                DEAD => return,
                _ => {
                    if changed.changed().await.is_err() {
                        return;
                    }
                }
            }
        }
        let n = tokio::select! {
            read = from.read(&mut buf) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            _ = changed.changed() => continue,
        };
        // A freeze that comes while bytes are in hand holds them here.
        loop {
            match state.load(Ordering::SeqCst) {
                FORWARD => break,
                DEAD => return,
                _ => {
                    if changed.changed().await.is_err() {
                        return;
                    }
                }
            }
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
