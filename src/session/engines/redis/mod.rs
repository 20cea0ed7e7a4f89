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
//! - **Regenerate** is one script on a single server or a sentinel's
//!   master (`RENAME` to the new key if it is free, with a fresh TTL). A
//!   cluster cannot rename across hash slots, so there it creates the new
//!   session (insert-if-absent, with the data and a fresh TTL) and then
//!   deletes the old one.
//! - **`session_all`** counts keys under the prefix with `SCAN` (on every
//!   master of a cluster); **GC** is Redis's own expiry, so a no-op.
//!
//! With `sessionstoreformat = beego` the layout is beego's instead: see
//! [beego format](#beego-format) below.
//!
//! # beego format
//!
//! The key is the raw session id, the value beego's gob map, the TTL the
//! idle lifetime; writes still merge per key (compare-and-set with bounded
//! retries) and never bring a destroyed session back; regenerate is one
//! script on a single server or a sentinel's master, and on a cluster
//! copies then deletes (new id first), as two ids in different slots
//! cannot be changed atomically.
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
//!   `"connect_timeout"`, `"response_timeout"`, `"max_session_bytes"`
//!   (the largest session, default 256 KiB). Durations are optional:
//!   `"30s"`, `"500ms"`, or seconds (`30`, `"0.5"`).
//! - a URL: `redis://[user:password@]host:port[,host:port...][/db][?key_prefix=..&pool_size=..&connect_timeout=..&response_timeout=..&master_name=..&max_session_bytes=..]`;
//!   for the sentinel engine the hosts are the sentinels.
//!
//! An address is `host:port`, `host` (port 6379, or 26379 for a sentinel)
//! or an IPv6 address in brackets, `[::1]:6379`, read as every networked
//! engine reads it. `key_prefix` defaults to `actix-bee:session:`, the
//! default of memcache and couchbase too.
//!
//! # TLS
//!
//! `rediss://` URLs, or `"tls": true` in JSON, or a `tls=true` field after
//! the password in the comma list, turn TLS on (rustls with ring; no
//! OpenSSL). The servers' certificates are verified against
//! `tls_ca_file` (PEM), or the system's roots when it is unset, and must
//! be valid for the host name connected to. `tls_cert_file` and
//! `tls_key_file` give a client certificate (`tls-auth-clients yes`);
//! `tls_skip_verify=true` turns verification off (encryption only). The
//! files are read at start-up, and a missing one is a config error naming
//! it.
//!
//! ```ini
//! sessionprovider = redis
//! sessionproviderconfig = rediss://redis.internal:6380/0?tls_ca_file=/etc/ssl/redis-ca.pem
//! sessionproviderconfig = {"save_path":"redis.internal:6380","tls":true,"tls_ca_file":"/etc/ssl/redis-ca.pem"}
//! sessionproviderconfig = redis.internal:6380,100,,0,tls=true,tls_ca_file=/etc/ssl/redis-ca.pem
//! ```
//!
//! What is verified, unless `tls_skip_verify=true` (also spelt
//! `skip_verify`, as in go-redis): the certificate chain, the host name
//! (or IP address) connected to, and the handshake signature. A
//! `redis://` URL to a port that speaks only TLS sees the connection
//! closed; the error then suggests `rediss://`. The redis crate's
//! `#insecure` URL fragment is refused in favour of `tls_skip_verify`.
//! Start-up installs ring as rustls' process-wide crypto provider unless
//! the application chose one, so a build that also compiles in aws-lc-rs
//! does not panic.
//!
//! The cluster uses TLS to every node; the sentinel engine to the
//! sentinels *and* to the master, with one set of files. Cluster nodes and
//! sentinels announce addresses as IPs unless told otherwise, and the
//! certificate is checked against those: the servers' certificates must
//! cover the announced IPs, or the servers must announce names
//! (`cluster-announce-hostname`, `sentinel announce-hostnames yes`).
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
//! ```
//! # actix_rt::System::new().block_on(async {
//! use actix_bee::session::{Manager, ManagerConfig};
//!
//! let mut config = ManagerConfig::default();
//! config.provider_config = r#"{"save_path":"127.0.0.1:6379","key_prefix":"myapp:s:"}"#.into();
//! let manager = Manager::new("redis", config).await.unwrap();
//! # });
//! ```

use async_trait::async_trait;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::{
    Client, ClientTlsConfig, ConnectionAddr, ConnectionInfo, IntoConnectionInfo,
    RedisConnectionInfo, RedisError, TlsCertificates,
};

use super::shared::tls;
use crate::session::engine::{Loaded, RecordStore, StoreContext};
use crate::session::engine::{Released, Write};
use crate::session::engines::shared::wiring::engine_provider;
use crate::session::error::{Error, Result};
use crate::session::format::Format;
use crate::session::id::SessionId;
use crate::session::record::SessionRecord;

mod beego;
mod commands;
mod config;
mod owners;
mod pool;

