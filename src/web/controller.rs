//! `Controller`: one method per HTTP verb, as beego's controllers.

use actix_web::error::ErrorMethodNotAllowed;
use actix_web::http::Method;
use async_trait::async_trait;

use super::context::Context;

/// What a controller method returns. Session errors convert with `?` into
/// a 503 (backend down) or a 500, with a fixed body and the cause logged.
pub type HandlerResult = Result<(), actix_web::Error>;

fn method_not_allowed() -> HandlerResult {
    Err(ErrorMethodNotAllowed("Method Not Allowed"))
}

/// A beego controller: route it with [`App::router`](super::App::router).
///
/// Each request calls [`Controller::prepare`], then the method named by the
/// HTTP verb; verbs left out answer `405 Method Not Allowed`. One instance
/// serves every request: per-request state lives in the [`Context`].
/// Implement it with `#[async_trait(?Send)]` (re-exported as
/// [`actix_bee::web::async_trait`](super::async_trait)).
///
/// # Examples
///
/// ```
/// use actix_bee::web::{async_trait, Context, Controller, HandlerResult};
///
/// struct LoginController;
///
/// #[async_trait(?Send)]
/// impl Controller for LoginController {
///     async fn post(&self, ctx: &mut Context) -> HandlerResult {
///         let user = ctx.input("username").unwrap_or("astaxie").to_owned();
///         ctx.set_session("username", &user).await?;
///         ctx.session_regenerate_id().await?;
///         ctx.redirect("/", actix_web::http::StatusCode::FOUND);
///         Ok(())
///     }
/// }
/// ```
#[async_trait(?Send)]
pub trait Controller: Send + Sync + 'static {
    /// Runs before the verb's method (beego's `Prepare`); a response set
    /// here skips the method.
    async fn prepare(&self, _ctx: &mut Context) -> HandlerResult {
        Ok(())
    }

    /// `GET`.
    async fn get(&self, _ctx: &mut Context) -> HandlerResult {
        method_not_allowed()
    }

    /// `POST`.
    async fn post(&self, _ctx: &mut Context) -> HandlerResult {
        method_not_allowed()
    }

    /// `PUT`.
    async fn put(&self, _ctx: &mut Context) -> HandlerResult {
        method_not_allowed()
    }

    /// `DELETE`.
    async fn delete(&self, _ctx: &mut Context) -> HandlerResult {
        method_not_allowed()
    }

    /// `PATCH`.
    async fn patch(&self, _ctx: &mut Context) -> HandlerResult {
        method_not_allowed()
    }

    /// `HEAD`.
    async fn head(&self, _ctx: &mut Context) -> HandlerResult {
        method_not_allowed()
    }

    /// `OPTIONS`.
    async fn options(&self, _ctx: &mut Context) -> HandlerResult {
        method_not_allowed()
    }
}

/// Calls `prepare`, then the method of the request's verb.
pub(crate) async fn dispatch(controller: &dyn Controller, ctx: &mut Context) -> HandlerResult {
    controller.prepare(ctx).await?;
    if ctx.has_response() {
        return Ok(());
    }
    // beego checks the XSRF token after `Prepare`, where a controller may
    // opt out.
    if let Some(rejected) = ctx.xsrf_rejection() {
        ctx.set_response(rejected);
        return Ok(());
    }
    let method = ctx.request().method().clone();
    match method {
        Method::GET => controller.get(ctx).await,
        Method::POST => controller.post(ctx).await,
        Method::PUT => controller.put(ctx).await,
        Method::DELETE => controller.delete(ctx).await,
        Method::PATCH => controller.patch(ctx).await,
        Method::HEAD => controller.head(ctx).await,
        Method::OPTIONS => controller.options(ctx).await,
        _ => method_not_allowed(),
    }
}
