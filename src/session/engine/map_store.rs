//! [`MapStore`], the change-tracking store that engines return from
//! `session_read`, and its engine side: a [`SessionWriter`] applies one
//! [`Write`] at release and answers with what it did ([`Released`]).

use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::Mutex;

use crate::session::error::Result;
use crate::session::format::Format;
use crate::session::id::SessionId;
use crate::session::record::{now_ms, Changes, Lifetimes, SessionRecord};
use crate::session::store::{Released, Store, StoreMeta};

/// What a release asks an engine to do.
///
/// # Examples
///
/// ```
/// use actix_bee::session::engine::WriteMode;
/// assert_ne!(WriteMode::Create, WriteMode::Update);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WriteMode {
    /// Insert the session if absent; [`Error::IdCollision`](crate::session::Error::IdCollision) if present.
    Create,
    /// Merge the changes into the stored session, only if it is still there.
    Update,
    /// Nothing changed: refresh the idle expiry, only if it is still there.
    Touch,
}

/// One write that [`MapStore`] hands to its engine.
#[derive(Debug)]
#[non_exhaustive]
pub struct Write<'a> {
    /// The session.
    pub sid: &'a SessionId,
    /// Create, update or touch.
    pub mode: WriteMode,
    /// This request's changes.
    pub changes: &'a Changes,
    /// The session as this request sees it after its changes, for engines
    /// that cannot merge (the cookie engine) and for `Create`.
    pub merged: &'a SessionRecord,
    /// The time of the write, ms since the epoch.
    pub now_ms: u64,
    /// The session's access time as this request loaded it (for a new
    /// session, its creation). An engine that derives the access time from
    /// a stored version (the SQL engines: the expiry column) compares it
    /// with the stored one to write without a lock when nobody else wrote
    /// in between.
    pub loaded_accessed_ms: u64,
}

/// The engine side of [`MapStore`]: applies one write atomically.
///
/// # Examples
///
/// See `examples/custom_provider.rs`.
#[async_trait]
pub trait SessionWriter: Send + Sync + 'static {
    /// Applies the write. For `Update` and `Touch` on a session that is gone
    /// (destroyed, expired), it writes nothing and returns `written: false`.
    async fn write(&self, write: Write<'_>) -> Result<Released>;
}

struct MapState {
    /// The session as this request sees it. Shared with a release in
    /// flight (as its `merged` view) rather than copied; a `set` racing
    /// that release copies it on write.
    record: Arc<SessionRecord>,
    changes: Changes,
    is_new: bool,
    touched: bool,
}

/// The change-tracking store that engines return from `session_read`.
///
/// Reads and writes stay in the request; `session_release` hands the net
/// changes to the engine's [`SessionWriter`].
///
/// # Examples
///
/// ```
/// # actix_rt::System::new().block_on(async {
/// use std::sync::Arc;
/// use std::time::Duration;
/// use actix_bee::session::{IdGenerator, Store};
/// use actix_bee::session::engine::{Lifetimes, MapStore, Released, SessionRecord, SessionWriter, Write};
///
/// struct Discard;
/// #[async_trait::async_trait]
/// impl SessionWriter for Discard {
///     async fn write(&self, w: Write<'_>) -> actix_bee::session::Result<Released> {
///         Ok(Released::wrote(!w.changes.is_empty()))
///     }
/// }
///
/// let id = IdGenerator::default().generate().unwrap();
/// let life = Lifetimes::new(Duration::from_secs(60), None);
/// let store: Arc<dyn Store> = Arc::new(MapStore::new_session(id, life, Arc::new(Discard)));
/// assert!(!store.session_release().await.unwrap().written);
/// store.set("k", "v").await.unwrap();
/// assert!(store.session_release().await.unwrap().written);
/// # });
/// ```
pub struct MapStore {
    sid: SessionId,
    format: Format,
    created_ms: u64,
    accessed_ms: u64,
    lifetimes: Lifetimes,
    state: Mutex<MapState>,
    writer: Arc<dyn SessionWriter>,
}

