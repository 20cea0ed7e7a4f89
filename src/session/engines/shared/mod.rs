//! What the engines share: option parsing, the `host:port` reader,
//! key-value helpers, the blocking-pool bridge, engines' own I/O threads
//! and TLS (certificate files, verifiers, errors).

#[cfg(any(
    feature = "memcache",
    feature = "couchbase",
    feature = "mysql",
    feature = "postgresql",
    feature = "redis"
))]
pub(crate) mod addr;
#[cfg(any(
    feature = "file",
    feature = "memcache",
    feature = "mysql",
    feature = "postgresql"
))]
pub(crate) mod blocking;
#[cfg(test)]
pub(crate) mod fuzz;
#[cfg(any(feature = "file", feature = "mysql", feature = "postgresql"))]
pub(crate) mod io_threads;
#[cfg(any(feature = "memcache", feature = "couchbase"))]
pub(crate) mod kv;
pub(crate) mod options;
pub(crate) mod secrets;
#[cfg(any(feature = "mysql", feature = "postgresql", feature = "redis"))]
pub(crate) mod tls;
pub(crate) mod wiring;
