//! `Manager`: the settings, the engine and the id generator every request
//! of an application shares, and the cookies it hands out. What a request
//! does through it (start, release) is in `request.rs`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;

use super::error::{Error, Result, CORE};
use super::exchange::{CookieSpec, IdSource};
use super::format::Format;
use super::gc::GcTask;
use super::id::{HashFunc, IdFormat, IdGenerator, SessionId};
use super::manager_config::ManagerConfig;
use super::provider::Provider;
use super::record::{now_ms, Lifetimes};
use super::registry::provider_by_name;
use super::store::Store;

/// What every clone of a [`Manager`] shares.
pub(crate) struct ManagerState {
    pub(crate) provider: Arc<dyn Provider>,
    pub(crate) config: ManagerConfig,
    pub(crate) lifetimes: Lifetimes,
    /// The engine's id format, read once at start-up.
    pub(crate) id_format: IdFormat,
    ids: RwLock<Arc<IdGenerator>>,
    /// `Secure` forced on every cookie (`set_secure`, or a `__Host-` name).
    pub(crate) secure: AtomicBool,
}

/// The session manager: beego's `session.Manager`.
///
/// Cheap to clone; clones share the engine.
///
/// # Examples
///
/// ```
/// # actix_rt::System::new().block_on(async {
/// use actix_bee::session::{Manager, ManagerConfig, RequestIds};
///
/// let manager = Manager::new("memory", ManagerConfig::default()).await.unwrap();
/// let session = manager.session_start(&RequestIds::default()).await.unwrap();
/// session.set("username", "astaxie").await.unwrap();
/// let parts = manager.session_release(&session).await.unwrap();
/// let cookie = parts.cookie.unwrap();
/// assert_eq!(cookie.name, "beegosessionID");
///
/// // The next request carries the cookie.
/// let ids = RequestIds { cookie: Some(&cookie.value), ..Default::default() };
/// let again = manager.session_start(&ids).await.unwrap();
/// assert_eq!(again.get::<String>("username").await.unwrap().as_deref(), Some("astaxie"));
/// assert_eq!(manager.get_active_session().await.unwrap(), 1);
/// # });
/// ```
#[derive(Clone)]
pub struct Manager(pub(crate) Arc<ManagerState>);

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager")
            .field("cookie_name", &self.0.config.cookie_name)
            .finish_non_exhaustive()
    }
}

impl Manager {
    /// Builds a manager over the engine registered as `provider_name`.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownProvider`](super::Error::UnknownProvider) for an unknown name, [`Error::Config`](super::Error::Config) for
    /// invalid settings, and whatever the engine's `session_init` returns
    /// (a bad provider config, a backend that is down).
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// use actix_bee::session::{Manager, ManagerConfig};
    ///
    /// let err = Manager::new("nosuch", ManagerConfig::default()).await.unwrap_err();
    /// assert!(err.to_string().contains("unknown provider"));
    /// # });
    /// ```
    pub async fn new(provider_name: &str, config: ManagerConfig) -> Result<Manager> {
        let provider = provider_by_name(provider_name)?;
        Self::with_provider(provider, config).await
    }

