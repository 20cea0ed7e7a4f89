//! The one error type of the session core.

use std::error::Error as StdError;

/// A boxed error from a backend client or a codec, kept as the source of
/// [`Error`].
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Shorthand for results of the session core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The part named in [`Error::Config`] for settings of the core itself
/// (the manager, the id generator), rather than of one engine.
pub(crate) const CORE: &str = "session";

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
/// let err = Error::config("redis", "pool_size must be 1 to 1024");
/// assert!(err.is_config() && !err.is_transient());
/// assert_eq!(
///     err.to_string(),
///     "session: invalid redis configuration: pool_size must be 1 to 1024"
/// );
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
    /// A setting is invalid.
    #[error("session: invalid {engine} configuration: {reason}")]
    Config {
        /// The engine whose settings are wrong, or `"session"` for the
        /// core's (the manager, the id generator).
        engine: &'static str,
        /// What is wrong, naming the setting; never its value when that
        /// could be a secret.
        reason: String,
    },
    /// An engine was used before `session_init` succeeded.
    #[error("session: the {engine} engine was used before session_init")]
    NotInitialized {
        /// The engine name.
        engine: &'static str,
    },
    /// The GC task was started outside an actix/tokio runtime.
    #[error("session: GC needs a running actix/tokio runtime")]
    NoRuntime,
    /// A value could not be serialized.
    #[error("session: could not encode the value of key {key:?}")]
    Encode {
        /// The session key.
        key: String,
        /// The codec's error.
        #[source]
        source: BoxError,
    },
    /// A stored value does not have the requested type.
    #[error("session: the value of key {key:?} does not have the requested type")]
    Decode {
        /// The session key.
        key: String,
        /// The codec's error.
        #[source]
        source: BoxError,
    },
    /// Stored session data could not be decoded.
    ///
    /// Engines report it from `session_read`; the
    /// [`Manager`](super::Manager) turns it into a fresh session.
    #[error("session: stored session data is corrupt")]
    Corrupt(#[source] BoxError),
    /// A value, a whole session or an id is larger than the engine allows.
    #[error("session: {what} is {size} bytes, over the limit of {limit}")]
    TooLarge {
        /// What was too large ("value", "session", "cookie", ...).
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
    /// The backend did not answer within the engine's deadline for one
    /// call (a hung or black-holed server): the request gets a 503 instead
    /// of waiting for it.
    #[error("session: the {backend} backend did not answer within {after:?}")]
    Timeout {
        /// The engine name.
        backend: &'static str,
        /// The deadline that passed.
        after: std::time::Duration,
    },
    /// An owner given to [`Session::set_owner`](super::Session::set_owner)
    /// or the owner methods of the [`Manager`](super::Manager) is invalid.
    #[error("session: invalid owner: {reason}")]
    InvalidOwner {
        /// What is wrong (never the owner itself).
        reason: &'static str,
    },
    /// A key only the owner methods may write (`__actix_bee_owner`,
    /// `__actix_bee_owner_epoch`) was written or deleted directly.
    #[error("session: the key {key:?} is reserved; use set_owner or clear_owner")]
    ReservedKey {
        /// The key.
        key: &'static str,
    },
    /// The engine cannot do what was asked (memcache, cookie and couchbase
    /// keep no owner index).
    #[error("session: the {engine} engine does not support {what}")]
    Unsupported {
        /// The engine name.
        engine: &'static str,
        /// What it cannot do.
        what: &'static str,
    },
    /// The engine holds as many sessions, or as many bytes, as it is
    /// allowed to (the file engine's `max_sessions` and `max_bytes`): a new
    /// session, or a write that would grow the store, is refused until GC
    /// frees room. The web layer answers 503, as for a backend that is down.
    #[error("session: the {engine} engine is full: {what} at its limit of {limit}")]
    Full {
        /// The engine name.
        engine: &'static str,
        /// The limit reached (`"sessions"`, `"bytes"`).
        what: &'static str,
        /// The limit.
        limit: u64,
    },
    /// The operating system's random number generator failed.
    #[error("session: could not read from the system CSPRNG")]
    Rng,
}

impl Error {
    /// A configuration error of `engine` (`"session"` for the core's settings).
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::session::Error;
    ///
    /// let err = Error::config("file", "the directory is not ours");
    /// assert!(matches!(err, Error::Config { engine: "file", .. }));
    /// ```
    pub fn config(engine: &'static str, reason: impl Into<String>) -> Self {
        Error::Config {
            engine,
            reason: reason.into(),
        }
    }

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
    /// assert!(err.is_corrupt() && !err.is_transient());
    /// ```
    pub fn corrupt(source: impl Into<BoxError>) -> Self {
        Error::Corrupt(source.into())
    }

    /// True when retrying later may succeed (a backend that is down, an
    /// engine that is [full](Error::Full)).
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
        matches!(
            self,
            Error::Backend { .. } | Error::Timeout { .. } | Error::Full { .. }
        )
    }

    /// True when the backend missed its deadline ([`Error::Timeout`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::session::Error;
    /// use std::time::Duration;
    ///
    /// let err = Error::Timeout { backend: "mysql", after: Duration::from_secs(5) };
    /// assert!(err.is_timeout() && err.is_transient());
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
    }

    /// True for stored data that does not decode ([`Error::Corrupt`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::session::Error;
    ///
    /// assert!(Error::corrupt("bad").is_corrupt());
    /// assert!(!Error::Rng.is_corrupt());
    /// ```
    pub fn is_corrupt(&self) -> bool {
        matches!(self, Error::Corrupt(_))
    }

    /// True for invalid settings ([`Error::Config`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::session::Error;
    ///
    /// assert!(Error::config("memory", "x").is_config());
    /// ```
    pub fn is_config(&self) -> bool {
        matches!(self, Error::Config { .. })
    }

    /// True for an engine used before `session_init`.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::session::Error;
    ///
    /// assert!(Error::NotInitialized { engine: "file" }.is_not_initialized());
    /// ```
    pub fn is_not_initialized(&self) -> bool {
        matches!(self, Error::NotInitialized { .. })
    }

    /// True for a minted id that already exists ([`Error::IdCollision`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::session::Error;
    ///
    /// assert!(Error::IdCollision.is_id_collision());
    /// ```
    pub fn is_id_collision(&self) -> bool {
        matches!(self, Error::IdCollision)
    }

    /// True when the engine cannot do what was asked
    /// ([`Error::Unsupported`]), such as listing an owner's sessions on an
    /// engine without an owner index.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// use actix_bee::session::{Manager, ManagerConfig};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut cfg = ManagerConfig::default();
    /// cfg.provider_config = r#"{"securityKeys":["a secret key of at least thirty-two bytes"]}"#.into();
    /// let m = Manager::new("cookie", cfg).await.unwrap();
    /// assert!(m.sessions_of("alice").await.unwrap_err().is_unsupported());
    /// # });
    /// ```
    pub fn is_unsupported(&self) -> bool {
        matches!(self, Error::Unsupported { .. })
    }
}
