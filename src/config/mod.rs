//! beego's `conf/app.conf` loaded into a beego-style [`BConfig`].
//!
//! The app.conf dialect is parsed by hand ([`AppConf`]) exactly as beego v2's
//! `core/config/ini.go` reads it, then layered with the `config` crate:
//! beego defaults < app.conf default section < run-mode section
//! < `BEEGO_*` environment variables < values set in code ([`Loader`]).
//! [`SessionConfig::manager_config`] turns the session keys into the session
//! core's `ManagerConfig`.
//!
//! # Examples
//!
//! ```
//! use actix_bee::config::BConfig;
//!
//! let text = "appname = counter\nrunmode = dev\nsessionon = true\n[dev]\nhttpport = 8081\n";
//! let cfg = BConfig::from_str_with_base(text, ".")?;
//! assert_eq!(cfg.listen.http_port, 8081);
//! let manager = cfg.session_manager_config()?;
//! assert_eq!(manager.gc_lifetime, 3600);
//! # Ok::<(), actix_bee::config::Error>(())
//! ```

mod bconfig;
mod bind;
mod error;
mod ini;
mod keys;
mod layer;
mod loader;
mod origin;

// The Go templates' `Bool` reads booleans as app.conf does.
#[cfg(feature = "gotmpl")]
pub(crate) use ini::parse_bool;
pub(crate) use keys::values as key_values;

pub use bconfig::{BConfig, Listen, LogConfig, SessionConfig, WebConfig};
pub use error::Error;
pub use ini::{
    AppConf, Entry, FromEnv, DEFAULT_SECTION, MAX_CONF_BYTES, MAX_INCLUDED_FILES, MAX_INCLUDE_DEPTH,
};
pub use loader::Loader;
pub use origin::{Explained, Origin};