    /// Builds a manager over an engine instance (no registration needed).
    ///
    /// # Errors
    ///
    /// As [`Manager::new`], less the unknown name.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// use actix_bee::session::{memory::MemoryProvider, Manager, ManagerConfig};
    ///
    /// let m = Manager::with_provider(Box::new(MemoryProvider::default()), ManagerConfig::default())
    ///     .await
    ///     .unwrap();
    /// assert_eq!(m.config().gc_lifetime, 3600);
    /// # });
    /// ```
    pub async fn with_provider(
        mut provider: Box<dyn Provider>,
        config: ManagerConfig,
    ) -> Result<Manager> {
        config.validate()?;
        config.warn_about_weak_settings();
        let ids = config.id_generator()?;
        let lifetimes = config.lifetimes();
        provider.set_format(config.store_format)?;
        provider
            .session_init(lifetimes.idle, &config.provider_config)
            .await?;
        let id_format = provider.id_format();
        if matches!(id_format, IdFormat::Sealed { .. }) && lifetimes.absolute.is_none() {
            if config.store_format == Format::Beego {
                // beego's cookie has no creation time to seal: said, not refused.
                tracing::warn!(
                    "cookie session in beego's format: no absolute lifetime (beego's cookie \
                     has no creation time), so a copied cookie stays valid while it is used \
                     within every sessiongcmaxlifetime"
                );
            } else {
                // Destroy cannot revoke a client-side session: only its
                // sealed absolute lifetime ends a copied cookie.
                return Err(Error::config(
                    "cookie",
                    "sessionabsolutelifetime = 0 would let a copied cookie live for ever; \
                 set it to the longest a login may last, in seconds (default 86400)",
                ));
            }
        }
        Ok(Manager(Arc::new(ManagerState {
            provider: Arc::from(provider),
            secure: AtomicBool::new(config.always_secure()),
            config,
            lifetimes,
            id_format,
            ids: RwLock::new(Arc::new(ids)),
        })))
    }

    /// The settings.
    ///
    /// # Examples
    ///
    /// See [`Manager::with_provider`].
    pub fn config(&self) -> &ManagerConfig {
        &self.0.config
    }

    /// The engine.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// let m = actix_bee::session::Manager::new("memory", Default::default()).await.unwrap();
    /// assert_eq!(m.provider().session_all().await.unwrap(), 0);
    /// # });
    /// ```
    pub fn provider(&self) -> &Arc<dyn Provider> {
        &self.0.provider
    }

    /// The id generator in use.
    pub(crate) fn ids(&self) -> Arc<IdGenerator> {
        self.0.ids.read().clone()
    }

    /// Changes how new ids are minted (`SetHashFunc`).
    ///
    /// # Errors
    ///
    /// [`Error::Config`](super::Error::Config) as [`IdGenerator::new`], or
    /// for any function but `none` with `sessionstoreformat = beego`.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// use actix_bee::session::{HashFunc, Manager};
    ///
    /// let m = Manager::new("memory", Default::default()).await.unwrap();
    /// m.set_hash_func(HashFunc::None, "").unwrap();
    /// assert_eq!(m.new_session_id().unwrap().as_str().len(), 32);
    /// # });
    /// ```
    pub fn set_hash_func(&self, hash: HashFunc, key: &str) -> Result<()> {
        let cfg = &self.0.config;
        if cfg.store_format == Format::Beego && hash != HashFunc::None {
            return Err(Error::config(
                CORE,
                "sessionstoreformat = beego needs beego's ids: the hash function must stay none",
            ));
        }
        let ids = IdGenerator::new(
            &cfg.session_id_prefix,
            hash,
            key.as_bytes(),
            cfg.session_id_length,
        )?;
        *self.0.ids.write() = Arc::new(ids);
        Ok(())
    }

    /// Forces `Secure` on every session cookie, or lets it follow the
    /// request (`SetSecure`). A `__Host-`/`__Secure-` name keeps it on.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// let m = actix_bee::session::Manager::new("memory", Default::default()).await.unwrap();
    /// m.set_secure(true);
    /// # });
    /// ```
    pub fn set_secure(&self, secure: bool) {
        let forced = self.0.config.always_secure() && !self.0.config.secure;
        self.0.secure.store(secure || forced, Ordering::Relaxed);
    }

    /// Checks raw input (a cookie value, a command-line argument) as an id
    /// of this manager: the generator's shape for a server-side engine, the
    /// sealed token's charset and length for a client-side one. `None` for
    /// anything else.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// let m = actix_bee::session::Manager::new("memory", Default::default()).await.unwrap();
    /// let id = m.new_session_id().unwrap();
    /// assert_eq!(m.parse_id(id.as_str()), Some(id));
    /// assert!(m.parse_id("../etc/passwd").is_none());
    /// # });
    /// ```
    pub fn parse_id(&self, raw: &str) -> Option<SessionId> {
        self.ids().parse_for(raw, self.0.id_format)
    }

