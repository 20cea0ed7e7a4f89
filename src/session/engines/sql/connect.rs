//! The error both SQL pools' connection managers give r2d2.

use std::fmt;

/// A connection failure in words: the server, the TLS settings and the
/// cause, as the driver's connection manager put them. r2d2 wants an
/// error type of the manager's own; a `String` inside keeps the two
/// drivers' error types out of the pool's signature.
#[derive(Debug)]
pub(crate) struct ConnectError(pub(crate) String);

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConnectError {}
