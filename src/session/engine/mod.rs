//! For engine authors: the traits an engine implements and the building
//! blocks it reuses.
//!
//! An engine implements [`Provider`]; most return a [`MapStore`] from
//! `session_read`, which tracks the request's [`Changes`] and hands them
//! to the engine's [`SessionWriter`] at release. Blob engines store a
//! [`SessionRecord`] encoded by a [`Format`]. `examples/custom_provider.rs`
//! is a complete engine.
//!
//! # Examples
//!
//! ```
//! use actix_bee::session::engine::{Format, SessionRecord};
//!
//! let bytes = Format::default().encode(&SessionRecord::new(0)).unwrap();
//! assert!(!bytes.is_empty());
//! ```

pub mod codec;
mod map_store;
pub(crate) mod skeleton;

pub use super::error::{BoxError, CORE};
pub use super::format::Format;
pub use super::id::IdFormat;
pub use super::provider::Provider;
pub use super::record::{now_ms, Changes, Lifetimes, SessionRecord, Values};
pub use super::store::{Store, StoreMeta};
pub use map_store::{MapStore, Released, SessionWriter, Write, WriteMode};
pub use skeleton::{Engine, Loaded, RecordStore, StoreContext};
