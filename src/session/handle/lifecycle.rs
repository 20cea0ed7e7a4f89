//! A session's life within a request: started (a fresh id minted until
//! the engine does not hold it), moved to a new id, destroyed.

use std::sync::Arc;

use super::{ClientUpdate, Session, State, MAX_MINT_ATTEMPTS};
use crate::session::error::{Error, Result};
use crate::session::id::{IdGenerator, SessionId};
use crate::session::owner::flow as owner_flow;
use crate::session::record::Changes;
use crate::session::store::Store;

impl Session {
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
    pub(super) async fn new_store(
        &self,
        mut candidate: Option<SessionId>,
    ) -> Result<Arc<dyn Store>> {
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
    /// See [`Manager::session_regenerate_id`](crate::session::Manager::session_regenerate_id).
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
    /// See [`Manager::session_destroy`](crate::session::Manager::session_destroy).
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
    pub(super) fn forget(&self, state: &mut State) {
        state.store = None;
        state.id = None;
        state.moved = false;
        state.client_update = if self.0.had_cookie {
            ClientUpdate::Removal
        } else {
            ClientUpdate::Nothing
        };
    }
}
