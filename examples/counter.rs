//! The spec's counter, the beego way: `conf/app.conf` plus controllers.
//!
//! ```sh
//! cargo run --example counter    # serves http://127.0.0.1:8080/ (conf/app.conf)
//! ```
//!
//! - `/`: counts the visits of this session (session key `asta`).
//! - `/login`: a form; posting it (with its XSRF token, `enablexsrf = true`
//!   in `conf/app.conf`) remembers the user, regenerates the session id and
//!   goes back to `/`, where a flash message says "Logged in as …".
//! - `/logout`: destroys the session.
//! - `/logout/everywhere`: ends every session of the logged-in user, on
//!   every device ("log out everywhere"). It needs an engine that keeps an
//!   owner index (memory, file, redis, redis_cluster, redis_sentinel,
//!   mysql, postgresql); on the others it answers 501 and says so.
//! - `/read`: the count, read only (plain text).
//! - `/healthz`: readiness, 503 when the session backend does not answer
//!   within 1 s.
//! - `/metrics` (with `--features metrics`): the session metrics in
//!   Prometheus' text format.
//!
//! The engine comes from `sessionprovider`/`sessionproviderconfig` in
//! `conf/app.conf` (memory by default); pick another with no code change,
//! with its cargo feature on, e.g. `cargo run --features redis --example counter`.

use actix_bee::config::BConfig;
use std::time::Duration;

use actix_bee::web::{async_trait, App, Context, Controller, HandlerResult, HealthCheck};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;

/// `/`: the counter of the spec.
pub struct MainController;

#[async_trait(?Send)]
impl Controller for MainController {
    async fn get(&self, ctx: &mut Context) -> HandlerResult {
        let num = match ctx.get_session::<i64>("asta").await? {
            None => {
                ctx.set_session("asta", &1i64).await?;
                0
            }
            Some(v) => {
                ctx.set_session("asta", &v.saturating_add(1)).await?;
                v
            }
        };
        ctx.data.insert("num".into(), num.into());
        if let Some(user) = ctx.get_session::<String>("username").await? {
            ctx.data.insert("username".into(), user.into());
        }
        ctx.tpl_name = "index.tpl".into();
        Ok(())
    }
}

/// `/login`: the form (GET); posting it stores the user name, moves the
/// session to a new id against fixation and goes back to `/` with a flash
/// message. The app checks the form's XSRF token before `post` runs.
pub struct LoginController;

#[async_trait(?Send)]
impl Controller for LoginController {
    async fn get(&self, ctx: &mut Context) -> HandlerResult {
        // login.tpl puts {{.xsrfdata}}, the hidden _xsrf field, in the form.
        ctx.tpl_name = "login.tpl".into();
        Ok(())
    }

    async fn post(&self, ctx: &mut Context) -> HandlerResult {
        let user = match ctx.input("username").map(str::trim) {
            Some(user) if !user.is_empty() => user.to_owned(),
            _ => {
                ctx.flash.error("Enter a user name");
                ctx.redirect("/login", StatusCode::SEE_OTHER);
                return Ok(());
            }
        };
        ctx.set_session("username", &user).await?;
        ctx.session_regenerate_id().await?;
        // The session belongs to the user: "log out everywhere" finds it.
        ctx.set_session_owner(&user).await?;
        ctx.flash.notice(format!("Logged in as {user}"));
        ctx.redirect("/", StatusCode::SEE_OTHER);
        Ok(())
    }
}

/// `/logout`: forgets the session on the server and in the browser.
pub struct LogoutController;

#[async_trait(?Send)]
impl Controller for LogoutController {
    async fn get(&self, ctx: &mut Context) -> HandlerResult {
        ctx.destroy_session().await?;
        ctx.tpl_name = "logout.tpl".into();
        Ok(())
    }
}

/// `/logout/everywhere`: ends all the sessions of the logged-in user.
pub struct LogoutEverywhereController;

#[async_trait(?Send)]
impl Controller for LogoutEverywhereController {
    async fn get(&self, ctx: &mut Context) -> HandlerResult {
        match ctx.destroy_owner_sessions(false).await {
            Ok(ended) => {
                ctx.data.insert("ended".into(), ended.into());
                ctx.tpl_name = "logout.tpl".into();
            }
            // memcache, cookie and couchbase keep no owner index: say so,
            // and leave the session as it is.
            Err(e) if e.is_unsupported() => ctx.set_response(
                HttpResponse::NotImplemented()
                    .content_type("text/plain; charset=utf-8")
                    .body(format!(
                        "Log out everywhere is not available: {e}. You are still logged in here.\n"
                    )),
            ),
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }
}

/// `/read`: the count as plain text; never writes (for benchmarks).
pub struct ReadController;

#[async_trait(?Send)]
impl Controller for ReadController {
    async fn get(&self, ctx: &mut Context) -> HandlerResult {
        let num = ctx.get_session::<i64>("asta").await?.unwrap_or(0);
        ctx.write_body(num.to_string());
        Ok(())
    }
}

/// `/metrics` (cargo feature `metrics`): the Prometheus text of the
/// recorder `main` installed.
#[cfg(feature = "metrics")]
pub struct MetricsController(pub metrics_exporter_prometheus::PrometheusHandle);

#[cfg(feature = "metrics")]
#[async_trait(?Send)]
impl Controller for MetricsController {
    async fn get(&self, ctx: &mut Context) -> HandlerResult {
        ctx.set_response(
            HttpResponse::Ok()
                .content_type("text/plain; version=0.0.4; charset=utf-8")
                .body(self.0.render()),
        );
        Ok(())
    }
}

/// The counter app over `config`.
pub fn app(config: BConfig) -> App {
    let mut app = App::new(config);
    app.router("/", MainController)
        .router("/login", LoginController)
        .router("/logout", LogoutController)
        .router("/logout/everywhere", LogoutEverywhereController)
        .router("/read", ReadController)
        // Readiness: 503 when the session backend does not answer in 1 s.
        .router("/healthz", HealthCheck::new(Duration::from_secs(1)));
    app
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Logs to stderr, in colour only on a terminal (not in a log file).
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let config = BConfig::load()?;
    // The recorder goes in before the app starts its session engine, which
    // registers its metrics once.
    #[cfg(feature = "metrics")]
    let metrics = {
        let handle = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder()?;
        let upkeep = handle.clone();
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_secs(5));
            upkeep.run_upkeep();
        });
        MetricsController(handle)
    };
    #[cfg_attr(not(feature = "metrics"), allow(unused_mut))]
    let mut app = app(config);
    #[cfg(feature = "metrics")]
    app.router("/metrics", metrics);
    app.run().await?;
    Ok(())
}
