//! The one error type of the session core.

use std::error::Error as StdError;

/// A boxed error from a backend client, kept as the source of [`Error`].
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Shorthand for results of the session core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the session core and its engines.
///
/// Messages never contain a session id, a stored value or a password, so
/// they are safe to log. The web layer turns them into fixed-text responses.
///
/// # Examples
///
/// ```
/// use actix_bee::session::Error;
///
/// let err = Error::Config("gc lifetime must be positive".into());
/// assert!(!err.is_transient());
/// assert!(err.to_string().contains("gc lifetime"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No engine is registered under the requested name.
    #[error("session: unknown provider {name:?} (known: {known}){hint}")]
    UnknownProvider {
        /// The name that was asked for.
        name: String,
        /// The names that are registered, comma separated.
        known: String,
        /// Which cargo feature would add it, when it is a built-in engine.
        hint: String,
    },
    /// The configuration is invalid; the message names the setting.
    #[error("session: invalid configuration: {0}")]
    Config(String),
    /// A value could not be serialized.
    #[error("session: could not encode the value of key {key:?}")]
    Encode {
        /// The session key.
        key: String,
        /// The serializer's error.
        #[source]
        source: rmp_serde::encode::Error,
    },
    /// A stored value does not have the requested type.
    #[error("session: the value of key {key:?} does not have the requested type")]
    Decode {
        /// The session key.
        key: String,
        /// The deserializer's error.
        #[source]
        source: rmp_serde::decode::Error,
    },
    /// Stored session data could not be decoded.
    #[error("session: stored session data is corrupt")]
    Corrupt(#[source] BoxError),
    /// A value or a whole session is larger than the engine allows.
    #[error("session: {what} is {size} bytes, over the limit of {limit}")]
    TooLarge {
        /// What was too large ("value", "session", "cookie").
        what: &'static str,
        /// Its size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// A newly minted id already exists in the engine.
    #[error("session: a new session id collided with an existing one")]
    IdCollision,
    /// Sessions are not enabled for this request.
    #[error("sessions are off: set sessionon = true")]
    SessionsOff,
    /// The backend could not be reached or refused the operation.
    #[error("session: the {backend} backend failed")]
    Backend {
        /// The engine name.
        backend: &'static str,
        /// The client's error.
        #[source]
        source: BoxError,
    },
    /// The operating system's random number generator failed.
    #[error("session: could not read from the system CSPRNG")]
    Rng,
}

impl Error {
    /// Wraps a backend client error.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::session::Error;
    ///
    /// let io = std::io::Error::other("connection refused");
    /// let err = Error::backend("redis", io);
    /// assert!(err.is_transient());
    /// ```
    pub fn backend(backend: &'static str, source: impl Into<BoxError>) -> Self {
        Error::Backend {
            backend,
            source: source.into(),
        }
    }

    /// Wraps a decoding failure of stored data.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::session::Error;
    ///
    /// let err = Error::corrupt("truncated record");
    /// assert!(!err.is_transient());
    /// ```
    pub fn corrupt(source: impl Into<BoxError>) -> Self {
        Error::Corrupt(source.into())
    }

    /// True when retrying later may succeed (a backend that is down).
    ///
    /// The web layer answers these with 503 and everything else with 500.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::session::Error;
    ///
    /// assert!(!Error::IdCollision.is_transient());
    /// ```
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Backend { .. })
    }
}
