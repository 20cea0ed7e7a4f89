//! `Session`: one request's view of its session, shared by the handler, the
//! controller and the middleware.

use std::sync::Arc;

// futures-util's async mutex: an uncontended lock and unlock are one atomic
// operation each (tokio's goes through its semaphore and a waiters lock),
// and a session is locked several times in every request.
use futures_util::lock::{Mutex, MutexGuard};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::{Error, Result};
use super::exchange::IdSource;
use super::id::SessionId;
use super::manager::Manager;
use super::owner::flow::{self as owner_flow, OwnerChange};
use super::owner::is_owner_key;
use super::store::Store;

mod lifecycle;
mod owner;
mod release;

/// Attempts at minting an id that the engine does not hold yet.
const MAX_MINT_ATTEMPTS: usize = 4;

/// What the client must be told about its id at release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientUpdate {
    Nothing,
    /// Hand the current id (or the engine's cookie value) to the client.
    Current,
    /// Remove the client's cookie.
    Removal,
}

struct State {
    /// A valid id from the request, not read yet: the engine is asked on
    /// the session's first use.
    pending: Option<SessionId>,
    /// The store, once the session is loaded or first written.
    store: Option<Arc<dyn Store>>,
    /// The store's id, or the id a fresh session will get.
    id: Option<SessionId>,
    source: IdSource,
    client_update: ClientUpdate,
    /// The last state a client-side engine sealed in this request: what a
    /// regenerate moves, rather than the token the request came with.
    sealed: Option<String>,
    /// The engine moved the session to a new id in this request: the client
    /// must learn the new id even if the handler then fails.
    moved: bool,
    /// What this request did to the session's owner (nothing, mostly).
    owner: OwnerChange,
}

/// The session of one request.
///
/// Lazy: a fresh session touches the engine only when first written, and a
/// request that never writes sends no cookie. Cheap to clone, `Send + Sync`.
///
/// # Examples
///
/// ```
/// # actix_rt::System::new().block_on(async {
/// use actix_bee::session::{Manager, RequestIds};
///
/// let manager = Manager::new("memory", Default::default()).await.unwrap();
/// let session = manager.session_start(&RequestIds::default()).await.unwrap();
/// assert_eq!(session.get::<i64>("asta").await.unwrap(), None);
/// // Reading alone creates nothing and sends nothing.
/// assert!(manager.session_release(&session).await.unwrap().cookie.is_none());
/// session.set("asta", &1i64).await.unwrap();
/// assert!(manager.session_release(&session).await.unwrap().cookie.is_some());
/// # });
/// ```
#[derive(Clone)]
pub struct Session(Arc<Shared>);

struct Shared {
    manager: Manager,
    secure: bool,
    had_cookie: bool,
    state: Mutex<State>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}

impl Session {
    pub(crate) fn fresh(manager: Manager, secure: bool, had_cookie: bool) -> Session {
        Self::build(manager, None, None, IdSource::None, secure, had_cookie)
    }

    /// A session whose id came with the request, read on first use.
    pub(crate) fn pending(
        manager: Manager,
        sid: SessionId,
        source: IdSource,
        secure: bool,
        had_cookie: bool,
    ) -> Session {
        Self::build(manager, Some(sid), None, source, secure, had_cookie)
    }

    fn build(
        manager: Manager,
        pending: Option<SessionId>,
        store: Option<Arc<dyn Store>>,
        source: IdSource,
        secure: bool,
        had_cookie: bool,
    ) -> Session {
        let id = store.as_ref().map(|s| s.session_id());
        Session(Arc::new(Shared {
            manager,
            secure,
            had_cookie,
            state: Mutex::new(State {
                pending,
                store,
                id,
                moved: false,
                owner: OwnerChange::default(),
                source,
                client_update: ClientUpdate::Nothing,
                sealed: None,
            }),
        }))
    }

    /// The manager this session belongs to.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// # use actix_bee::session::{Manager, RequestIds};
    /// let m = Manager::new("memory", Default::default()).await.unwrap();
    /// let s = m.session_start(&RequestIds::default()).await.unwrap();
    /// assert_eq!(s.manager().config().cookie_name, "beegosessionID");
    /// # });
    /// ```
    pub fn manager(&self) -> &Manager {
        &self.0.manager
    }

