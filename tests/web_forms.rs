//! XSRF and flash messages through the real app, the real middleware and a
//! Go peer that handles them as a beego app does (`tests/go/formpeer`):
//! tokens and flash messages cross between the two apps both ways.
//!
//! Needs the Go toolchain (`scripts/test-servers.sh start` installs it);
//! without it these tests fail, never skip.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/forms.rs"]
mod forms;

use std::path::Path;

use actix_bee::config::BConfig;
use actix_bee::web::{
    async_trait, App, Context, Controller, HandlerResult, StartError, Xsrf, XsrfConfig,
    XsrfKeyError, XsrfMiddleware,
};
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use actix_web::{web, HttpResponse};
use forms::{cookie_in, FormPeer};

const KEY: &str = "a shared xsrf key, 32 bytes or more!";

/// `/form`: renders `form.tpl` (the token and the flash messages).
struct FormPage;
/// `/submit`: "ok" for every checked method.
struct Submit;
/// `/api`: opts out of the check in `prepare`.
struct OptOut;
/// `/flash?msg=`: stores a notice and redirects to `/form`.
struct SetFlash;
/// `/token`: the token as text, with a controller expiry of 600 s.
struct Token;
/// `/plain`: renders `plain.tpl`, which shows no token; `/layout` renders
/// it inside `layout.tpl`, which includes `form.tpl`.
struct Plain;

#[async_trait(?Send)]
impl Controller for Plain {
    async fn get(&self, ctx: &mut Context) -> HandlerResult {
        ctx.tpl_name = "plain.tpl".into();
        if ctx.request().path() == "/layout" {
            ctx.layout = "layout.tpl".into();
        }
        Ok(())
    }
}

#[async_trait(?Send)]
impl Controller for FormPage {
    async fn get(&self, ctx: &mut Context) -> HandlerResult {
        ctx.tpl_name = "form.tpl".into();
        Ok(())
    }
}

#[async_trait(?Send)]
impl Controller for Submit {
    async fn post(&self, ctx: &mut Context) -> HandlerResult {
        let name = ctx.input("name").unwrap_or("").to_owned();
        ctx.write_body(format!("ok {name}"));
        Ok(())
    }
    async fn put(&self, ctx: &mut Context) -> HandlerResult {
        ctx.write_body("ok");
        Ok(())
    }
    async fn delete(&self, ctx: &mut Context) -> HandlerResult {
        ctx.write_body("ok");
        Ok(())
    }
    async fn patch(&self, ctx: &mut Context) -> HandlerResult {
        ctx.write_body("ok");
        Ok(())
    }
}

#[async_trait(?Send)]
impl Controller for OptOut {
    async fn prepare(&self, ctx: &mut Context) -> HandlerResult {
        ctx.enable_xsrf = false;
        Ok(())
    }
    async fn post(&self, ctx: &mut Context) -> HandlerResult {
        ctx.write_body("ok");
        Ok(())
    }
}

#[async_trait(?Send)]
impl Controller for SetFlash {
    async fn get(&self, ctx: &mut Context) -> HandlerResult {
        let msg = ctx.input("msg").unwrap_or("saved").to_owned();
        ctx.flash.notice(msg);
        ctx.flash.set("custom", "kept");
        ctx.redirect("/form", StatusCode::SEE_OTHER);
        Ok(())
    }
}

#[async_trait(?Send)]
impl Controller for Token {
    async fn prepare(&self, ctx: &mut Context) -> HandlerResult {
        ctx.xsrf_expire = 600;
        Ok(())
    }
    async fn get(&self, ctx: &mut Context) -> HandlerResult {
        let token = ctx.xsrf_token().unwrap_or("none").to_owned();
        ctx.write_body(token);
        Ok(())
    }
}

fn views() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("form.tpl"),
        "<form method=\"post\">{{.xsrfdata}}</form>\n\
         <p id=\"token\">{{.xsrf_token}}</p>\n\
         {{if .flash.notice}}<p id=\"flash\">{{.flash.notice}}</p>{{end}}\n\
         {{if .flash.custom}}<p id=\"custom\">{{.flash.custom}}</p>{{end}}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("plain.tpl"), "<p>{{.flash.notice}}</p>").unwrap();
    std::fs::write(
        dir.path().join("layout.tpl"),
        "{{.LayoutContent}}{{template \"form.tpl\" .}}",
    )
    .unwrap();
    dir
}

