//! The `Provider` trait: one session engine.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::error::{Error, Result, CORE};
use super::format::Format;
use super::id::{IdFormat, SessionId};
use super::owner::{unsupported, OwnerIndex};
use super::store::Store;

/// A session engine: the spec's `Provider` interface.
///
/// Object-safe, so the [`Manager`](super::Manager) holds it as
/// `Arc<dyn Provider>` and picks it by name at run time. Every id an engine
/// receives is a validated [`SessionId`].
///
/// Contract, checked by the conformance suite (`session::testing`):
/// - `session_read` returns the stored session, or an empty store whose
///   [`meta`](Store::meta) says `is_new` when there is none (or it expired).
///   It creates nothing: creation happens when that store is released with
///   changes, as an insert-if-absent ([`Error::IdCollision`] when the id is
///   taken).
/// - `session_new` gives the empty store of a freshly minted id; engines
///   whose release inserts only if absent make it without any I/O.
/// - **Corrupt data**: stored data that does not decode is reported by
///   `session_read` as [`Error::Corrupt`], never as an absent session and
///   never as a panic. The [`Manager`](super::Manager) alone decides what
///   to do: it logs one warning and gives the request a fresh session.
/// - Expired sessions (idle lifetime) read as absent, whether or not GC ran.
/// - `session_regenerate` stores the data under the new id before it removes
///   the old id (atomically where the backend allows), and returns a loaded
///   store for the new id; an unknown old id gives an empty new store. It
///   never writes under the old id.
///
/// [`Error::IdCollision`]: super::Error::IdCollision
/// [`Error::Corrupt`]: super::Error::Corrupt
///
/// # Examples
///
/// A complete engine is in `examples/custom_provider.rs`; the memory engine:
///
/// ```
/// # actix_rt::System::new().block_on(async {
/// use std::time::Duration;
/// use actix_bee::session::{IdGenerator, Provider};
/// use actix_bee::session::memory::MemoryProvider;
///
/// let mut provider = MemoryProvider::default();
/// provider.session_init(Duration::from_secs(3600), "").await.unwrap();
/// let id = IdGenerator::default().generate().unwrap();
/// assert!(!provider.session_exist(&id).await.unwrap());
/// assert_eq!(provider.session_all().await.unwrap(), 0);
/// # });
/// ```
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// Configures the engine: the idle lifetime and the engine's own
    /// `sessionproviderconfig` string.
    async fn session_init(&mut self, max_lifetime: Duration, config: &str) -> Result<()>;
    /// Loads a session, or gives an empty new store for `sid`.
    async fn session_read(&self, sid: &SessionId) -> Result<Arc<dyn Store>>;
    /// An empty store for a freshly minted `sid`, created at release.
    ///
    /// The default reads `sid` and refuses one that exists
    /// ([`Error::IdCollision`](super::Error::IdCollision)); engines whose
    /// release creates with an insert-if-absent skip that read.
    async fn session_new(&self, sid: &SessionId) -> Result<Arc<dyn Store>> {
        let store = self.session_read(sid).await?;
        if store.meta().is_new {
            Ok(store)
        } else {
            Err(super::error::Error::IdCollision)
        }
    }
    /// True when a live (unexpired) session is stored under `sid`.
    async fn session_exist(&self, sid: &SessionId) -> Result<bool>;
    /// Moves the session from `old` to `new`, keeping its data.
    async fn session_regenerate(&self, old: &SessionId, new: &SessionId) -> Result<Arc<dyn Store>>;
    /// Removes the session.
    async fn session_destroy(&self, sid: &SessionId) -> Result<()>;
    /// Number of live sessions.
    async fn session_all(&self) -> Result<usize>;
    /// Removes expired sessions.
    async fn session_gc(&self) -> Result<()>;
    /// The shape of this engine's ids; only the cookie engine overrides it.
    fn id_format(&self) -> IdFormat {
        IdFormat::Random
    }
    /// The engine's owner index, for sessions by owner ("log out
    /// everywhere", see [`OwnerIndex`]).
    ///
    /// # Errors
    ///
    /// The default is [`Error::Unsupported`]: an engine without an index
    /// (memcache, cookie, couchbase, custom engines that do not override
    /// it). Apps on such an engine keep the list of a user's session ids
    /// in their own database and destroy them one by one.
    fn owner_index(&self) -> Result<&dyn OwnerIndex> {
        Err(unsupported("custom"))
    }
    /// The engine's name, as registered (`memory`, `redis`, ...): in
    /// metrics labels, logs and errors. The default is `custom`.
    fn name(&self) -> &'static str {
        "custom"
    }
    /// Chooses the stored format (`sessionstoreformat`); the
    /// [`Manager`](super::Manager) calls it before `session_init`. The
    /// default accepts only [`Format::Native`].
    ///
    /// # Errors
    ///
    /// [`Error::Config`] naming the setting when the engine cannot store
    /// `format`.
    fn set_format(&mut self, format: Format) -> Result<()> {
        match format {
            Format::Native => Ok(()),
            other => Err(Error::config(
                CORE,
                format!(
                    "this engine cannot store sessionstoreformat = {}; use native",
                    other.name()
                ),
            )),
        }
    }
}
