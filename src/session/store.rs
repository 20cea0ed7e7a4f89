//! The `Store` trait: one session during one request, as applications
//! and the manager see it. Engines build it from the change-tracking
//! [`MapStore`](super::engine::MapStore) in [`engine`](super::engine).

use std::any::Any;

use async_trait::async_trait;

use super::error::Result;
use super::format::Format;
use super::id::SessionId;
use super::record::Changes;

/// What a release asks the web layer to do, besides what the manager does.
///
/// Engines never touch a response; the cookie engine returns its sealed
/// state here and the web layer writes it as the session cookie.
///
/// # Examples
///
/// ```
/// let r = actix_bee::session::engine::Released::default();
/// assert!(!r.written && r.cookie_value.is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Released {
    /// True when the backend was written.
    pub written: bool,
    /// A new value for the session cookie (cookie engine only).
    pub cookie_value: Option<String>,
}

impl Released {
    /// A release that wrote (or did not write) the backend.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(actix_bee::session::engine::Released::wrote(true).written);
    /// ```
    pub fn wrote(written: bool) -> Self {
        Released {
            written,
            cookie_value: None,
        }
    }

    /// A release that asks for the session cookie to be set to `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let r = actix_bee::session::engine::Released::cookie("sealed".into());
    /// assert_eq!(r.cookie_value.as_deref(), Some("sealed"));
    /// ```
    pub fn cookie(value: String) -> Self {
        Released {
            written: true,
            cookie_value: Some(value),
        }
    }
}

/// Facts about a loaded session that the manager checks.
///
/// # Examples
///
/// ```
/// let m = actix_bee::session::engine::StoreMeta::new_session();
/// assert!(m.is_new);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreMeta {
    /// True when the engine holds no session under this id (yet).
    pub is_new: bool,
    /// Creation time in ms since the epoch, when the engine knows it.
    pub created_ms: Option<u64>,
}

impl StoreMeta {
    /// Meta of a session that is not in the engine.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(actix_bee::session::engine::StoreMeta::new_session().created_ms, None);
    /// ```
    pub fn new_session() -> Self {
        StoreMeta {
            is_new: true,
            created_ms: None,
        }
    }

    /// Meta of a session loaded from the engine.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = actix_bee::session::engine::StoreMeta::loaded(Some(5));
    /// assert!(!m.is_new);
    /// ```
    pub fn loaded(created_ms: Option<u64>) -> Self {
        StoreMeta {
            is_new: false,
            created_ms,
        }
    }
}

/// One session during one request: the spec's `Store` interface.
///
/// Values cross this trait encoded; the typed `set`/`get` are on
/// `dyn Store` (see below), so the trait stays object-safe and engines are
/// held as `Arc<dyn Store>`.
///
/// `session_release` writes only what changed, and only when something
/// changed. For a session that exists in the engine it never recreates one
/// that another request destroyed; for a new session it creates it.
/// `session_release_if_present` never creates.
///
/// # Examples
///
/// ```
/// # actix_rt::System::new().block_on(async {
/// use std::sync::Arc;
/// use actix_bee::session::{IdGenerator, Store};
/// use actix_bee::session::memory::MemoryProvider;
/// use actix_bee::session::Provider;
///
/// let provider = MemoryProvider::default();
/// let id = IdGenerator::default().generate().unwrap();
/// let store: Arc<dyn Store> = provider.session_read(&id).await.unwrap();
/// store.set("asta", &1i64).await.unwrap();
/// assert_eq!(store.get::<i64>("asta").await.unwrap(), Some(1));
/// store.session_release().await.unwrap();
/// assert!(provider.session_exist(&id).await.unwrap());
/// # });
/// ```
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Sets an encoded value.
    async fn set_value(&self, key: &str, value: Vec<u8>) -> Result<()>;
    /// Gets an encoded value.
    async fn get_value(&self, key: &str) -> Result<Option<Vec<u8>>>;
    /// Deletes a key.
    async fn delete(&self, key: &str) -> Result<()>;
    /// Deletes every key.
    async fn flush(&self) -> Result<()>;
    /// The id this store belongs to.
    fn session_id(&self) -> SessionId;
    /// Facts the manager checks (new or loaded, creation time).
    fn meta(&self) -> StoreMeta;
    /// The format of this store's encoded values, which the typed
    /// [`set`](#method.set)/[`get`](#method.get) use; [`Format::Native`]
    /// unless the engine stores beego's format.
    fn format(&self) -> Format {
        Format::Native
    }
    /// Saves this request's changes (creating a new session).
    async fn session_release(&self) -> Result<Released>;
    /// Saves this request's changes only if the session is still in the engine.
    async fn session_release_if_present(&self) -> Result<Released>;
    /// Hands over this request's unsaved changes, leaving none behind, so
    /// that another store (the session under its regenerated id) can carry
    /// them. `None` for a store that does not track changes.
    ///
    /// # Examples
    ///
    /// See [`Store::adopt_changes`].
    fn take_changes(&self) -> Option<Changes> {
        None
    }
    /// This store as [`Any`], for a store whose callers may reach its
    /// concrete type; `None` by default. A
    /// [`MapStore`](super::engine::MapStore) answers, so that
    /// [`as_map_store`](#method.as_map_store) finds it.
    fn as_any(&self) -> Option<&dyn Any> {
        None
    }
    /// Applies changes taken from another store as if this request had made
    /// them here; the default replays them through `flush`, `delete` and
    /// `set_value`.
    ///
    /// # Errors
    ///
    /// Engine errors.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// use actix_bee::session::Provider;
    /// use actix_bee::session::memory::MemoryProvider;
    /// use actix_bee::session::IdGenerator;
    ///
    /// let provider = MemoryProvider::default();
    /// let ids = IdGenerator::default();
    /// let a = provider.session_new(&ids.generate().unwrap()).await.unwrap();
    /// a.set("k", &1).await.unwrap();
    /// let b = provider.session_new(&ids.generate().unwrap()).await.unwrap();
    /// b.adopt_changes(a.take_changes().unwrap()).await.unwrap();
    /// assert_eq!(b.get::<i32>("k").await.unwrap(), Some(1));
    /// assert!(a.take_changes().unwrap().is_empty());
    /// # });
    /// ```
    async fn adopt_changes(&self, changes: Changes) -> Result<()> {
        if changes.flushed() {
            self.flush().await?;
        }
        for key in changes.deletes() {
            self.delete(key).await?;
        }
        for (key, value) in changes.sets() {
            self.set_value(key, value.clone()).await?;
        }
        Ok(())
    }
}
