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
