//! The engine's name, and the errors that carry it: a leaf that the
//! driver's other files share.

use crate::session::error::Error;

/// The engine's name in errors, logs and metrics.
pub(super) const NAME: &str = "mysql";

/// A failure of the server or the connection to it.
pub(super) fn backend_err(e: impl Into<crate::session::error::BoxError>) -> Error {
    Error::backend(NAME, e)
}

/// A configuration the engine refuses.
pub(super) fn config_err(what: impl Into<String>) -> Error {
    Error::config(NAME, what)
}
