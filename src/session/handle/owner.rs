//! The session's owner (the user it belongs to), for "log out
//! everywhere": set at login, read, cleared; the owner flow
//! (`session::owner::flow`) does the index work when the request ends.

use super::Session;
use crate::session::error::Result;
use crate::session::owner::flow as owner_flow;
use crate::session::owner::{Owner, OWNER_EPOCH_KEY};

impl Session {
    /// Makes `owner` (a user id) the owner of this session, at login: the
    /// engine's owner index learns it when the request ends, so that
    /// [`Manager::destroy_sessions_of`](crate::session::Manager::destroy_sessions_of) can end every session of the user.
    /// Setting the owner the session already has does nothing.
    ///
    /// The owner is a value in the session, so this works on every engine.
    /// On an engine without an owner index (memcache, cookie, couchbase)
    /// only listing and ending an owner's sessions are unavailable
    /// ([`Error::Unsupported`](crate::session::Error::Unsupported) from [`Manager::sessions_of`](crate::session::Manager::sessions_of) and
    /// [`Manager::destroy_sessions_of`](crate::session::Manager::destroy_sessions_of)).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOwner`](crate::session::Error::InvalidOwner) (empty, over 256 bytes, a control
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

    /// Takes the owner's `epoch` after this session was kept through a "log
    /// out everywhere" (see [`Session::destroy_owner_sessions`]).
    pub(crate) async fn adopt_owner_epoch(&self, epoch: u64) -> Result<()> {
        let store = self.state().await?.store.clone();
        match store {
            Some(store) => store.set(OWNER_EPOCH_KEY, &epoch).await,
            None => Ok(()),
        }
    }
}
