//! The session directory tree: safe names, safe opens, locks, atomic writes.
//!
//! Everything here is blocking; the engine calls it on the blocking pool.
//! Per-session calls work relative to the shard directory's descriptor
//! ([`ShardDirs`]): one system call per step, no path walk.

use std::fs::{self, DirBuilder, File};
use std::io::{self, Read, Write as _};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::{SystemTime, UNIX_EPOCH};

use rustix::fs::{AtFlags, FileType, FlockOperation, Mode, OFlags, Stat, Timespec, Timestamps};

use super::dirs::{ShardDirs, ShardKey, DIR_MODE};
use super::refusal::{io_error, refused};

mod nowait;
mod spare;
mod walk;

use crate::session::error::{Error, Result};
use crate::session::id::SessionId;

/// The engine name, in errors.
const NAME: &str = "file";
const FILE_MODE: u32 = 0o600;
/// Longest id used as a file name: NAME_MAX (255) less room for suffixes.
const MAX_NAME: usize = 200;
const LOCK_SUFFIX: &str = ".lock";
/// The spare a write fills and swaps in (see `spare.rs`).
const SPARE_SUFFIX: &str = ".spare";
const TMP_MARK: &str = ".tmp.";
/// Attempts at locking a lock file that other processes keep replacing.
const LOCK_ATTEMPTS: usize = 16;

/// Where one session lives: its shard directory and its file names.
pub(super) struct Paths {
    key: ShardKey,
    name: String,
    lock: String,
    spare: String,
}

/// The outcome of a call that never waits.
pub(super) enum Nowait<T> {
    /// Done in place.
    Done(T),
    /// It would have waited: do it on the blocking pool.
    WouldBlock,
}

/// A session file's bytes and its mtime (ms since the epoch).
pub(super) type Stored = (Vec<u8>, u64);

/// A held per-session lock; dropping it (closing the file) unlocks.
pub(super) struct Lock(#[allow(dead_code)] OwnedFd);

/// One attempt at taking a lock.
enum Locking {
    Held(Lock),
    /// The lock file was replaced while we waited: try again.
    Replaced,
}

/// Which two characters of an id name its shard directories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Layout {
    /// beego's `dir/sid[0]/sid[1]/sid`, kept for `sessionstoreformat =
    /// beego` so that beego apps find the same files. beego shards by the
    /// first two characters whatever they are, `sessionidprefix` included,
    /// so with a prefix every session lands in one directory, as in beego.
    Head,
    /// `dir/sid[n-2]/sid[n-1]/sid`: the last two characters, which are
    /// random whatever `sessionidprefix` is (ids are the prefix, then
    /// random hex), so sessions spread over 256 directories.
    Tail,
}

/// The session root, our uid, the shard layout and the open shards.
pub(super) struct Tree {
    root: PathBuf,
    uid: u32,
    layout: Layout,
    dirs: ShardDirs,
    /// Writes swap in a spare (the native layout, where the file system
    /// can exchange two names).
    swaps: AtomicBool,
    /// Reads try in place first (a local file system; see `nowait.rs`).
    inline: AtomicBool,
}

pub(super) fn nofollow() -> i32 {
    // O_NOFOLLOW fits an i32 on every platform rustix supports.
    OFlags::NOFOLLOW.bits() as i32
}

/// True for the ids the engine accepts as file names: `[A-Za-z0-9_-]{2,200}`.
pub(super) fn safe_name(name: &str) -> bool {
    (2..=MAX_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `Ok(None)` for an entry that is not there, the error otherwise.
fn found<T>(result: rustix::io::Result<T>) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(rustix::io::Errno::NOENT) => Ok(None),
        Err(e) => Err(io_error(e.into())),
    }
}

