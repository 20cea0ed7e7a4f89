//! Shared by the web tests: a small app of probe controllers on the memory
//! engine, and helpers to read `Set-Cookie`.

#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use actix_bee::config::BConfig;
use actix_bee::session::{Error, Manager};
use actix_bee::web::{async_trait, App, Context, Controller, HandlerResult};
use actix_web::body::{BoxBody, EitherBody};
use actix_web::cookie::Cookie;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::{test, HttpResponse};
use futures_util::stream;

/// `/set?v=x`: sets `k` (default `1`).
pub struct Set;
/// `/get`: `k`, or `none`.
pub struct Get;
/// `/regen`: regenerates the id.
pub struct Regen;
/// `/destroy`: destroys the session.
pub struct Destroy;
/// `/fail`: sets `k = failed`, then answers 500.
pub struct Fail;
/// `/stream`: sets `k`, then answers with a streaming body.
pub struct Stream;
/// `/regenfail`: sets `k = login`, regenerates the id, then answers 500.
pub struct RegenFail;
/// `/destroyfail`: destroys the session, then answers 500.
pub struct DestroyFail;
/// `/probe`: calls every session method and writes the first error.
pub struct Probe;
/// `/page`: renders `index.tpl` with `num` from `?num=`.
pub struct Page;
/// `/missing`: renders a template that does not exist.
pub struct Missing;

#[async_trait(?Send)]
impl Controller for Set {
    async fn get(&self, ctx: &mut Context) -> HandlerResult {
        let v = ctx.input("v").unwrap_or("1").to_owned();
        ctx.set_session("k", &v).await?;
        ctx.write_body("ok");
        Ok(())
    }
}

#[async_trait(?Send)]
impl Controller for Get {
    async fn get(&self, ctx: &mut Context) -> HandlerResult {
        let v = ctx.get_session::<String>("k").await?;
        ctx.write_body(v.unwrap_or_else(|| "none".into()));
        Ok(())
    }
}

#[async_trait(?Send)]
impl Controller for Regen {
    async fn get(&self, ctx: &mut Context) -> HandlerResult {
        ctx.session_regenerate_id().await?;
        ctx.write_body("ok");
        Ok(())
    }
}

#[async_trait(?Send)]
impl Controller for Destroy {
    async fn get(&self, ctx: &mut Context) -> HandlerResult {
        ctx.destroy_session().await?;
        ctx.write_body("ok");
        Ok(())
    }
}

#[async_trait(?Send)]
impl Controller for Fail {
    async fn get(&self, ctx: &mut Context) -> HandlerResult {
        ctx.set_session("k", "failed").await?;
        ctx.set_response(HttpResponse::InternalServerError().body("handler failed"));
        Ok(())
    }
}

#[async_trait(?Send)]
impl Controller for RegenFail {
    async fn get(&self, ctx: &mut Context) -> HandlerResult {
        ctx.set_session("k", "login").await?;
        ctx.session_regenerate_id().await?;
        ctx.set_response(HttpResponse::InternalServerError().body("handler failed"));
        Ok(())
    }
}

#[async_trait(?Send)]
impl Controller for DestroyFail {
    async fn get(&self, ctx: &mut Context) -> HandlerResult {
        ctx.destroy_session().await?;
        ctx.set_response(HttpResponse::InternalServerError().body("handler failed"));
        Ok(())
    }
}

#[async_trait(?Send)]
impl Controller for Stream {
    async fn get(&self, ctx: &mut Context) -> HandlerResult {
        ctx.set_session("k", "streamed").await?;
        let chunks = ["one ", "two ", "three"]
            .map(|c| Ok::<_, std::io::Error>(actix_web::web::Bytes::from_static(c.as_bytes())));
        ctx.set_response(HttpResponse::Ok().streaming(stream::iter(chunks)));
        Ok(())
    }
}

