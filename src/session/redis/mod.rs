//! The Redis engines: `redis`, `redis_cluster` and `redis_sentinel`.
//!
//! All three share one storage implementation, generic over the connection:
//! - **Layout**: one hash per session under `key_prefix + id` (default
//!   prefix `actix-bee:session:`). Each user key is the field `v:<key>`
//!   holding the encoded value; `m:created` holds the creation time, out of
//!   reach of user keys. The hash's TTL is the idle lifetime.
//! - **Reads** cost one round trip: `HGETALL` and `PTTL`, pipelined.
//! - **Writes** apply only the request's per-key changes, atomically, in a
//!   Lua script that first checks the session still exists, so concurrent
//!   requests never lose each other's keys and a destroyed session is never
//!   brought back. Creation is an insert-if-absent script whose result is
//!   checked (`Error::IdCollision`). A request that changed nothing only
//!   refreshes the TTL (`PEXPIRE`, which does nothing on a missing key),
//!   and only once a quarter of the idle lifetime has passed.
//! - **Regenerate** reads the old session, creates the new one
//!   (insert-if-absent, with the data and a fresh TTL), then deletes the
//!   old one: no `RENAME`, so it works across cluster hash slots.
//! - **`session_all`** counts keys under the prefix with `SCAN` (on every
//!   master of a cluster); **GC** is Redis's own expiry, so a no-op.
//!
//! # Configuration
//!
//! `sessionproviderconfig` takes one of:
//! - beego's comma list: `addr,poolsize,password,dbnum,idle_timeout,idle_check_frequency,max_retries`;
//!   the cluster's `addr` is `host:port;host:port`; the sentinel's is the
//!   sentinels' addresses and the master name is field 5:
//!   `sentinels,poolsize,password,dbnum,mastername,idle_timeout,...`.
//! - beego's JSON: `{"save_path", "poolsize", "password", "db_num",
//!   "idle_timeout", "idle_check_frequency", "max_retries", "master_name"}`
//!   plus `"key_prefix"`, `"username"`, `"sentinel_password"`,
//!   `"connect_timeout"`, `"response_timeout"`. Durations are optional,
//!   Go syntax (`"30s"`) or seconds.
//! - a URL: `redis://[user:password@]host:port[,host:port...][/db][?key_prefix=..&pool_size=..&connect_timeout=..&response_timeout=..&master_name=..]`;
//!   for the sentinel engine the hosts are the sentinels.
//!
//! `poolsize` caps the number of connections. Connections are multiplexed
//! and opened one per runtime thread that uses the engine (one per
//! actix-web worker), so a request and its connection's I/O run on the same
//! thread. `idle_timeout` and `idle_check_frequency` are accepted for
//! compatibility and unused. Passwords are never logged or put in errors.
//! Init connects and fails if Redis cannot be reached, like beego's `PING`.
//!
//! # Examples
//!
//! ```no_run
//! # actix_rt::System::new().block_on(async {
//! use actix_bee::session::{Manager, ManagerConfig};
//!
//! let mut config = ManagerConfig::default();
//! config.provider_config = r#"{"save_path":"127.0.0.1:6379","key_prefix":"myapp:s:"}"#.into();
//! let manager = Manager::new("redis", config).await.unwrap();
//! # });
//! ```

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::{Client, ConnectionAddr, ConnectionInfo, IntoConnectionInfo, RedisConnectionInfo};

use super::error::{Error, Result};
use super::id::SessionId;
use super::record::{now_ms, Lifetimes};
use super::store::{MapStore, Released, SessionWriter, Store, Write};

mod commands;
mod config;
mod pool;

#[cfg(feature = "redis_cluster")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis_cluster")))]
pub mod cluster;
#[cfg(feature = "redis_sentinel")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis_sentinel")))]
pub mod sentinel;

use commands::Commands;
pub(crate) use config::{Kind, RedisConfig};

/// How one engine connects and counts keys; the rest is shared.
#[async_trait]
pub(crate) trait Backend: Send + Sync + 'static {
    /// The connection every command goes through.
    type Conn: ConnectionLike + Clone + Send + Sync + 'static;
    /// The engine name, used in errors.
    const NAME: &'static str;
    /// The config shape.
    const KIND: Kind;
    /// Connects (and checks the server answers).
    async fn connect(cfg: &RedisConfig) -> Result<Self::Conn>;
    /// Number of keys matching `pattern` (a SCAN glob).
    async fn count(conn: &Self::Conn, pattern: &str) -> redis::RedisResult<usize> {
        let conn = conn.clone();
        commands::scan_count(pattern, move |cmd| {
            let mut conn = conn.clone();
            async move { cmd.query_async(&mut conn).await }
        })
        .await
    }
}

