//! The end of a request: the session's changes saved (a new session whose
//! id was taken moves to a fresh one), the owner flow finished, and what
//! the response must carry (cookie, header, cache directives).

use std::sync::Arc;

use super::{ClientUpdate, Session, State, MAX_MINT_ATTEMPTS};
use crate::session::engine::Released;
use crate::session::error::{Error, Result};
use crate::session::exchange::{IdSource, ResponseParts};
use crate::session::owner::flow as owner_flow;
use crate::session::record::now_ms;
use crate::session::store::Store;

impl Session {
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
