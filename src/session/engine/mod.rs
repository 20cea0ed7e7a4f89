//! For engine authors: the traits an engine implements and the building
//! blocks it reuses.
//!
//! An engine implements [`RecordStore`]: how to load, write, insert,
//! remove and count one [`SessionRecord`], encoded by the [`Format`] in its
//! [`StoreContext`]. [`Engine`] turns it into a
//! [`Provider`](super::Provider), with regenerate, expiry, the size limit
//! and the corrupt-data rule written once; the stores it hands out are
//! [`MapStore`]s, which track a request's [`Changes`] and give them to the
//! engine's `write` at release. Every built-in engine is written this way,
//! and `examples/custom_provider.rs` is a complete one. An engine that
//! needs full control implements [`Provider`](super::Provider) and
//! [`Store`](super::Store) itself.
//!
//! # Examples
//!
//! ```
//! use actix_bee::session::engine::{Format, SessionRecord};
//!
//! let bytes = Format::default().encode(&SessionRecord::new(0)).unwrap();
//! assert!(!bytes.is_empty());
//! ```

mod map_store;
pub(crate) mod skeleton;

pub use super::error::BoxError;
pub use super::format::Format;
pub use super::id::IdFormat;
pub use super::owner::{IndexedSession, OwnerIndex};
pub use super::record::{now_ms, Changes, Lifetimes, SessionRecord, Values};
pub use super::store::{Released, StoreMeta};
pub use map_store::{MapStore, SessionWriter, Write, WriteMode};
pub use skeleton::{Engine, Loaded, RecordStore, StoreContext};