#[cfg(feature = "redis_cluster")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis_cluster")))]
pub mod cluster;
#[cfg(feature = "redis_sentinel")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis_sentinel")))]
pub mod sentinel;

use commands::Commands;
pub(crate) use config::{secrets, RedisConfig, Shape};

/// How one engine connects and counts keys; the rest is shared.
#[async_trait]
pub(crate) trait Topology: Send + Sync + 'static {
    /// The connection every command goes through.
    type Conn: ConnectionLike + Clone + Send + Sync + 'static;
    /// The engine name, used in errors.
    const NAME: &'static str;
    /// The config shape.
    const SHAPE: Shape;
    /// True when every key lives on one node, so one script may touch two
    /// sessions (regenerate renames atomically).
    const ONE_NODE: bool;
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
        redis = redis.set_password(password.expose());
    }
    let info = address(host, port, cfg)
        .into_connection_info()
        .map_err(|e| Error::config("redis", format!("bad address: {:?}", e.kind())))?;
    // TCP_NODELAY: many requests share one multiplexed connection, and
    // Nagle's algorithm would hold each small command back until the
    // previous one is acknowledged (redis-rs leaves it off by default).
    let tcp = redis::io::tcp::TcpSettings::default().set_nodelay(true);
    Ok(info.set_redis_settings(redis).set_tcp_settings(tcp))
}

/// One node's address, over TLS when the config says so.
pub(crate) fn address(host: &str, port: u16, cfg: &RedisConfig) -> ConnectionAddr {
    if cfg.tls {
        ConnectionAddr::TcpTls {
            host: host.to_owned(),
            port,
            insecure: cfg.tls_skip_verify,
            tls_params: None,
        }
    } else {
        ConnectionAddr::Tcp(host.to_owned(), port)
    }
}

/// The CA and client certificate files, read and checked now (a missing
/// or unreadable file fails start-up, naming it).
pub(crate) fn certificates(engine: &'static str, cfg: &RedisConfig) -> Result<TlsCertificates> {
    let root_cert = cfg
        .tls_ca_file
        .as_deref()
        .map(|path| tls::check_certs(engine, "tls_ca_file", path))
        .transpose()?;
    let client_tls = match (&cfg.tls_cert_file, &cfg.tls_key_file) {
        (Some(cert), Some(key)) => Some(ClientTlsConfig {
            client_cert: tls::check_certs(engine, "tls_cert_file", cert)?,
            client_key: tls::check_key(engine, "tls_key_file", key)?,
        }),
        _ => None,
    };
    Ok(TlsCertificates {
        client_tls,
        root_cert,
    })
}

/// A connection failure at start-up, in words: the nodes, the TLS
/// settings and the cause.
pub(crate) fn connect_error(engine: &'static str, cfg: &RedisConfig, err: RedisError) -> Error {
    let text = tls::chain(&err);
    let nodes = cfg
        .nodes
        .iter()
        .map(|(h, p)| format!("{h}:{p}"))
        .collect::<Vec<_>>()
        .join(", ");
    let message = match tls::explain(&text) {
        Some(why) if cfg.tls => {
            let ca = cfg.tls_ca_file.as_deref().unwrap_or("the system's roots");
            format!(
                "{engine}: TLS handshake with {nodes} failed (tls_ca_file={ca}): {why} ({text})"
            )
        }
        // Refused means nothing listens there: no hint about TLS, which
        // would send the operator the wrong way.
        _ if err.is_connection_refusal() || text.contains("Connection refused") => {
            format!("{engine}: nothing accepts connections at {nodes} ({text})")
        }
        _ if !cfg.tls && (err.is_connection_dropped() || text.contains("reset by peer")) => {
            format!(
                "{engine}: {nodes} closed the connection; the server may expect TLS: use rediss:// ({text})"
            )
        }
        _ => return Error::backend(engine, err),
    };
    Error::backend(engine, message)
}

/// The records of the three Redis engines, over one topology.
pub(crate) struct Redis<T: Topology> {
    cmds: Commands<T::Conn>,
    max_session_bytes: usize,
}

impl<T: Topology> std::fmt::Debug for Redis<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("engine", &T::NAME)
            .field("prefix", &self.cmds.prefix)
            .finish_non_exhaustive()
    }
}

impl<T: Topology> Redis<T> {
    fn key(&self, sid: &SessionId) -> String {
        if self.beego() {
            // beego's key is the raw id.
            return sid.as_str().to_owned();
        }
        self.cmds.key(sid.as_str())
    }

    fn beego(&self) -> bool {
        self.cmds.format == Format::Beego
    }
}

#[async_trait]
impl<T: Topology> RecordStore for Redis<T> {
    const NAME: &'static str = T::NAME;
    const FORMATS: &'static [Format] = &[Format::Native, Format::Beego];