    /// Mints an id with the current generator.
    ///
    /// # Errors
    ///
    /// [`Error::Rng`](super::Error::Rng) if the CSPRNG fails.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// let m = actix_bee::session::Manager::new("memory", Default::default()).await.unwrap();
    /// assert_eq!(m.new_session_id().unwrap().as_str().len(), 40);
    /// # });
    /// ```
    pub fn new_session_id(&self) -> Result<SessionId> {
        self.ids().generate()
    }

    /// The live stored session of `sid`, read on a session's first use;
    /// `None` when there is none: unknown, expired, over its absolute
    /// lifetime, or corrupt (the one corrupt-data rule: a warning, then a
    /// fresh session).
    pub(crate) async fn load(
        &self,
        sid: &SessionId,
        source: IdSource,
    ) -> Result<Option<Arc<dyn Store>>> {
        let store = match self.0.provider.session_read(sid).await {
            Ok(store) => store,
            Err(e) if e.is_corrupt() => {
                // The cause says what the data looks like (e.g. beego's
                // format read with sessionstoreformat = native).
                let cause = std::error::Error::source(&e).map(ToString::to_string);
                tracing::warn!(
                    source = ?source,
                    error = %e,
                    cause = cause.as_deref().unwrap_or(""),
                    "session: stored session data is corrupt; starting a fresh session"
                );
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        self.check_lifetime(sid, store).await
    }

    async fn check_lifetime(
        &self,
        sid: &SessionId,
        store: Arc<dyn Store>,
    ) -> Result<Option<Arc<dyn Store>>> {
        let meta = store.meta();
        if meta.is_new {
            tracing::debug!(session = %sid, "session: unknown id, minting a fresh one");
            return Ok(None);
        }
        // The clock is read only when there is an absolute lifetime to check.
        if let (Some(created), Some(_)) = (meta.created_ms, self.0.lifetimes.absolute) {
            if self.0.lifetimes.absolute_expired(created, now_ms()) {
                tracing::debug!(session = %sid, "session: absolute lifetime over");
                self.0.provider.session_destroy(sid).await?;
                return Ok(None);
            }
        }
        Ok(Some(store))
    }

    /// Number of live sessions (`GetActiveSession`).
    ///
    /// # Errors
    ///
    /// Engine errors.
    ///
    /// # Examples
    ///
    /// See [`Manager`].
    pub async fn get_active_session(&self) -> Result<usize> {
        self.0.provider.session_all().await
    }

    /// Starts the GC task: the engine's GC every `gc_lifetime` seconds on the
    /// current actix/tokio runtime, until [`GcTask::stop`].
    ///
    /// # Errors
    ///
    /// [`Error::NoRuntime`] when called outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// let m = actix_bee::session::Manager::new("memory", Default::default()).await.unwrap();
    /// let gc = m.gc().unwrap();
    /// gc.stop();
    /// # });
    /// ```
    pub fn gc(&self) -> Result<GcTask> {
        // validate() refuses a zero period.
        let secs = u64::try_from(self.0.config.gc_lifetime.max(1)).unwrap_or(1);
        GcTask::spawn(
            self.0.provider.clone(),
            std::time::Duration::from_secs(secs),
        )
    }

    /// Builds the cookie that hands `value` to the client.
    pub(crate) fn cookie(&self, value: String, secure: bool) -> CookieSpec {
        let cfg = &self.0.config;
        CookieSpec {
            name: cfg.cookie_name.clone(),
            value,
            path: "/",
            domain: (!cfg.domain.is_empty()).then(|| cfg.domain.clone()),
            max_age: (cfg.cookie_life_time > 0).then_some(cfg.cookie_life_time),
            http_only: !cfg.disable_http_only,
            secure: secure || self.0.secure.load(Ordering::Relaxed),
            same_site: cfg.cookie_same_site,
        }
    }

    /// The deletion cookie: the same attributes, an empty value, `Max-Age=0`.
    pub(crate) fn removal_cookie(&self, secure: bool) -> CookieSpec {
        CookieSpec {
            max_age: Some(0),
            ..self.cookie(String::new(), secure)
        }
    }
}
