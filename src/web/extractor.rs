//! The request's [`Session`], as an extractor and through [`SessionExt`].

use std::future::{ready, Ready};

use actix_web::dev::{Extensions, Payload, ServiceRequest};
use actix_web::guard::GuardContext;
use actix_web::{FromRequest, HttpMessage, HttpRequest};

use crate::session::{Error, Session};

/// Takes the session that [`SessionMiddleware`](super::SessionMiddleware)
/// started. Without the middleware it fails with [`Error::SessionsOff`],
/// answered as a 500 with a fixed body.
///
/// # Examples
///
/// ```
/// use actix_bee::session::Session;
///
/// async fn counter(session: Session) -> Result<String, actix_bee::session::Error> {
///     let n = session.get::<i64>("asta").await?.unwrap_or(0);
///     session.set("asta", &(n + 1)).await?;
///     Ok(n.to_string())
/// }
/// ```
impl FromRequest for Session {
    type Error = Error;
    type Future = Ready<Result<Session, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(req.get_session())
    }
}

/// Reads the request's session from anything that has the request extensions.
///
/// # Examples
///
/// ```
/// use actix_bee::web::SessionExt;
/// use actix_web::test::TestRequest;
///
/// let req = TestRequest::default().to_http_request();
/// // No middleware ran: sessions are off for this request.
/// let err = req.get_session().unwrap_err();
/// assert_eq!(err.to_string(), "sessions are off: set sessionon = true");
/// ```
pub trait SessionExt {
    /// The request's session.
    ///
    /// # Errors
    ///
    /// [`Error::SessionsOff`] when no session middleware ran.
    ///
    /// # Examples
    ///
    /// See [`SessionExt`].
    fn get_session(&self) -> Result<Session, Error>;
}

impl SessionExt for HttpRequest {
    fn get_session(&self) -> Result<Session, Error> {
        from_extensions(&self.extensions())
    }
}

impl SessionExt for ServiceRequest {
    fn get_session(&self) -> Result<Session, Error> {
        from_extensions(&self.extensions())
    }
}

impl SessionExt for GuardContext<'_> {
    fn get_session(&self) -> Result<Session, Error> {
        from_extensions(&self.req_data())
    }
}

fn from_extensions(extensions: &Extensions) -> Result<Session, Error> {
    extensions
        .get::<Session>()
        .cloned()
        .ok_or(Error::SessionsOff)
}
