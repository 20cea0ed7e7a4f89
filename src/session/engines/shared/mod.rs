//! What the engines share: the skeleton, option parsing, key-value helpers
//! and the blocking-pool bridge.

#[cfg(any(
    feature = "file",
    feature = "memcache",
    feature = "mysql",
    feature = "postgresql"
))]
pub(crate) mod blocking;
#[cfg(any(feature = "memcache", feature = "couchbase"))]
pub(crate) mod kv;
pub(crate) mod options;
pub(crate) mod skeleton;
