//! `Context`: what a controller method sees of its request, and what it
//! answers (beego's `Controller` fields and `Ctx`).

use std::cell::OnceCell;
use std::collections::BTreeMap;

use actix_web::http::{header, StatusCode};
use actix_web::web::Bytes;
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use super::error::fixed_response;
use super::extractor::SessionExt;
use super::flash::Flash;
use super::form_state::FormState;
use super::template::{RenderMode, Templates};
use crate::session::{Error, Session};

/// One request as a controller sees it: the request and its inputs, the
/// template data (`Data`), the template name (`TplName`), the response, and
/// beego's session methods.
///
/// After the method returns, the app answers with the response the method
/// set ([`Context::write_body`], [`Context::redirect`], ...), else with
/// `tpl_name` rendered from `data` (when `autorender` is on), else with an
/// empty 200.
///
/// # Examples
///
/// ```
/// # actix_rt::System::new().block_on(async {
/// use actix_bee::web::Context;
/// use actix_web::test::TestRequest;
///
/// let req = TestRequest::get().uri("/login?username=astaxie").to_http_request();
/// let mut ctx = Context::new(req, Default::default());
/// assert_eq!(ctx.input("username"), Some("astaxie"));
/// ctx.data.insert("num".into(), serde_json::json!(0));
/// ctx.tpl_name = "index.tpl".into();
/// // No session middleware ran: the session methods say so.
/// let err = ctx.set_session("asta", &1).await.unwrap_err();
/// assert_eq!(err.to_string(), "sessions are off: set sessionon = true");
/// # });
/// ```
#[derive(Debug)]
pub struct Context {
    /// Template data (beego's `c.Data`).
    pub data: Map<String, Value>,
    /// The template to render under `viewspath` (beego's `c.TplName`).
    /// Empty with `autorender` on: `<controller>/<method>.<tpl_ext>`
    /// (`main/get.tpl` for `MainController`'s GET) when that file exists.
    pub tpl_name: String,
    /// The extension of the automatic template name (beego's `c.TplExt`);
    /// empty means beego's default, `tpl`.
    pub tpl_ext: String,
    /// The layout around `tpl_name`, empty for none (beego's `c.Layout`):
    /// it sees `tpl_name`'s output as `.LayoutContent`.
    pub layout: String,
    /// Section name to template, each rendered with `data` into
    /// `.<name>` of the layout (beego's `c.LayoutSections`).
    pub layout_sections: BTreeMap<String, String>,
    /// Flash messages for the next page (beego's `FlashData`): stored in
    /// the flash cookie when the response goes out. See [`Flash`].
    pub flash: Flash,
    /// Whether this controller checks the XSRF token (beego's controller
    /// `EnableXSRF`): `true`; set it to `false` in
    /// [`prepare`](super::Controller::prepare) to opt out. It only matters
    /// with `enablexsrf = true`.
    pub enable_xsrf: bool,
    /// This controller's `_xsrf` cookie lifetime in seconds (beego's
    /// `XSRFExpire`); 0 uses `xsrfexpire`. Set it in `prepare`.
    pub xsrf_expire: i64,
    pub(super) forms: FormState,
    trusted: BTreeMap<String, String>,
    controller: &'static str,
    req: HttpRequest,
    body: Bytes,
    query: OnceCell<Vec<(String, String)>>,
    form: OnceCell<Vec<(String, String)>>,
    session: Option<Session>,
    response: Option<HttpResponse>,
}

impl Context {
    /// The context of `req`, whose body was `body`.
    ///
    /// # Examples
    ///
    /// See [`Context`].
    pub fn new(req: HttpRequest, body: Bytes) -> Context {
        let session = req.get_session().ok();
        Context {
            data: Map::new(),
            tpl_name: String::new(),
            tpl_ext: String::new(),
            layout: String::new(),
            layout_sections: BTreeMap::new(),
            flash: Flash::default(),
            enable_xsrf: true,
            xsrf_expire: 0,
            forms: FormState::default(),
            trusted: BTreeMap::new(),
            controller: "",
            req,
            body,
            query: OnceCell::new(),
            form: OnceCell::new(),
            session,
            response: None,
        }
    }

    /// Sets the template value `key` to `html`, trusted: the templates
    /// print it as is (Go's `template.HTML`, as beego's `xsrfdata`). It
    /// replaces a `data` value of the same name.
    ///
    /// # Examples
    ///
    /// ```
    /// # let req = actix_web::test::TestRequest::get().to_http_request();
    /// let mut ctx = actix_bee::web::Context::new(req, Default::default());
    /// ctx.set_html("notice", "<b>saved</b>");
    /// assert_eq!(ctx.html("notice"), Some("<b>saved</b>"));
    /// ```
    pub fn set_html(&mut self, key: impl Into<String>, html: impl Into<String>) {
        let key = key.into();
        self.data.remove(&key);
        self.trusted.insert(key, html.into());
    }

    /// The trusted HTML value `key`, set with [`Context::set_html`].
    ///
    /// # Examples
    ///
    /// See [`Context::set_html`].
    pub fn html(&self, key: &str) -> Option<&str> {
        self.trusted.get(key).map(String::as_str)
    }

