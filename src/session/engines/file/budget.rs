//! The file engine's disk budget: how many session files, and how many
//! bytes of them, the directory may hold.
//!
//! Counted cheaply: counters that every create, growing write and removal
//! of this process moves, set again from a walk of the tree at start-up
//! and after every GC. Between two GCs they miss what other processes
//! sharing the directory do, and the writes that race with a GC's walk,
//! so the bound holds to within that much; each GC makes it exact again.
//!
//! Past the budget a new session (or a write that would grow the
//! directory) is refused with [`Error::Full`], which the web layer answers
//! with 503, instead of evicting the least recently used sessions as the
//! memory engine does. Finding the oldest file means walking the tree (a
//! cost a flood of anonymous clients would make us pay on every request),
//! and the directory may be shared with other processes (beego apps
//! included) whose sessions no in-process index sees. Refusing is O(1),
//! never logs a signed-in user out (their reads, logins and regenerates
//! still work), and GC frees room as the flood's idle sessions expire.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::session::error::{Error, Result};

/// The counters and their limits.
#[derive(Debug)]
pub(super) struct Budget {
    max_sessions: usize,
    max_bytes: u64,
    sessions: AtomicUsize,
    bytes: AtomicU64,
}

fn full(what: &'static str, limit: u64) -> Error {
    tracing::warn!(
        what,
        limit,
        "file session: the session directory is full; refusing new sessions until GC frees room"
    );
    Error::Full {
        engine: "file",
        what,
        limit,
    }
}

impl Budget {
    /// An empty budget; [`Budget::rescan`] sets what is on disk.
    pub(super) fn new(max_sessions: usize, max_bytes: u64) -> Budget {
        Budget {
            max_sessions,
            max_bytes,
            sessions: AtomicUsize::new(0),
            bytes: AtomicU64::new(0),
        }
    }

    /// Reserves room for a new session file of `size` bytes, or
    /// [`Error::Full`]. Undo with [`Budget::release`] if it is not written.
    pub(super) fn admit(&self, size: u64) -> Result<()> {
        self.sessions
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max_sessions).then_some(n + 1)
            })
            .map_err(|_| full("sessions", self.max_sessions as u64))?;
        if let Err(e) = self.grow(0, size) {
            self.sessions.fetch_sub(1, Ordering::AcqRel);
            return Err(e);
        }
        Ok(())
    }

    /// Accounts a session file going from `old` to `new` bytes: a write
    /// that grows the directory past `max_bytes` is [`Error::Full`], one
    /// that shrinks it always passes.
    pub(super) fn grow(&self, old: u64, new: u64) -> Result<()> {
        if new <= old {
            let _ = self
                .bytes
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |b| {
                    Some(b.saturating_sub(old - new))
                });
            return Ok(());
        }
        let more = new - old;
        self.bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |b| {
                b.checked_add(more).filter(|total| *total <= self.max_bytes)
            })
            .map(|_| ())
            .map_err(|_| full("bytes", self.max_bytes))
    }

    /// Accounts a removed session file of `size` bytes.
    pub(super) fn release(&self, size: u64) {
        // Saturating: a file another process wrote was never counted here.
        let _ = self
            .sessions
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                Some(n.saturating_sub(1))
            });
        let _ = self
            .bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |b| {
                Some(b.saturating_sub(size))
            });
    }

    /// Sets the counters to what a walk of the tree found.
    pub(super) fn rescan(&self, sessions: usize, bytes: u64) {
        self.sessions.store(sessions, Ordering::Release);
        self.bytes.store(bytes, Ordering::Release);
    }

    /// The counters, for tests and logs.
    pub(super) fn used(&self) -> (usize, u64) {
        (
            self.sessions.load(Ordering::Acquire),
            self.bytes.load(Ordering::Acquire),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_past_either_limit_and_frees_on_release() {
        let b = Budget::new(2, 100);
        b.admit(40).unwrap();
        b.admit(40).unwrap();
        assert!(matches!(
            b.admit(1),
            Err(Error::Full {
                what: "sessions",
                limit: 2,
                ..
            })
        ));
        b.release(40);
        assert!(matches!(
            b.admit(70),
            Err(Error::Full {
                what: "bytes",
                limit: 100,
                ..
            })
        ));
        // The refused admit left nothing reserved.
        assert_eq!(b.used(), (1, 40));
        b.grow(40, 100).unwrap();
        assert!(b.grow(100, 101).is_err());
        b.grow(100, 10).unwrap();
        assert_eq!(b.used(), (1, 10));
        b.release(50);
        b.release(50);
        assert_eq!(b.used(), (0, 0));
    }
}
