//! beego's view layer through the app: parse at start, dev reload, the
//! automatic template name, layouts, trusted HTML, AddFuncMap and urlfor,
//! and the minijinja option.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use actix_bee::config::BConfig;
use actix_bee::web::gotmpl::Value as GoValue;
use actix_bee::web::{async_trait, App, Context, Controller, HandlerResult, StartError};
use actix_web::test;

struct MainController;
struct PageController;
struct UserController;

#[async_trait(?Send)]
impl Controller for MainController {
    async fn get(&self, ctx: &mut Context) -> HandlerResult {
        // No tpl_name: autorender picks main/get.<tpl_ext>.
        ctx.data.insert("num".into(), 3.into());
        if let Some(ext) = ctx.input("ext") {
            ctx.tpl_ext = ext.to_owned();
        }
        Ok(())
    }
}

#[async_trait(?Send)]
impl Controller for PageController {
    async fn get(&self, ctx: &mut Context) -> HandlerResult {
        ctx.data.insert("msg".into(), "<hi>".into());
        ctx.data.insert("ratio".into(), 3.0.into());
        ctx.set_html(
            "xsrfdata",
            r#"<input type="hidden" name="_xsrf" value="t">"#,
        );
        ctx.tpl_name = "page.tpl".into();
        if ctx.input("layout").is_some() {
            ctx.layout = "layout.tpl".into();
            ctx.layout_sections
                .insert("Scripts".into(), "scripts.tpl".into());
        }
        Ok(())
    }
}

#[async_trait(?Send)]
impl Controller for UserController {
    async fn get(&self, _ctx: &mut Context) -> HandlerResult {
        Ok(())
    }
}

fn app(views: &Path, edit: impl FnOnce(&mut BConfig)) -> App {
    let mut cfg = BConfig::default();
    cfg.web_config.views_path = views.display().to_string();
    edit(&mut cfg);
    let mut app = App::new(cfg);
    app.router("/", MainController)
        .router("/page", PageController)
        .router("/user/{id}", UserController);
    app
}

async fn get(app: &App, uri: &str) -> (u16, String) {
    let state = app.build().await.unwrap();
    let service = test::init_service(state.app()).await;
    let res = test::call_service(&service, test::TestRequest::get().uri(uri).to_request()).await;
    let status = res.status().as_u16();
    let body = test::read_body(res).await;
    (status, String::from_utf8(body.to_vec()).unwrap())
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[actix_web::test]
async fn start_up_fails_on_a_template_that_does_not_parse() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ok.tpl", "{{.x}}");
    write(dir.path(), "admin/bad.tpl", "<p>\n{{.x | }}\n");
    let err = app(dir.path(), |_| {}).build().await.unwrap_err();
    assert!(matches!(err, StartError::Template(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("admin/bad.tpl:2:"), "{text}");
}

#[actix_web::test]
async fn autorender_names_the_template_after_controller_and_method() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main/get.tpl", "<p>{{.num}}</p>");
    assert_eq!(
        get(&app(dir.path(), |_| {}), "/").await,
        (200, "<p>3</p>".into())
    );
    // No user/get.tpl: an empty page, as before the automatic name.
    assert_eq!(
        get(&app(dir.path(), |_| {}), "/user/1").await,
        (200, String::new())
    );
}

#[actix_web::test]
async fn layout_sections_and_trusted_html() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "page.tpl",
        "<p>{{.msg}} {{.ratio}}</p><form>{{.xsrfdata}}</form>",
    );
    write(
        dir.path(),
        "layout.tpl",
        "<main>{{.LayoutContent}}</main>{{.Scripts}}",
    );
    write(
        dir.path(),
        "scripts.tpl",
        "<script>var m = {{.msg}};</script>",
    );
    let page = r#"<p>&lt;hi&gt; 3</p><form><input type="hidden" name="_xsrf" value="t"></form>"#;
    assert_eq!(
        get(&app(dir.path(), |_| {}), "/page").await,
        (200, page.into())
    );
    let (status, html) = get(&app(dir.path(), |_| {}), "/page?layout=1").await;
    assert_eq!(status, 200);
    assert_eq!(
        html,
        format!(r#"<main>{page}</main><script>var m = "\u003chi\u003e";</script>"#)
    );
}

#[actix_web::test]
async fn dev_mode_rereads_a_changed_template_and_prod_does_not() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "page.tpl", "v1");
    let dev = app(dir.path(), |c| c.run_mode = "dev".into());
    let prod = app(dir.path(), |_| {});
    let dev_state = dev.build().await.unwrap();
    let prod_state = prod.build().await.unwrap();
    let dev_app = test::init_service(dev_state.app()).await;
    let prod_app = test::init_service(prod_state.app()).await;
    let call = |uri: &'static str| test::TestRequest::get().uri(uri).to_request();
    let body = |res| async move { String::from_utf8(test::read_body(res).await.to_vec()).unwrap() };
    assert_eq!(
        body(test::call_service(&dev_app, call("/page")).await).await,
        "v1"
    );
    assert_eq!(
        body(test::call_service(&prod_app, call("/page")).await).await,
        "v1"
    );
    write(dir.path(), "page.tpl", "version 2");
    assert_eq!(
        body(test::call_service(&dev_app, call("/page")).await).await,
        "version 2"
    );
    assert_eq!(
        body(test::call_service(&prod_app, call("/page")).await).await,
        "v1"
    );
    // A change that does not parse: the dev page names the file and line.
    write(dir.path(), "page.tpl", "a\n{{if}}");
    let res = test::call_service(&dev_app, call("/page")).await;
    assert_eq!(res.status(), 500);
    let page = body(res).await;
    assert!(page.contains("page.tpl:2:"), "{page}");
}

