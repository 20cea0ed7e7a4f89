//! The shard directories, held open.
//!
//! Every session operation works relative to its shard directory's file
//! descriptor (`openat`, `statat`, `renameat`, …). Walking `dir/a/b/` by
//! path on each call cost two `lstat`s of the shard directories per step,
//! about a dozen a request; an open descriptor is checked once (a directory,
//! ours, reached without a symlink) and then costs nothing.
//!
//! A held directory can be removed under us: by our GC when it is empty,
//! or by another process sharing the tree. Our GC forgets what it removes;
//! for the rest, an entry found missing in a held directory makes the
//! caller ask [`ShardDirs::stale`] (a removed directory has no links), and
//! a stale one is forgotten and opened again, so a session written into a
//! new directory by another process is always found.

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::{Arc, Mutex, PoisonError};

use rustix::fs::{FileType, Mode, OFlags};

use super::refusal::refused;
use crate::session::error::{Error, Result};

/// Permissions of every directory the engine makes.
pub(super) const DIR_MODE: u32 = 0o700;

/// A shard directory's two one-character names, `dir/a/b`.
pub(super) type ShardKey = [u8; 2];

/// The open shard directories of one session root.
pub(super) struct ShardDirs {
    root: OwnedFd,
    uid: u32,
    open: Mutex<HashMap<ShardKey, Arc<OwnedFd>>>,
}

/// Flags of every directory open: no symlink is followed, ever.
fn dir_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

impl ShardDirs {
    /// Holds `root` (already checked by the caller) open.
    pub(super) fn new(root: &std::path::Path, uid: u32) -> io::Result<ShardDirs> {
        let root = rustix::fs::open(root, dir_flags(), Mode::empty())?;
        Ok(ShardDirs {
            root,
            uid,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// The shard directory `key`, opened (and with `create`, made 0700)
    /// when not held yet; `Ok(None)` when it is missing and not to be made.
    pub(super) fn get(&self, key: ShardKey, create: bool) -> Result<Option<Arc<OwnedFd>>> {
        if let Some(held) = self.held(key) {
            return Ok(Some(held));
        }
        let Some(first) = self.child(self.root.as_fd(), key[0], create)? else {
            return Ok(None);
        };
        let Some(second) = self.child(first.as_fd(), key[1], create)? else {
            return Ok(None);
        };
        let second = Arc::new(second);
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        // Another thread may have opened it meanwhile: one copy is kept.
        Ok(Some(open.entry(key).or_insert(second).clone()))
    }

    /// The session root, held open.
    pub(super) fn root(&self) -> BorrowedFd<'_> {
        self.root.as_fd()
    }

    fn held(&self, key: ShardKey) -> Option<Arc<OwnedFd>> {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.get(&key).cloned()
    }

    /// Stops holding `key` if it is still `dir` (not a newer open).
    pub(super) fn forget(&self, key: ShardKey, dir: &Arc<OwnedFd>) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if open.get(&key).is_some_and(|held| Arc::ptr_eq(held, dir)) {
            open.remove(&key);
        }
    }

    /// Stops holding `key`, which GC removed by path.
    pub(super) fn forget_key(&self, key: ShardKey) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.remove(&key);
    }

    /// True when `dir` was removed: its entries cannot come back.
    pub(super) fn stale(dir: BorrowedFd<'_>) -> bool {
        rustix::fs::fstat(dir).is_ok_and(|st| st.st_nlink == 0)
    }

    /// Opens the one-character directory `name` under `parent` without
    /// following a symlink, making it first with `create`; checks that it
    /// is a directory of ours, 0700.
    fn child(&self, parent: BorrowedFd<'_>, name: u8, create: bool) -> Result<Option<OwnedFd>> {
        let name = [name];
        let name = std::str::from_utf8(&name)
            .map_err(|_| Error::corrupt("file session: a shard name is not ASCII"))?;
        let mut made = false;
        let dir = loop {
            match rustix::fs::openat(parent, name, dir_flags(), Mode::empty()) {
                Ok(dir) => break dir,
                Err(e) if e == rustix::io::Errno::NOENT && create && !made => {
                    match rustix::fs::mkdirat(parent, name, Mode::from_raw_mode(DIR_MODE)) {
                        Ok(()) | Err(rustix::io::Errno::EXIST) => made = true,
                        Err(e) => return Err(Error::backend("file", io::Error::from(e))),
                    }
                }
                Err(rustix::io::Errno::NOENT) => return Ok(None),
                Err(rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR) => {
                    return Err(refused("a shard directory"))
                }
                Err(e) => return Err(Error::backend("file", io::Error::from(e))),
            }
        };
        let st = rustix::fs::fstat(&dir).map_err(|e| Error::backend("file", io::Error::from(e)))?;
        if !FileType::from_raw_mode(st.st_mode).is_dir() || st.st_uid != self.uid {
            return Err(refused("a shard directory"));
        }
        if st.st_mode & 0o777 != DIR_MODE {
            // mkdir's mode passes through the umask; set it exactly.
            rustix::fs::fchmod(&dir, Mode::from_raw_mode(DIR_MODE))
                .map_err(|e| Error::backend("file", io::Error::from(e)))?;
        }
        Ok(Some(dir))
    }
}
