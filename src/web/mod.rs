//! The web layer: beego's way of using sessions, on actix-web.
//!
//! - [`SessionMiddleware`]: starts each request's session before the handler
//!   and releases it before the response head is written.
//! - [`Session`](crate::session::Session) is an extractor, and
//!   [`SessionExt::get_session`] reads it from any request.
//! - [`Controller`] and [`Context`]: beego's controller methods
//!   (`set_session`, `get_session`, ...), template data and `tpl_name`.
//! - [`App`]: `App::new(bconfig)`, `router`, `run`, as `web.Run()` does.
//! - XSRF ([`XsrfConfig`], `enablexsrf`) and flash messages ([`Flash`]),
//!   sharing beego's `_xsrf` and `BEEGO_FLASH` cookies with a beego app;
//!   [`XsrfMiddleware`] and [`Xsrf`] for plain handlers.
//!
//! Nothing in [`crate::session`] depends on this module.
//!
//! ```no_run
//! use actix_bee::config::BConfig;
//! use actix_bee::web::{async_trait, App, Context, Controller, HandlerResult};
//!
//! struct MainController;
//!
//! #[async_trait(?Send)]
//! impl Controller for MainController {
//!     async fn get(&self, ctx: &mut Context) -> HandlerResult {
//!         let v = ctx.get_session::<i64>("asta").await?.unwrap_or(0);
//!         ctx.set_session("asta", &(v + 1)).await?;
//!         ctx.data.insert("num".into(), v.into());
//!         // views/index.tpl: <p>{{.num}}</p>
//!         ctx.tpl_name = "index.tpl".into();
//!         Ok(())
//!     }
//! }
//!
//! # async fn run() -> Result<(), actix_bee::web::StartError> {
//! let mut app = App::new(BConfig::load()?);
//! app.router("/", MainController);
//! app.run().await
//! # }
//! ```

mod app;
mod context;
mod context_forms;
mod context_owner;
mod controller;
mod error;
mod extractor;
mod flash;
mod form_state;
mod health;
mod middleware;
mod secure_cookie;
mod template;
mod transport;
mod xsrf;
mod xsrf_middleware;

pub use app::{App, AppState, Listening, StartError};
pub use async_trait::async_trait;
pub use context::Context;
pub use controller::{Controller, HandlerResult};
pub use extractor::SessionExt;
pub use flash::{Flash, MAX_FLASH_COOKIE};
#[cfg(feature = "gotmpl")]
pub use gotmpl;
pub use health::{health_check, HealthCheck};
pub use middleware::{SessionMiddleware, SessionService};
#[cfg(feature = "gotmpl")]
pub use template::TemplateFunc;
pub use template::{Engine, TemplateError, TemplateOptions, Templates, View};
pub use transport::{request_ids, to_actix_cookie};
pub use xsrf::{XsrfConfig, XsrfKeyError, MIN_KEY_LEN, XSRF_COOKIE, XSRF_FIELD};
pub use xsrf_middleware::{Xsrf, XsrfMiddleware, XsrfService, DEFAULT_FORM_LIMIT};
