//! The session lifecycle at the HTTP level: lazy start, regenerate, destroy
//! (cookie and header mode), no save on 5xx, release before the head,
//! sessions off, templates.

#![allow(clippy::unwrap_used, clippy::panic)]

#[path = "support/web.rs"]
mod common;

use actix_bee::session::{Manager, Session};
use actix_bee::web::{App, SessionMiddleware};
use actix_web::http::header;
use actix_web::test::{self, TestRequest};
use actix_web::web;

use common::{
    body, config, is_minted_id, probe_app, read, session_cookie, set_cookie_lines, set_cookies,
};

fn with_cookie(uri: &str, id: &str) -> actix_http::Request {
    TestRequest::get()
        .uri(uri)
        .insert_header((header::COOKIE, format!("beegosessionID={id}")))
        .to_request()
}

#[actix_web::test]
async fn a_read_only_request_creates_nothing_and_sends_no_cookie() {
    let (app, manager) = probe_app(config(|_| {})).await;
    let manager = manager.unwrap();
    for uri in ["/get", "/destroy", "/page?num=1"] {
        let res = test::call_service(&app, TestRequest::get().uri(uri).to_request()).await;
        assert!(res.status().is_success(), "{uri}");
        assert!(set_cookies(&res).is_empty(), "{uri}");
        assert!(res.headers().get(header::CACHE_CONTROL).is_none(), "{uri}");
    }
    // A well-formed id the server never issued is not adopted either.
    let unknown = "0123456789abcdef0123456789abcdef01234567";
    let res = test::call_service(&app, with_cookie("/get", unknown)).await;
    assert!(set_cookies(&res).is_empty());
    assert_eq!(manager.get_active_session().await.unwrap(), 0);
    let res = test::call_service(&app, with_cookie("/set", unknown)).await;
    assert_ne!(session_cookie(&res), unknown);
    assert_eq!(manager.get_active_session().await.unwrap(), 1);
}

#[actix_web::test]
async fn regenerate_sends_exactly_one_cookie_with_the_new_id() {
    let (app, manager) = probe_app(config(|c| {
        c.web_config.session.session_domain = "example.com".into();
        c.web_config.session.session_cookie_lifetime = 60;
    }))
    .await;
    let res = test::call_service(&app, TestRequest::get().uri("/set?v=kept").to_request()).await;
    let old = session_cookie(&res);
    let res = test::call_service(&app, with_cookie("/regen", &old)).await;
    assert_eq!(
        res.headers().get(header::CACHE_CONTROL).unwrap(),
        "no-store"
    );
    let lines = set_cookie_lines(&res);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let cookie = &set_cookies(&res)[0];
    assert!(is_minted_id(cookie.value()));
    assert_ne!(cookie.value(), old);
    for part in [
        "HttpOnly",
        "SameSite=Lax",
        "Path=/",
        "Domain=example.com",
        "Max-Age=60",
        "Expires=",
    ] {
        assert!(lines[0].contains(part), "{} lacks {part}", lines[0]);
    }
    let new = cookie.value().to_owned();
    assert_eq!(read(&app, with_cookie("/get", &new)).await, "kept");
    assert_eq!(read(&app, with_cookie("/get", &old)).await, "none");
    assert_eq!(manager.unwrap().get_active_session().await.unwrap(), 1);
}

#[actix_web::test]
async fn header_mode_regenerate_and_destroy_act_on_the_header_id() {
    let (app, manager) = probe_app(config(|c| {
        c.web_config.session.session_enable_sid_in_http_header = true;
    }))
    .await;
    let manager = manager.unwrap();
    let by_header = |uri: &str, id: &str| {
        TestRequest::get()
            .uri(uri)
            .insert_header(("Beegosessionid", id.to_owned()))
            .to_request()
    };
    let res = test::call_service(&app, TestRequest::get().uri("/set?v=h").to_request()).await;
    let old = res
        .headers()
        .get("Beegosessionid")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(is_minted_id(&old));

    let res = test::call_service(&app, by_header("/regen", &old)).await;
    let new = res
        .headers()
        .get("Beegosessionid")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(is_minted_id(&new));
    assert_ne!(new, old);
    assert_eq!(read(&app, by_header("/get", &old)).await, "none");
    assert_eq!(read(&app, by_header("/get", &new)).await, "h");
    assert_eq!(manager.get_active_session().await.unwrap(), 1);

    let res = test::call_service(&app, by_header("/destroy", &new)).await;
    assert!(res.status().is_success());
    assert_eq!(manager.get_active_session().await.unwrap(), 0);
    assert_eq!(read(&app, by_header("/get", &new)).await, "none");
}

