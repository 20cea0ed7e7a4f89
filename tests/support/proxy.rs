//! A TCP proxy of the test's own between an engine and its server, to play
//! the server's faults without touching a shared server: `freeze` stops
//! every byte both ways while keeping the connections open (a paused or
//! black-holed server), `kill` drops every connection and refuses new ones
//! (a dead server), `resume` goes back to forwarding on the same port.
//! `kill_on` arms a kill for the moment a given command is on its way to
//! the server: that command never arrives (a server lost mid-operation).
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

/// Bytes that, seen on their way to the server, kill the proxy first.
type Trigger = Arc<std::sync::Mutex<Option<Vec<u8>>>>;

/// The proxy; dropping it stops it.
pub struct FaultProxy {
    addr: SocketAddr,
    state: Arc<AtomicU8>,
    changed: Arc<watch::Sender<u8>>,
    trigger: Trigger,
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
        let changed = Arc::new(changed);
        let trigger: Trigger = Arc::default();
        let (thread_changed, thread_trigger) = (changed.clone(), trigger.clone());
        let (stop, stop_rx) = tokio::sync::oneshot::channel();
        let thread_state = state.clone();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("proxy runtime");
            let faults = Faults {
                state: thread_state,
                changed: thread_changed,
                trigger: thread_trigger,
            };
            rt.block_on(run(addr, target, faults, watch_rx, stop_rx, ready_tx));
        });
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("proxy listening");
        FaultProxy {
            addr,
            state,
            changed,
            trigger,
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

    /// Kills the proxy (as [`FaultProxy::kill`]) when `pattern` next
    /// appears in bytes on their way to the server, before they are
    /// forwarded: the command holding it never reaches the server.
    pub fn kill_on(&self, pattern: &[u8]) {
        *self.trigger.lock().expect("trigger") = Some(pattern.to_vec());
    }

    /// True once an armed `kill_on` has fired.
    pub fn fired(&self) -> bool {
        self.trigger.lock().expect("trigger").is_none() && self.state.load(Ordering::SeqCst) == DEAD
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

/// What the connections share: the state, and the armed trigger.
#[derive(Clone)]
struct Faults {
    state: Arc<AtomicU8>,
    changed: Arc<watch::Sender<u8>>,
    trigger: Trigger,
}

impl Faults {
    /// Kills the proxy if `bytes` hold the armed pattern.
    fn fires_on(&self, bytes: &[u8]) -> bool {
        let mut trigger = self.trigger.lock().expect("trigger");
        let hit = trigger
            .as_ref()
            .is_some_and(|p| bytes.windows(p.len()).any(|w| w == p.as_slice()));
        if hit {
            *trigger = None;
            self.state.store(DEAD, Ordering::SeqCst);
            let _ = self.changed.send(DEAD);
        }
        hit
    }
}

async fn run(
    addr: SocketAddr,
    target: SocketAddr,
    faults: Faults,
    mut changed: watch::Receiver<u8>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
    ready: std::sync::mpsc::Sender<()>,
) {
    let state = faults.state.clone();
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
                        tokio::spawn(pipe_pair(client, target, faults.clone(), changed.clone()));
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
    faults: Faults,
    changed: watch::Receiver<u8>,
) {
    let state = faults.state.clone();
    let Ok(server) = TcpStream::connect(target).await else {
        return;
    };
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let up = pipe(cr, sw, state.clone(), changed.clone(), Some(faults));
    let down = pipe(sr, cw, state, changed, None);
    tokio::select! {
        _ = up => {}
        _ = down => {}
    }
}

/// Copies one direction, holding bytes while frozen and ending when dead;
/// toward the server (`faults` given), an armed trigger may kill first.
async fn pipe(
    mut from: impl AsyncReadExt + Unpin,
    mut to: impl AsyncWriteExt + Unpin,
    state: Arc<AtomicU8>,
    mut changed: watch::Receiver<u8>,
    faults: Option<Faults>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        // Wait while frozen; stop when dead.
        if !forwarding(&state, &mut changed).await {
            return;
        }
        let n = tokio::select! {
            read = from.read(&mut buf) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            _ = changed.changed() => continue,
        };
        // A freeze that comes while bytes are in hand holds them here.
        if !forwarding(&state, &mut changed).await {
            return;
        }
        if faults.as_ref().is_some_and(|f| f.fires_on(&buf[..n])) {
            return;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// Waits while the proxy is frozen: true once it forwards again, false when
/// it is dead (or its control is gone), which ends the pipe.
async fn forwarding(state: &AtomicU8, changed: &mut watch::Receiver<u8>) -> bool {
    loop {
        match state.load(Ordering::SeqCst) {
            FORWARD => return true,
            DEAD => return false,
            _ => {
                if changed.changed().await.is_err() {
                    return false;
                }
            }
        }
    }
}
