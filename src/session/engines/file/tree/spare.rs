//! Rewriting a session without making or freeing an inode.
//!
//! A rewrite by a temporary file and `rename` makes a new inode and frees
//! the old one on every write. That churn is most of a write's cost: on
//! ext4 each new inode is searched for past recently freed ones, a search
//! that grows with the write rate (measured in issue 26: about 40% of the
//! server's CPU at 6,000 writes a second). So in the native layout each
//! session keeps a spare file, `sid.spare`: a write fills the spare and
//! swaps the two names in one `renameat2(RENAME_EXCHANGE)`. The old
//! content becomes the next spare; no inode is made or freed.
//!
//! - **Atomic**: readers open `sid` and see the old file or the new one,
//!   whole, as with `rename`; a crash mid-write leaves `sid` untouched.
//! - **No torn reads**: a reader may still hold the inode that has just
//!   become the spare. Readers take a shared `flock` on the file they read
//!   and writers an exclusive one on the spare before they refill it, so a
//!   spare is never rewritten under a reader.
//! - **Writers** hold the session's lock (`sid.lock`), as for every write.
//! - Where the file system has no `RENAME_EXCHANGE` (it says `EINVAL`),
//!   writes fall back to the temporary file and `rename`, for good.

use std::fs::File;
use std::os::fd::BorrowedFd;
use std::os::unix::fs::FileExt;
use std::sync::atomic::Ordering;

use rustix::fs::RenameFlags;

use super::{io_error, Paths, Tree};
use crate::session::error::Result;

/// What one attempt at a swap did.
enum Swap {
    Done,
    /// The file system cannot exchange names.
    Unsupported,
}

impl Tree {
    /// Rewrites the session file as `bytes` (hold the session's lock): by
    /// its spare where the layout keeps one, else by a temporary file.
    pub(in crate::session::engines::file) fn rewrite(&self, p: &Paths, bytes: &[u8]) -> Result<()> {
        if !self.swaps.load(Ordering::Relaxed) {
            return self.write_atomic(p, bytes);
        }
        match self.at(p, false, |d| self.swap_in(d, p, bytes))? {
            Some(Swap::Done) => Ok(()),
            Some(Swap::Unsupported) => {
                tracing::info!("file session: no RENAME_EXCHANGE here; writing by rename");
                self.swaps.store(false, Ordering::Relaxed);
                self.write_atomic(p, bytes)
            }
            // The session file went meanwhile (removed by another program
            // that takes no lock): written as a create would.
            None => self.write_atomic(p, bytes),
        }
    }

    /// Fills the spare of `p` in its shard directory `d` and swaps it with
    /// the session file; `Ok(None)` when either name is missing.
    fn swap_in(&self, d: BorrowedFd<'_>, p: &Paths, bytes: &[u8]) -> Result<Option<Swap>> {
        // The lock waits for readers that opened it as the session file.
        let Some((fd, st)) = self.open_locked(d, &p.spare, true, "a spare session file")? else {
            return Ok(None);
        };
        let file = File::from(fd);
        let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        file.write_all_at(bytes, 0).map_err(io_error)?;
        // Cut what the old content left past the new end, if anything.
        if u64::try_from(st.st_size).unwrap_or(u64::MAX) > len {
            file.set_len(len).map_err(io_error)?;
        }
        let exchanged = rustix::fs::renameat_with(
            d,
            p.spare.as_str(),
            d,
            p.name.as_str(),
            RenameFlags::EXCHANGE,
        );
        match exchanged {
            Ok(()) => Ok(Some(Swap::Done)),
            Err(rustix::io::Errno::NOENT) => Ok(None),
            Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => Ok(Some(Swap::Unsupported)),
            Err(e) => Err(io_error(e.into())),
        }
    }
}
