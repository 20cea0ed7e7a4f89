//! Reading a session in place, on the async worker, when nothing would
//! block.
//!
//! A read on the blocking pool costs two thread switches (there and back)
//! on top of its five system calls; for a session whose file is in the
//! page cache, that hand-off is most of the read. So a read first tries in
//! place, with calls that never wait: the shared lock with `LOCK_NB`, and
//! the data with `preadv2(RWF_NOWAIT)`, which refuses (`EAGAIN`) unless
//! every byte is cached. Anything that would wait goes to the blocking
//! pool as before. Only on local file systems: on a network one even the
//! `openat` can wait on a server, and must not stall a worker.

use std::io::IoSliceMut;
use std::os::fd::BorrowedFd;
use std::sync::atomic::Ordering;

use rustix::io::{Errno, ReadWriteFlags};

use super::{io_error, mtime_ms, Nowait, Paths, Stored, Tree};
use crate::session::error::Result;

/// `f_type`s of local file systems, where a cached read does not wait:
/// ext2/3/4, XFS, Btrfs, tmpfs, F2FS, ZFS.
const LOCAL: &[u64] = &[
    0xEF53,
    0x5846_5342,
    0x9123_683E,
    0x0102_1994,
    0xF2F5_2010,
    0x2FC1_2FC1,
];

/// True when `root` is on a local file system.
pub(super) fn is_local(root: BorrowedFd<'_>) -> bool {
    rustix::fs::fstatfs(root).is_ok_and(|fs| {
        // `f_type`'s width differs between platforms.
        #[allow(clippy::useless_conversion, clippy::unnecessary_fallible_conversions)]
        let kind = u64::try_from(fs.f_type).unwrap_or(0);
        LOCAL.contains(&kind)
    })
}

impl Tree {
    /// [`Tree::read`] without waiting: `WouldBlock` when the lock is held,
    /// the bytes are not all cached, or the file system is not local.
    pub(in crate::session::engines::file) fn read_nowait(
        &self,
        p: &Paths,
    ) -> Result<Nowait<Option<Stored>>> {
        if !self.inline.load(Ordering::Relaxed) {
            return Ok(Nowait::WouldBlock);
        }
        Ok(match self.at(p, false, |d| self.read_nowait_in(d, p))? {
            None => Nowait::Done(None),
            Some(Nowait::Done(read)) => Nowait::Done(Some(read)),
            Some(Nowait::WouldBlock) => Nowait::WouldBlock,
        })
    }

    fn read_nowait_in(&self, d: BorrowedFd<'_>, p: &Paths) -> Result<Option<Nowait<Stored>>> {
        let (fd, st) = match self.open_to_read(d, p, false)? {
            Some(Nowait::Done(opened)) => opened,
            Some(Nowait::WouldBlock) => return Ok(Some(Nowait::WouldBlock)),
            None => return Ok(None),
        };
        let mut bytes = vec![0u8; usize::try_from(st.st_size).unwrap_or(0)];
        if !bytes.is_empty() {
            let mut bufs = [IoSliceMut::new(&mut bytes)];
            match rustix::io::preadv2(&fd, &mut bufs, 0, ReadWriteFlags::NOWAIT) {
                Ok(n) if n == bytes.len() => {}
                // Partly cached, or changed size (beego rewrites in place).
                Ok(_) | Err(Errno::AGAIN) => return Ok(Some(Nowait::WouldBlock)),
                Err(Errno::OPNOTSUPP | Errno::INVAL | Errno::NOSYS) => {
                    self.inline.store(false, Ordering::Relaxed);
                    return Ok(Some(Nowait::WouldBlock));
                }
                Err(e) => return Err(io_error(e.into())),
            }
        }
        Ok(Some(Nowait::Done((bytes, mtime_ms(&st)))))
    }
}
