//! The controller side of forms: the XSRF token and its check, and flash
//! messages (beego's `XSRFToken`, `XSRFFormHTML`, `CheckXSRFCookie`,
//! `FlashData`), with the cookies they set when the response goes out.

use std::sync::Arc;

use actix_web::http::header::{HeaderValue, SET_COOKIE};
use actix_web::HttpResponse;
use serde_json::{Map, Value};

use super::context::Context;
use super::flash::Flash;
use super::form_state::{FormSettings, FormState};
use super::xsrf::{self, XsrfToken};

impl Context {
    /// Uses the app's form settings (XSRF, flash cookie).
    pub(crate) fn set_form_settings(&mut self, settings: Arc<FormSettings>) {
        self.forms = FormState::new(settings);
    }

    fn xsrf(&self) -> Option<&XsrfToken> {
        let config = self.forms.settings.xsrf.as_ref()?;
        Some(
            self.forms
                .xsrf
                .get_or_init(|| config.token_for(self.request(), self.xsrf_expire)),
        )
    }

    /// This request's XSRF token (beego's `XSRFToken`): the `_xsrf`
    /// cookie's when it verifies, else a new one that the response's
    /// cookie carries. `None` when the app has `enablexsrf` off.
    ///
    /// # Examples
    ///
    /// ```
    /// # let req = actix_web::test::TestRequest::get().to_http_request();
    /// let ctx = actix_bee::web::Context::new(req, Default::default());
    /// // Outside an app with enablexsrf = true there is no token.
    /// assert_eq!(ctx.xsrf_token(), None);
    /// assert_eq!(ctx.xsrf_form_html(), "");
    /// ```
    pub fn xsrf_token(&self) -> Option<&str> {
        self.xsrf().map(|t| t.token.as_str())
    }

    /// The hidden form field carrying the token (beego's `XSRFFormHTML`):
    /// `<input type="hidden" name="_xsrf" value="…" />`, empty when XSRF is
    /// off. Templates get it as `xsrfdata` without asking.
    ///
    /// # Examples
    ///
    /// See [`Context::xsrf_token`].
    pub fn xsrf_form_html(&self) -> String {
        self.xsrf().map(XsrfToken::form_html).unwrap_or_default()
    }

    /// beego's check after `Prepare`: on POST, PUT, DELETE and PATCH, the
    /// token sent must be the cookie's. The rejection to answer, if any.
    pub(crate) fn xsrf_rejection(&self) -> Option<HttpResponse> {
        if !self.enable_xsrf || !xsrf::is_checked(self.request().method()) {
            return None;
        }
        let expected = self.xsrf()?;
        let sent = xsrf::sent_token(self.request(), self.input(xsrf::XSRF_FIELD));
        xsrf::check(sent, &expected.token)
            .err()
            .map(|rejected| rejected.response())
    }

    /// The flash messages this request brought (beego's
    /// `ReadFromRequest`); reading them removes the cookie when the
    /// response goes out. A rendered page reads them as the template value
    /// `flash`.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_web::test::TestRequest;
    ///
    /// let req = TestRequest::get()
    ///     .insert_header(("cookie", "BEEGO_FLASH=%00notice%23BEEGOFLASH%23Saved%00"))
    ///     .to_http_request();
    /// let ctx = actix_bee::web::Context::new(req, Default::default());
    /// assert_eq!(ctx.read_flash().and_then(|f| f.get("notice")), Some("Saved"));
    /// ```
    pub fn read_flash(&self) -> Option<&Flash> {
        let incoming = self
            .forms
            .incoming
            .get_or_init(|| self.forms.settings.flash.read(self.request()))
            .as_ref();
        if incoming.is_some() {
            self.forms.shown.set(true);
        }
        incoming
    }

    /// Puts what every rendered page may use in the template data, unless
    /// the controller set a value of that name: `flash` (the messages set
    /// now, else those the request brought, else none), and when
    /// `needs_token`, `xsrfdata` (the hidden form field, trusted HTML) and
    /// `xsrf_token`.
    pub(crate) fn add_page_values(&mut self, needs_token: bool) {
        if !self.data.contains_key("flash") {
            let flash = if self.flash.is_empty() {
                self.read_flash().cloned().unwrap_or_default()
            } else {
                self.flash.clone()
            };
            let messages: Map<String, Value> = flash
                .messages()
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            self.data.insert("flash".into(), Value::Object(messages));
        }
        if !needs_token {
            return;
        }
        if let Some(token) = self.xsrf().cloned() {
            if self.html("xsrfdata").is_none() && !self.data.contains_key("xsrfdata") {
                self.set_html("xsrfdata", token.form_html());
            }
            if !self.data.contains_key("xsrf_token") {
                self.data.insert("xsrf_token".into(), token.token.into());
            }
        }
    }

    /// The cookies the forms set on `response`: a newly minted `_xsrf`,
    /// the flash messages set now, or the removal of those shown.
    pub(crate) fn add_form_cookies(&self, response: &mut HttpResponse) {
        let xsrf = self.forms.xsrf.get().and_then(|t| t.set_cookie.clone());
        let flash = if !self.flash.is_empty() {
            self.forms.settings.flash.store(&self.flash)
        } else {
            None
        };
        let flash = flash.or_else(|| {
            let brought = matches!(self.forms.incoming.get(), Some(Some(_)));
            (brought && self.forms.shown.get()).then(|| self.forms.settings.flash.clear())
        });
        for cookie in [xsrf, flash].into_iter().flatten() {
            match HeaderValue::try_from(cookie) {
                Ok(value) => {
                    response.headers_mut().append(SET_COOKIE, value);
                }
                Err(_) => tracing::error!("forms: a cookie is not a valid HTTP header"),
            }
        }
    }
}
