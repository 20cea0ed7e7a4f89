//! The controller side of sessions by owner: set the owner at login, end
//! every session of the user ("log out everywhere").

use super::context::Context;
use crate::session::Error;

impl Context {
    /// Makes `owner` (a user id) the owner of this request's session; call
    /// it at login. See [`Session::set_owner`](crate::session::Session::set_owner).
    ///
    /// # Errors
    ///
    /// [`Error::SessionsOff`], [`Error::InvalidOwner`], engine errors. The
    /// owner is a value in the session, so this works on every engine;
    /// only [`Context::destroy_owner_sessions`] needs an engine with an
    /// owner index.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::web::{async_trait, Context, Controller, HandlerResult};
    ///
    /// struct Login;
    ///
    /// #[async_trait(?Send)]
    /// impl Controller for Login {
    ///     async fn post(&self, ctx: &mut Context) -> HandlerResult {
    ///         let user = ctx.input("username").unwrap_or("astaxie").to_owned();
    ///         ctx.session_regenerate_id().await?;
    ///         ctx.set_session_owner(&user).await?;
    ///         Ok(())
    ///     }
    /// }
    /// ```
    pub async fn set_session_owner(&self, owner: &str) -> Result<(), Error> {
        self.start_session()?.set_owner(owner).await
    }

    /// The owner of this request's session, if it has one.
    ///
    /// # Errors
    ///
    /// [`Error::SessionsOff`], engine errors.
    ///
    /// # Examples
    ///
    /// See [`Context::destroy_owner_sessions`].
    pub async fn session_owner(&self) -> Result<Option<String>, Error> {
        self.start_session()?.owner().await
    }

    /// "Log out everywhere": ends every session of this session's owner,
    /// this one too unless `keep_current` (then only the other devices are
    /// logged out). Returns how many sessions ended; 0 when the session has
    /// no owner. See
    /// [`Session::destroy_owner_sessions`](crate::session::Session::destroy_owner_sessions).
    ///
    /// # Errors
    ///
    /// [`Error::SessionsOff`], [`Error::Unsupported`] on an engine without
    /// an owner index, engine errors.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::web::{async_trait, Context, Controller, HandlerResult};
    ///
    /// struct LogoutEverywhere;
    ///
    /// #[async_trait(?Send)]
    /// impl Controller for LogoutEverywhere {
    ///     async fn post(&self, ctx: &mut Context) -> HandlerResult {
    ///         if ctx.session_owner().await?.is_some() {
    ///             let ended = ctx.destroy_owner_sessions(false).await?;
    ///             ctx.write_body(format!("{ended} sessions ended"));
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// ```
    pub async fn destroy_owner_sessions(&self, keep_current: bool) -> Result<usize, Error> {
        self.start_session()?
            .destroy_owner_sessions(keep_current)
            .await
    }
}