    /// The state, with the request's session read from the engine if this
    /// is its first use. A failed read leaves it pending, to be tried again.
    async fn state(&self) -> Result<MutexGuard<'_, State>> {
        let mut state = self.0.state.lock().await;
        if let Some(sid) = state.pending.take() {
            match self.0.manager.load(&sid, state.source).await {
                Ok(Some(store)) => {
                    state.id = Some(store.session_id());
                    state.store = Some(store);
                }
                Ok(None) => state.source = IdSource::None,
                Err(e) => {
                    state.pending = Some(sid);
                    return Err(e);
                }
            }
        }
        Ok(state)
    }

    /// Gets `key` as `T` (`GetSession`); `Ok(None)` when absent.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`](super::Error::Decode) when the value has another type.
    ///
    /// # Examples
    ///
    /// See [`Session`].
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        let store = self.state().await?.store.clone();
        match store {
            Some(store) => store.get(key).await,
            None => Ok(None),
        }
    }

    /// Sets `key` (`SetSession`); saved when the request ends.
    ///
    /// # Errors
    ///
    /// [`Error::Encode`](super::Error::Encode), or engine errors when this
    /// first write creates the session.
    ///
    /// # Examples
    ///
    /// See [`Session`].
    pub async fn set<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<()> {
        let store = self.writable(key).await?;
        store.set(key, value).await
    }

    /// The store to write `key` into, created if need be: every write of
    /// an application key goes through here, so the keys only the owner
    /// methods may write are refused in one place.
    async fn writable(&self, key: &str) -> Result<Arc<dyn Store>> {
        reserved(key)?;
        self.start().await
    }

    /// Sets `key` to a Go value with the Go type chosen explicitly, for a
    /// beego app that asserts a type `set` would not pick (`set` writes new
    /// integers as Go `int`, floats as `float64`, and keeps the type of a
    /// value Go stored). Build the value with [`gob::Value`](crate::gob::Value)'s
    /// constructors, or [`gob::to_value`](crate::gob::to_value) then
    /// [`Value::with_type`](crate::gob::Value::with_type).
    ///
    /// # Errors
    ///
    /// [`Error::Encode`](super::Error::Encode) in the native format: it has
    /// no Go types and no Go app reads it, so a value meant for Go there is
    /// a configuration mistake rather than something to store quietly
    /// without its type (use `set`). Also for a nil value (beego's
    /// `EncodeGob` panics on nil) and engine errors when this first write
    /// creates the session.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// use actix_bee::gob::Value;
    /// use actix_bee::session::engine::Format;
    /// use actix_bee::session::{HashFunc, Manager, ManagerConfig, RequestIds};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut cfg = ManagerConfig::default();
    /// cfg.store_format = Format::Beego;
    /// cfg.session_id_hash_func = HashFunc::None;
    /// cfg.provider_config = dir.path().to_str().unwrap().into();
    /// let m = Manager::new("file", cfg).await.unwrap();
    /// let s = m.session_start(&RequestIds::default()).await.unwrap();
    /// // The beego side does `sess.Get("level").(int32)`.
    /// s.set_gob("level", Value::int32(3)).await.unwrap();
    /// assert_eq!(s.get::<i64>("level").await.unwrap(), Some(3));
    ///
    /// let native = Manager::new("memory", ManagerConfig::default()).await.unwrap();
    /// let s = native.session_start(&RequestIds::default()).await.unwrap();
    /// assert!(s.set_gob("level", Value::int32(3)).await.is_err());
    /// # });
    /// ```
    pub async fn set_gob(&self, key: &str, value: crate::gob::Value) -> Result<()> {
        let store = self.writable(key).await?;
        store.set_gob(key, value).await
    }

    /// Removes `key` (`DelSession`).
    ///
    /// # Errors
    ///
    /// Engine errors.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// # use actix_bee::session::{Manager, RequestIds};
    /// # let m = Manager::new("memory", Default::default()).await.unwrap();
    /// let s = m.session_start(&RequestIds::default()).await.unwrap();
    /// s.set("k", &1).await.unwrap();
    /// s.delete("k").await.unwrap();
    /// assert_eq!(s.get::<i32>("k").await.unwrap(), None);
    /// # });
    /// ```
    pub async fn delete(&self, key: &str) -> Result<()> {
        reserved(key)?;
        let store = self.state().await?.store.clone();
        match store {
            Some(store) => store.delete(key).await,
            None => Ok(()),
        }
    }

    /// Removes every key (`Flush`); the session itself stays.
    ///
    /// # Errors
    ///
    /// Engine errors.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// # use actix_bee::session::{Manager, RequestIds};
    /// # let m = Manager::new("memory", Default::default()).await.unwrap();
    /// let s = m.session_start(&RequestIds::default()).await.unwrap();
    /// s.set("k", &1).await.unwrap();
    /// s.flush().await.unwrap();
    /// assert_eq!(s.get::<i32>("k").await.unwrap(), None);
    /// # });
    /// ```
    pub async fn flush(&self) -> Result<()> {
        let mut state = self.state().await?;
        let Some(store) = state.store.clone() else {
            return Ok(());
        };
        // Flushing drops the owner too: the session leaves its index.
        owner_flow::clear(&store, &mut state.owner, false).await?;
        store.flush().await
    }

    /// The session id (`SessionID`); a fresh session gets its id here.
    ///
    /// # Errors
    ///
    /// [`Error::Rng`](super::Error::Rng) if the CSPRNG fails.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// # use actix_bee::session::{Manager, RequestIds};
    /// # let m = Manager::new("memory", Default::default()).await.unwrap();
    /// let s = m.session_start(&RequestIds::default()).await.unwrap();
    /// assert_eq!(s.session_id().await.unwrap(), s.session_id().await.unwrap());
    /// # });
    /// ```
    pub async fn session_id(&self) -> Result<SessionId> {
        let mut state = self.state().await?;
        match &state.id {
            Some(id) => Ok(id.clone()),
            None => {
                let id = self.0.manager.new_session_id()?;
                state.id = Some(id.clone());
                Ok(id)
            }
        }
    }
}

/// Refuses a direct write of a key that only the owner methods may write.
fn reserved(key: &str) -> Result<()> {
    if is_owner_key(key) {
        let key = if key == super::owner::OWNER_KEY {
            super::owner::OWNER_KEY
        } else {
            super::owner::OWNER_EPOCH_KEY
        };
        return Err(Error::ReservedKey { key });
    }
    Ok(())
}
