//! XSRF for plain actix-web handlers: [`XsrfMiddleware`] checks, the
//! [`Xsrf`] extractor gives the token to render. Same rules and same
//! `_xsrf` cookie as the controllers (see [`XsrfConfig`]).

use std::cell::OnceCell;
use std::future::{ready, Ready};
use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{forward_ready, Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{HeaderValue, SET_COOKIE};
use actix_web::web::{Bytes, BytesMut};
use actix_web::{Error as ActixError, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;

use super::xsrf::{self, XsrfConfig, XsrfToken};

/// The largest url-encoded body read for its `_xsrf` field, by default.
pub const DEFAULT_FORM_LIMIT: usize = 256 * 1024;

/// Checks the XSRF token of POST, PUT, DELETE and PATCH requests before the
/// handler runs, and sets the `_xsrf` cookie when a token was minted. The
/// token comes from the `_xsrf` field of an url-encoded body (read up to
/// [`form_limit`](XsrfMiddleware::form_limit) bytes and given back to
/// the handler), else of the URL query, else from the `X-Xsrftoken` or
/// `X-Csrftoken` header. No token answers 422, a wrong one 417, as beego.
///
/// # Examples
///
/// ```no_run
/// use actix_bee::web::{Xsrf, XsrfConfig, XsrfMiddleware};
/// use actix_web::{web, App, HttpResponse, HttpServer};
///
/// async fn form(xsrf: Xsrf) -> HttpResponse {
///     HttpResponse::Ok().content_type("text/html").body(format!(
///         r#"<form method="post" action="/save">{}<button>Save</button></form>"#,
///         xsrf.form_html()
///     ))
/// }
///
/// # async fn run() -> std::io::Result<()> {
/// let xsrf = XsrfConfig::new(b"the same 32+ byte key as the beego app").unwrap();
/// HttpServer::new(move || {
///     App::new()
///         .wrap(XsrfMiddleware::new(xsrf.clone()))
///         .route("/form", web::get().to(form))
///         .route("/save", web::post().to(|| async { "saved" }))
/// })
/// .bind(("127.0.0.1", 8080))?
/// .run()
/// .await
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct XsrfMiddleware {
    config: Arc<XsrfConfig>,
    form_limit: usize,
}

impl XsrfMiddleware {
    /// The middleware for `config`.
    pub fn new(config: XsrfConfig) -> XsrfMiddleware {
        XsrfMiddleware {
            config: Arc::new(config),
            form_limit: DEFAULT_FORM_LIMIT,
        }
    }

    /// Reads at most `bytes` of an url-encoded body for its `_xsrf` field;
    /// a longer body answers 413 ([`DEFAULT_FORM_LIMIT`] by default).
    pub fn form_limit(mut self, bytes: usize) -> XsrfMiddleware {
        self.form_limit = bytes;
        self
    }
}

impl<S, B> Transform<S, ServiceRequest> for XsrfMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = ActixError> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = ActixError;
    type Transform = XsrfService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(XsrfService {
            service: Rc::new(service),
            config: Arc::clone(&self.config),
            form_limit: self.form_limit,
        }))
    }
}

/// The service [`XsrfMiddleware`] wraps around the app.
#[derive(Debug)]
pub struct XsrfService<S> {
    service: Rc<S>,
    config: Arc<XsrfConfig>,
    form_limit: usize,
}

/// A request's token, worked out when the check or the handler first asks.
#[derive(Debug)]
struct LazyToken {
    config: Arc<XsrfConfig>,
    token: OnceCell<XsrfToken>,
}

impl LazyToken {
    fn get(&self, req: &HttpRequest) -> &XsrfToken {
        self.token.get_or_init(|| self.config.token_for(req, 0))
    }
}

impl<S, B> Service<ServiceRequest> for XsrfService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = ActixError> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = ActixError;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let lazy = Rc::new(LazyToken {
            config: Arc::clone(&self.config),
            token: OnceCell::new(),
        });
        let form_limit = self.form_limit;
        Box::pin(async move {
            req.extensions_mut().insert(Rc::clone(&lazy));
            if xsrf::is_checked(req.method()) {
                let field = match form_field(&mut req, form_limit).await {
                    Ok(field) => field,
                    Err(status) => {
                        let res = actix_web::HttpResponse::build(status).finish();
                        return Ok(req.into_response(res).map_into_right_body());
                    }
                };
                let field = field.or_else(|| query_field(req.query_string()));
                let expected = lazy.get(req.request());
                let sent = xsrf::sent_token(req.request(), field.as_deref());
                if let Err(rejected) = xsrf::check(sent, &expected.token) {
                    let mut res = rejected.response();
                    set_cookie(&lazy, res.headers_mut());
                    return Ok(req.into_response(res).map_into_right_body());
                }
            }
            let mut res = service.call(req).await?;
            set_cookie(&lazy, res.headers_mut());
            Ok(res.map_into_left_body())
        })
    }
}

/// Adds the `_xsrf` cookie when the token was minted for this request.
fn set_cookie(lazy: &LazyToken, headers: &mut actix_web::http::header::HeaderMap) {
    let Some(cookie) = lazy.token.get().and_then(|t| t.set_cookie.as_deref()) else {
        return;
    };
    match HeaderValue::try_from(cookie) {
        Ok(value) => headers.append(SET_COOKIE, value),
        Err(_) => tracing::error!("xsrf: the _xsrf cookie is not a valid HTTP header"),
    }
}

/// The `_xsrf` field of an url-encoded body; the body is read (at most
/// `limit` bytes) and put back for the handler.
async fn form_field(
    req: &mut ServiceRequest,
    limit: usize,
) -> Result<Option<String>, actix_web::http::StatusCode> {
    if req.content_type() != "application/x-www-form-urlencoded" {
        return Ok(None);
    }
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| actix_web::http::StatusCode::BAD_REQUEST)?;
        if body.len() + chunk.len() > limit {
            return Err(actix_web::http::StatusCode::PAYLOAD_TOO_LARGE);
        }
        body.extend_from_slice(&chunk);
    }
    let body: Bytes = body.freeze();
    let field = form_value(&body);
    req.set_payload(Payload::from(body));
    Ok(field)
}

/// The first `_xsrf` value of url-encoded `bytes`, as Go's `Form.Get`.
fn form_value(bytes: &[u8]) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(bytes)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == xsrf::XSRF_FIELD)
        .map(|(_, v)| v)
}

fn query_field(query: &str) -> Option<String> {
    form_value(query.as_bytes()).filter(|v| !v.is_empty())
}

/// The XSRF token of a request through [`XsrfMiddleware`], to put in a
/// form (extractor).
///
/// # Errors
///
/// A 500 when [`XsrfMiddleware`] does not wrap the handler.
#[derive(Debug, Clone)]
pub struct Xsrf {
    token: String,
}

impl Xsrf {
    /// The token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// `<input type="hidden" name="_xsrf" value="…" />`.
    pub fn form_html(&self) -> String {
        xsrf::form_html(&self.token)
    }
}

impl FromRequest for Xsrf {
    type Error = ActixError;
    type Future = Ready<Result<Xsrf, ActixError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let lazy = req.extensions().get::<Rc<LazyToken>>().cloned();
        ready(match lazy {
            Some(lazy) => Ok(Xsrf {
                token: lazy.get(req).token.clone(),
            }),
            None => {
                tracing::error!("xsrf: the Xsrf extractor needs XsrfMiddleware around the handler");
                Err(actix_web::error::ErrorInternalServerError(
                    "Internal Server Error",
                ))
            }
        })
    }
}
