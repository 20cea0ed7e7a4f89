//! The one error type of the gob codec.

/// What went wrong while decoding, encoding or converting a gob value.
///
/// Every malformed or hostile input ends in one of these, never in a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input ended in the middle of an item.
    #[error("gob: unexpected end of input")]
    UnexpectedEof,
    /// An unsigned integer announced more than 8 bytes.
    #[error("gob: invalid unsigned integer encoding")]
    BadUint,
    /// A count or length is larger than what is left of the input.
    #[error("gob: length {len} exceeds the {available} bytes left")]
    LengthTooLarge {
        /// The announced count or length.
        len: u64,
        /// The bytes actually left.
        available: usize,
    },
    /// Values or types are nested deeper than [`MAX_DEPTH`](super::MAX_DEPTH).
    #[error("gob: nesting deeper than {0} levels")]
    TooDeep(usize),
    /// The stream defines more than [`MAX_TYPES`](super::MAX_TYPES) types.
    #[error("gob: more than {0} type definitions")]
    TooManyTypes(usize),
    /// A value refers to a type id that was never defined.
    #[error("gob: unknown type id {0}")]
    UnknownType(i64),
    /// A type definition uses a reserved, negative or already defined id.
    #[error("gob: invalid or duplicate type definition for id {0}")]
    BadTypeId(i64),
    /// A type definition (wireType) is malformed.
    #[error("gob: malformed type definition: {0}")]
    BadTypeDefinition(&'static str),
    /// The data is malformed in a way the other variants do not name.
    #[error("gob: corrupt data: {0}")]
    Corrupt(&'static str),
    /// A string or type name is not valid UTF-8 (Rust strings must be).
    #[error("gob: string is not valid UTF-8")]
    InvalidUtf8,
    /// An integer or float does not fit the Go type it is read as or written to.
    #[error("gob: value {value} out of range for Go type {ty}")]
    OutOfRange {
        /// The value, printed.
        value: String,
        /// The Go type.
        ty: String,
    },
    /// A value does not match the Go type of the slot it is written to.
    #[error("gob: type mismatch: expected {expected}, found {found}")]
    TypeMismatch {
        /// The Go type the slot requires.
        expected: String,
        /// What was found instead.
        found: String,
    },
    /// An interface value's concrete type name is empty where a value needs
    /// one, or longer than [`MAX_NAME_LEN`](super::MAX_NAME_LEN) bytes.
    #[error("gob: invalid interface type name {0:?}")]
    BadName(String),
    /// Bytes are left over after the value.
    #[error("gob: {0} bytes of trailing data")]
    TrailingData(usize),
    /// A feature of gob this codec does not handle (recursive types).
    #[error("gob: unsupported: {0}")]
    Unsupported(&'static str),
    /// Comparing or naming types took more steps than allowed (hostile type graphs).
    #[error("gob: types too complex")]
    TooComplex,
    /// A serde conversion failed (see the message).
    #[error("gob: {0}")]
    Message(String),
}

/// Shorthand for results of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl serde::de::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error::Message(msg.to_string())
    }
}

impl serde::ser::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error::Message(msg.to_string())
    }
}
