//! `Session`: one request's view of its session, shared by the handler, the
//! controller and the middleware.

use std::sync::Arc;

// futures-util's async mutex: an uncontended lock and unlock are one atomic
// operation each (tokio's goes through its semaphore and a waiters lock),
// and a session is locked several times in every request.
use futures_util::lock::{Mutex, MutexGuard};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::engine::Released;
use super::error::{Error, Result};
use super::exchange::{IdSource, ResponseParts};
use super::id::{IdGenerator, SessionId};
use super::manager::Manager;
use super::owner::flow::{self as owner_flow, OwnerChange};
use super::owner::{is_owner_key, Owner};
use super::record::{now_ms, Changes};
use super::store::Store;

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

    /// Takes the owner's `epoch` after this session was kept through a "log
    /// out everywhere" (see [`Session::destroy_owner_sessions`]).
    pub(crate) async fn adopt_owner_epoch(&self, epoch: u64) -> Result<()> {
        let store = self.state().await?.store.clone();
        match store {
            Some(store) => store.set(super::owner::OWNER_EPOCH_KEY, &epoch).await,
            None => Ok(()),
        }
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

    /// Makes `owner` (a user id) the owner of this session, at login: the
    /// engine's owner index learns it when the request ends, so that
    /// [`Manager::destroy_sessions_of`] can end every session of the user.
    /// Setting the owner the session already has does nothing.
    ///
    /// The owner is a value in the session, so this works on every engine.
    /// On an engine without an owner index (memcache, cookie, couchbase)
    /// only listing and ending an owner's sessions are unavailable
    /// ([`Error::Unsupported`] from [`Manager::sessions_of`] and
    /// [`Manager::destroy_sessions_of`]).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOwner`] (empty, over 256 bytes, a control
    /// character), engine errors.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// # use actix_bee::session::{Manager, RequestIds};
    /// # let m = Manager::new("memory", Default::default()).await.unwrap();
    /// let s = m.session_start(&RequestIds::default()).await.unwrap();
    /// s.set_owner("alice").await.unwrap();
    /// assert_eq!(s.owner().await.unwrap().as_deref(), Some("alice"));
    /// m.session_release(&s).await.unwrap();
    /// assert_eq!(m.sessions_of("alice").await.unwrap().len(), 1);
    /// # });
    /// ```
    pub async fn set_owner(&self, owner: &str) -> Result<()> {
        let owner = Owner::new(owner)?;
        let store = self.start().await?;
        let mut state = self.state().await?;
        owner_flow::set(&store, &mut state.owner, owner).await
    }

    /// The owner of this session, if it has one.
    ///
    /// # Errors
    ///
    /// Engine errors.
    ///
    /// # Examples
    ///
    /// See [`Session::set_owner`].
    pub async fn owner(&self) -> Result<Option<String>> {
        let store = self.state().await?.store.clone();
        match store {
            Some(store) => Ok(owner_flow::stored_owner(&store)
                .await?
                .map(|o| o.as_str().to_owned())),
            None => Ok(None),
        }
    }

    /// Removes the owner (the session stays, no longer listed for it).
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
    /// s.set_owner("alice").await.unwrap();
    /// s.clear_owner().await.unwrap();
    /// assert_eq!(s.owner().await.unwrap(), None);
    /// # });
    /// ```
    pub async fn clear_owner(&self) -> Result<()> {
        let mut state = self.state().await?;
        match state.store.clone() {
            Some(store) => owner_flow::clear(&store, &mut state.owner, true).await,
            None => Ok(()),
        }
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

    /// The store, created in the engine's view if the session is fresh
    /// (`StartSession`). Writes through it are saved at the end of the request.
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
    /// let store = s.start().await.unwrap();
    /// store.set("k", "v").await.unwrap();
    /// assert_eq!(s.get::<String>("k").await.unwrap().as_deref(), Some("v"));
    /// # });
    /// ```
    pub async fn start(&self) -> Result<Arc<dyn Store>> {
        let mut state = self.state().await?;
        if let Some(store) = &state.store {
            return Ok(store.clone());
        }
        let candidate = state.id.clone();
        let store = self.new_store(candidate).await?;
        state.id = Some(store.session_id());
        state.store = Some(store.clone());
        state.client_update = ClientUpdate::Current;
        Ok(store)
    }

    /// An empty store for `candidate` or a freshly minted id, without a
    /// backend read where the engine allows: creation is an
    /// insert-if-absent at release, which catches a collision there.
    async fn new_store(&self, mut candidate: Option<SessionId>) -> Result<Arc<dyn Store>> {
        let provider = self.0.manager.provider();
        for _ in 0..MAX_MINT_ATTEMPTS {
            let id = match candidate.take() {
                Some(id) => id,
                None => self.0.manager.new_session_id()?,
            };
            match provider.session_new(&id).await {
                Err(e) if e.is_id_collision() => {
                    tracing::warn!("session: a freshly minted id already exists; minting another");
                }
                other => return other,
            }
        }
        Err(Error::IdCollision)
    }

    /// Moves the session to a new id, keeping its data; the old id is dead
    /// afterwards and one cookie with the new id is sent.
    ///
    /// The engine moves the stored session first (atomically where it
    /// can); this request's unsaved changes then ride on the new id and are
    /// saved at release. They are never written under the old id: if the
    /// move fails they are dropped, and the old session stays as it was
    /// (or is gone).
    ///
    /// # Errors
    ///
    /// Engine errors.
    ///
    /// # Examples
    ///
    /// See [`Manager::session_regenerate_id`].
    pub async fn regenerate_id(&self) -> Result<()> {
        let mut state = self.state().await?;
        let new_id = self.0.manager.new_session_id()?;
        let Some(store) = state.store.clone() else {
            // Nothing stored yet: the fresh session simply gets another id.
            state.id = Some(new_id);
            return Ok(());
        };
        let Some(changes) = store.take_changes() else {
            // A store that cannot hand its changes over: save them first,
            // so the engine moves the complete session.
            let released = store.session_release().await?;
            if let Some(sealed) = released.cookie_value {
                state.sealed = Some(sealed);
            }
            return self
                .finish_regenerate(&mut state, &store, new_id, None)
                .await;
        };
        if store.meta().is_new {
            // Not in the engine yet: nothing to move.
            let fresh = self.new_store(Some(new_id)).await?;
            fresh.adopt_changes(changes).await?;
            tracing::debug!(new = %fresh.session_id(), "session: id regenerated before creation");
            state.id = Some(fresh.session_id());
            state.store = Some(fresh);
            state.client_update = ClientUpdate::Current;
            return Ok(());
        }
        self.finish_regenerate(&mut state, &store, new_id, Some(changes))
            .await
    }

    /// Moves `store`'s session to `new_id` and carries `changes` over.
    async fn finish_regenerate(
        &self,
        state: &mut State,
        store: &Arc<dyn Store>,
        new_id: SessionId,
        changes: Option<Changes>,
    ) -> Result<()> {
        // A client-side engine's state is its latest seal, not necessarily
        // the token the request came with.
        let old_id = match state.sealed.take() {
            Some(sealed) => IdGenerator::sealed(&sealed),
            None => store.session_id(),
        };
        let manager = &self.0.manager;
        let owned =
            owner_flow::before_move(&**manager.provider(), store, &state.owner, &new_id).await?;
        let moved = manager
            .provider()
            .session_regenerate(&old_id, &new_id)
            .await?;
        if let Some(changes) = changes {
            moved.adopt_changes(changes).await?;
        }
        if let Some((attached, old)) = owned {
            if !owner_flow::after_move(&**manager.provider(), attached, old).await? {
                self.forget(state);
                return Ok(());
            }
        }
        tracing::debug!(old = %old_id, new = %new_id, "session: id regenerated");
        state.id = Some(moved.session_id());
        state.store = Some(moved);
        state.client_update = ClientUpdate::Current;
        state.moved = true;
        Ok(())
    }

    /// Destroys the session: the engine forgets it now, and the response
    /// removes the cookie. Later writes start a new session.
    ///
    /// # Errors
    ///
    /// Engine errors.
    ///
    /// # Examples
    ///
    /// See [`Manager::session_destroy`].
    pub async fn destroy(&self) -> Result<()> {
        let mut state = self.state().await?;
        if let Some(store) = state.store.take() {
            owner_flow::on_destroy(&store, &mut state.owner).await?;
            if !store.meta().is_new {
                self.0
                    .manager
                    .provider()
                    .session_destroy(&store.session_id())
                    .await?;
                tracing::debug!(session = %store.session_id(), "session: destroyed");
            }
        }
        owner_flow::finish(&**self.0.manager.provider(), &mut state.owner).await;
        self.forget(&mut state);
        Ok(())
    }

    /// After a destroy: no session, and the client's cookie goes.
    fn forget(&self, state: &mut State) {
        state.store = None;
        state.id = None;
        state.moved = false;
        state.client_update = if self.0.had_cookie {
            ClientUpdate::Removal
        } else {
            ClientUpdate::Nothing
        };
    }

    /// Releases `store`; a new session whose id turned out to be taken
    /// moves its changes to a freshly minted id and tries again.
    async fn release_store(
        &self,
        state: &mut State,
        mut store: Arc<dyn Store>,
    ) -> Result<Released> {
        // A request that only read: no boxed engine call at all.
        if store
            .as_map_store()
            .is_some_and(|map| map.nothing_to_save(now_ms()))
        {
            return Ok(Released::default());
        }
        for _ in 0..MAX_MINT_ATTEMPTS {
            match store.session_release().await {
                Err(e) if e.is_id_collision() && store.meta().is_new => {
                    tracing::warn!(
                        "session: a new session's id was taken at creation; minting another"
                    );
                    let changes = store.take_changes().unwrap_or_default();
                    let fresh = self.new_store(None).await?;
                    fresh.adopt_changes(changes).await?;
                    state.id = Some(fresh.session_id());
                    state.store = Some(fresh.clone());
                    state.client_update = ClientUpdate::Current;
                    store = fresh;
                }
                other => return other,
            }
        }
        Err(Error::IdCollision)
    }

    /// Saves the changes and says what the response must carry.
    pub(crate) async fn release(&self) -> Result<ResponseParts> {
        let mut state = self.0.state.lock().await;
        let mut sealed = None;
        if let Some(store) = state.store.clone() {
            let manager = &self.0.manager;
            let attached =
                owner_flow::before_release(&**manager.provider(), &store, &mut state.owner).await?;
            let released = self.release_store(&mut state, store).await?;
            if let Some(attached) = attached {
                let sid = state.store.as_ref().map(|s| s.session_id());
                if let Some(sid) = sid {
                    if !owner_flow::confirm(&**manager.provider(), attached, &sid).await? {
                        self.forget(&mut state);
                        return Ok(self.response_parts(&mut state, None));
                    }
                }
            }
            if let Some(token) = released.cookie_value {
                sealed = Some(token.clone());
                state.sealed = Some(token);
                state.client_update = ClientUpdate::Current;
            }
        }
        owner_flow::finish(&**self.0.manager.provider(), &mut state.owner).await;
        // Read after the release: a collision there may have changed the id.
        let value = sealed.or_else(|| state.id.as_ref().map(|id| id.as_str().to_owned()));
        Ok(self.response_parts(&mut state, value))
    }

    /// What to send after the handler failed (a 5xx): nothing of its
    /// changes is saved, but an id change the engine already made (a
    /// regenerate's move, a destroy) still reaches the client, so it never
    /// keeps a dead id, and a failed logout on a client-side engine still
    /// drops the cookie.
    pub(crate) async fn release_after_failure(&self) -> ResponseParts {
        let mut state = self.0.state.lock().await;
        match state.client_update {
            ClientUpdate::Removal => self.response_parts(&mut state, None),
            ClientUpdate::Current if state.moved => {
                let value = state.id.as_ref().map(|id| id.as_str().to_owned());
                self.response_parts(&mut state, value)
            }
            _ => ResponseParts::default(),
        }
    }

    /// The cookie, header and cache directives for the id change `state`
    /// records (`value` is the id or sealed state to hand out).
    fn response_parts(&self, state: &mut State, value: Option<String>) -> ResponseParts {
        let manager = &self.0.manager;
        let cfg = manager.config();
        let mut parts = ResponseParts {
            no_referrer: state.source == IdSource::Query,
            ..ResponseParts::default()
        };
        match (state.client_update, value) {
            (ClientUpdate::Current, Some(value)) => {
                if cfg.enable_sid_in_http_header {
                    parts.header = Some((cfg.session_name_in_http_header.clone(), value.clone()));
                }
                if cfg.enable_set_cookie {
                    parts.cookie = Some(manager.cookie(value, self.0.secure));
                }
                parts.no_store = true;
            }
            (ClientUpdate::Removal, _) => {
                if cfg.enable_set_cookie {
                    parts.cookie = Some(manager.removal_cookie(self.0.secure));
                }
                parts.no_store = true;
            }
            _ => {}
        }
        // A second release in the same request re-sends nothing.
        state.client_update = ClientUpdate::Nothing;
        state.moved = false;
        parts
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