impl std::fmt::Debug for MapStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MapStore")
            .field("sid", &self.sid)
            .finish_non_exhaustive()
    }
}

impl MapStore {
    /// A store for a session the engine does not hold yet.
    ///
    /// # Examples
    ///
    /// See [`MapStore`].
    pub fn new_session(
        sid: SessionId,
        lifetimes: Lifetimes,
        writer: Arc<dyn SessionWriter>,
    ) -> Self {
        let now = now_ms();
        Self::build(sid, SessionRecord::new(now), true, lifetimes, writer)
    }

    /// A store over a session loaded from the engine.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use actix_bee::session::{IdGenerator, Store};
    /// use actix_bee::session::engine::{Format, Lifetimes, MapStore, SessionRecord};
    /// # struct W;
    /// # #[async_trait::async_trait]
    /// # impl actix_bee::session::engine::SessionWriter for W {
    /// #     async fn write(&self, _: actix_bee::session::engine::Write<'_>) -> actix_bee::session::Result<actix_bee::session::engine::Released> {
    /// #         Ok(Default::default())
    /// #     }
    /// # }
    /// let mut record = SessionRecord::new(actix_bee::session::engine::now_ms());
    /// record.values.insert("k".into(), Format::Native.encode_value("k", &5u8, None).unwrap());
    /// let id = IdGenerator::default().generate().unwrap();
    /// let life = Lifetimes::new(Duration::from_secs(60), None);
    /// let store: Arc<dyn Store> = Arc::new(MapStore::loaded(id, record, life, Arc::new(W)));
    /// assert_eq!(store.get::<u8>("k").await.unwrap(), Some(5));
    /// # });
    /// ```
    pub fn loaded(
        sid: SessionId,
        record: SessionRecord,
        lifetimes: Lifetimes,
        writer: Arc<dyn SessionWriter>,
    ) -> Self {
        Self::build(sid, record, false, lifetimes, writer)
    }

    /// The same store with values encoded in `format` (default
    /// [`Format::Native`]); engines set the format they store.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use actix_bee::session::{IdGenerator, Store};
    /// use actix_bee::session::engine::{Format, Lifetimes, MapStore};
    /// # struct W;
    /// # #[async_trait::async_trait]
    /// # impl actix_bee::session::engine::SessionWriter for W {
    /// #     async fn write(&self, _: actix_bee::session::engine::Write<'_>) -> actix_bee::session::Result<actix_bee::session::engine::Released> {
    /// #         Ok(Default::default())
    /// #     }
    /// # }
    /// let id = IdGenerator::default().generate().unwrap();
    /// let life = Lifetimes::new(Duration::from_secs(60), None);
    /// let store: Arc<dyn Store> =
    ///     Arc::new(MapStore::new_session(id, life, Arc::new(W)).with_format(Format::Beego));
    /// store.set("n", &3).await.unwrap();
    /// assert_eq!(store.get::<i64>("n").await.unwrap(), Some(3));
    /// # });
    /// ```
    pub fn with_format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    fn build(
        sid: SessionId,
        record: SessionRecord,
        is_new: bool,
        lifetimes: Lifetimes,
        writer: Arc<dyn SessionWriter>,
    ) -> Self {
        MapStore {
            sid,
            format: Format::Native,
            created_ms: record.created_ms,
            accessed_ms: record.accessed_ms,
            lifetimes,
            state: Mutex::new(MapState {
                record: Arc::new(record),
                changes: Changes::default(),
                is_new,
                touched: false,
            }),
            writer,
        }
    }

    /// Runs `f` on the encoded value of `key`, without copying it.
    pub(crate) fn with_value<T>(&self, key: &str, f: impl FnOnce(&[u8]) -> T) -> Option<T> {
        self.state.lock().record.values.get(key).map(|v| f(v))
    }