fn config(views: &Path, tune: impl FnOnce(&mut BConfig)) -> BConfig {
    let mut config = BConfig::default();
    config.web_config.views_path = views.display().to_string();
    config.web_config.enable_xsrf = true;
    config.web_config.xsrf_key = KEY.into();
    config.web_config.session.session_on = false;
    tune(&mut config);
    config
}

async fn app_with(
    views: &Path,
    tune: impl FnOnce(&mut BConfig),
) -> impl Service<
    actix_http::Request,
    Response = ServiceResponse<impl MessageBody>,
    Error = actix_web::Error,
> {
    let mut app = App::new(config(views, tune));
    app.router("/form", FormPage)
        .router("/submit", Submit)
        .router("/api", OptOut)
        .router("/flash", SetFlash)
        .router("/token", Token)
        .router("/plain", Plain)
        .router("/layout", Plain);
    let state = app.build().await.unwrap();
    test::init_service(state.app()).await
}

struct Answer {
    status: StatusCode,
    set_cookies: Vec<String>,
    body: String,
}

impl Answer {
    fn cookie(&self, name: &str) -> Option<String> {
        cookie_in(&self.set_cookies, name)
    }
    fn line(&self, name: &str) -> &str {
        self.set_cookies
            .iter()
            .find(|l| l.starts_with(&format!("{name}=")))
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no {name} cookie in {:?}", self.set_cookies))
    }
}

async fn call<S, B>(app: &S, req: TestRequest) -> Answer
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = test::call_service(app, req.to_request()).await;
    let status = res.status();
    let set_cookies = res
        .headers()
        .get_all("set-cookie")
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let body = test::read_body(res).await;
    Answer {
        status,
        set_cookies,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = html.find(start)? + start.len();
    let to = html[from..].find(end)? + from;
    Some(&html[from..to])
}