pub(super) fn ms_of(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The mtime of `st` in ms since the epoch (0 before it).
// `stat`'s field types differ between platforms.
#[allow(clippy::unnecessary_fallible_conversions, clippy::useless_conversion)]
fn mtime_ms(st: &Stat) -> u64 {
    let secs = u64::try_from(st.st_mtime).unwrap_or(0);
    let nanos = u64::try_from(st.st_mtime_nsec).unwrap_or(0);
    secs.saturating_mul(1000).saturating_add(nanos / 1_000_000)
}

/// True for a regular file owned by `uid`.
fn regular_of(st: &Stat, uid: u32) -> bool {
    FileType::from_raw_mode(st.st_mode).is_file() && st.st_uid == uid
}

/// Reads `file` to its end; `len` (its size) sizes the buffer, so one
/// `read` usually does it: a short read of a regular file is its end.
fn read_all(mut file: File, len: usize) -> io::Result<Vec<u8>> {
    let mut bytes = vec![0u8; len.saturating_add(1)];
    let mut filled = 0;
    loop {
        let n = file.read(&mut bytes[filled..])?;
        filled += n;
        if n == 0 || filled < bytes.len() {
            break;
        }
        // It grew since it was sized: keep reading.
        bytes.resize(bytes.len().saturating_mul(2), 0);
    }
    bytes.truncate(filled);
    Ok(bytes)
}

impl Tree {
    /// Creates (0700) or checks the root directory.
    pub(super) fn open(config: &str, layout: Layout) -> Result<Tree> {
        let config = config.trim();
        if config.is_empty() {
            return Err(Error::config(
                NAME,
                "sessionproviderconfig must name a directory",
            ));
        }
        let uid = rustix::process::geteuid().as_raw();
        let configured = Path::new(config);
        let existed = configured.exists();
        DirBuilder::new()
            .recursive(true)
            .mode(DIR_MODE)
            .create(configured)
            .map_err(|e| Error::config(NAME, format!("cannot create the directory: {e}")))?;
        // The root itself may be reached through a symlink the admin made;
        // everything below it is checked entry by entry.
        let root = fs::canonicalize(configured)
            .map_err(|e| Error::config(NAME, format!("bad directory: {e}")))?;
        let meta =
            fs::metadata(&root).map_err(|e| Error::config(NAME, format!("bad directory: {e}")))?;
        if !meta.is_dir() || meta.uid() != uid {
            return Err(Error::config(
                NAME,
                "the directory must be a directory owned by this process's user",
            ));
        }
        if !existed || meta.mode() & 0o077 != 0 {
            if existed {
                tracing::warn!("file session: the directory was readable by others; setting 0700");
            }
            fs::set_permissions(&root, fs::Permissions::from_mode(DIR_MODE))
                .map_err(|e| Error::config(NAME, format!("cannot chmod the directory: {e}")))?;
        }
        let dirs = ShardDirs::new(&root, uid)
            .map_err(|e| Error::config(NAME, format!("cannot open the directory: {e}")))?;
        Ok(Tree {
            root,
            uid,
            layout,
            swaps: AtomicBool::new(layout == Layout::Tail),
            inline: AtomicBool::new(nowait::is_local(dirs.root())),
            dirs,
        })
    }

    /// The root directory (canonical).
    pub(super) fn root(&self) -> &Path {
        &self.root
    }

    /// Validates `sid` and names its shard and files.
    pub(super) fn paths(&self, sid: &SessionId) -> Result<Paths> {
        self.paths_of(sid.as_str())
    }

    /// The shard of a valid name: two of its characters, by the layout.
    fn key_of(&self, name: &str) -> Option<ShardKey> {
        let bytes = name.as_bytes();
        let at = match self.layout {
            Layout::Head => 0,
            Layout::Tail => bytes.len().checked_sub(2)?,
        };
        Some([*bytes.get(at)?, *bytes.get(at + 1)?])
    }

    fn paths_of(&self, name: &str) -> Result<Paths> {
        // Only `[A-Za-z0-9_-]`: no separator, no dot, so a name is one
        // entry of its shard directory and cannot leave the root.
        if !safe_name(name) {
            return Err(Error::corrupt(
                "file session: the session id is not usable as a file name",
            ));
        }
        let Some(key) = self.key_of(name) else {
            return Err(Error::corrupt("file session: the session id is too short"));
        };
        Ok(Paths {
            key,
            name: name.to_owned(),
            lock: format!("{name}{LOCK_SUFFIX}"),
            spare: format!("{name}{SPARE_SUFFIX}"),
        })
    }

    pub(super) fn is_ours(&self, meta: &fs::Metadata) -> bool {
        meta.uid() == self.uid
    }

    pub(super) fn make_dir(&self, dir: &Path) -> Result<()> {
        match DirBuilder::new().mode(DIR_MODE).create(dir) {
            Ok(()) => fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE))
                .map_err(|e| Error::backend("file", e)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(Error::backend("file", e)),
        }
    }

    /// Runs `op` in the shard directory of `p` (made first with `create`);
    /// `Ok(None)` when the directory is missing or `op` finds nothing.
    /// When `op` finds nothing in a directory removed since it was opened
    /// (by GC, here or in another process), the directory is opened again
    /// and `op` runs once more there.
    fn at<T>(
        &self,
        p: &Paths,
        create: bool,
        mut op: impl FnMut(BorrowedFd<'_>) -> Result<Option<T>>,
    ) -> Result<Option<T>> {
        let Some(dir) = self.dirs.get(p.key, create)? else {
            return Ok(None);
        };
        let first = op(dir.as_fd())?;
        if first.is_some() || !ShardDirs::stale(dir.as_fd()) {
            return Ok(first);
        }
        self.dirs.forget(p.key, &dir);
        match self.dirs.get(p.key, create)? {
            Some(dir) => op(dir.as_fd()),
            None => Ok(None),
        }
    }

    /// The stored bytes and the file's mtime (ms), which Touch moves.
    pub(super) fn read(&self, p: &Paths) -> Result<Option<Stored>> {
        let Some(Nowait::Done((fd, st))) = self.at(p, false, |d| self.open_to_read(d, p, true))?
        else {
            return Ok(None);
        };
        let len = usize::try_from(st.st_size).unwrap_or(0);
        let bytes = read_all(File::from(fd), len).map_err(|e| Error::backend("file", e))?;
        Ok(Some((bytes, mtime_ms(&st))))
    }

    /// Opens the session file in `d` for reading, without following a
    /// symlink, under a shared lock: a writer may be about to refill this
    /// inode as its spare (`spare.rs`) and waits until we are done. With
    /// `wait` false the lock is not waited for (`WouldBlock`). Checks that
    /// the file is a regular file of ours; `Ok(None)` when missing.
    fn open_to_read(
        &self,
        d: BorrowedFd<'_>,
        p: &Paths,
        wait: bool,
    ) -> Result<Option<Nowait<(OwnedFd, Stat)>>> {
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let Some(fd) = found(rustix::fs::openat(d, p.name.as_str(), flags, Mode::empty()))? else {
            return Ok(None);
        };
        if self.layout == Layout::Tail {
            let lock = if wait {
                FlockOperation::LockShared
            } else {
                FlockOperation::NonBlockingLockShared
            };
            match rustix::fs::flock(&fd, lock) {
                Ok(()) => {}
                Err(rustix::io::Errno::WOULDBLOCK) => return Ok(Some(Nowait::WouldBlock)),
                Err(e) => return Err(io_error(e.into())),
            }
        }
        let st = rustix::fs::fstat(&fd).map_err(|e| io_error(e.into()))?;
        if !regular_of(&st, self.uid) {
            return Err(refused("a session file"));
        }
        Ok(Some(Nowait::Done((fd, st))))
    }

    /// The session file's status without following a symlink.
    fn stat(&self, p: &Paths) -> Result<Option<Stat>> {
        self.at(p, false, |d| {
            found(rustix::fs::statat(
                d,
                p.name.as_str(),
                AtFlags::SYMLINK_NOFOLLOW,
            ))
        })
    }

    /// True when the session file is there (live or not).
    pub(super) fn file_exists(&self, p: &Paths) -> Result<bool> {
        Ok(self.stat(p)?.is_some())
    }

    /// The size of the session file, `None` when there is none.
    pub(super) fn file_size(&self, p: &Paths) -> Result<Option<u64>> {
        Ok(self
            .stat(p)?
            .map(|st| u64::try_from(st.st_size).unwrap_or(0)))
    }

    /// Takes the session's exclusive lock (an flock on `sid.lock`, which
    /// other processes share). With `create` false, `Ok(None)` when there
    /// is no lock file.
    pub(super) fn lock(&self, p: &Paths, create: bool) -> Result<Option<Lock>> {
        for _ in 0..LOCK_ATTEMPTS {
            match self.at(p, create, |d| self.lock_in(d, p, create))? {
                Some(Locking::Held(lock)) => return Ok(Some(lock)),
                Some(Locking::Replaced) => continue,
                // GC removed the lock file meanwhile: make it again.
                None if create => continue,
                None => return Ok(None),
            }
        }
        Err(Error::backend(
            "file",
            io::Error::other("could not lock a session file that keeps being replaced"),
        ))
    }

    /// Opens `name` in `d` read-write (made 0600 with `create`) without
    /// following a symlink, checks that it is a regular file of ours, sets
    /// its mode to 0600 and locks it exclusively; `Ok(None)` when missing.
    fn open_locked(
        &self,
        d: BorrowedFd<'_>,
        name: &str,
        create: bool,
        what: &'static str,
    ) -> Result<Option<(OwnedFd, Stat)>> {
        let mut flags = OFlags::RDWR | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        if create {
            flags |= OFlags::CREATE;
        }
        let mode = Mode::from_raw_mode(FILE_MODE);
        let Some(fd) = found(rustix::fs::openat(d, name, flags, mode))? else {
            return Ok(None);
        };
        let backend = |e: rustix::io::Errno| Error::backend("file", io::Error::from(e));
        let st = rustix::fs::fstat(&fd).map_err(backend)?;
        if !regular_of(&st, self.uid) {
            return Err(refused(what));
        }
        if st.st_mode & 0o777 != FILE_MODE {
            rustix::fs::fchmod(&fd, mode).map_err(backend)?;
        }
        rustix::fs::flock(&fd, FlockOperation::LockExclusive).map_err(backend)?;
        Ok(Some((fd, st)))
    }

    /// One attempt at [`Tree::lock`] in the shard directory `d`.
    fn lock_in(&self, d: BorrowedFd<'_>, p: &Paths, create: bool) -> Result<Option<Locking>> {
        let Some((fd, st)) = self.open_locked(d, &p.lock, create, "a lock file")? else {
            return Ok(None);
        };
        // Whoever deleted the lock file held it; if the name now names
        // another inode (or none), our lock guards nothing: retry.
        let now = found(rustix::fs::statat(
            d,
            p.lock.as_str(),
            AtFlags::SYMLINK_NOFOLLOW,
        ))?;
        Ok(now.map(|now| {
            if now.st_ino == st.st_ino && now.st_dev == st.st_dev {
                Locking::Held(Lock(fd))
            } else {
                Locking::Replaced
            }
        }))
    }

    /// Writes `bytes` as the session, atomically: a new 0600 file created
    /// with O_CREAT|O_EXCL|O_NOFOLLOW in the same directory, then renamed
    /// over the session file. Call with the session's lock held.
    pub(super) fn write_atomic(&self, p: &Paths, bytes: &[u8]) -> Result<()> {
        let mut suffix = [0u8; 8];
        rand::fill(&mut suffix);
        let tmp = format!("{}{TMP_MARK}{}", p.name, hex::encode(suffix));
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let written = self.at(p, true, |d| {
            let mode = Mode::from_raw_mode(FILE_MODE);
            let Some(fd) = found(rustix::fs::openat(d, tmp.as_str(), flags, mode))? else {
                return Ok(None);
            };
            let result = (|| -> io::Result<()> {
                // The mode passed through the umask; set it exactly.
                rustix::fs::fchmod(&fd, mode)?;
                let mut file = File::from(fd);
                file.write_all(bytes)?;
                drop(file);
                // rename() replaces the directory entry; it never follows a
                // symlink that may sit at the session name.
                Ok(rustix::fs::renameat(d, tmp.as_str(), d, p.name.as_str())?)
            })();
            match result {
                Ok(()) => Ok(Some(())),
                Err(e) => {
                    let _ = rustix::fs::unlinkat(d, tmp.as_str(), AtFlags::empty());
                    Err(io_error(e))
                }
            }
        })?;
        written.ok_or_else(|| {
            Error::backend(
                "file",
                io::Error::other("a shard directory vanished while a session was written"),
            )
        })
    }

    /// Renames the session file of `from` to `to` (hold both locks) and
    /// drops `from`'s lock and spare files: the move of a regenerate, in
    /// one step.
    pub(super) fn rename(&self, from: &Paths, to: &Paths) -> Result<()> {
        let moved = self.at(to, true, |target| {
            self.at(from, false, |source| {
                let renamed = found(rustix::fs::renameat(
                    source,
                    from.name.as_str(),
                    target,
                    to.name.as_str(),
                ))?;
                if renamed.is_none() {
                    return Ok(None);
                }
                for left in [&from.spare, &from.lock] {
                    found(rustix::fs::unlinkat(
                        source,
                        left.as_str(),
                        AtFlags::empty(),
                    ))?;
                }
                Ok(Some(()))
            })
        })?;
        moved.ok_or_else(|| Error::backend("file", io::Error::other("the session file vanished")))
    }

    /// Moves the session's mtime to `now_ms` (Touch): no rewrite, and no
    /// symlink followed.
    pub(super) fn touch(&self, p: &Paths, now_ms: u64) -> Result<bool> {
        let secs = i64::try_from(now_ms / 1000).unwrap_or(i64::MAX);
        let nanos = i64::try_from((now_ms % 1000) * 1_000_000).unwrap_or(0);
        let times = Timestamps {
            last_access: Timespec {
                tv_sec: 0,
                tv_nsec: rustix::fs::UTIME_OMIT,
            },
            last_modification: Timespec {
                tv_sec: secs,
                tv_nsec: nanos,
            },
        };
        let touched = self.at(p, false, |d| {
            found(rustix::fs::utimensat(
                d,
                p.name.as_str(),
                &times,
                AtFlags::SYMLINK_NOFOLLOW,
            ))
        })?;
        Ok(touched.is_some())
    }

    /// Unlinks the session file and its lock file (hold the lock), and
    /// gives the size of the session file it removed. unlink removes a
    /// symlink itself, never its target.
    pub(super) fn remove(&self, p: &Paths) -> Result<Option<u64>> {
        let removed = self.at(p, false, |d| {
            let size = found(rustix::fs::statat(
                d,
                p.name.as_str(),
                AtFlags::SYMLINK_NOFOLLOW,
            ))?
            .map(|st| u64::try_from(st.st_size).unwrap_or(0));
            let file = found(rustix::fs::unlinkat(d, p.name.as_str(), AtFlags::empty()))?;
            let spare = found(rustix::fs::unlinkat(d, p.spare.as_str(), AtFlags::empty()))?;
            let lock = found(rustix::fs::unlinkat(d, p.lock.as_str(), AtFlags::empty()))?;
            let any = file.is_some() || spare.is_some() || lock.is_some();
            // Nothing found: `at` looks again if the directory was replaced.
            Ok(any.then_some(file.and(size)))
        })?;
        Ok(removed.flatten())
    }

    /// Paths of a name found while walking (validated again).
    pub(super) fn paths_of_name(&self, name: &str) -> Result<Paths> {
        self.paths_of(name)
    }
}