    async fn open(cx: StoreContext, config: &str) -> Result<Self> {
        let cfg = RedisConfig::parse(T::SHAPE, config)?;
        if cfg.tls {
            tls::install_default_provider();
        }
        let conn = T::connect(&cfg).await?;
        tracing::debug!(
            engine = T::NAME,
            nodes = cfg.nodes.len(),
            "session: redis connected"
        );
        Ok(Redis {
            cmds: Commands {
                conn,
                prefix: cfg.key_prefix,
                lifetimes: cx.lifetimes,
                format: cx.format,
                backend: T::NAME,
                response_timeout: cfg.response_timeout,
            },
            max_session_bytes: cfg.max_session_bytes,
        })
    }

    async fn load(&self, sid: &SessionId, now: u64) -> Loaded {
        if self.beego() {
            return self.cmds.beego_load(&self.key(sid), now).await;
        }
        Ok(self.cmds.load(&self.key(sid), now).await?.map(|(r, _)| r))
    }

    async fn exists(&self, sid: &SessionId, _now: u64) -> Result<bool> {
        self.cmds.exists(&self.key(sid)).await
    }

    async fn write(&self, w: Write<'_>) -> Result<Released> {
        if self.beego() {
            let key = self.key(w.sid);
            let written = self.cmds.beego_write(&key, &w).await?;
            if written {
                self.refresh_owner(&w).await?;
            }
            return Ok(Released::wrote(written));
        }
        let written = self.cmds.write(&w).await?;
        if written {
            self.refresh_owner(&w).await?;
        }
        Ok(Released::wrote(written))
    }

    async fn insert(&self, sid: &SessionId, record: &SessionRecord, _now: u64) -> Result<()> {
        if self.beego() {
            return self.cmds.beego_create(&self.key(sid), record).await;
        }
        self.cmds.create(&self.key(sid), record).await
    }

    async fn remove(&self, sid: &SessionId) -> Result<()> {
        self.cmds.delete(&self.key(sid)).await
    }

    async fn move_record(&self, old: &SessionId, new: &SessionId, now: u64) -> Loaded {
        let (old_key, new_key) = (self.key(old), self.key(new));
        if self.beego() {
            return self
                .cmds
                .beego_move(&old_key, &new_key, now, T::ONE_NODE)
                .await;
        }
        if T::ONE_NODE {
            return self.cmds.rename(&old_key, &new_key, now).await;
        }
        // Across cluster slots: new first (with the fields as stored), old
        // second, so a failure in between leaves the data under one id.
        let Some((mut record, fields)) = self.cmds.load(&old_key, now).await? else {
            return Ok(None);
        };
        self.cmds
            .create_raw(
                &new_key,
                fields.iter().map(|(f, v)| (f.as_slice(), v.as_slice())),
            )
            .await?;
        self.cmds.delete(&old_key).await?;
        record.accessed_ms = now;
        Ok(Some(record))
    }

    async fn count(&self, _now: u64) -> Result<usize> {
        let pattern = if self.beego() {
            "*".to_owned()
        } else {
            commands::scan_pattern(&self.cmds.prefix)
        };
        let all = T::count(&self.cmds.conn, &pattern).await;
        // The owner index keys share the prefix: not sessions.
        let owners = T::count(&self.cmds.conn, &self.owner_pattern()).await;
        Ok(all
            .map_err(|e| self.cmds.err(e))?
            .saturating_sub(owners.map_err(|e| self.cmds.err(e))?))
    }

    fn owner_index(&self) -> Option<&dyn crate::session::OwnerIndex> {
        Some(self)
    }

    fn max_session_bytes(&self) -> usize {
        self.max_session_bytes
    }

    // GC: Redis expires sessions itself (PEXPIRE).
}

/// The single-server topology: multiplexed, auto-reconnecting connections.
pub(crate) struct Single;

#[async_trait]
impl Topology for Single {
    type Conn = pool::Pool<ConnectionManager>;
    const NAME: &'static str = "redis";
    const SHAPE: Shape = Shape::Single;
    const ONE_NODE: bool = true;

    async fn connect(cfg: &RedisConfig) -> Result<Self::Conn> {
        let (host, port) = cfg
            .nodes
            .first()
            .ok_or_else(|| Error::config(Self::NAME, "no address given"))?;
        if cfg.nodes.len() > 1 {
            return Err(Error::config(
                Self::NAME,
                "one address expected (use redis_cluster or redis_sentinel for several)",
            ));
        }
        let info = connection_info(host, *port, cfg)?;
        let client = if cfg.tls {
            Client::build_with_tls(info, certificates(Self::NAME, cfg)?)
        } else {
            Client::open(info)
        }
        .map_err(|e| Error::config(Self::NAME, format!("{:?}", e.kind())))?;
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
        .map_err(|e| connect_error(Self::NAME, cfg, e))
    }
}

engine_provider! {
    /// The `redis` engine: one Redis server.
    ///
    /// See the [module docs](self) for the layout and the config string.
    ///
    /// # Examples
    ///
    /// ```
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
    pub struct RedisProvider(Redis<Single>);
}
