//! The spec's "Using Session Without Web Module": one shared `Manager` and
//! plain actix-web handlers that start and release the session themselves,
//! with no middleware and no controller.
//!
//! ```text
//! cargo run --example standalone      # then open http://127.0.0.1:8081/login
//! ```
//!
//! `ADDR` overrides the address.

use actix_bee::session::{Error, Manager, ManagerConfig, Session};
use actix_bee::web::{request_ids, to_actix_cookie};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde::Deserialize;

#[derive(Deserialize)]
struct LoginForm {
    username: String,
}

/// `globalSessions.SessionStart(w, r)`.
async fn session_start(manager: &Manager, req: &HttpRequest) -> Result<Session, Error> {
    manager
        .session_start(&request_ids(req, manager.config()))
        .await
}

/// `defer sess.SessionRelease(w)`: saves what changed and puts the cookie
/// the manager asks for on the response, before it is sent.
async fn session_release(
    manager: &Manager,
    session: &Session,
    mut res: HttpResponse,
) -> Result<HttpResponse, Error> {
    let parts = manager.session_release(session).await?;
    if let Some(cookie) = &parts.cookie {
        // A cookie built from validated settings always forms a header.
        let _ = res.add_cookie(&to_actix_cookie(cookie));
    }
    if parts.no_store {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(res)
}

fn page(username: Option<&str>) -> HttpResponse {
    let greeting = match username {
        Some(name) => format!("<p>Logged in as <b>{}</b>.</p>", escape(name)),
        None => "<p>Not logged in.</p>".to_string(),
    };
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html><title>login</title>{greeting}\
         <form method=post action=/login><input name=username>\
         <button>Log in</button></form>"
        ))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// GET shows the form and who is logged in; POST stores the user name.
async fn login(
    req: HttpRequest,
    manager: web::Data<Manager>,
    form: Option<web::Form<LoginForm>>,
) -> Result<HttpResponse, Error> {
    let sess = session_start(&manager, &req).await?;
    let res = match form {
        Some(form) => {
            sess.set("username", &form.username).await?;
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/login"))
                .finish()
        }
        None => page(sess.get::<String>("username").await?.as_deref()),
    };
    session_release(&manager, &sess, res).await
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut cfg = ManagerConfig::default();
    cfg.cookie_name = "gosessionid".into();
    cfg.enable_set_cookie = true;
    cfg.gc_lifetime = 3600;
    cfg.max_lifetime = 3600;
    cfg.secure = false;
    cfg.cookie_life_time = 3600;
    cfg.provider_config = "./tmp".into();
    let manager = Manager::new("memory", cfg)
        .await
        .map_err(std::io::Error::other)?;
    let _gc = manager.gc().map_err(std::io::Error::other)?;
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:8081".into());
    println!("standalone login example on http://{addr}/login");
    let manager = web::Data::new(manager);
    HttpServer::new(move || {
        App::new()
            .app_data(manager.clone())
            .route("/login", web::get().to(login))
            .route("/login", web::post().to(login))
    })
    .bind(addr)?
    .run()
    .await
}