#[actix_web::test]
async fn add_func_map_and_urlfor_reach_the_templates() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "page.tpl",
        r#"{{shout .msg}} {{urlfor "UserController.Get" ":id" 5 "tab" "a b"}} {{config "String" "appname" "x"}}"#,
    );
    let mut app = app(dir.path(), |c| c.app_name = "views".into());
    app.add_func_map("shout", |args| {
        let s = args.first().and_then(GoValue::as_str).unwrap_or_default();
        Ok(GoValue::String(s.to_uppercase().into()))
    });
    assert_eq!(
        get(&app, "/page").await,
        (200, "&lt;HI&gt; /user/5?tab=a&#43;b views".into())
    );
}

#[actix_web::test]
async fn custom_delimiters_from_the_config() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "page.tpl", "<<.msg>> {{.msg}}");
    let app = app(dir.path(), |c| {
        c.web_config.template_left = "<<".into();
        c.web_config.template_right = ">>".into();
    });
    assert_eq!(
        get(&app, "/page").await,
        (200, "&lt;hi&gt; {{.msg}}".into())
    );
}

#[actix_web::test]
async fn templateengine_jinja_renders_minijinja_syntax() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "page.tpl", "<p>{{ msg }}</p>{{ xsrfdata }}");
    let app = app(dir.path(), |c| {
        c.web_config.template_engine = "jinja".into()
    });
    assert_eq!(
        get(&app, "/page").await,
        (
            200,
            r#"<p>&lt;hi&gt;</p><input type="hidden" name="_xsrf" value="t">"#.into()
        )
    );
    let bad = app_with_engine(dir.path(), "php")
        .build()
        .await
        .unwrap_err();
    assert!(
        bad.to_string()
            .contains("templateengine \"php\" is unknown"),
        "{bad}"
    );
}

fn app_with_engine(dir: &Path, engine: &str) -> App {
    app(dir, |c| c.web_config.template_engine = engine.into())
}

struct GobController;

#[async_trait(?Send)]
impl Controller for GobController {
    async fn get(&self, ctx: &mut Context) -> HandlerResult {
        if ctx.input("set").is_some() {
            ctx.set_session_gob("level", actix_bee::gob::Value::int32(3))
                .await?;
            ctx.set_session("num", &3i64).await?;
            ctx.set_session("ratio", &3.0f64).await?;
            ctx.set_session("half", &2.5f64).await?;
            ctx.write_body("set");
            return Ok(());
        }
        for key in ["level", "num", "ratio", "half"] {
            let value = ctx.get_session::<serde_json::Value>(key).await?;
            ctx.data.insert(key.into(), value.unwrap_or_default());
        }
        ctx.tpl_name = "gob.tpl".into();
        Ok(())
    }
}

/// Values read from a session in beego's format print as Go prints their
/// Go types: an int32 or int as `3`, a float64 3.0 as `3`.
#[actix_web::test]
async fn beego_session_values_print_as_go_prints_them() {
    let views = tempfile::tempdir().unwrap();
    let store = tempfile::tempdir().unwrap();
    write(
        views.path(),
        "gob.tpl",
        "{{.level}} {{.num}} {{.ratio}} {{.half}} {{if eq .num 3}}eq{{end}}",
    );
    let mut cfg = BConfig::default();
    cfg.web_config.views_path = views.path().display().to_string();
    let session = &mut cfg.web_config.session;
    session.session_on = true;
    session.session_provider = "file".into();
    session.session_provider_config = store.path().display().to_string();
    session.session_store_format = "beego".into();
    session.session_hash_func = "none".into();
    let mut app = App::new(cfg);
    app.router("/gob", GobController);
    let state = app.build().await.unwrap();
    let service = test::init_service(state.app()).await;
    let res = test::call_service(
        &service,
        test::TestRequest::get().uri("/gob?set=1").to_request(),
    )
    .await;
    assert_eq!(res.status(), 200);
    let cookie = res
        .response()
        .cookies()
        .next()
        .expect("a session cookie")
        .into_owned();
    let req = test::TestRequest::get()
        .uri("/gob")
        .cookie(cookie)
        .to_request();
    let res = test::call_service(&service, req).await;
    assert_eq!(res.status(), 200);
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert_eq!(body, "3 3 3 2.5 eq");
}
