//! `SessionMiddleware`: start the session before the handler, release it
//! after, before the response head is written.

use std::future::{ready, Ready};
use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{Error as ActixError, HttpMessage, HttpResponse, ResponseError};
use futures_util::future::LocalBoxFuture;

use super::error::{fixed_response, log_failure};
use super::transport::{request_ids, set_cookie_value};
use crate::session::{Manager, ResponseParts};

/// The session middleware, usable in any actix-web `App`.
///
/// Before the handler it finds the request's
/// [`Session`](crate::session::Session) (cookie, then query and header when
/// enabled) and puts it in the request extensions, where the extractor, the
/// [`SessionExt`](super::SessionExt) trait and controllers find it. After the
/// handler, before the head is written, it saves what changed and adds the
/// cookie, the id header, `Cache-Control: no-store` and
/// `Referrer-Policy: no-referrer` as the core asks.
///
/// The session is read from the engine on its first use in the request, so
/// a route that never touches it works while the backend is down. A 5xx
/// response saves nothing (the handler failed half-way), but still carries
/// an id change the engine already made (a regenerate, a destroy). A
/// session that cannot be read answers 503 (backend down) or 500 with a
/// fixed body through the handler's error; one that cannot be saved does
/// too, replacing the handler's response.
///
/// # Examples
///
/// ```
/// # actix_rt::System::new().block_on(async {
/// use actix_bee::session::{Manager, Session};
/// use actix_bee::web::SessionMiddleware;
/// use actix_web::{test, web, App};
///
/// let manager = Manager::new("memory", Default::default()).await.unwrap();
/// let app = test::init_service(App::new().wrap(SessionMiddleware::new(manager)).route(
///     "/",
///     web::get().to(|s: Session| async move {
///         s.set("asta", &1i64).await?;
///         Ok::<_, actix_bee::session::Error>("ok")
///     }),
/// ))
/// .await;
/// let res = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
/// assert!(res.headers().contains_key("set-cookie"));
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct SessionMiddleware {
    manager: Option<Manager>,
}

impl SessionMiddleware {
    /// Sessions through `manager`.
    ///
    /// # Examples
    ///
    /// See [`SessionMiddleware`].
    pub fn new(manager: Manager) -> Self {
        SessionMiddleware {
            manager: Some(manager),
        }
    }

    /// A pass-through, for apps with `sessionon = false`.
    pub(crate) fn disabled() -> Self {
        SessionMiddleware { manager: None }
    }
}

impl<S, B> Transform<S, ServiceRequest> for SessionMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = ActixError> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = ActixError;
    type Transform = SessionService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(SessionService {
            service: Rc::new(service),
            manager: self.manager.clone(),
        }))
    }
}

/// The service [`SessionMiddleware`] wraps around the app's.
///
/// # Examples
///
/// Built by actix-web from [`SessionMiddleware`]; see there.
#[derive(Debug)]
pub struct SessionService<S> {
    service: Rc<S>,
    manager: Option<Manager>,
}

impl<S, B> Service<ServiceRequest> for SessionService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = ActixError> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = ActixError;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let Some(manager) = self.manager.clone() else {
            return Box::pin(async move {
                service
                    .call(req)
                    .await
                    .map(ServiceResponse::map_into_left_body)
            });
        };
        Box::pin(async move {
            let started = {
                let ids = request_ids(req.request(), manager.config());
                manager.session_start(&ids).await
            };
            let session = match started {
                Ok(session) => session,
                Err(err) => {
                    log_failure("session: could not start the session", &err);
                    let res = fixed_response(err.status_code());
                    return Ok(req.into_response(res).map_into_right_body());
                }
            };
            req.extensions_mut().insert(session.clone());
            let mut res = service.call(req).await?;
            if res.status().is_server_error() {
                tracing::debug!(status = %res.status(), "session: handler failed, not saving");
                // An id change the engine already made still goes out.
                let parts = session.release_after_failure().await;
                if let Err(what) = apply(&parts, res.response_mut()) {
                    tracing::error!("session: the {what} is not a valid HTTP header");
                }
                return Ok(res.map_into_left_body());
            }
            let applied = match manager.session_release(&session).await {
                Ok(parts) => apply(&parts, res.response_mut()).map_err(|what| {
                    tracing::error!(
                        "session: the {what} is not a valid HTTP header; check the session name settings"
                    );
                    fixed_response(StatusCode::INTERNAL_SERVER_ERROR)
                }),
                Err(err) => {
                    log_failure("session: could not save the session", &err);
                    Err(fixed_response(err.status_code()))
                }
            };
            Ok(match applied {
                Ok(()) => res.map_into_left_body(),
                Err(failure) => res.into_response(failure).map_into_right_body(),
            })
        })
    }
}

/// Adds what the core asked for to the response head; on failure, names
/// what could not be written.
fn apply<B>(parts: &ResponseParts, res: &mut HttpResponse<B>) -> Result<(), &'static str> {
    if let Some(spec) = &parts.cookie {
        let value = HeaderValue::try_from(set_cookie_value(spec)).map_err(|_| "session cookie")?;
        res.headers_mut().append(header::SET_COOKIE, value);
    }
    if let Some((name, value)) = &parts.header {
        let name = HeaderName::try_from(name.as_str()).map_err(|_| "id header name")?;
        let value = HeaderValue::try_from(value.as_str()).map_err(|_| "id header value")?;
        res.headers_mut().insert(name, value);
    }
    let headers = res.headers_mut();
    if parts.no_store {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if parts.no_referrer {
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    Ok(())
}
