//! The manager's owner operations: list an owner's sessions, and end them
//! all ("log out everywhere").

use super::error::Result;
use super::id::SessionId;
use super::manager::Manager;
use super::owner::{OwnedSession, Owner};

impl Manager {
    /// The live sessions of `owner` (set with
    /// [`Session::set_owner`](super::Session::set_owner)): an id
    /// fingerprint, never the id, with creation and last-access times
    /// when the engine knows them. Ids of sessions that are gone are
    /// pruned from the index on the way.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOwner`](super::Error::InvalidOwner),
    /// [`Error::Unsupported`](super::Error::Unsupported) on an engine
    /// without an owner index (memcache, cookie, couchbase), engine errors.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// use actix_bee::session::{Manager, RequestIds};
    ///
    /// let m = Manager::new("memory", Default::default()).await.unwrap();
    /// for _ in 0..2 {
    ///     let s = m.session_start(&RequestIds::default()).await.unwrap();
    ///     s.set_owner("alice").await.unwrap();
    ///     m.session_release(&s).await.unwrap();
    /// }
    /// assert_eq!(m.sessions_of("alice").await.unwrap().len(), 2);
    /// assert!(m.sessions_of("bob").await.unwrap().is_empty());
    /// # });
    /// ```
    pub async fn sessions_of(&self, owner: &str) -> Result<Vec<OwnedSession>> {
        let owner = Owner::new(owner)?;
        let index = self.provider().owner_index()?;
        let sessions = index.sessions(&owner).await?;
        Ok(sessions.iter().map(OwnedSession::from).collect())
    }

    /// Ends every session of `owner` ("log out everywhere"), except
    /// `except` (the current session, say) when given; returns how many
    /// it ended.
    ///
    /// Safe against logins racing it: the owner's epoch moves first, and a
    /// login whose session was not yet written when the index was read
    /// sees the new epoch after its write and destroys its own session.
    /// A login that starts after this call survives, as it should.
    ///
    /// # Errors
    ///
    /// As [`Manager::sessions_of`]; an engine error may leave some sessions
    /// alive: call it again.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// use actix_bee::session::{Manager, RequestIds};
    ///
    /// let m = Manager::new("memory", Default::default()).await.unwrap();
    /// let mut ids = Vec::new();
    /// for _ in 0..3 {
    ///     let s = m.session_start(&RequestIds::default()).await.unwrap();
    ///     s.set_owner("alice").await.unwrap();
    ///     m.session_release(&s).await.unwrap();
    ///     ids.push(s.session_id().await.unwrap());
    /// }
    /// // Everywhere but the first device.
    /// assert_eq!(m.destroy_sessions_of("alice", Some(&ids[0])).await.unwrap(), 2);
    /// assert_eq!(m.sessions_of("alice").await.unwrap().len(), 1);
    /// assert!(m.provider().session_exist(&ids[0]).await.unwrap());
    /// # });
    /// ```
    pub async fn destroy_sessions_of(
        &self,
        owner: &str,
        except: Option<&SessionId>,
    ) -> Result<usize> {
        let owner = Owner::new(owner)?;
        let index = self.provider().owner_index()?;
        index.bump(&owner).await?;
        let mut ended = 0;
        for session in index.sessions(&owner).await? {
            if Some(&session.sid) == except {
                continue;
            }
            self.provider().session_destroy(&session.sid).await?;
            index.detach(&owner, &session.sid).await?;
            ended += 1;
        }
        tracing::info!(owner = ?owner, ended, "session: owner logged out everywhere");
        Ok(ended)
    }
}