#[actix_web::test]
async fn destroy_removes_the_server_record() {
    let (app, manager) = probe_app(config(|_| {})).await;
    let manager = manager.unwrap();
    let id = session_cookie(
        &test::call_service(&app, TestRequest::get().uri("/set").to_request()).await,
    );
    assert_eq!(manager.get_active_session().await.unwrap(), 1);
    let res = test::call_service(&app, with_cookie("/destroy", &id)).await;
    assert_eq!(session_cookie(&res), "");
    assert_eq!(manager.get_active_session().await.unwrap(), 0);
    assert_eq!(read(&app, with_cookie("/get", &id)).await, "none");
}

#[actix_web::test]
async fn a_5xx_response_saves_nothing() {
    let (app, manager) = probe_app(config(|_| {})).await;
    let manager = manager.unwrap();
    let res = test::call_service(&app, TestRequest::get().uri("/fail").to_request()).await;
    assert_eq!(res.status(), 500);
    assert!(set_cookies(&res).is_empty());
    assert_eq!(manager.get_active_session().await.unwrap(), 0);

    let id = session_cookie(
        &test::call_service(&app, TestRequest::get().uri("/set?v=before").to_request()).await,
    );
    let res = test::call_service(&app, with_cookie("/fail", &id)).await;
    assert_eq!(res.status(), 500);
    assert!(set_cookies(&res).is_empty());
    assert_eq!(read(&app, with_cookie("/get", &id)).await, "before");
}

#[actix_web::test]
async fn a_streaming_response_carries_the_cookie() {
    let (app, manager) = probe_app(config(|_| {})).await;
    let res = test::call_service(&app, TestRequest::get().uri("/stream").to_request()).await;
    let id = session_cookie(&res);
    assert_eq!(body(res).await, "one two three");
    assert_eq!(manager.unwrap().get_active_session().await.unwrap(), 1);
    assert_eq!(read(&app, with_cookie("/get", &id)).await, "streamed");
}

/// On a real socket: the head the client reads already has the cookie,
/// before the streamed body.
#[actix_web::test]
async fn release_happens_before_the_head_on_the_wire() {
    let mut app = App::new(config(|_| {}));
    app.router("/stream", common::Stream);
    let raw = common::raw_exchange(
        app,
        vec!["GET /stream HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".to_owned()],
    )
    .await
    .remove(0);
    let (head, rest) = raw.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let head = head.to_ascii_lowercase();
    assert!(head.contains("set-cookie: beegosessionid="), "{head}");
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    assert!(head.contains("cache-control: no-store"), "{head}");
    assert!(rest.contains("three"), "{rest}");
}

#[actix_web::test]
async fn controller_session_methods_say_sessions_are_off() {
    let (app, manager) = probe_app(config(|c| c.web_config.session.session_on = false)).await;
    assert!(manager.is_none());
    let res = test::call_service(&app, TestRequest::get().uri("/probe").to_request()).await;
    assert_eq!(res.status(), 200);
    assert!(set_cookies(&res).is_empty());
    let text = body(res).await;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "{text}");
    assert!(lines
        .iter()
        .all(|l| *l == "sessions are off: set sessionon = true"));
    // A controller that lets the error through answers a fixed 500.
    let res = test::call_service(&app, TestRequest::get().uri("/set").to_request()).await;
    assert_eq!(res.status(), 500);
    assert_eq!(body(res).await, "Internal Server Error");
}

#[actix_web::test]
async fn the_extractor_without_middleware_is_a_fixed_500() {
    let app = test::init_service(actix_web::App::new().route(
        "/",
        web::get().to(|s: Session| async move { s.get::<i64>("k").await.map(|_| "ok") }),
    ))
    .await;
    let res = test::call_service(&app, TestRequest::get().uri("/").to_request()).await;
    assert_eq!(res.status(), 500);
    let text = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert_eq!(text, "Internal Server Error");
}

#[actix_web::test]
async fn the_middleware_and_extractor_work_in_any_actix_app() {
    let manager = Manager::new("memory", Default::default()).await.unwrap();
    let app = test::init_service(
        actix_web::App::new()
            .wrap(SessionMiddleware::new(manager.clone()))
            .route(
                "/",
                web::get().to(|s: Session| async move {
                    let n = s.get::<i64>("n").await?.unwrap_or(0);
                    s.set("n", &(n + 1)).await?;
                    Ok::<_, actix_bee::session::Error>(n.to_string())
                }),
            ),
    )
    .await;
    let res = test::call_service(&app, TestRequest::get().uri("/").to_request()).await;
    let id = session_cookie(&res);
    let res = test::call_service(&app, with_cookie("/", &id)).await;
    assert_eq!(test::read_body(res).await, "1");
    assert_eq!(manager.get_active_session().await.unwrap(), 1);
}