#[async_trait(?Send)]
impl Controller for Probe {
    async fn get(&self, ctx: &mut Context) -> HandlerResult {
        let results: Vec<Result<(), Error>> = vec![
            ctx.set_session("k", "v").await,
            ctx.get_session::<String>("k").await.map(drop),
            ctx.del_session("k").await,
            ctx.session_regenerate_id().await,
            ctx.destroy_session().await,
            ctx.start_session().map(drop),
        ];
        let errors: Vec<String> = results
            .into_iter()
            .filter_map(|r| match r {
                Err(e @ Error::SessionsOff) => Some(e.to_string()),
                Err(other) => panic!("unexpected error {other}"),
                Ok(()) => None,
            })
            .collect();
        ctx.write_body(errors.join("\n"));
        Ok(())
    }
}

#[async_trait(?Send)]
impl Controller for Page {
    async fn get(&self, ctx: &mut Context) -> HandlerResult {
        let num = ctx.input("num").unwrap_or("0").to_owned();
        ctx.data.insert("num".into(), num.into());
        ctx.tpl_name = "index.tpl".into();
        Ok(())
    }
}

#[async_trait(?Send)]
impl Controller for Missing {
    async fn get(&self, ctx: &mut Context) -> HandlerResult {
        ctx.tpl_name = "no-such-template.tpl".into();
        Ok(())
    }
}

/// The services [`probe_app`] returns.
pub trait TestApp:
    Service<
    actix_http::Request,
    Response = ServiceResponse<EitherBody<BoxBody>>,
    Error = actix_web::Error,
>
{
}

impl<T> TestApp for T where
    T: Service<
        actix_http::Request,
        Response = ServiceResponse<EitherBody<BoxBody>>,
        Error = actix_web::Error,
    >
{
}

/// Turns on the query and header id sources.
pub fn all_sources(cfg: &mut BConfig) {
    cfg.web_config.session.session_enable_sid_in_url_query = true;
    cfg.web_config.session.session_enable_sid_in_http_header = true;
}

/// Sends `req` and returns the body as text.
pub async fn read(app: &impl TestApp, req: actix_http::Request) -> String {
    body(test::call_service(app, req).await).await
}

/// A configuration with sessions on (memory engine), `edit`ed.
pub fn config(edit: impl FnOnce(&mut BConfig)) -> BConfig {
    let mut cfg = BConfig::default();
    cfg.web_config.session.session_on = true;
    cfg.web_config.views_path = "templates".into();
    edit(&mut cfg);
    cfg
}

/// The probe app as an `actix_web::test` service, and its session manager.
pub async fn probe_app(cfg: BConfig) -> (impl TestApp, Option<Manager>) {
    let mut app = App::new(cfg);
    app.router("/set", Set)
        .router("/get", Get)
        .router("/regen", Regen)
        .router("/destroy", Destroy)
        .router("/fail", Fail)
        .router("/regenfail", RegenFail)
        .router("/destroyfail", DestroyFail)
        .router("/stream", Stream)
        .router("/probe", Probe)
        .router("/page", Page)
        .router("/missing", Missing);
    let state = app.build().await.unwrap();
    let manager = state.manager().cloned();
    (test::init_service(state.app()).await, manager)
}

/// Every `Set-Cookie` of `res`, parsed.
pub fn set_cookies<B>(res: &ServiceResponse<B>) -> Vec<Cookie<'static>> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .map(|v| Cookie::parse(v.to_str().unwrap().to_owned()).unwrap())
        .collect()
}

/// Every `Set-Cookie` of `res`, as sent.
pub fn set_cookie_lines<B>(res: &ServiceResponse<B>) -> Vec<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// GETs `uri` from `app`, sending `beegosessionID=<cookie>` when given:
/// the body (the answer must be a success) and the value of the
/// `beegosessionID` cookie the response sets, if any.
pub async fn get_with_session(
    app: &impl TestApp,
    uri: &str,
    cookie: Option<&str>,
) -> (String, Option<String>) {
    let mut req = test::TestRequest::get().uri(uri);
    if let Some(v) = cookie {
        req = req.insert_header((header::COOKIE, format!("beegosessionID={v}")));
    }
    let res = test::call_service(app, req.to_request()).await;
    assert!(res.status().is_success(), "{:?}", res.status());
    let set = set_cookies(&res)
        .into_iter()
        .find(|c| c.name() == "beegosessionID")
        .map(|c| c.value().to_owned());
    (body(res).await, set)
}