/// A token and its cookie from the app's form page.
async fn fresh_token<S, B>(app: &S) -> (String, String)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let page = call(app, TestRequest::get().uri("/form")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let token = between(&page.body, "<p id=\"token\">", "</p>")
        .unwrap()
        .to_owned();
    let field = between(&page.body, "<form method=\"post\">", "</form>").unwrap();
    assert_eq!(
        field,
        format!(r#"<input type="hidden" name="_xsrf" value="{token}" />"#),
        "xsrfdata is the hidden field, unescaped"
    );
    (
        token,
        page.cookie("_xsrf").expect("a minted token sets _xsrf"),
    )
}

fn with_cookie(req: TestRequest, cookie: &str) -> TestRequest {
    req.insert_header(("cookie", format!("_xsrf={cookie}")))
}

fn form(req: TestRequest, body: &str) -> TestRequest {
    req.insert_header(("content-type", "application/x-www-form-urlencoded"))
        .set_payload(body.to_owned())
}

#[actix_web::test]
async fn every_method_and_token_source_is_checked_as_beego_does() {
    let dir = views();
    let app = app_with(dir.path(), |_| {}).await;
    let (token, cookie) = fresh_token(&app).await;

    // The page reuses a cookie that verifies, and sets none.
    let again = call(&app, with_cookie(TestRequest::get().uri("/form"), &cookie)).await;
    assert!(again.body.contains(&token));
    assert_eq!(again.cookie("_xsrf"), None);

    let body = format!("_xsrf={token}&name=bob");
    let sources: Vec<(&str, TestRequest)> = vec![
        ("form body", form(TestRequest::post().uri("/submit"), &body)),
        (
            "query",
            TestRequest::post().uri(&format!("/submit?_xsrf={token}")),
        ),
        (
            "X-Xsrftoken",
            TestRequest::post()
                .uri("/submit")
                .insert_header(("X-Xsrftoken", token.as_str())),
        ),
        (
            "X-Csrftoken",
            TestRequest::post()
                .uri("/submit")
                .insert_header(("X-Csrftoken", token.as_str())),
        ),
        (
            "_method=PUT",
            form(
                TestRequest::post().uri("/submit"),
                &format!("_method=PUT&_xsrf={token}"),
            ),
        ),
        (
            "PUT",
            TestRequest::put()
                .uri("/submit")
                .insert_header(("X-Xsrftoken", token.as_str())),
        ),
        (
            "DELETE",
            TestRequest::delete()
                .uri("/submit")
                .insert_header(("X-Xsrftoken", token.as_str())),
        ),
        (
            "PATCH",
            TestRequest::patch()
                .uri("/submit")
                .insert_header(("X-Xsrftoken", token.as_str())),
        ),
    ];
    for (what, req) in sources {
        let ok = call(&app, with_cookie(req, &cookie)).await;
        assert_eq!(ok.status, 200, "{what}: {}", ok.body);
        assert!(ok.body.starts_with("ok"), "{what}: {}", ok.body);
    }
    // The handler still reads the body the check read.
    let ok = call(
        &app,
        with_cookie(form(TestRequest::post().uri("/submit"), &body), &cookie),
    )
    .await;
    assert_eq!(ok.body, "ok bob");

    // Missing: 422; wrong: 417; on every checked method, POST with
    // _method=DELETE included.
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        let m = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap();
        let missing = call(
            &app,
            with_cookie(
                TestRequest::default().method(m.clone()).uri("/submit"),
                &cookie,
            ),
        )
        .await;
        assert_eq!(missing.status, 422, "{method}: {}", missing.body);
        assert!(
            missing.body.contains("'_xsrf' argument missing"),
            "{}",
            missing.body
        );
        let wrong = call(
            &app,
            with_cookie(
                TestRequest::default()
                    .method(m)
                    .uri("/submit")
                    .insert_header(("X-Xsrftoken", "x".repeat(32))),
                &cookie,
            ),
        )
        .await;
        assert_eq!(wrong.status, 417, "{method}: {}", wrong.body);
        assert!(wrong.body.contains("expected XSRF not found"));
    }
    let wrong = call(
        &app,
        with_cookie(
            form(
                TestRequest::post().uri("/submit"),
                "_method=DELETE&_xsrf=nope",
            ),
            &cookie,
        ),
    )
    .await;
    assert_eq!(wrong.status, 417);
    // An empty field counts as absent and the header is read.
    let ok = call(
        &app,
        with_cookie(
            form(TestRequest::post().uri("/submit"), "_xsrf=")
                .insert_header(("X-Xsrftoken", token.as_str())),
            &cookie,
        ),
    )
    .await;
    assert_eq!(ok.status, 200);

    // No cookie at all: the token sent cannot match a new one; the 417
    // carries the new cookie so that the next form works.
    let fresh = call(
        &app,
        TestRequest::post()
            .uri("/submit")
            .insert_header(("X-Xsrftoken", token.as_str())),
    )
    .await;
    assert_eq!(fresh.status, 417);
    assert!(fresh.cookie("_xsrf").is_some());

    // GET, HEAD and OPTIONS are not checked.
    let get = call(&app, TestRequest::get().uri("/token")).await;
    assert_eq!(get.status, 200);

    // A controller that opts out in prepare is not checked.
    let api = call(&app, TestRequest::post().uri("/api")).await;
    assert_eq!(api.status, 200, "{}", api.body);
}

#[actix_web::test]
async fn forged_truncated_and_foreign_cookies_are_replaced_never_trusted() {
    let dir = views();
    let app = app_with(dir.path(), |_| {}).await;
    let (token, cookie) = fresh_token(&app).await;
    let (vs, rest) = cookie.split_once('|').unwrap();
    let other_key = {
        let other = app_with(dir.path(), |c| {
            c.web_config.xsrf_key = "another key that is long enough to use".into();
        })
        .await;
        fresh_token(&other).await
    };
    let forged_value = format!("{}|{rest}", "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=");
    let bad = [
        ("forged value", forged_value),
        ("truncated", cookie[..cookie.len() - 2].to_owned()),
        ("no signature", format!("{vs}|1")),
        ("signed with another key", other_key.1.clone()),
        ("junk", "%%%".to_owned()),
    ];
    for (what, value) in bad {
        let page = call(&app, with_cookie(TestRequest::get().uri("/form"), &value)).await;
        assert_eq!(page.status, 200, "{what}");
        let new = page
            .cookie("_xsrf")
            .unwrap_or_else(|| panic!("{what}: not replaced"));
        assert_ne!(new, value, "{what}");
        let shown = between(&page.body, "<p id=\"token\">", "</p>").unwrap();
        assert_ne!(shown, token, "{what}");
        assert_ne!(shown, other_key.0, "{what}");
        // The token the bad cookie claims is refused with it.
        let claim = if what == "signed with another key" {
            other_key.0.as_str()
        } else {
            token.as_str()
        };
        let post = call(
            &app,
            with_cookie(
                TestRequest::post()
                    .uri("/submit")
                    .insert_header(("X-Xsrftoken", claim)),
                &value,
            ),
        )
        .await;
        assert_eq!(post.status, 417, "{what}");
    }
}

