//! Sessions by owner ("log out everywhere"): the owner type, the index an
//! engine keeps, and the protocol that keeps a login racing a "log out
//! everywhere" from leaving a live session behind.
//!
//! The owner lives inside the session data under [`OWNER_KEY`] (a string)
//! and the owner's epoch at login under [`OWNER_EPOCH_KEY`], so regenerate,
//! every engine and both storage formats carry them with no schema change.
//! A beego app sharing the store sees these two keys.
//!
//! Each owner has an index (its session ids) and an epoch (a counter):
//! - **login** (the release of a request that called
//!   [`Session::set_owner`](crate::session::Session::set_owner)): attach the id,
//!   which returns the epoch `e0`; write the session; read the epoch again,
//!   and destroy the session if it moved: a "log out everywhere" raced it.
//! - **log out everywhere**: bump the epoch, then destroy every live
//!   session in the index.
//!
//! Whatever the interleaving, a session attached before the bump is either
//! live when the index is read (and destroyed), or written after it (and its
//! own second read sees the bump). A regenerate attaches the new id before
//! the move and compares the epoch with the one stored at login. Requests
//! that never set an owner pay nothing.

use std::fmt;

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use crate::session::error::{Error, Result};
use crate::session::id::SessionId;

pub(crate) mod flow;
mod manager;

/// The session key that holds the owner (a string).
pub const OWNER_KEY: &str = "__actix_bee_owner";
/// The session key that holds the owner's epoch at login (an integer).
pub const OWNER_EPOCH_KEY: &str = "__actix_bee_owner_epoch";
/// The longest owner accepted, in bytes.
pub const MAX_OWNER_BYTES: usize = 256;

/// How long an attached id that has no session yet is kept in the index:
/// the release that attached it is writing the session. Pruning removes
/// only ids older than this, so it never races a login in flight.
#[cfg_attr(
    not(any(
        feature = "memory",
        feature = "file",
        feature = "redis",
        feature = "mysql",
        feature = "postgresql"
    )),
    allow(dead_code)
)]
pub(crate) const ATTACH_GRACE_MS: u64 = 5 * 60 * 1000;

/// True for the keys that only the owner methods may write.
pub(crate) fn is_owner_key(key: &str) -> bool {
    key == OWNER_KEY || key == OWNER_EPOCH_KEY
}

/// A validated owner (a user id): non-empty, at most [`MAX_OWNER_BYTES`]
/// bytes, no control characters.
///
/// # Examples
///
/// ```
/// use actix_bee::session::Owner;
///
/// assert_eq!(Owner::new("user-42").unwrap().as_str(), "user-42");
/// assert!(Owner::new("").is_err());
/// assert!(Owner::new("a\nb").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Owner(String);

impl Owner {
    /// Validates `owner`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOwner`] saying what is wrong.
    ///
    /// # Examples
    ///
    /// See [`Owner`].
    pub fn new(owner: &str) -> Result<Owner> {
        let reason = if owner.is_empty() {
            "it is empty"
        } else if owner.len() > MAX_OWNER_BYTES {
            "it is longer than 256 bytes"
        } else if owner.chars().any(char::is_control) {
            "it contains a control character"
        } else {
            return Ok(Owner(owner.to_owned()));
        };
        Err(Error::InvalidOwner { reason })
    }

    /// The owner as given.
    ///
    /// # Examples
    ///
    /// See [`Owner`].
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// SHA-256 of the owner in hex: a name for it that is safe in a key,
    /// a file name or a log.
    ///
    /// # Examples
    ///
    /// ```
    /// let o = actix_bee::session::Owner::new("bob").unwrap();
    /// assert_eq!(o.digest().len(), 64);
    /// ```
    pub fn digest(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

/// Owners may be e-mail addresses: never printed whole in logs.
impl fmt::Debug for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Owner({})", &self.digest()[..12])
    }
}

/// One live session of an owner, as an engine's index reports it.
///
/// # Examples
///
/// ```
/// use actix_bee::session::IdGenerator;
/// use actix_bee::session::engine::IndexedSession;
///
/// let s = IndexedSession::new(IdGenerator::default().generate().unwrap(), Some(1), Some(2));
/// assert_eq!(s.accessed_ms, Some(2));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IndexedSession {
    /// The session id.
    pub sid: SessionId,
    /// Creation time, ms since the epoch, when the engine knows it.
    pub created_ms: Option<u64>,
    /// Last access, ms since the epoch, when the engine knows it.
    pub accessed_ms: Option<u64>,
}

