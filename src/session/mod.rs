//! The session core: beego's `server/web/session` package.
//!
//! [`Manager`] finds each request's [`Session`] through a [`Provider`]
//! (an engine), whose [`Store`] tracks what the request changed so that
//! release writes only that. Nothing here knows about actix-web requests or
//! responses: the web layer hands in [`RequestIds`] and applies the
//! [`ResponseParts`] it gets back.
//!
//! | engine | cargo feature | `sessionproviderconfig` |
//! |---|---|---|
//! | `memory` | `memory` (default) | ignored |
//! | `cookie` | `cookie` (default) | beego's JSON: `securityKey`, `blockKey`, ... |
//! | `file` | `file` (default) | a directory |
//! | `mysql` | `mysql` | a DSN (go-sql-driver form or `mysql://`) |
//! | `postgresql` | `postgresql` | a `postgres://` URL or `key=value` conninfo |
//! | `redis`, `redis_cluster`, `redis_sentinel` | same names | addresses, beego style or JSON |
//! | `memcache` | `memcache` | addresses |
//! | `couchbase` | `couchbase` | a URL |

pub mod codec;
mod error;
mod gc;
mod handle;
mod id;
mod manager;
mod manager_config;
mod provider;
mod record;
mod registry;
mod store;

#[cfg(feature = "memory")]
#[cfg_attr(docsrs, doc(cfg(feature = "memory")))]
pub mod memory;

#[cfg(feature = "cookie")]
#[cfg_attr(docsrs, doc(cfg(feature = "cookie")))]
pub mod cookie;

#[cfg(feature = "file")]
#[cfg_attr(docsrs, doc(cfg(feature = "file")))]
pub mod file;

#[cfg(any(
    feature = "memcache",
    feature = "couchbase",
    feature = "mysql",
    feature = "postgresql",
    feature = "redis"
))]
mod engine_options;

#[cfg(any(feature = "memcache", feature = "couchbase"))]
mod kv_shared;

#[cfg(feature = "memcache")]
#[cfg_attr(docsrs, doc(cfg(feature = "memcache")))]
pub mod memcache;

#[cfg(feature = "couchbase")]
#[cfg_attr(docsrs, doc(cfg(feature = "couchbase")))]
pub mod couchbase;

#[cfg(feature = "mysql")]
#[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
pub mod mysql;

#[cfg(feature = "postgresql")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgresql")))]
pub mod postgresql;

#[cfg(any(feature = "mysql", feature = "postgresql"))]
mod sql;

#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis;

#[cfg(feature = "test-suite")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-suite")))]
pub mod testing;

pub use error::{BoxError, Error, Result};
pub use gc::GcTask;
pub use handle::Session;
pub use id::{HashFunc, IdFormat, IdGenerator, SessionId, MAX_ID_BYTES, MIN_ID_BYTES};
pub use manager::{CookieSpec, IdSource, Manager, RequestIds, ResponseParts};
pub use manager_config::{ManagerConfig, SameSite};
pub use provider::Provider;
pub use record::{now_ms, Changes, Lifetimes, SessionRecord, Values};
pub use registry::{provider_by_name, register, registered_names, ProviderFactory};
pub use store::{MapStore, Released, SessionWriter, Store, StoreMeta, Write, WriteMode};
