//! What a request keeps of its forms: the app's XSRF and flash settings,
//! the token once worked out, and the flash messages it brought.

use std::cell::{Cell, OnceCell};
use std::sync::{Arc, LazyLock};

use super::flash::{Flash, FlashCookie};
use super::xsrf::{XsrfConfig, XsrfKeyError, XsrfToken};
use crate::config::BConfig;

/// The app's form settings: XSRF (when `enablexsrf` is on) and the flash
/// cookie.
#[derive(Debug, Default)]
pub(crate) struct FormSettings {
    pub xsrf: Option<XsrfConfig>,
    pub flash: FlashCookie,
}

impl FormSettings {
    /// The settings of `config`.
    pub(crate) fn from_bconfig(config: &BConfig) -> Result<FormSettings, XsrfKeyError> {
        let web = &config.web_config;
        Ok(FormSettings {
            xsrf: XsrfConfig::from_bconfig(config)?,
            flash: FlashCookie::new(&web.flash_name, &web.flash_separator),
        })
    }
}

/// Settings of a [`Context`](super::Context) made outside an app: no XSRF, beego's flash
/// cookie.
static DEFAULT_SETTINGS: LazyLock<Arc<FormSettings>> = LazyLock::new(Arc::default);

/// One request's form state, filled as the controller asks.
#[derive(Debug)]
pub(crate) struct FormState {
    pub(super) settings: Arc<FormSettings>,
    pub(super) xsrf: OnceCell<XsrfToken>,
    /// The flash messages the request brought, read when first asked.
    pub(super) incoming: OnceCell<Option<Flash>>,
    /// True once the incoming messages were shown: the cookie goes.
    pub(super) shown: Cell<bool>,
}

impl Default for FormState {
    fn default() -> Self {
        FormState::new(Arc::clone(&DEFAULT_SETTINGS))
    }
}

impl FormState {
    pub(crate) fn new(settings: Arc<FormSettings>) -> FormState {
        FormState {
            settings,
            xsrf: OnceCell::new(),
            incoming: OnceCell::new(),
            shown: Cell::new(false),
        }
    }
}
