//! The owner operations of the manager and of a request's session: list
//! an owner's sessions, and end them all ("log out everywhere").

use crate::session::error::Result;
use crate::session::handle::Session;
use crate::session::id::SessionId;
use crate::session::manager::Manager;
use super::{OwnedSession, Owner, OWNER_EPOCH_KEY, OWNER_KEY};

impl Manager {
    /// The live sessions of `owner` (set with
    /// [`Session::set_owner`](crate::session::Session::set_owner)): an id
    /// fingerprint, never the id, with creation and last-access times
    /// when the engine knows them. Ids of sessions that are gone are
    /// pruned from the index on the way.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOwner`](crate::session::Error::InvalidOwner),
    /// [`Error::Unsupported`](crate::session::Error::Unsupported) on an engine
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
        let epoch = index.bump(&owner).await?;
        if let Some(kept) = except {
            self.adopt_epoch(&owner, kept, epoch).await?;
        }
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
        #[cfg(feature = "metrics")]
        crate::session::observe::owner_logout(self.provider().name());
        Ok(ended)
    }

    /// Stores the owner's new `epoch` in the kept session `sid`, so that
    /// its next regenerate does not take it for a session logged in
    /// before the "log out everywhere" (it compares the epoch stored at
    /// login with the owner's). A session that is gone, or has another
    /// owner, is left alone.
    async fn adopt_epoch(&self, owner: &Owner, sid: &SessionId, epoch: u64) -> Result<()> {
        let store = self.provider().session_read(sid).await?;
        let stored = store.get::<String>(OWNER_KEY).await?;
        if stored.as_deref() != Some(owner.as_str()) {
            return Ok(());
        }
        store.set(OWNER_EPOCH_KEY, &epoch).await?;
        store.session_release().await?;
        Ok(())
    }
}

impl Session {
    /// "Log out everywhere" from inside a request: ends every session of
    /// this session's owner, this one too unless `keep_this` (then only
    /// the owner's other devices are logged out, and this session stays
    /// valid, through later regenerates too). Returns how many sessions
    /// ended; 0 when the session has no owner.
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`](crate::session::Error::Unsupported) on an engine
    /// without an owner index, engine errors.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// use actix_bee::session::{Manager, RequestIds};
    ///
    /// let m = Manager::new("memory", Default::default()).await.unwrap();
    /// let phone = m.session_start(&RequestIds::default()).await.unwrap();
    /// phone.set_owner("alice").await.unwrap();
    /// m.session_release(&phone).await.unwrap();
    /// let laptop = m.session_start(&RequestIds::default()).await.unwrap();
    /// laptop.set_owner("alice").await.unwrap();
    /// m.session_release(&laptop).await.unwrap();
    /// // On the laptop: "log out my other devices".
    /// assert_eq!(laptop.destroy_owner_sessions(true).await.unwrap(), 1);
    /// assert_eq!(m.sessions_of("alice").await.unwrap().len(), 1);
    /// # });
    /// ```
    pub async fn destroy_owner_sessions(&self, keep_this: bool) -> Result<usize> {
        let Some(owner) = self.owner().await? else {
            return Ok(0);
        };
        let here = self.session_id().await?;
        let others = self
            .manager()
            .destroy_sessions_of(&owner, Some(&here))
            .await?;
        if keep_this {
            // The stored session holds the new epoch now; so must this
            // request's copy, which a regenerate in this request reads.
            let index = self.manager().provider().owner_index()?;
            let epoch = index.epoch(&Owner::new(&owner)?).await?;
            self.adopt_owner_epoch(epoch).await?;
            return Ok(others);
        }
        // This session ends the usual way, so its cookie goes too.
        self.destroy().await?;
        Ok(others + 1)
    }
}
