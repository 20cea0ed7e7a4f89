//! The session core: beego's `server/web/session` package.
//!
//! [`Manager`] finds each request's [`Session`] through a [`Provider`]
//! (an engine), whose [`Store`] tracks what the request changed so that
//! release writes only that. Nothing here knows about actix-web requests or
//! responses: the web layer hands in [`RequestIds`] and applies the
//! [`ResponseParts`] it gets back.
//!
//! Applications need the names at this level; engine authors find the
//! building blocks ([`engine::MapStore`], [`engine::SessionRecord`],
//! [`engine::Format`], ...) in [`engine`].
//!
//! | engine | cargo feature | `sessionproviderconfig` |
//! |---|---|---|
//! | `memory` | `memory` (default) | limits: `max_sessions`, `max_bytes`, `max_session_bytes` |
//! | `cookie` | `cookie` (default) | beego's JSON: `securityKey`, `blockKey`, ... |
//! | `file` | `file` (default) | a directory |
//! | `mysql` | `mysql` | a DSN (go-sql-driver form or `mysql://`) |
//! | `postgresql` | `postgresql` | a `postgres://` URL or `key=value` conninfo |
//! | `redis`, `redis_cluster`, `redis_sentinel` | same names | addresses, beego style or JSON |
//! | `memcache` | `memcache` | addresses |
//! | `couchbase` | `couchbase` | a URL |
//!
//! Every engine reads durations one way (`5s`, `500ms`, or plain seconds
//! such as `30` or `0.5`), booleans one way (`true`/`false`, `1`/`0`,
//! `yes`/`no`, `on`/`off`), and takes a `pool_size` of 1 to 1024.

pub mod engine;
mod engines;
mod error;
mod format;
mod gc;
mod handle;
mod health;
mod id;
mod manager;
mod manager_config;
mod observe;
mod owner;
mod provider;
mod record;
mod record_msgpack;
mod registry;
mod store;

#[cfg(feature = "test-suite")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-suite")))]
pub mod testing;

// Engines live in a private folder and are re-exported under stable names.
#[allow(unused_imports)] // a build without engines has none to export
pub use engines::*;
pub use error::{Error, Result};
pub use gc::GcTask;
pub use handle::Session;
pub use id::{HashFunc, IdGenerator, SessionId, MAX_ID_BYTES, MIN_ID_BYTES};
pub use manager::{CookieSpec, IdSource, Manager, RequestIds, ResponseParts};
pub use manager_config::{ManagerConfig, SameSite};
pub use owner::{
    IndexedSession, OwnedSession, Owner, OwnerIndex, MAX_OWNER_BYTES, OWNER_EPOCH_KEY, OWNER_KEY,
};
pub use provider::Provider;
pub use registry::{provider_by_name, register, registered_names, ProviderFactory};
pub use store::Store;