/// The redis-crate connection info for one node.
pub(crate) fn connection_info(host: &str, port: u16, cfg: &RedisConfig) -> Result<ConnectionInfo> {
    let mut redis = RedisConnectionInfo::default().set_db(cfg.db);
    if let Some(user) = &cfg.username {
        redis = redis.set_username(user);
    }
    if let Some(password) = &cfg.password {
        redis = redis.set_password(password);
    }
    let info = ConnectionAddr::Tcp(host.to_owned(), port)
        .into_connection_info()
        .map_err(|e| Error::Config(format!("redis: bad address: {:?}", e.kind())))?;
    Ok(info.set_redis_settings(redis))
}

/// The engine's state after init, shared by its stores.
struct Shared<B: Backend> {
    cmds: Commands<B::Conn>,
}

#[async_trait]
impl<B: Backend> SessionWriter for Shared<B> {
    async fn write(&self, w: Write<'_>) -> Result<Released> {
        self.cmds.write(&w).await.map(Released::wrote)
    }
}

/// One generic engine; the three public providers wrap it.
pub(crate) struct Engine<B: Backend> {
    shared: Option<Arc<Shared<B>>>,
}

impl<B: Backend> Default for Engine<B> {
    fn default() -> Self {
        Engine { shared: None }
    }
}

impl<B: Backend> Engine<B> {
    fn shared(&self) -> Result<&Arc<Shared<B>>> {
        self.shared
            .as_ref()
            .ok_or_else(|| Error::Config(format!("{}: session_init was not called", B::NAME)))
    }

    fn store(
        &self,
        shared: &Arc<Shared<B>>,
        sid: SessionId,
        record: Option<super::record::SessionRecord>,
    ) -> Arc<dyn Store> {
        let writer: Arc<dyn SessionWriter> = shared.clone();
        let lifetimes = shared.cmds.lifetimes;
        match record {
            Some(record) => Arc::new(MapStore::loaded(sid, record, lifetimes, writer)),
            None => Arc::new(MapStore::new_session(sid, lifetimes, writer)),
        }
    }

    pub(crate) async fn session_init(
        &mut self,
        max_lifetime: Duration,
        config: &str,
    ) -> Result<()> {
        let cfg = RedisConfig::parse(B::KIND, config)?;
        let conn = B::connect(&cfg).await?;
        tracing::debug!(
            engine = B::NAME,
            nodes = cfg.nodes.len(),
            "session: redis connected"
        );
        self.shared = Some(Arc::new(Shared {
            cmds: Commands {
                conn,
                prefix: cfg.key_prefix,
                lifetimes: Lifetimes::new(max_lifetime, None),
                backend: B::NAME,
            },
        }));
        Ok(())
    }

    pub(crate) async fn session_read(&self, sid: &SessionId) -> Result<Arc<dyn Store>> {
        let shared = self.shared()?;
        let key = shared.cmds.key(sid.as_str());
        let record = shared.cmds.load(&key, now_ms()).await?.map(|(r, _)| r);
        Ok(self.store(shared, sid.clone(), record))
    }

    pub(crate) async fn session_exist(&self, sid: &SessionId) -> Result<bool> {
        let shared = self.shared()?;
        shared.cmds.exists(&shared.cmds.key(sid.as_str())).await
    }

    pub(crate) async fn session_regenerate(
        &self,
        old: &SessionId,
        new: &SessionId,
    ) -> Result<Arc<dyn Store>> {
        let shared = self.shared()?;
        let cmds = &shared.cmds;
        let now = now_ms();
        let old_key = cmds.key(old.as_str());
        let Some((mut record, fields)) = cmds.load(&old_key, now).await? else {
            return Ok(self.store(shared, new.clone(), None));
        };
        // New first, old second: a failure in between leaves the data
        // reachable under one id, never under none.
        cmds.create_raw(
            &cmds.key(new.as_str()),
            fields.iter().map(|(f, v)| (f.as_slice(), v.as_slice())),
        )
        .await?;
        cmds.delete(&old_key).await?;
        record.accessed_ms = now;
        Ok(self.store(shared, new.clone(), Some(record)))
    }

