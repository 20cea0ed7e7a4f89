//! The `redis_sentinel` engine: a master found through Redis Sentinel.
//!
//! The connection asks the sentinels for the master (and checks its `ROLE`)
//! when it first connects and again after any error that says the master
//! moved or the link broke (`READONLY`, `MASTERDOWN`, I/O errors,
//! timeouts). While a failover runs, requests get `Error::Backend`; once the
//! sentinels agree on the new master, the next request reconnects to it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::RwLock;
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType};
use redis::{
    AsyncConnectionConfig, Cmd, ErrorKind, Pipeline, RedisError, RedisFuture, RedisResult,
    ServerErrorKind, TlsCertificates, TlsMode, Value,
};

use super::pool::Pool;
use super::{address, certificates, connect_error, Redis, RedisConfig, Shape, Topology};
use crate::session::engines::shared::wiring::engine_provider;
use crate::session::error::{Error, Result};

/// What every clone of a [`SentinelConn`] shares: the sentinel client,
/// the current master connection and its generation.
struct MasterState {
    client: tokio::sync::Mutex<SentinelClient>,
    current: RwLock<Option<(u64, MultiplexedConnection)>>,
    generation: AtomicU64,
    config: AsyncConnectionConfig,
    discover_timeout: Duration,
    db: i64,
}

/// A master connection that follows failovers.
#[derive(Clone)]
pub(crate) struct SentinelConn(Arc<MasterState>);

impl SentinelConn {
    async fn get(&self) -> RedisResult<(u64, MultiplexedConnection)> {
        if let Some(c) = self.0.current.read().clone() {
            return Ok(c);
        }
        let mut client = self.0.client.lock().await;
        // Another request may have reconnected while this one waited.
        if let Some(c) = self.0.current.read().clone() {
            return Ok(c);
        }
        let conn = tokio::time::timeout(
            self.0.discover_timeout,
            client.get_async_connection_with_config(&self.0.config),
        )
        .await
        .map_err(|_| {
            RedisError::from((
                ErrorKind::Io,
                "timed out finding the master through the sentinels",
            ))
        })??;
        let generation = self.0.generation.fetch_add(1, Ordering::Relaxed) + 1;
        *self.0.current.write() = Some((generation, conn.clone()));
        tracing::debug!(
            generation,
            "session: redis_sentinel connected to the master"
        );
        Ok((generation, conn))
    }

    /// Drops the connection when `err` says the master moved or the link is
    /// gone, so the next command asks the sentinels again.
    fn check<T>(&self, generation: u64, result: RedisResult<T>) -> RedisResult<T> {
        if let Err(err) = &result {
            let moved = matches!(
                err.kind(),
                ErrorKind::Server(ServerErrorKind::ReadOnly | ServerErrorKind::MasterDown)
            );
            if moved
                || err.is_io_error()
                || err.is_connection_dropped()
                || err.is_connection_refusal()
                || err.is_timeout()
                || err.is_unrecoverable_error()
            {
                let mut current = self.0.current.write();
                if current.as_ref().is_some_and(|(g, _)| *g == generation) {
                    *current = None;
                    tracing::warn!("session: redis_sentinel lost the master, will rediscover");
                }
            }
        }
        result
    }
}

impl ConnectionLike for SentinelConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            let (generation, mut conn) = self.get().await?;
            let result = conn.req_packed_command(cmd).await;
            self.check(generation, result)
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let (generation, mut conn) = self.get().await?;
            let result = conn.req_packed_commands(cmd, offset, count).await;
            self.check(generation, result)
        })
    }

    fn get_db(&self) -> i64 {
        self.0.db
    }
}

/// The sentinel backend.
pub(crate) struct Sentinel;

#[async_trait]
impl Topology for Sentinel {
    type Conn = Pool<SentinelConn>;
    const NAME: &'static str = "redis_sentinel";
    const SHAPE: Shape = Shape::Sentinel;
    const ONE_NODE: bool = true;