/// The one session cookie's value that `res` sets.
pub fn session_cookie<B>(res: &ServiceResponse<B>) -> String {
    let cookies = set_cookies(res);
    assert_eq!(cookies.len(), 1, "expected one Set-Cookie: {cookies:?}");
    cookies[0].value().to_owned()
}

/// The body of `res` as text.
pub async fn body(res: ServiceResponse<EitherBody<BoxBody>>) -> String {
    String::from_utf8(test::read_body(res).await.to_vec()).unwrap()
}

/// True for a well-formed minted id (sha1 hash function: 40 hex digits).
pub fn is_minted_id(v: &str) -> bool {
    v.len() == 40 && v.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Serves `app` on a loopback port, sends each raw HTTP/1.1 request on a
/// connection of its own, reads each answer until the server closes, then
/// stops the server. The requests should carry `Connection: close`.
pub async fn raw_exchange(app: App, requests: Vec<String>) -> Vec<String> {
    use std::io::{Read, Write};

    let listening = app.listen("127.0.0.1:0").await.unwrap();
    let addr = listening.addrs()[0];
    let handle = listening.handle();
    let server = actix_rt::spawn(listening.run());
    let answers = tokio::task::spawn_blocking(move || {
        requests
            .iter()
            .map(|request| {
                let mut tcp = std::net::TcpStream::connect(addr).unwrap();
                tcp.write_all(request.as_bytes()).unwrap();
                let mut raw = Vec::new();
                // The server may close before it has read a refused body.
                let _ = tcp.read_to_end(&mut raw);
                String::from_utf8_lossy(&raw).into_owned()
            })
            .collect()
    })
    .await
    .unwrap();
    handle.stop(true).await;
    server.await.unwrap().unwrap();
    answers
}

/// What the counter's login form answered: the status, the new session
/// id and the flash cookie it set.
pub struct CounterLogin {
    pub status: StatusCode,
    pub session: Option<String>,
    pub flash: Option<String>,
}

/// Logs `user` in on the counter the way a browser does: GET `/login` for
/// the form and its `_xsrf` cookie, then POST the form with the token.
pub async fn counter_login(app: &impl TestApp, user: &str, session: Option<&str>) -> CounterLogin {
    let jar = |xsrf: Option<&str>| {
        let mut cookies = Vec::new();
        if let Some(id) = session {
            cookies.push(format!("beegosessionID={id}"));
        }
        if let Some(xsrf) = xsrf {
            cookies.push(format!("_xsrf={xsrf}"));
        }
        cookies.join("; ")
    };
    let mut req = test::TestRequest::get().uri("/login");
    if session.is_some() {
        req = req.insert_header((header::COOKIE, jar(None)));
    }
    let res = test::call_service(app, req.to_request()).await;
    assert_eq!(res.status(), StatusCode::OK, "the login form");
    let xsrf = set_cookies(&res)
        .into_iter()
        .find(|c| c.name() == "_xsrf")
        .map(|c| c.value().to_owned())
        .expect("the login form sets _xsrf");
    let html = body(res).await;
    let token = html
        .split("name=\"_xsrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no _xsrf field in the form: {html}"))
        .to_owned();
    let form = format!("username={}&_xsrf={token}", urlencode(user));
    let req = test::TestRequest::post()
        .uri("/login")
        .insert_header((header::COOKIE, jar(Some(&xsrf))))
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .set_payload(form)
        .to_request();
    let res = test::call_service(app, req).await;
    let cookies = set_cookies(&res);
    let find = |name: &str| {
        cookies
            .iter()
            .find(|c| c.name() == name)
            .map(|c| c.value().to_owned())
    };
    CounterLogin {
        status: res.status(),
        session: find("beegosessionID"),
        flash: find("BEEGO_FLASH"),
    }
}

/// `application/x-www-form-urlencoded` escaping of one value.
pub fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("v", s)])
        .map(|pair| pair["v=".len()..].to_owned())
        .unwrap_or_default()
}