#[actix_web::test]
async fn the_cookie_is_secure_over_https_only_and_expires_as_configured() {
    let dir = views();
    let app = app_with(dir.path(), |c| {
        c.web_config.session.session_trust_proxy = true
    })
    .await;
    let plain = call(&app, TestRequest::get().uri("/form")).await;
    let line = plain.line("_xsrf");
    assert!(line.contains("HttpOnly"), "{line}");
    assert!(line.contains("SameSite=Lax"), "{line}");
    assert!(!line.contains("Secure"), "plain HTTP: {line}");
    assert!(
        !line.contains("Max-Age"),
        "a browser-session cookie: {line}"
    );
    let https = call(
        &app,
        TestRequest::get()
            .uri("/form")
            .insert_header(("X-Forwarded-Proto", "https")),
    )
    .await;
    assert!(
        https.line("_xsrf").contains("Secure"),
        "{}",
        https.line("_xsrf")
    );

    let always = app_with(dir.path(), |c| c.listen.enable_https = true).await;
    let page = call(&always, TestRequest::get().uri("/form")).await;
    assert!(page.line("_xsrf").contains("Secure"));

    // xsrfexpire: Max-Age, and a cookie older than that is replaced.
    let short = app_with(dir.path(), |c| c.web_config.xsrf_expire = 1).await;
    let (token, cookie) = fresh_token(&short).await;
    let first = call(&short, TestRequest::get().uri("/form")).await;
    assert!(
        first.line("_xsrf").contains("Max-Age=1"),
        "{}",
        first.line("_xsrf")
    );
    // The controller's own expiry (600 s) is in its cookie.
    let own = call(&short, TestRequest::get().uri("/token")).await;
    assert!(
        own.line("_xsrf").contains("Max-Age=600"),
        "{}",
        own.line("_xsrf")
    );
    let kept = call(
        &short,
        with_cookie(TestRequest::get().uri("/form"), &cookie),
    )
    .await;
    assert_eq!(kept.cookie("_xsrf"), None, "still fresh");
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let post = call(
        &short,
        with_cookie(
            TestRequest::post()
                .uri("/submit")
                .insert_header(("X-Xsrftoken", token.as_str())),
            &cookie,
        ),
    )
    .await;
    assert_eq!(post.status, 417, "an expired token is not trusted");
    assert!(post.cookie("_xsrf").is_some(), "and is replaced");
    // The controller with a longer expiry still trusts it.
    let own = call(
        &short,
        with_cookie(TestRequest::get().uri("/token"), &cookie),
    )
    .await;
    assert_eq!(own.body, token);
}

#[actix_web::test]
async fn keys_nobody_should_sign_with_stop_the_app() {
    let dir = views();
    let start = |tune: fn(&mut BConfig)| {
        let config = config(dir.path(), tune);
        async move { App::new(config).build().await.map(|_| ()) }
    };
    let refused = [
        (
            start(|c| c.web_config.xsrf_key = String::new()).await,
            XsrfKeyError::Empty,
        ),
        (
            start(|c| c.web_config.xsrf_key = "beegoxsrf".into()).await,
            XsrfKeyError::PublicDefault,
        ),
        (
            start(|c| c.web_config.xsrf_key = "short-key".into()).await,
            XsrfKeyError::Short { len: 9 },
        ),
        (
            start(|c| {
                c.run_mode = "dev".into();
                c.web_config.xsrf_key = String::new();
            })
            .await,
            XsrfKeyError::Empty,
        ),
    ];
    for (result, want) in refused {
        match result {
            Err(StartError::Xsrf(got)) => assert_eq!(got, want),
            other => panic!("expected {want:?}, got {other:?}"),
        }
    }
    for dev_ok in [
        start(|c| {
            c.run_mode = "dev".into();
            c.web_config.xsrf_key = "beegoxsrf".into();
        })
        .await,
        start(|c| {
            c.run_mode = "dev".into();
            c.web_config.xsrf_key = "short".into();
        })
        .await,
        start(|c| c.web_config.enable_xsrf = false).await,
    ] {
        dev_ok.unwrap();
    }
}