impl IndexedSession {
    /// A live session of an owner.
    ///
    /// # Examples
    ///
    /// See [`IndexedSession`].
    pub fn new(sid: SessionId, created_ms: Option<u64>, accessed_ms: Option<u64>) -> Self {
        IndexedSession {
            sid,
            created_ms,
            accessed_ms,
        }
    }
}

/// One live session of an owner, as [`Manager::sessions_of`] lists it:
/// never the id itself.
///
/// [`Manager::sessions_of`]: crate::session::Manager::sessions_of
///
/// # Examples
///
/// ```
/// # actix_rt::System::new().block_on(async {
/// use actix_bee::session::{Manager, RequestIds};
///
/// let m = Manager::new("memory", Default::default()).await.unwrap();
/// let s = m.session_start(&RequestIds::default()).await.unwrap();
/// s.set_owner("alice").await.unwrap();
/// m.session_release(&s).await.unwrap();
/// let listed = m.sessions_of("alice").await.unwrap();
/// assert_eq!(listed[0].fingerprint.len(), 12);
/// # });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OwnedSession {
    /// [`SessionId::fingerprint`] of the id: the first 12 hex digits of
    /// its SHA-256, enough to tell sessions apart, useless to hijack one.
    pub fingerprint: String,
    /// Creation time, ms since the epoch, when the engine knows it.
    pub created_ms: Option<u64>,
    /// Last access, ms since the epoch, when the engine knows it.
    pub accessed_ms: Option<u64>,
}

impl From<&IndexedSession> for OwnedSession {
    fn from(s: &IndexedSession) -> Self {
        OwnedSession {
            fingerprint: s.sid.fingerprint(),
            created_ms: s.created_ms,
            accessed_ms: s.accessed_ms,
        }
    }
}

/// The owner index of an engine: each owner's session ids and epoch.
///
/// An engine exposes it through
/// [`Provider::owner_index`](crate::session::Provider::owner_index). Requirements:
/// - `attach` adds the id and returns the epoch in one atomic step;
/// - `bump` changes the epoch to a value it never had (so a reader that
///   saw the old one always notices);
/// - `sessions` returns only live sessions and prunes ids whose session is
///   gone, but only ids attached more than a few minutes ago (a release may
///   be writing that session right now); the engine's GC prunes the same
///   way, so the index never outlives the sessions;
/// - the index and the epoch of an owner never expire while one of its
///   sessions is alive.
///
/// # Examples
///
/// ```
/// # actix_rt::System::new().block_on(async {
/// use actix_bee::session::{IdGenerator, Owner, Provider};
/// use actix_bee::session::memory::MemoryProvider;
///
/// let provider = MemoryProvider::default();
/// let index = provider.owner_index().unwrap();
/// let owner = Owner::new("alice").unwrap();
/// let sid = IdGenerator::default().generate().unwrap();
/// let e0 = index.attach(&owner, &sid).await.unwrap();
/// assert_ne!(index.bump(&owner).await.unwrap(), e0);
/// // Not written yet, so not listed as a live session.
/// assert!(index.sessions(&owner).await.unwrap().is_empty());
/// # });
/// ```
#[async_trait]
pub trait OwnerIndex: Send + Sync {
    /// Adds `sid` to the owner's index and returns the owner's epoch.
    async fn attach(&self, owner: &Owner, sid: &SessionId) -> Result<u64>;
    /// Removes `sid` from the owner's index; an absent one is fine.
    async fn detach(&self, owner: &Owner, sid: &SessionId) -> Result<()>;
    /// The owner's current epoch.
    async fn epoch(&self, owner: &Owner) -> Result<u64>;
    /// Moves the owner's epoch to a new value and returns it.
    async fn bump(&self, owner: &Owner) -> Result<u64>;
    /// The owner's live sessions; prunes stale ids it meets.
    async fn sessions(&self, owner: &Owner) -> Result<Vec<IndexedSession>>;
}

/// An id read back from an owner index, checked to have the shape of an
/// id this crate mints (a prefix of letters, digits, `-`, `_`, then hex),
/// so that a tampered index cannot name another key or a path.
#[cfg_attr(
    not(any(
        feature = "file",
        feature = "redis",
        feature = "mysql",
        feature = "postgresql"
    )),
    allow(dead_code)
)]
pub(crate) fn indexed_id(raw: &str) -> Option<SessionId> {
    let ok = !raw.is_empty()
        && raw.len() <= 256
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then(|| crate::session::id::IdGenerator::sealed(raw))
}

/// The error of an engine without an owner index.
pub(crate) fn unsupported(engine: &'static str) -> Error {
    Error::Unsupported {
        engine,
        what: "sessions by owner (it keeps no owner index)",
    }
}