    /// Names the controller type serving the request, for the automatic
    /// template name.
    pub(crate) fn set_controller(&mut self, name: &'static str) {
        self.controller = name;
    }

    /// The template `autorender` renders: `tpl_name`, else beego's
    /// `<controller>/<method>.<tpl_ext>` when that file exists.
    fn template_name(&self, templates: &Templates) -> Option<std::borrow::Cow<'_, str>> {
        if !self.tpl_name.is_empty() {
            return Some(self.tpl_name.as_str().into());
        }
        if self.controller.is_empty() {
            return None;
        }
        let controller = self
            .controller
            .strip_suffix("Controller")
            .unwrap_or(self.controller);
        let ext = if self.tpl_ext.is_empty() {
            "tpl"
        } else {
            self.tpl_ext.as_str()
        };
        let name = format!(
            "{}/{}.{ext}",
            controller.to_lowercase(),
            self.req.method().as_str().to_lowercase(),
        );
        templates.contains(&name).then_some(name.into())
    }

    /// The request.
    ///
    /// # Examples
    ///
    /// ```
    /// # let req = actix_web::test::TestRequest::get().uri("/x").to_http_request();
    /// let ctx = actix_bee::web::Context::new(req, Default::default());
    /// assert_eq!(ctx.request().path(), "/x");
    /// ```
    pub fn request(&self) -> &HttpRequest {
        &self.req
    }

    /// The raw request body.
    ///
    /// # Examples
    ///
    /// ```
    /// # let req = actix_web::test::TestRequest::get().to_http_request();
    /// let ctx = actix_bee::web::Context::new(req, "hi".into());
    /// assert_eq!(&ctx.body()[..], b"hi");
    /// ```
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// A form value: the url-encoded body first, then the query string, as
    /// Go's `FormValue` (beego's `GetString`) looks them up.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_web::test::TestRequest;
    ///
    /// let req = TestRequest::post()
    ///     .uri("/?username=query&page=2")
    ///     .insert_header(("content-type", "application/x-www-form-urlencoded"))
    ///     .to_http_request();
    /// let ctx = actix_bee::web::Context::new(req, "username=body".into());
    /// assert_eq!(ctx.input("username"), Some("body"));
    /// assert_eq!(ctx.input("page"), Some("2"));
    /// assert_eq!(ctx.input("none"), None);
    /// ```
    pub fn input(&self, key: &str) -> Option<&str> {
        let form = self.form.get_or_init(|| {
            let is_form = self.req.content_type() == "application/x-www-form-urlencoded";
            if is_form {
                serde_urlencoded::from_bytes(&self.body).unwrap_or_default()
            } else {
                Vec::new()
            }
        });
        let query = self.query.get_or_init(|| {
            serde_urlencoded::from_str(self.req.query_string()).unwrap_or_default()
        });
        form.iter()
            .chain(query.iter())
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A path segment captured by the route (`/user/{id}`).
    ///
    /// # Examples
    ///
    /// ```
    /// # let req = actix_web::test::TestRequest::get().param("id", "7").to_http_request();
    /// let ctx = actix_bee::web::Context::new(req, Default::default());
    /// assert_eq!(ctx.param("id"), Some("7"));
    /// ```
    pub fn param(&self, name: &str) -> Option<&str> {
        self.req.match_info().get(name)
    }

    /// Answers with `body` as `text/plain` (beego's `Ctx.WriteString`).
    ///
    /// # Examples
    ///
    /// ```
    /// # let req = actix_web::test::TestRequest::get().to_http_request();
    /// let mut ctx = actix_bee::web::Context::new(req, Default::default());
    /// ctx.write_body("0");
    /// ```
    pub fn write_body(&mut self, body: impl Into<String>) {
        self.response = Some(
            HttpResponse::Ok()
                .content_type("text/plain; charset=utf-8")
                .body(body.into()),
        );
    }

    /// Redirects to `url` with `status` (beego's `c.Redirect(url, 302)`).
    ///
    /// # Examples
    ///
    /// ```
    /// # let req = actix_web::test::TestRequest::get().to_http_request();
    /// let mut ctx = actix_bee::web::Context::new(req, Default::default());
    /// ctx.redirect("/", actix_web::http::StatusCode::FOUND);
    /// ```
    pub fn redirect(&mut self, url: &str, status: StatusCode) {
        self.response = Some(
            HttpResponse::build(status)
                .insert_header((header::LOCATION, url))
                .finish(),
        );
    }

    /// Answers with `response`, whatever `tpl_name` says.
    ///
    /// # Examples
    ///
    /// ```
    /// # let req = actix_web::test::TestRequest::get().to_http_request();
    /// let mut ctx = actix_bee::web::Context::new(req, Default::default());
    /// ctx.set_response(actix_web::HttpResponse::NoContent().finish());
    /// assert!(ctx.has_response());
    /// ```
    pub fn set_response(&mut self, response: HttpResponse) {
        self.response = Some(response);
    }

    /// True once a response was set.
    ///
    /// # Examples
    ///
    /// See [`Context::set_response`].
    pub fn has_response(&self) -> bool {
        self.response.is_some()
    }

    /// The request's session (beego's `StartSession`); save it by letting
    /// the request end, not by hand.
    ///
    /// # Errors
    ///
    /// [`Error::SessionsOff`] when sessions are off (`sessionon = false`).
    ///
    /// # Examples
    ///
    /// See [`Context`].
    pub fn start_session(&self) -> Result<Session, Error> {
        self.session.clone().ok_or(Error::SessionsOff)
    }

    fn session(&self) -> Result<&Session, Error> {
        self.session.as_ref().ok_or(Error::SessionsOff)
    }

    /// Sets `key` (beego's `SetSession`).
    ///
    /// # Errors
    ///
    /// [`Error::SessionsOff`], [`Error::Encode`], engine errors.
    ///
    /// # Examples
    ///
    /// See [`Context`].
    pub async fn set_session<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
    ) -> Result<(), Error> {
        self.session()?.set(key, value).await
    }

    /// Sets `key` to a Go value whose Go type is chosen explicitly
    /// (`sessionstoreformat = beego`); see [`Session::set_gob`].
    ///
    /// # Errors
    ///
    /// [`Error::SessionsOff`], [`Error::Encode`] in the native format or for
    /// nil, engine errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use actix_bee::gob::Value;
    /// use actix_bee::web::{async_trait, Context, Controller, HandlerResult};
    ///
    /// struct Level;
    ///
    /// #[async_trait(?Send)]
    /// impl Controller for Level {
    ///     async fn get(&self, ctx: &mut Context) -> HandlerResult {
    ///         // The beego side reads `sess.Get("level").(int32)`.
    ///         ctx.set_session_gob("level", Value::int32(3)).await?;
    ///         Ok(())
    ///     }
    /// }
    /// ```
    pub async fn set_session_gob(&self, key: &str, value: crate::gob::Value) -> Result<(), Error> {
        self.session()?.set_gob(key, value).await
    }

    /// Gets `key` as `T` (beego's `GetSession`); `Ok(None)` when absent.
    ///
    /// # Errors
    ///
    /// [`Error::SessionsOff`], [`Error::Decode`] when the value has another type.
    ///
    /// # Examples
    ///
    /// See [`Context`].
    pub async fn get_session<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        self.session()?.get(key).await
    }

    /// Removes `key` (beego's `DelSession`).
    ///
    /// # Errors
    ///
    /// [`Error::SessionsOff`], engine errors.
    ///
    /// # Examples
    ///
    /// See [`Context`].
    pub async fn del_session(&self, key: &str) -> Result<(), Error> {
        self.session()?.delete(key).await
    }

    /// Moves the session to a new id, keeping its data (beego's
    /// `SessionRegenerateID`; call it at login).
    ///
    /// # Errors
    ///
    /// [`Error::SessionsOff`], engine errors.
    ///
    /// # Examples
    ///
    /// See [`Context`].
    pub async fn session_regenerate_id(&self) -> Result<(), Error> {
        self.session()?.regenerate_id().await
    }

    /// Destroys the session and removes the cookie (beego's `DestroySession`).
    ///
    /// # Errors
    ///
    /// [`Error::SessionsOff`], engine errors.
    ///
    /// # Examples
    ///
    /// See [`Context`].
    pub async fn destroy_session(&self) -> Result<(), Error> {
        self.session()?.destroy().await
    }

    /// The response: the one set, else the template, else an empty 200;
    /// with the cookies of the forms (XSRF, flash).
    pub(crate) fn into_response(
        mut self,
        templates: &Templates,
        render: &RenderMode,
    ) -> HttpResponse {
        let mut response = self.respond(templates, render);
        self.add_form_cookies(&mut response);
        response
    }

    fn respond(&mut self, templates: &Templates, render: &RenderMode) -> HttpResponse {
        if let Some(response) = self.response.take() {
            return response;
        }
        if !render.auto_render {
            return HttpResponse::Ok().finish();
        }
        let tpl_name = if self.tpl_name.is_empty() {
            match self.template_name(templates) {
                Some(name) => name.into_owned(),
                None => return HttpResponse::Ok().finish(),
            }
        } else {
            std::mem::take(&mut self.tpl_name)
        };
        let layout = std::mem::take(&mut self.layout);
        let sections = std::mem::take(&mut self.layout_sections);
        let this = &mut *self;
        let rendered = templates.render_page(&tpl_name, &layout, &sections, move |needs_token| {
            this.add_page_values(needs_token);
            let this: &Context = this;
            (&this.data, &this.trusted)
        });
        match rendered {
            Ok(html) => HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .body(html),
            Err(err) => {
                let detail = err.to_string();
                tracing::error!("could not render {detail}");
                if render.show_errors {
                    // As beego does in its dev run mode: the cause on the page.
                    HttpResponse::InternalServerError()
                        .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
                        .insert_header((header::CACHE_CONTROL, "no-store"))
                        .body(format!(
                            "Internal Server Error\n\ncould not render {detail}\n"
                        ))
                } else {
                    fixed_response(StatusCode::INTERNAL_SERVER_ERROR)
                }
            }
        }
    }
}
