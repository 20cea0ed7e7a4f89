//! Ready-made readiness routes over [`Manager::health`]: 200 while the
//! session backend answers within the deadline, 503 otherwise, for a load
//! balancer or a Kubernetes readiness probe.
//!
//! ```yaml
//! readinessProbe:
//!   httpGet: { path: /healthz, port: 8080 }
//!   periodSeconds: 5
//!   timeoutSeconds: 2      # longer than the check's own deadline
//!   failureThreshold: 2
//! ```

use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, HttpResponse, Route};

use super::context::Context;
use super::controller::{Controller, HandlerResult};
use crate::session::{Error, Manager};

/// The answer to a readiness probe: `ok` and the round trip, or 503 and
/// why (the error's text names the engine, never a secret).
async fn answer(manager: &Manager, deadline: Duration) -> HttpResponse {
    let (mut res, body) = match manager.health(deadline).await {
        Ok(took) => (HttpResponse::Ok(), format!("ok {}us\n", took.as_micros())),
        Err(e) => {
            tracing::warn!(error = %e, "session: readiness check failed");
            (
                HttpResponse::ServiceUnavailable(),
                format!("unavailable: {e}\n"),
            )
        }
    };
    res.content_type("text/plain; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

/// A route answering the readiness of `manager`'s backend within
/// `deadline`, for plain actix-web apps.
///
/// # Examples
///
/// ```
/// # actix_rt::System::new().block_on(async {
/// use std::time::Duration;
/// use actix_bee::session::Manager;
/// use actix_bee::web::health_check;
/// use actix_web::{test, App};
///
/// let manager = Manager::new("memory", Default::default()).await.unwrap();
/// let app = test::init_service(
///     App::new().route("/healthz", health_check(manager, Duration::from_secs(1))),
/// )
/// .await;
/// let res = test::call_service(&app, test::TestRequest::get().uri("/healthz").to_request()).await;
/// assert_eq!(res.status(), 200);
/// # });
/// ```
pub fn health_check(manager: Manager, deadline: Duration) -> Route {
    web::get().to(move || {
        let manager = manager.clone();
        async move { answer(&manager, deadline).await }
    })
}

/// The readiness route as a controller, for the beego way:
/// `app.router("/healthz", HealthCheck::new(Duration::from_secs(1)))`. It
/// checks the app's session backend and never touches the request's
/// session.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use actix_bee::config::BConfig;
/// use actix_bee::web::{App, HealthCheck};
///
/// let mut app = App::new(BConfig::default());
/// app.config_mut().web_config.session.session_on = true;
/// app.router("/healthz", HealthCheck::new(Duration::from_secs(1)));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct HealthCheck {
    deadline: Duration,
}

impl HealthCheck {
    /// A check that fails when the backend takes longer than `deadline`.
    pub fn new(deadline: Duration) -> Self {
        HealthCheck { deadline }
    }
}

#[async_trait::async_trait(?Send)]
impl Controller for HealthCheck {
    async fn get(&self, ctx: &mut Context) -> HandlerResult {
        let manager = match ctx.start_session() {
            Ok(session) => session.manager().clone(),
            // Sessions off: nothing to check, and so nothing that fails.
            Err(Error::SessionsOff) => {
                ctx.write_body("ok: sessions are off\n");
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        let res = answer(&manager, self.deadline).await;
        ctx.set_response(res);
        Ok(())
    }
}
