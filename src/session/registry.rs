//! Engines by name: beego's `session.Register`, with a factory per name so
//! that two managers never share one engine's state.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use parking_lot::RwLock;

use super::error::{Error, Result};
use super::provider::Provider;

/// Builds a fresh, uninitialised engine.
pub type ProviderFactory = Arc<dyn Fn() -> Box<dyn Provider> + Send + Sync>;

/// Built-in engine names and the cargo feature that adds each.
const BUILT_INS: &[(&str, &str)] = &[
    ("memory", "memory"),
    ("cookie", "cookie"),
    ("file", "file"),
    ("mysql", "mysql"),
    ("postgresql", "postgresql"),
    ("postgres", "postgresql"),
    ("redis", "redis"),
    ("redis_cluster", "redis_cluster"),
    ("redis_sentinel", "redis_sentinel"),
    ("memcache", "memcache"),
    ("couchbase", "couchbase"),
];

fn registry() -> &'static RwLock<BTreeMap<String, ProviderFactory>> {
    static REGISTRY: OnceLock<RwLock<BTreeMap<String, ProviderFactory>>> = OnceLock::new();
    REGISTRY.get_or_init(|| RwLock::new(built_ins()))
}

#[allow(unused_mut)]
fn built_ins() -> BTreeMap<String, ProviderFactory> {
    let mut map: BTreeMap<String, ProviderFactory> = BTreeMap::new();
    #[cfg(feature = "memory")]
    map.insert(
        "memory".into(),
        Arc::new(|| Box::new(super::memory::MemoryProvider::default())),
    );
    #[cfg(feature = "file")]
    map.insert(
        "file".into(),
        Arc::new(|| Box::new(super::file::FileProvider::default())),
    );
    #[cfg(feature = "cookie")]
    map.insert(
        "cookie".into(),
        Arc::new(|| Box::new(super::cookie::CookieProvider::default())),
    );
    #[cfg(feature = "mysql")]
    map.insert(
        "mysql".into(),
        Arc::new(|| Box::new(super::mysql::MysqlProvider::default())),
    );
    #[cfg(feature = "postgresql")]
    {
        let pg: ProviderFactory =
            Arc::new(|| Box::new(super::postgresql::PostgresqlProvider::default()));
        map.insert("postgresql".into(), pg.clone());
        map.insert("postgres".into(), pg);
    }
    #[cfg(feature = "redis")]
    map.insert(
        "redis".into(),
        Arc::new(|| Box::new(super::redis::RedisProvider::default())),
    );
    #[cfg(feature = "redis_cluster")]
    map.insert(
        "redis_cluster".into(),
        Arc::new(|| Box::new(super::redis::cluster::RedisClusterProvider::default())),
    );
    #[cfg(feature = "redis_sentinel")]
    map.insert(
        "redis_sentinel".into(),
        Arc::new(|| Box::new(super::redis::sentinel::RedisSentinelProvider::default())),
    );
    #[cfg(feature = "memcache")]
    map.insert(
        "memcache".into(),
        Arc::new(|| Box::new(super::memcache::MemcacheProvider::default())),
    );
    #[cfg(feature = "couchbase")]
    map.insert(
        "couchbase".into(),
        Arc::new(|| Box::new(super::couchbase::CouchbaseProvider::default())),
    );
    map
}

/// Registers an engine under `name`, replacing any earlier one.
///
/// The factory is called once per [`Manager`](super::Manager), so managers
/// never share engine state.
///
/// # Examples
///
/// ```
/// use actix_bee::session::{self, memory::MemoryProvider};
///
/// session::register("own", || MemoryProvider::default());
/// assert!(session::registered_names().contains(&"own".to_string()));
/// ```
pub fn register<P, F>(name: &str, factory: F)
where
    P: Provider,
    F: Fn() -> P + Send + Sync + 'static,
{
    let factory: ProviderFactory = Arc::new(move || Box::new(factory()));
    registry().write().insert(name.to_owned(), factory);
}

/// The names of every registered engine.
///
/// # Examples
///
/// ```
/// assert!(actix_bee::session::registered_names().contains(&"memory".to_string()));
/// ```
pub fn registered_names() -> Vec<String> {
    registry().read().keys().cloned().collect()
}

/// Builds a fresh engine registered under `name`.
///
/// # Errors
///
/// [`Error::UnknownProvider`], naming the registered engines and the cargo
/// feature that would add a built-in one.
///
/// # Examples
///
/// ```
/// let err = actix_bee::session::provider_by_name("nope").err().unwrap();
/// assert!(err.to_string().contains("memory"));
/// ```
pub fn provider_by_name(name: &str) -> Result<Box<dyn Provider>> {
    if let Some(factory) = registry().read().get(name) {
        return Ok(factory());
    }
    let hint = BUILT_INS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, feature)| {
            format!("; enable the cargo feature \"{feature}\" of actix-bee to add it")
        })
        .unwrap_or_else(|| "; register a custom engine with session::register".to_string());
    Err(Error::UnknownProvider {
        name: name.to_owned(),
        known: registered_names().join(", "),
        hint,
    })
}