    /// Sets an encoded value; synchronous, since it stays in the request.
    pub(crate) fn put(&self, key: &str, value: Vec<u8>) {
        let mut state = self.state.lock();
        state.changes.set(key, value.clone());
        let values = &mut Arc::make_mut(&mut state.record).values;
        // Replaced in place: no new key string when the key is there.
        match values.get_mut(key) {
            Some(slot) => *slot = value,
            None => {
                values.insert(key.to_owned(), value);
            }
        }
    }

    /// True when a release would write nothing: no change, and no idle
    /// touch due (or already done). Lets the session handle skip the
    /// release call of a request that only read.
    pub(crate) fn nothing_to_save(&self, now: u64) -> bool {
        self.mode(&self.state.lock(), true, now).is_none()
    }

    /// The write a release at `now` makes, `None` when it writes nothing:
    /// a new session is created only with changes (and only by `create`),
    /// a loaded one is updated with changes or touched when its idle
    /// expiry is due and not yet slid in this request.
    fn mode(&self, state: &MapState, create: bool, now: u64) -> Option<WriteMode> {
        match (state.is_new, state.changes.is_empty()) {
            (true, true) => None,
            (true, false) => create.then_some(WriteMode::Create),
            (false, false) => Some(WriteMode::Update),
            (false, true) => (!state.touched && self.lifetimes.touch_due(self.accessed_ms, now))
                .then_some(WriteMode::Touch),
        }
    }

    async fn release(&self, create: bool) -> Result<Released> {
        let now = now_ms();
        let (mode, changes, merged) = {
            let mut state = self.state.lock();
            let Some(mode) = self.mode(&state, create, now) else {
                return Ok(Released::default());
            };
            // No copy of the values: the write borrows them through the Arc.
            Arc::make_mut(&mut state.record).accessed_ms = now;
            let merged = Arc::clone(&state.record);
            // Taken out so that a write racing a later `set` in the same
            // request never loses that set; restored on failure.
            (mode, std::mem::take(&mut state.changes), merged)
        };
        let result = self
            .writer
            .write(Write {
                sid: &self.sid,
                mode,
                changes: &changes,
                merged: &merged,
                now_ms: now,
                loaded_accessed_ms: self.accessed_ms,
            })
            .await;
        let mut state = self.state.lock();
        match &result {
            Ok(_) => {
                state.touched = true;
                if mode == WriteMode::Create {
                    state.is_new = false;
                }
            }
            Err(_) => {
                let later = std::mem::replace(&mut state.changes, changes);
                // Re-apply what happened while the write was in flight.
                state.changes.merge(&later);
            }
        }
        result
    }
}

#[async_trait]
impl Store for MapStore {
    async fn set_value(&self, key: &str, value: Vec<u8>) -> Result<()> {
        self.put(key, value);
        Ok(())
    }

    async fn get_value(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.with_value(key, <[u8]>::to_vec))
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let mut state = self.state.lock();
        state.changes.delete(key);
        Arc::make_mut(&mut state.record).values.remove(key);
        Ok(())
    }

    async fn flush(&self) -> Result<()> {
        let mut state = self.state.lock();
        state.changes.flush();
        Arc::make_mut(&mut state.record).values.clear();
        Ok(())
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn session_id(&self) -> SessionId {
        self.sid.clone()
    }

    fn format(&self) -> Format {
        self.format
    }

    fn meta(&self) -> StoreMeta {
        if self.state.lock().is_new {
            StoreMeta::new_session()
        } else {
            StoreMeta::loaded(Some(self.created_ms))
        }
    }

    async fn session_release(&self) -> Result<Released> {
        self.release(true).await
    }

    async fn session_release_if_present(&self) -> Result<Released> {
        self.release(false).await
    }

    fn take_changes(&self) -> Option<Changes> {
        Some(std::mem::take(&mut self.state.lock().changes))
    }

    async fn adopt_changes(&self, changes: Changes) -> Result<()> {
        let mut state = self.state.lock();
        let state = &mut *state;
        changes.apply(&mut Arc::make_mut(&mut state.record).values);
        state.changes.merge(&changes);
        Ok(())
    }
}
