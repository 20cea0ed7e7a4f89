//! The bounds that keep hostile gob input from exhausting stack or memory;
//! a leaf, read by the reader, the writer and the serde bridges alike.

/// Deepest nesting of values (and of types) this module reads or writes.
pub const MAX_DEPTH: usize = 64;

/// Most type definitions one stream may hold.
pub const MAX_TYPES: usize = 1024;