#[actix_web::test]
async fn tokens_cross_between_go_and_rust_both_ways() {
    let dir = views();
    let app = app_with(dir.path(), |_| {}).await;
    let go = FormPeer::start(KEY, &[]);

    // Minted by Go, accepted by the Rust route.
    let minted = go.call("GET", "/form", &[], "");
    assert_eq!(minted.status, 200);
    let go_cookie = minted.cookie("_xsrf").unwrap();
    let go_line = minted.cookie_line("_xsrf").unwrap();
    assert!(
        go_line.contains("Secure"),
        "beego always sets Secure: {go_line}"
    );
    let go_token = minted.body.clone();
    assert_eq!(go_token.len(), 32);
    let page = call(
        &app,
        with_cookie(TestRequest::get().uri("/form"), &go_cookie),
    )
    .await;
    assert_eq!(page.cookie("_xsrf"), None, "Go's cookie verified here");
    assert!(page.body.contains(&go_token));
    let post = call(
        &app,
        with_cookie(
            form(
                TestRequest::post().uri("/submit"),
                &format!("_xsrf={go_token}"),
            ),
            &go_cookie,
        ),
    )
    .await;
    assert_eq!(post.status, 200, "{}", post.body);

    // Minted by Rust, accepted by Go; Go answers 422 and 417 the same way.
    let (token, cookie) = fresh_token(&app).await;
    let jar = format!("_xsrf={cookie}");
    let ok = go.call(
        "POST",
        "/submit",
        &[
            ("Cookie", &jar),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &format!("_xsrf={token}"),
    );
    assert_eq!((ok.status, ok.body.as_str()), (200, "ok"));
    assert!(ok.cookie("_xsrf").is_none(), "Go kept our cookie");
    for (headers, want) in [
        (vec![("Cookie", jar.as_str())], 422),
        (
            vec![("Cookie", jar.as_str()), ("X-Xsrftoken", "wrong")],
            417,
        ),
        (
            vec![("Cookie", jar.as_str()), ("X-Csrftoken", token.as_str())],
            200,
        ),
    ] {
        let got = go.call("POST", "/submit", &headers, "");
        assert_eq!(got.status, want, "{headers:?}: {}", got.body);
        let ours = call(&app, {
            let mut req = TestRequest::post().uri("/submit");
            for (k, v) in &headers {
                req = req.insert_header((*k, *v));
            }
            req
        })
        .await;
        assert_eq!(
            ours.status.as_u16(),
            want,
            "the Rust app agrees on {headers:?}"
        );
    }

    // A Go peer with another key refuses our token, and we refuse its.
    let stranger = FormPeer::start("another shared key, also 32 bytes long", &[]);
    let refused = stranger.call(
        "POST",
        "/submit",
        &[("Cookie", &jar), ("X-Xsrftoken", &token)],
        "",
    );
    assert_eq!(refused.status, 417);
}

#[actix_web::test]
async fn flash_messages_cross_between_go_and_rust_both_ways() {
    let dir = views();
    let app = app_with(dir.path(), |_| {}).await;
    let go = FormPeer::start(KEY, &[]);

    // Stored by Go, shown (escaped) by the Rust page, then gone.
    let stored = go.call(
        "GET",
        "/flash/set?key=notice&msg=%3Cb%3ESaved%3C%2Fb%3E+%26+done",
        &[],
        "",
    );
    let flash = stored.cookie("BEEGO_FLASH").unwrap();
    let jar = format!("BEEGO_FLASH={flash}");
    let page = call(
        &app,
        TestRequest::get()
            .uri("/form")
            .insert_header(("cookie", jar.as_str())),
    )
    .await;
    assert_eq!(
        between(&page.body, "<p id=\"flash\">", "</p>"),
        Some("&lt;b&gt;Saved&lt;/b&gt; &amp; done"),
        "{}",
        page.body
    );
    let cleared = page.line("BEEGO_FLASH");
    assert!(cleared.contains("Max-Age=0"), "read once: {cleared}");

    // Stored by Rust, shown by Go.
    let set = call(&app, TestRequest::get().uri("/flash?msg=Logged+in+as+bob")).await;
    assert_eq!(set.status, 303);
    let ours = set.cookie("BEEGO_FLASH").unwrap();
    let shown = go.call(
        "GET",
        "/flash/show",
        &[("Cookie", &format!("BEEGO_FLASH={ours}"))],
        "",
    );
    let messages: serde_json::Value = serde_json::from_str(&shown.body).unwrap();
    assert_eq!(
        messages,
        serde_json::json!({"notice": "Logged in as bob", "custom": "kept"})
    );
    // And by the Rust page.
    let page = call(
        &app,
        TestRequest::get()
            .uri("/form")
            .insert_header(("cookie", format!("BEEGO_FLASH={ours}"))),
    )
    .await;
    assert!(
        page.body.contains("<p id=\"flash\">Logged in as bob</p>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("<p id=\"custom\">kept</p>"));

    // Another flashseparator on both sides.
    let go2 = FormPeer::start(KEY, &["-flashname", "MSG", "-sep", "SEP"]);
    let app2 = app_with(dir.path(), |c| {
        c.web_config.flash_name = "MSG".into();
        c.web_config.flash_separator = "SEP".into();
    })
    .await;
    let stored = go2.call(
        "GET",
        "/flash/set?key=notice&msg=hi&key2=custom&msg2=there",
        &[],
        "",
    );
    let value = stored.cookie("MSG").unwrap();
    let page = call(
        &app2,
        TestRequest::get()
            .uri("/form")
            .insert_header(("cookie", format!("MSG={value}"))),
    )
    .await;
    assert!(
        page.body.contains("<p id=\"flash\">hi</p>"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("<p id=\"custom\">there</p>"),
        "{}",
        page.body
    );
}

#[actix_web::test]
async fn malformed_or_huge_flash_cookies_are_dropped_never_an_error() {
    let dir = views();
    let app = app_with(dir.path(), |_| {}).await;
    for bad in [
        "%zz",
        "%00notice",
        &"A".repeat(5000),
        "%ff%fe%00k%23BEEGOFLASH%23v%00",
    ] {
        let page = call(
            &app,
            TestRequest::get()
                .uri("/form")
                .insert_header(("cookie", format!("BEEGO_FLASH={bad}"))),
        )
        .await;
        assert_eq!(page.status, 200, "{bad:.20}");
        assert!(
            !page.body.contains("id=\"flash\""),
            "{bad:.20}: {}",
            page.body
        );
        assert!(
            page.line("BEEGO_FLASH").contains("Max-Age=0"),
            "{bad:.20}: dropped"
        );
    }
    // A message too long for a cookie is not stored (and logged).
    let long = "x".repeat(5000);
    let set = call(&app, TestRequest::get().uri(&format!("/flash?msg={long}"))).await;
    assert_eq!(set.status, 303);
    assert_eq!(set.cookie("BEEGO_FLASH"), None);
    // A redirect that shows nothing leaves an incoming flash for the next page.
    let set = call(&app, TestRequest::get().uri("/flash?msg=one")).await;
    let value = set.cookie("BEEGO_FLASH").unwrap();
    let through = call(
        &app,
        TestRequest::post()
            .uri("/api")
            .insert_header(("cookie", format!("BEEGO_FLASH={value}"))),
    )
    .await;
    assert_eq!(through.status, 200);
    assert_eq!(
        through.cookie("BEEGO_FLASH"),
        None,
        "not shown, not cleared"
    );
}

async fn plain_form(xsrf: Xsrf) -> HttpResponse {
    HttpResponse::Ok().body(format!("{}\n{}", xsrf.token(), xsrf.form_html()))
}

async fn plain_save(body: web::Form<Vec<(String, String)>>) -> HttpResponse {
    let name = body
        .iter()
        .find(|(k, _)| k == "name")
        .map_or("", |(_, v)| v.as_str());
    HttpResponse::Ok().body(format!("saved {name}"))
}

#[actix_web::test]
async fn plain_handlers_get_the_same_rules_through_the_middleware() {
    let xsrf = XsrfConfig::new(KEY.as_bytes()).unwrap();
    let app = test::init_service(
        actix_web::App::new()
            .wrap(XsrfMiddleware::new(xsrf.clone()).form_limit(1024))
            .route("/form", web::get().to(plain_form))
            .route("/save", web::post().to(plain_save))
            .route("/save", web::put().to(plain_save)),
    )
    .await;
    let page = call(&app, TestRequest::get().uri("/form")).await;
    let (token, field) = page.body.split_once('\n').unwrap();
    assert_eq!(
        field,
        format!(r#"<input type="hidden" name="_xsrf" value="{token}" />"#)
    );
    let cookie = page.cookie("_xsrf").unwrap();
    assert!(!page.line("_xsrf").contains("Secure"));
    assert!(page.line("_xsrf").contains("HttpOnly"));

    let body = format!("name=ann&_xsrf={token}");
    let ok = call(
        &app,
        with_cookie(form(TestRequest::post().uri("/save"), &body), &cookie),
    )
    .await;
    assert_eq!((ok.status.as_u16(), ok.body.as_str()), (200, "saved ann"));
    for req in [
        TestRequest::post().uri(&format!("/save?_xsrf={token}")),
        TestRequest::post()
            .uri("/save")
            .insert_header(("X-Xsrftoken", token)),
        TestRequest::put()
            .uri("/save")
            .insert_header(("X-Csrftoken", token)),
    ] {
        let ok = call(&app, with_cookie(form(req, "name=ann"), &cookie)).await;
        assert_eq!(ok.status, 200, "{}", ok.body);
    }
    let missing = call(
        &app,
        with_cookie(form(TestRequest::post().uri("/save"), "name=ann"), &cookie),
    )
    .await;
    assert_eq!(missing.status, 422);
    let wrong = call(
        &app,
        with_cookie(
            form(TestRequest::post().uri("/save"), "_xsrf=nope"),
            &cookie,
        ),
    )
    .await;
    assert_eq!(wrong.status, 417);
    let huge = format!("_xsrf={token}&pad={}", "x".repeat(2000));
    let big = call(
        &app,
        with_cookie(form(TestRequest::post().uri("/save"), &huge), &cookie),
    )
    .await;
    assert_eq!(big.status, 413);

    // The same cookie and token work on a controller app with the same key.
    let dir = views();
    let controllers = app_with(dir.path(), |_| {}).await;
    let ok = call(
        &controllers,
        with_cookie(
            TestRequest::post()
                .uri("/submit")
                .insert_header(("X-Xsrftoken", token)),
            &cookie,
        ),
    )
    .await;
    assert_eq!(ok.status, 200);

    // The extractor without the middleware is a 500, not a panic.
    let bare =
        test::init_service(actix_web::App::new().route("/form", web::get().to(plain_form))).await;
    let res = call(&bare, TestRequest::get().uri("/form")).await;
    assert_eq!(res.status, 500);
}

#[actix_web::test]
async fn a_page_that_shows_no_token_mints_none() {
    let dir = views();
    let app = app_with(dir.path(), |_| {}).await;
    let plain = call(&app, TestRequest::get().uri("/plain")).await;
    assert_eq!(plain.status, 200, "{}", plain.body);
    assert_eq!(plain.cookie("_xsrf"), None, "{:?}", plain.set_cookies);
    // Inside a layout that includes the form, it does.
    let layout = call(&app, TestRequest::get().uri("/layout")).await;
    assert_eq!(layout.status, 200, "{}", layout.body);
    let token = layout
        .cookie("_xsrf")
        .expect("the included form needs a token");
    assert!(layout.body.contains("name=\"_xsrf\""), "{}", layout.body);
    assert!(!token.is_empty());
}