    async fn connect(cfg: &RedisConfig) -> Result<Self::Conn> {
        let cfg = cfg.clone();
        // Read the certificate files and validate the builder settings
        // once, as config errors.
        let certs = if cfg.tls {
            Some(certificates(Self::NAME, &cfg)?)
        } else {
            None
        };
        builder(&cfg, certs.clone())
            .map_err(|e| Error::config(Self::NAME, format!("{:?}", e.kind())))?;
        let pool_cfg = cfg.clone();
        Pool::new(cfg.pool_size, move || {
            let (cfg, certs) = (pool_cfg.clone(), certs.clone());
            async move { open(&cfg, certs).await }
        })
        .await
        .map_err(|e| connect_error(Self::NAME, &cfg, e))
    }
}

/// The sentinel client; with `certs`, TLS to the sentinels and the master.
fn builder(cfg: &RedisConfig, certs: Option<TlsCertificates>) -> RedisResult<SentinelClient> {
    let sentinels = cfg.nodes.iter().map(|(h, p)| address(h, *p, cfg));
    let mut builder =
        SentinelClientBuilder::new(sentinels, &cfg.master_name, SentinelServerType::Master)?
            .set_client_to_redis_db(cfg.db);
    if let Some(user) = &cfg.username {
        builder = builder.set_client_to_redis_username(user);
    }
    if let Some(password) = &cfg.password {
        builder = builder.set_client_to_redis_password(password.expose());
    }
    if let Some(password) = &cfg.sentinel_password {
        builder = builder.set_client_to_sentinel_password(password.expose());
    }
    if let Some(certs) = certs {
        let mode = if cfg.tls_skip_verify {
            TlsMode::Insecure
        } else {
            TlsMode::Secure
        };
        builder = builder
            .set_client_to_sentinel_tls_mode(mode)
            .set_client_to_sentinel_certificates(certs.clone())
            .set_client_to_redis_tls_mode(mode)
            .set_client_to_redis_certificates(certs);
    }
    builder.build()
}

/// One master connection (per runtime thread, see `Pool`), connected now.
async fn open(cfg: &RedisConfig, certs: Option<TlsCertificates>) -> RedisResult<SentinelConn> {
    let conn = SentinelConn(Arc::new(MasterState {
        client: tokio::sync::Mutex::new(builder(cfg, certs)?),
        current: RwLock::new(None),
        generation: AtomicU64::new(0),
        config: AsyncConnectionConfig::new()
            .set_connection_timeout(Some(cfg.connect_timeout))
            .set_response_timeout(Some(cfg.response_timeout)),
        discover_timeout: cfg.connect_timeout * 2,
        db: cfg.db,
    }));
    conn.get().await?;
    Ok(conn)
}

engine_provider! {
    /// The `redis_sentinel` engine: sessions on the master of a Sentinel setup.
    ///
    /// The config's address is the sentinels' list and the master name is
    /// configurable (`master_name`, or field 5 of the comma list); see the
    /// [parent module](super) for the shapes and the layout.
    ///
    /// # Examples
    ///
    /// Not run here, as it needs sentinels on these ports;
    /// `tests/redis_sentinel.rs` does the same against sentinels the tests start.
    ///
    /// ```no_run
    /// # actix_rt::System::new().block_on(async {
    /// use std::time::Duration;
    /// use actix_bee::session::Provider;
    /// use actix_bee::session::redis::sentinel::RedisSentinelProvider;
    ///
    /// let mut provider = RedisSentinelProvider::default();
    /// provider
    ///     .session_init(
    ///         Duration::from_secs(3600),
    ///         r#"{"save_path":"127.0.0.1:26390;127.0.0.1:26391","master_name":"mymaster"}"#,
    ///     )
    ///     .await
    ///     .unwrap();
    /// # });
    /// ```
    #[derive(Default)]
    pub struct RedisSentinelProvider(Redis<Sentinel>);
}