    pub(crate) async fn session_destroy(&self, sid: &SessionId) -> Result<()> {
        let shared = self.shared()?;
        shared.cmds.delete(&shared.cmds.key(sid.as_str())).await
    }

    pub(crate) async fn session_all(&self) -> Result<usize> {
        let shared = self.shared()?;
        let pattern = commands::scan_pattern(&shared.cmds.prefix);
        B::count(&shared.cmds.conn, &pattern)
            .await
            .map_err(|e| shared.cmds.err(e))
    }
}

/// Implements `Provider` for a public wrapper around `Engine<B>`.
macro_rules! redis_provider {
    ($ty:ty) => {
        #[async_trait::async_trait]
        impl $crate::session::Provider for $ty {
            async fn session_init(
                &mut self,
                max_lifetime: std::time::Duration,
                config: &str,
            ) -> $crate::session::Result<()> {
                self.0.session_init(max_lifetime, config).await
            }
            async fn session_read(
                &self,
                sid: &$crate::session::SessionId,
            ) -> $crate::session::Result<std::sync::Arc<dyn $crate::session::Store>> {
                self.0.session_read(sid).await
            }
            async fn session_exist(
                &self,
                sid: &$crate::session::SessionId,
            ) -> $crate::session::Result<bool> {
                self.0.session_exist(sid).await
            }
            async fn session_regenerate(
                &self,
                old: &$crate::session::SessionId,
                new: &$crate::session::SessionId,
            ) -> $crate::session::Result<std::sync::Arc<dyn $crate::session::Store>> {
                self.0.session_regenerate(old, new).await
            }
            async fn session_destroy(
                &self,
                sid: &$crate::session::SessionId,
            ) -> $crate::session::Result<()> {
                self.0.session_destroy(sid).await
            }
            async fn session_all(&self) -> $crate::session::Result<usize> {
                self.0.session_all().await
            }
            async fn session_gc(&self) -> $crate::session::Result<()> {
                // Redis expires sessions itself (PEXPIRE).
                Ok(())
            }
        }

        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty)).finish_non_exhaustive()
            }
        }
    };
}
#[cfg(any(feature = "redis_cluster", feature = "redis_sentinel"))]
pub(crate) use redis_provider;

/// The single-server backend: multiplexed, auto-reconnecting connections.
pub(crate) struct Single;

#[async_trait]
impl Backend for Single {
    type Conn = pool::Pool<ConnectionManager>;
    const NAME: &'static str = "redis";
    const KIND: Kind = Kind::Single;

    async fn connect(cfg: &RedisConfig) -> Result<Self::Conn> {
        let (host, port) = cfg
            .nodes
            .first()
            .ok_or_else(|| Error::Config("redis: no address given".into()))?;
        if cfg.nodes.len() > 1 {
            return Err(Error::Config(
                "redis: one address expected (use redis_cluster or redis_sentinel for several)"
                    .into(),
            ));
        }
        let client = Client::open(connection_info(host, *port, cfg)?)
            .map_err(|e| Error::Config(format!("redis: {:?}", e.kind())))?;
        let manager_cfg = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(cfg.connect_timeout))
            .set_response_timeout(Some(cfg.response_timeout))
            .set_number_of_retries(cfg.max_retries);
        pool::Pool::new(cfg.pool_size, move || {
            let client = client.clone();
            let manager_cfg = manager_cfg.clone();
            async move { ConnectionManager::new_with_config(client, manager_cfg).await }
        })
        .await
        .map_err(|e| Error::backend(Self::NAME, e))
    }
}

/// The `redis` engine: one Redis server.
///
/// See the [module docs](self) for the layout and the config string.
///
/// # Examples
///
/// ```no_run
/// # actix_rt::System::new().block_on(async {
/// use std::time::Duration;
/// use actix_bee::session::Provider;
/// use actix_bee::session::redis::RedisProvider;
///
/// let mut provider = RedisProvider::default();
/// provider
///     .session_init(Duration::from_secs(3600), r#"{"save_path":"127.0.0.1:6379","key_prefix":"myapp:s:"}"#)
///     .await
///     .unwrap();
/// # });
/// ```
#[derive(Default)]
pub struct RedisProvider(Engine<Single>);

redis_provider!(RedisProvider);
