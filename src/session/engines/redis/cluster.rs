//! The `redis_cluster` engine: Redis Cluster.
//!
//! Every command touches one key, so the cluster routes it to its slot's
//! master; regenerate creates the new key before it deletes the old one, so
//! ids in different slots are fine (no cross-slot `RENAME`). `session_all`
//! scans every master.

use async_trait::async_trait;
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use redis::Value;

use super::{
    certificates, commands, connect_error, connection_info, Redis, RedisConfig, Shape, Topology,
};
use crate::session::engines::shared::wiring::engine_provider;
use crate::session::error::{Error, Result};

/// The cluster backend: the redis crate's async cluster connection.
pub(crate) struct Cluster;

#[async_trait]
impl Topology for Cluster {
    type Conn = ClusterConnection;
    const NAME: &'static str = "redis_cluster";
    const SHAPE: Shape = Shape::Cluster;
    const ONE_NODE: bool = false;

    async fn connect(cfg: &RedisConfig) -> Result<Self::Conn> {
        let nodes = cfg
            .nodes
            .iter()
            .map(|(h, p)| connection_info(h, *p, cfg))
            .collect::<Result<Vec<_>>>()?;
        let mut builder = ClusterClientBuilder::new(nodes)
            .connection_timeout(cfg.connect_timeout)
            .response_timeout(cfg.response_timeout)
            .retries(u32::try_from(cfg.max_retries).unwrap_or(u32::MAX));
        if let Some(user) = &cfg.username {
            builder = builder.username(user);
        }
        if let Some(password) = &cfg.password {
            builder = builder.password(password.expose());
        }
        if cfg.tls {
            builder = builder.certs(certificates(Self::NAME, cfg)?);
            if cfg.tls_skip_verify {
                builder = builder.tls(redis::TlsMode::Insecure);
            }
        }
        let client = builder
            .build()
            .map_err(|e| Error::config(Self::NAME, format!("{:?}", e.kind())))?;
        let mut conn = client
            .get_async_connection()
            .await
            .map_err(|e| connect_error(Self::NAME, cfg, e))?;
        let _: String = redis::cmd("PING")
            .query_async(&mut conn)
            .await
            .map_err(|e| connect_error(Self::NAME, cfg, e))?;
        Ok(conn)
    }

    async fn count(conn: &Self::Conn, pattern: &str) -> redis::RedisResult<usize> {
        let mut total = 0;
        for (host, port) in masters(conn).await? {
            let conn = conn.clone();
            total += commands::scan_count(pattern, move |cmd| {
                let mut conn = conn.clone();
                let route = RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
                    host: host.clone(),
                    port,
                });
                async move { conn.route_command(cmd, route).await }
            })
            .await?;
        }
        Ok(total)
    }
}

/// The masters' addresses, from `CLUSTER SLOTS`.
async fn masters(conn: &ClusterConnection) -> redis::RedisResult<Vec<(String, u16)>> {
    let mut conn = conn.clone();
    let reply = conn
        .route_command(
            redis::cmd("CLUSTER").arg("SLOTS").clone(),
            RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random),
        )
        .await?;
    let mut out: Vec<(String, u16)> = Vec::new();
    let Value::Array(ranges) = reply else {
        return Err(bad_reply());
    };
    for range in ranges {
        // [start, end, [host, port, id, ...], replicas...]
        let Value::Array(parts) = range else {
            return Err(bad_reply());
        };
        let Some(Value::Array(master)) = parts.into_iter().nth(2) else {
            return Err(bad_reply());
        };
        let mut it = master.into_iter();
        let (Some(host), Some(Value::Int(port))) = (it.next(), it.next()) else {
            return Err(bad_reply());
        };
        let host: String = redis::from_redis_value(host)?;
        let port = u16::try_from(port).map_err(|_| bad_reply())?;
        if !out.iter().any(|(h, p)| *h == host && *p == port) {
            out.push((host, port));
        }
    }
    Ok(out)
}

fn bad_reply() -> redis::RedisError {
    redis::RedisError::from((
        redis::ErrorKind::UnexpectedReturnType,
        "unexpected CLUSTER SLOTS reply",
    ))
}

engine_provider! {
    /// The `redis_cluster` engine: sessions in a Redis Cluster.
    ///
    /// The config's address is a `;`- or `,`-separated list of seed nodes; see
    /// the [parent module](super) for the shapes and the layout.
    ///
    /// # Examples
    ///
    /// Not run here, as it needs a cluster on these ports; `tests/redis_cluster.rs`
    /// does the same against a cluster the tests start.
    ///
    /// ```no_run
    /// # actix_rt::System::new().block_on(async {
    /// use std::time::Duration;
    /// use actix_bee::session::Provider;
    /// use actix_bee::session::redis::cluster::RedisClusterProvider;
    ///
    /// let mut provider = RedisClusterProvider::default();
    /// provider
    ///     .session_init(Duration::from_secs(3600), "127.0.0.1:7001;127.0.0.1:7002,1000,,0")
    ///     .await
    ///     .unwrap();
    /// # });
    /// ```
    #[derive(Default)]
    pub struct RedisClusterProvider(Redis<Cluster>);
}
