//! The engines, private and re-exported by [`session`](super) under stable
//! names. This file is the only feature wall: the engine files carry no
//! `cfg` of their own choosing.

// A build without engines (`--no-default-features`) keeps the skeleton.
#![cfg_attr(
    not(any(
        feature = "memory",
        feature = "cookie",
        feature = "file",
        feature = "memcache",
        feature = "couchbase",
        feature = "mysql",
        feature = "postgresql",
        feature = "redis"
    )),
    allow(unused)
)]

pub(crate) mod shared;

#[cfg(feature = "memory")]
#[cfg_attr(docsrs, doc(cfg(feature = "memory")))]
pub mod memory;

#[cfg(feature = "cookie")]
#[cfg_attr(docsrs, doc(cfg(feature = "cookie")))]
pub mod cookie;

#[cfg(feature = "file")]
#[cfg_attr(docsrs, doc(cfg(feature = "file")))]
pub mod file;

#[cfg(feature = "memcache")]
#[cfg_attr(docsrs, doc(cfg(feature = "memcache")))]
pub mod memcache;

#[cfg(feature = "couchbase")]
#[cfg_attr(docsrs, doc(cfg(feature = "couchbase")))]
pub mod couchbase;

#[cfg(any(feature = "mysql", feature = "postgresql"))]
pub(crate) mod sql;

#[cfg(feature = "mysql")]
#[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
pub use sql::mysql;

#[cfg(feature = "postgresql")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgresql")))]
pub use sql::postgresql;

#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis;

use shared::secrets::Secrets;

/// The secrets of `config`, the `sessionproviderconfig` of engine
/// `provider`, as that engine's own parser takes them (passwords, keys);
/// [`Secrets::render`] masks them. `None` when the parser refuses the
/// text or the engine is not built in: then nothing in it can be shown.
// Only the `actix-bee` command prints provider configs.
#[cfg_attr(not(feature = "cli"), allow(dead_code))]
pub(crate) fn config_secrets<'a>(provider: &str, config: &'a str) -> Option<Secrets<'a>> {
    let found: Result<Secrets<'a>, crate::session::Error> = match provider {
        // Paths and sizes: nothing secret.
        "memory" | "file" => Ok(Secrets::new(config)),
        #[cfg(feature = "cookie")]
        "cookie" => cookie::secrets(config),
        #[cfg(feature = "mysql")]
        "mysql" => mysql::secrets(config),
        #[cfg(feature = "postgresql")]
        "postgresql" | "postgres" => postgresql::secrets(config),
        #[cfg(feature = "redis")]
        "redis" => redis::secrets(redis::Shape::Single, config),
        #[cfg(feature = "redis_cluster")]
        "redis_cluster" => redis::secrets(redis::Shape::Cluster, config),
        #[cfg(feature = "redis_sentinel")]
        "redis_sentinel" => redis::secrets(redis::Shape::Sentinel, config),
        #[cfg(feature = "memcache")]
        "memcache" => memcache::secrets(config),
        #[cfg(feature = "couchbase")]
        "couchbase" => couchbase::secrets(config),
        _ => return None,
    };
    found.ok()
}
