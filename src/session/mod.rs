//! The session core: beego's `server/web/session` package.
//!
//! [`Manager`] finds each request's [`Session`] through a [`Provider`]
//! (an engine), whose [`Store`] tracks what the request changed so that
//! release writes only that. Nothing here knows about actix-web requests or
//! responses: the web layer hands in [`RequestIds`] and applies the
//! [`ResponseParts`] it gets back.
//!
//! Applications need the names at this level; engine authors find the
//! building blocks ([`engine::RecordStore`], [`engine::MapStore`],
//! [`engine::SessionRecord`], [`engine::Format`], ...) in [`engine`].
//!
//! Where things are:
//!
//! | file or folder | holds |
//! |---|---|
//! | `manager.rs`, `manager_config.rs` | the [`Manager`] and its settings |
//! | `request.rs`, `exchange.rs` | a request's way through the manager; what it exchanges with the web layer |
//! | `handle.rs`, `typed.rs` | the request's [`Session`]; typed get/set on a [`Store`] |
//! | `provider.rs`, `store.rs`, `registry.rs` | the engine traits, and engines by name |
//! | `id.rs`, `record.rs`, `error.rs` | ids, what a session holds, errors |
//! | `owner/` | sessions by owner ("log out everywhere"): the index, the protocol, the manager's operations |
//! | `engine/` | for engine authors: the record-store skeleton, the change-tracking store |
//! | `format/` | how a session is encoded: native (MessagePack) or beego's (gob) |
//! | `engines/` | the built-in engines (private, re-exported below by name) |
//! | `gc.rs`, `health.rs`, `observe.rs` | the GC task, health checks, metrics and spans |
//! | `testing/` | the conformance suite (feature `test-suite`) |
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
mod exchange;
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
mod registry;
mod request;
mod store;
mod typed;

#[cfg(feature = "test-suite")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-suite")))]
pub mod testing;

// Engines live in a private folder and are re-exported under stable names.
#[allow(unused_imports)] // a build without engines has none to export
pub use engines::*;
#[cfg(feature = "cli")]
pub(crate) use error::CORE;
pub use error::{Error, Result};
pub use exchange::{CookieSpec, IdSource, RequestIds, ResponseParts};
pub use gc::GcTask;
pub use handle::Session;
#[cfg(feature = "cli")]
pub(crate) use id::fingerprint_of;
pub use id::{HashFunc, IdGenerator, SessionId, MAX_ID_BYTES, MIN_ID_BYTES};
pub use manager::Manager;
pub use manager_config::{ManagerConfig, SameSite};
// Engines inside the crate name the index from here; its public home is
// `engine`, with the other names an engine author needs.
pub(crate) use owner::OwnerIndex;
pub use owner::{OwnedSession, Owner, MAX_OWNER_BYTES, OWNER_EPOCH_KEY, OWNER_KEY};
pub use provider::Provider;
pub use registry::{provider_by_name, register, registered_names, ProviderFactory};
pub use store::Store;
