//! The `Store` trait: one session during one request, as applications
//! and the manager see it. Engines build it from the change-tracking
//! [`MapStore`](super::engine::MapStore) in [`engine`](super::engine).

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::engine::{MapStore, Released};
use super::error::Result;
use super::format::Format;
use super::id::SessionId;
use super::record::Changes;

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
    /// This store as a [`MapStore`], when it is one: the typed
    /// [`get`](#method.get) and [`set`](#method.set) then read and write its
    /// in-request values directly, without a boxed future or a copy of the
    /// value (they run on every request). `None` by default.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// use actix_bee::session::Provider;
    /// use actix_bee::session::memory::MemoryProvider;
    /// use actix_bee::session::IdGenerator;
    ///
    /// let store = MemoryProvider::default()
    ///     .session_new(&IdGenerator::default().generate().unwrap())
    ///     .await
    ///     .unwrap();
    /// assert!(store.as_map_store().is_some());
    /// # });
    /// ```
    fn as_map_store(&self) -> Option<&MapStore> {
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

impl dyn Store {
    /// Sets `key` to a serde value.
    ///
    /// # Errors
    ///
    /// [`Error::Encode`](super::Error::Encode) when the value cannot be
    /// encoded; engine errors otherwise.
    ///
    /// # Examples
    ///
    /// See [`Store`].
    pub async fn set<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<()> {
        let format = self.format();
        if let Some(map) = self.as_map_store() {
            let bytes = match format {
                Format::Native => format.encode_value(key, value, None)?,
                _ => map
                    .with_value(key, |old| format.encode_value(key, value, Some(old)))
                    .unwrap_or_else(|| format.encode_value(key, value, None))?,
            };
            map.put(key, bytes);
            return Ok(());
        }
        let bytes = match format {
            Format::Native => format.encode_value(key, value, None)?,
            // A beego value keeps the Go type of the value it replaces.
            _ => {
                let old = self.get_value(key).await?;
                format.encode_value(key, value, old.as_deref())?
            }
        };
        self.set_value(key, bytes).await
    }

    /// Sets `key` to a Go value with the Go type it carries (see
    /// [`Session::set_gob`](super::Session::set_gob)).
    ///
    /// # Errors
    ///
    /// [`Error::Encode`](super::Error::Encode) in the native format, for a
    /// nil value or a reserved key; engine errors otherwise.
    ///
    /// # Examples
    ///
    /// See [`Session::set_gob`](super::Session::set_gob).
    pub async fn set_gob(&self, key: &str, value: crate::gob::Value) -> Result<()> {
        let bytes = self.format().encode_gob(key, value)?;
        self.set_value(key, bytes).await
    }

    /// Gets `key` as `T`; `Ok(None)` when absent.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`](super::Error::Decode) when the stored value has
    /// another type.
    ///
    /// # Examples
    ///
    /// See [`Store`].
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        let format = self.format();
        if format.is_reserved(key) {
            return Ok(None);
        }
        if let Some(map) = self.as_map_store() {
            return map
                .with_value(key, |bytes| format.decode_value(key, bytes))
                .transpose();
        }
        match self.get_value(key).await? {
            Some(bytes) => format.decode_value(key, &bytes).map(Some),
            None => Ok(None),
        }
    }
}
