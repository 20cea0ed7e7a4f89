//! A request's way through the [`Manager`]: start its session, then
//! release, destroy or regenerate it.
//!
//! Kept apart from `manager.rs` so that the manager (settings, engine,
//! cookies) does not depend on the [`Session`] handle, which depends on it.

use std::sync::atomic::Ordering;

use super::error::Result;
use super::exchange::{IdSource, RequestIds, ResponseParts};
use super::handle::Session;
use super::manager::Manager;

impl Manager {
    /// Finds the request's session (beego's `SessionStart`).
    ///
    /// Looks in the cookie, then the query, then the header (each only when
    /// enabled). Nothing is read here: the engine is asked on the session's
    /// first use, so a request that never touches its session works while
    /// the backend is down. Then an invalid, unknown or expired id gets a
    /// fresh session, and nothing is created in the engine until the handler
    /// writes. Stored data the engine reports as [`Error::Corrupt`](super::Error::Corrupt) also
    /// gets a fresh session, with one warning.
    ///
    /// # Errors
    ///
    /// None today; engine errors come from the session's first use.
    ///
    /// # Examples
    ///
    /// See [`Manager`].
    pub async fn session_start(&self, req: &RequestIds<'_>) -> Result<Session> {
        let cfg = &self.0.config;
        let candidate = [
            (req.cookie, IdSource::Cookie, true),
            (req.query, IdSource::Query, cfg.enable_sid_in_url_query),
            (req.header, IdSource::Header, cfg.enable_sid_in_http_header),
        ]
        .into_iter()
        .find_map(|(value, source, enabled)| {
            value
                .filter(|v| enabled && !v.is_empty())
                .map(|v| (v, source))
        });
        let secure = req.https || self.0.secure.load(Ordering::Relaxed);
        let had_cookie = req.cookie.is_some_and(|c| !c.is_empty());
        let Some((raw, source)) = candidate else {
            return Ok(Session::fresh(self.clone(), secure, had_cookie));
        };
        let Some(sid) = self.parse_id(raw) else {
            tracing::debug!(source = ?source, len = raw.len(), "session: invalid id ignored");
            return Ok(Session::fresh(self.clone(), secure, had_cookie));
        };
        Ok(Session::pending(
            self.clone(),
            sid,
            source,
            secure,
            had_cookie,
        ))
    }

    /// Destroys the request's session (beego's `SessionDestroy`), whichever
    /// channel its id came from. Same as [`Session::destroy`].
    ///
    /// # Errors
    ///
    /// Engine errors.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// use actix_bee::session::{Manager, RequestIds};
    ///
    /// let m = Manager::new("memory", Default::default()).await.unwrap();
    /// let s = m.session_start(&RequestIds::default()).await.unwrap();
    /// s.set("k", &1).await.unwrap();
    /// m.session_release(&s).await.unwrap();
    /// m.session_destroy(&s).await.unwrap();
    /// assert_eq!(m.get_active_session().await.unwrap(), 0);
    /// # });
    /// ```
    pub async fn session_destroy(&self, session: &Session) -> Result<()> {
        session.destroy().await
    }

    /// Gives the request's session a new id, keeping its data (beego's
    /// `SessionRegenerateID`). Same as [`Session::regenerate_id`].
    ///
    /// # Errors
    ///
    /// Engine errors.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// use actix_bee::session::{Manager, RequestIds};
    ///
    /// let m = Manager::new("memory", Default::default()).await.unwrap();
    /// let s = m.session_start(&RequestIds::default()).await.unwrap();
    /// s.set("k", &1).await.unwrap();
    /// let before = s.session_id().await.unwrap();
    /// m.session_regenerate_id(&s).await.unwrap();
    /// assert_ne!(before, s.session_id().await.unwrap());
    /// assert_eq!(s.get::<i32>("k").await.unwrap(), Some(1));
    /// # });
    /// ```
    pub async fn session_regenerate_id(&self, session: &Session) -> Result<()> {
        session.regenerate_id().await
    }

    /// Saves the request's changes and says what the response must carry.
    /// Call it before the response head is written.
    ///
    /// # Errors
    ///
    /// Engine errors, [`Error::TooLarge`](super::Error::TooLarge) from the cookie engine.
    ///
    /// # Examples
    ///
    /// See [`Manager`].
    pub async fn session_release(&self, session: &Session) -> Result<ResponseParts> {
        session.release().await
    }
}
