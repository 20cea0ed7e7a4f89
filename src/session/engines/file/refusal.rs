//! How the engine reports what it refuses to touch, and I/O errors: a leaf
//! that the directory cache, the tree and the owner index all use.

use std::io;

use crate::session::error::Error;

/// The error for an entry the engine will not touch, logged as a warning.
pub(super) fn refused(what: &'static str) -> Error {
    tracing::warn!(
        what,
        "file session: refusing a symlink or a file owned by another user"
    );
    Error::corrupt(format!(
        "file session: refusing {what}: a symlink, not a regular entry, or owned by another user"
    ))
}

/// Maps an I/O error; a symlink hit by O_NOFOLLOW is a refusal, not an outage.
pub(super) fn io_error(e: io::Error) -> Error {
    if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
        return refused("a session file");
    }
    Error::backend("file", e)
}