#[actix_web::test]
async fn templates_are_html_escaped_and_a_missing_one_is_a_fixed_500() {
    let (app, _) = probe_app(config(|_| {})).await;
    let res = test::call_service(
        &app,
        TestRequest::get()
            .uri("/page?num=%3Cscript%3Ex%3C%2Fscript%3E")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers().get(header::CONTENT_TYPE).unwrap(),
        "text/html; charset=utf-8"
    );
    let html = body(res).await;
    assert!(
        html.contains("<p id=\"num\">&lt;script&gt;x&lt;/script&gt;</p>"),
        "{html}"
    );

    let res = test::call_service(&app, TestRequest::get().uri("/missing").to_request()).await;
    assert_eq!(res.status(), 500);
    assert_eq!(body(res).await, "Internal Server Error");
}

/// In the dev run mode, as in beego, the error page says what went wrong;
/// in any other mode it says nothing but the status.
#[actix_web::test]
async fn in_dev_mode_a_template_error_is_shown_on_the_page() {
    let (app, _) = probe_app(config(|c| c.run_mode = "dev".into())).await;
    let res = test::call_service(&app, TestRequest::get().uri("/missing").to_request()).await;
    assert_eq!(res.status(), 500);
    let page = body(res).await;
    assert!(page.starts_with("Internal Server Error"), "{page}");
    assert!(page.contains("no-such-template.tpl"), "{page}");
    assert!(page.contains("not found"), "{page}");
}

#[actix_web::test]
async fn unimplemented_methods_are_405() {
    let (app, _) = probe_app(config(|_| {})).await;
    let res = test::call_service(&app, TestRequest::post().uri("/get").to_request()).await;
    assert_eq!(res.status(), 405);
    let res = test::call_service(&app, TestRequest::delete().uri("/set").to_request()).await;
    assert_eq!(res.status(), 405);
}

/// A regenerate that happened before the handler failed still reaches the
/// client: the old id is dead on the server, so the client must not keep
/// it. The failed request's own changes are not saved.
#[actix_web::test]
async fn a_5xx_still_sends_the_id_of_a_completed_regenerate() {
    let (app, _) = probe_app(config(|_| {})).await;
    let res = test::call_service(&app, TestRequest::get().uri("/set?v=before").to_request()).await;
    let old = session_cookie(&res);
    let res = test::call_service(&app, with_cookie("/regenfail", &old)).await;
    assert_eq!(res.status(), 500);
    let new = session_cookie(&res);
    assert!(is_minted_id(&new));
    assert_ne!(new, old);
    // The move happened: the new id holds the saved data, the old one none.
    assert_eq!(read(&app, with_cookie("/get", &new)).await, "before");
    assert_eq!(read(&app, with_cookie("/get", &old)).await, "none");
}

/// A destroy that happened before the handler failed still clears the
/// cookie, on the memory engine and on the cookie engine, where the cookie
/// is the session: a failed logout must not leave the user logged in.
#[actix_web::test]
async fn a_5xx_still_clears_the_cookie_of_a_completed_destroy() {
    let key = "0123456789abcdef".repeat(8);
    for (engine, provider_config) in [
        ("memory", String::new()),
        (
            "cookie",
            format!(r#"{{"securityKey":"{key}","cookieName":"beegosessionID"}}"#),
        ),
    ] {
        let (app, _) = probe_app(config(|c| {
            c.web_config.session.session_provider = engine.into();
            c.web_config.session.session_provider_config = provider_config.clone();
        }))
        .await;
        let res =
            test::call_service(&app, TestRequest::get().uri("/set?v=user").to_request()).await;
        let id = session_cookie(&res);
        assert_eq!(
            read(&app, with_cookie("/get", &id)).await,
            "user",
            "{engine}"
        );
        let res = test::call_service(&app, with_cookie("/destroyfail", &id)).await;
        assert_eq!(res.status(), 500, "{engine}");
        let cookies = set_cookies(&res);
        assert_eq!(cookies.len(), 1, "{engine}: {cookies:?}");
        assert_eq!(cookies[0].value(), "", "{engine}: not a removal cookie");
        assert_eq!(
            cookies[0].max_age(),
            Some(actix_web::cookie::time::Duration::ZERO),
            "{engine}"
        );
    }
}

/// A handler that fails after only writing sends no cookie for a session
/// that was never created.
#[actix_web::test]
async fn a_5xx_on_a_new_session_sends_nothing() {
    let (app, manager) = probe_app(config(|_| {})).await;
    let res = test::call_service(&app, TestRequest::get().uri("/regenfail").to_request()).await;
    assert_eq!(res.status(), 500);
    assert!(set_cookies(&res).is_empty());
    assert_eq!(manager.unwrap().get_active_session().await.unwrap(), 0);
}
