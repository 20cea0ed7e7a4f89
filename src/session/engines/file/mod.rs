//! The `file` engine: one file per session under a directory, shared safely
//! between threads and processes.
//!
//! Layout: `dir/sid[n-2]/sid[n-1]/sid`, sharded by the last two
//! characters of the id (random whatever `sessionidprefix` is), or beego's
//! `dir/sid[0]/sid[1]/sid` with `sessionstoreformat = beego`; directories
//! 0700 and files 0600 whatever the umask. Each session file holds a record in the
//! engine's [`Format`](crate::session::engine::Format) and is replaced
//! whole, never rewritten in place, so readers never see a torn session.
//! Writers take an advisory lock (`flock`) on `sid.lock` beside the
//! session, then read, merge the request's changes and write: two
//! processes writing different keys of one session lose nothing. In the
//! native layout a write fills the session's spare, `sid.spare`, and swaps
//! the two names (`tree/spare.rs`: no inode made or freed per write);
//! readers take a shared `flock` on the file they read so that a spare is
//! never refilled under them.
//!
//! With `sessionstoreformat = beego` the files hold beego's gob map (an
//! empty file is an empty session, as beego creates them) and the mtime is
//! the only access time, as in beego's file provider; the same layout, lock
//! and merge apply. Run both apps as the same user: files owned by another
//! user are refused. beego counts and GCs every file in the tree, the
//! `sid.lock` files included (removing one is harmless).

mod budget;
mod config;
mod dirs;
mod owners;
mod refusal;
mod tree;

use std::sync::Arc;

use async_trait::async_trait;

use self::budget::Budget;
use self::config::FileConfig;
use self::tree::{Layout, Nowait, Paths, Tree};
use super::shared::blocking::blocking;
use super::shared::io_threads::IoThreads;
use crate::session::engine::{Loaded, RecordStore, StoreContext};
use crate::session::engine::{Released, Write, WriteMode};
use crate::session::engines::shared::wiring::engine_provider;
use crate::session::error::{Error, Result};
use crate::session::format::Format;
use crate::session::id::SessionId;
use crate::session::record::{now_ms, Changes, SessionRecord};

const NAME: &str = "file";

engine_provider! {
    /// The `file` engine.
    ///
    /// `sessionproviderconfig` is the directory (created 0700 if missing; an
    /// existing one must belong to this process's user), optionally
    /// followed by options as a query string:
    /// `/var/lib/app/sessions?max_sessions=50000&max_bytes=536870912`.
    /// Sessions live in `dir/sid[n-2]/sid[n-1]/sid`, 0600: the last two
    /// characters of the id, which are random even with a
    /// `sessionidprefix`. With `sessionstoreformat = beego` the layout is
    /// beego's `dir/sid[0]/sid[1]/sid` instead, so beego apps share the
    /// files; like beego, it then puts every session in one directory when
    /// a `sessionidprefix` is set.
    ///
    /// - **Bounds**: `max_sessions` (default 100,000 session files) and
    ///   `max_bytes` (default 1 GiB of session files) bound the directory,
    ///   so anonymous clients cannot fill the disk: past either, new
    ///   sessions are refused with [`Error::Full`](crate::session::Error::Full)
    ///   (a 503) until GC frees room, and signed-in users keep their
    ///   sessions (see below why this engine refuses where the memory
    ///   engine evicts). `max_session_bytes` (default 256 KiB) bounds one
    ///   session, as on every engine: a bigger one is refused at release
    ///   with [`Error::TooLarge`](crate::session::Error::TooLarge). The
    ///   counts are kept in counters, set from a walk of the tree at start
    ///   and after each GC, not a walk per request; they miss what other
    ///   processes sharing the directory write between two GCs. Each session
    ///   also has an empty `sid.lock` file and, once written twice, a spare
    ///   `sid.spare` holding its previous content (not counted in
    ///   `max_bytes`): allow three inodes and twice `max_bytes` of disk. A
    ///   refused session leaves nothing on disk, lock file included.
    /// - **Why refuse, not evict**: finding the oldest file means walking
    ///   the tree, a cost a flood would make us pay on every request, and
    ///   the directory may be shared with other processes (beego apps
    ///   included) whose sessions no in-process index sees. Refusing costs
    ///   nothing, never logs a signed-in user out, and GC frees room as the
    ///   flood's idle sessions expire.
    /// - **Safety**: every id is checked again before a path is built (only
    ///   `[A-Za-z0-9_-]`, 2 to 200 characters) and the path must stay under the
    ///   directory. Symlinks are never followed (O_NOFOLLOW, `lstat` on shard
    ///   directories): a symlink or a file owned by another user gives an
    ///   error, and nothing outside the directory is read, written or removed.
    /// - **Concurrency**: readers never wait for the session's lock; writers
    ///   and destroys hold a per-session `flock` on `sid.lock` (made when
    ///   missing, as it is for sessions a beego app wrote) while they read,
    ///   merge and write, or remove. There is no global lock, in the
    ///   process or on disk. Regenerate renames the file under both
    ///   sessions' locks.
    /// - **Threads**: a request's file calls run on the engine's own I/O
    ///   threads (twice the cores the process may use, 4 to 16), which
    ///   take queued calls without sleeping; GC and counts, which walk the
    ///   tree, run on tokio's blocking pool.
    /// - **Reads** on a local file system (ext4, XFS, Btrfs, tmpfs, F2FS,
    ///   ZFS) try in place on the async worker first, with calls that never
    ///   wait (`flock` with `LOCK_NB`, `preadv2(RWF_NOWAIT)`, which reads
    ///   only what the page cache holds); whatever would wait, and every
    ///   read on another file system (NFS, FUSE, …), runs on the blocking
    ///   pool. Opening a file whose directory entry is not cached still
    ///   reads the disk in place: a local disk's latency, never a server's.
    /// - **Writes** (native format): the new content goes into the
    ///   session's spare file, then `renameat2(RENAME_EXCHANGE)` swaps the
    ///   spare and the session file, so no inode is made or freed per
    ///   write (on ext4 that churn cost more than the rest of a write).
    ///   Readers hold a shared `flock` on the file they read and a writer
    ///   an exclusive one on the spare it refills, so a read never sees a
    ///   half-written file. Processes of versions before the spare file
    ///   read without that lock: do not run them on the same directory as
    ///   this one. Where the file system cannot exchange names, writes go
    ///   through a temporary file and `rename`, as in beego's format.
    /// - **Expiry**: the idle lifetime slides with use (the file's mtime, which
    ///   a read-only request refreshes at most every quarter of the lifetime)
    ///   and is checked on every read; the creation time stays in the file for
    ///   the absolute lifetime. GC walks the tree without a global lock,
    ///   removes expired sessions and empty directories, and files idle past
    ///   the lifetime in a shard of the other layout (sessions of a version
    ///   that sharded native ids by their first characters: upgrading starts
    ///   those users afresh once).
    /// - **Corruption**: a file that does not decode is reported as
    ///   [`Error::Corrupt`]; the manager starts a fresh session, and GC
    ///   removes the file once its mtime is past the idle lifetime.
    /// - **Sessions by owner**: the owner index lives in
    ///   `dir/owners/<owner's SHA-256>/`: an empty file per session id
    ///   (its mtime the attach time) and an `.epoch` file, written under an
    ///   `flock` on that directory and replaced by rename, so processes
    ///   sharing the directory stay right. GC removes ids whose session is
    ///   gone (attached more than five minutes ago) and owner directories
    ///   left empty whose epoch is older than the idle lifetime plus five
    ///   minutes. The index grows only with logins, and is not counted in
    ///   `max_sessions`/`max_bytes`.
    /// - **Durability**: writes are atomic (the whole new file, then one
    ///   rename or exchange), so a crashed process never leaves a torn
    ///   session. Files are not fsynced:
    ///   after a power loss a session may be lost, never half-written.
    ///
    /// Unix only.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// use actix_bee::session::{Manager, ManagerConfig};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut config = ManagerConfig::default();
    /// config.provider_config = dir.path().join("sessions").display().to_string();
    /// let manager = Manager::new("file", config).await.unwrap();
    /// assert_eq!(manager.get_active_session().await.unwrap(), 0);
    /// # });
    /// ```
    #[derive(Default)]
    pub struct FileProvider(Files);
}

/// How many I/O threads: twice the cores this process may run on, 4 to
/// 16. A call that waits on a session's lock holds its thread, so never
/// fewer than 4.
fn io_thread_count() -> usize {
    std::thread::available_parallelism().map_or(4, |n| n.get().saturating_mul(2).clamp(4, 16))
}

/// The records of the file engine; cheap to clone into blocking calls.
#[derive(Clone)]
pub(crate) struct Files(Arc<Shared>);

struct Shared {
    tree: Tree,
    io: IoThreads,
    cx: StoreContext,
    budget: Budget,
    max_session_bytes: usize,
}

impl std::fmt::Debug for Files {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Files").finish_non_exhaustive()
    }
}

impl Files {
    /// Runs a request's blocking file work on the engine's I/O threads.
    async fn run<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Shared) -> Result<T> + Send + 'static,
    {
        let shared = self.0.clone();
        self.0.io.run(move || work(&shared)).await
    }

    /// Runs work that walks the whole tree on the blocking pool.
    async fn walk<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Shared) -> Result<T> + Send + 'static,
    {
        let shared = self.0.clone();
        blocking(NAME, move || work(&shared)).await
    }
}

impl Shared {
    /// The live record at `p`: `Err(Corrupt)` when it does not decode.
    fn live(&self, p: &Paths, now: u64) -> Result<Option<SessionRecord>> {
        Ok(self.live_sized(p, now)?.map(|(record, _)| record))
    }

    /// The live record at `p` and the size of its file.
    fn live_sized(&self, p: &Paths, now: u64) -> Result<Option<(SessionRecord, u64)>> {
        let Some((bytes, mtime)) = self.tree.read(p)? else {
            return Ok(None);
        };
        self.decode_live(&bytes, mtime, now)
    }

    /// [`Shared::live`] without waiting (see `tree/nowait.rs`).
    fn live_nowait(&self, p: &Paths, now: u64) -> Result<Nowait<Option<SessionRecord>>> {
        Ok(match self.tree.read_nowait(p)? {
            Nowait::Done(None) => Nowait::Done(None),
            Nowait::Done(Some((bytes, mtime))) => Nowait::Done(
                self.decode_live(&bytes, mtime, now)?
                    .map(|(record, _)| record),
            ),
            Nowait::WouldBlock => Nowait::WouldBlock,
        })
    }

    /// The record in `bytes`, read with the file's `mtime`, and its size;
    /// `None` when it expired.
    fn decode_live(
        &self,
        bytes: &[u8],
        mtime: u64,
        now: u64,
    ) -> Result<Option<(SessionRecord, u64)>> {
        let mut record = self.cx.format.decode(bytes)?;
        // A touch moves only the mtime; the later of the two is the access.
        record.accessed_ms = record.accessed_ms.max(mtime);
        let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        Ok(Some((record, size)).filter(|(r, _)| !r.is_expired(&self.cx.lifetimes, now)))
    }

    /// Rewrites the session at `p` (hold its lock) within the disk budget:
    /// the file it replaces was `old` bytes.
    fn write_counted(&self, p: &Paths, old: u64, data: &[u8]) -> Result<()> {
        let new = u64::try_from(data.len()).unwrap_or(u64::MAX);
        self.budget.grow(old, new)?;
        let written = self.tree.rewrite(p, data);
        if written.is_err() {
            let _ = self.budget.grow(new, old);
        }
        written
    }

    /// Walks the tree and sets the budget's counters from what is there.
    fn rescan(&self) -> Result<()> {
        let (mut sessions, mut bytes) = (0usize, 0u64);
        self.tree.walk(None, |_, _, _, size| {
            sessions += 1;
            bytes = bytes.saturating_add(size);
        })?;
        self.budget.rescan(sessions, bytes);
        Ok(())
    }

    /// Under the lock of `p`: a live or undecodable file is taken.
    fn taken(&self, p: &Paths, now: u64) -> Result<bool> {
        match self.live(p, now) {
            Ok(record) => Ok(record.is_some()),
            Err(e) if e.is_corrupt() => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// Creates a session. The budget admits it before anything is made on
    /// disk, so a refused session leaves neither a file nor a lock file.
    fn insert(&self, sid: &SessionId, record: &SessionRecord, now: u64) -> Result<()> {
        let p = self.tree.paths(sid)?;
        let record = SessionRecord {
            accessed_ms: now,
            ..record.clone()
        };
        let data = self.cx.format.encode(&record)?;
        let size = u64::try_from(data.len()).unwrap_or(u64::MAX);
        self.budget.admit(size)?;
        let written = self.insert_admitted(&p, &data, now);
        if written.is_err() {
            self.budget.release(size);
        }
        written
    }

    /// The part of [`Shared::insert`] after the budget admitted `data`.
    fn insert_admitted(&self, p: &Paths, data: &[u8], now: u64) -> Result<()> {
        let _lock = self.tree.lock(p, true)?;
        let written = if self.taken(p, now)? {
            Err(Error::IdCollision)
        } else {
            // An expired file there is replaced: its bytes go, not a session.
            self.tree.file_size(p).and_then(|old| {
                self.tree.write_atomic(p, data)?;
                if let Some(old) = old {
                    self.budget.release(old);
                }
                Ok(())
            })
        };
        if written.is_err() && matches!(self.tree.file_exists(p), Ok(false)) {
            // Nothing was written: the lock file made above goes too. A
            // failure here is GC's to clean up; the caller gets the first.
            let _ = self.tree.remove(p);
        }
        written
    }

    fn update(&self, sid: &SessionId, w: &Owned) -> Result<bool> {
        let p = self.tree.paths(sid)?;
        // Gone sessions are never recreated, and no lock file is left behind.
        if !self.tree.file_exists(&p)? {
            return Ok(false);
        }
        let Some(_lock) = self.tree.lock(&p, true)? else {
            return Ok(false);
        };
        let Some((mut record, old)) = self.live_sized(&p, w.now)? else {
            if !self.tree.file_exists(&p)? {
                self.tree.remove(&p)?;
            }
            return Ok(false);
        };
        if w.mode == WriteMode::Touch {
            return self.tree.touch(&p, w.now);
        }
        w.changes.apply(&mut record.values);
        record.accessed_ms = w.now;
        self.write_counted(&p, old, &self.cx.format.encode(&record)?)?;
        Ok(true)
    }

    /// Regenerate: under both locks, the file is renamed to the new id.
    fn move_record(
        &self,
        old: &SessionId,
        new: &SessionId,
        now: u64,
    ) -> Result<Option<SessionRecord>> {
        let new_paths = self.tree.paths(new)?;
        let Ok(old_paths) = self.tree.paths(old) else {
            return Ok(None);
        };
        if !self.tree.file_exists(&old_paths)? {
            return Ok(None);
        }
        let Some(_old_lock) = self.tree.lock(&old_paths, true)? else {
            return Ok(None);
        };
        let Some(mut record) = self.live(&old_paths, now)? else {
            return Ok(None);
        };
        record.accessed_ms = now;
        let _new_lock = self.tree.lock(&new_paths, true)?;
        if self.taken(&new_paths, now)? {
            return Err(Error::IdCollision);
        }
        // An expired file under the new id is replaced by the rename.
        if let Some(size) = self.tree.file_size(&new_paths)? {
            self.budget.release(size);
        }
        self.tree.rename(&old_paths, &new_paths)?;
        self.tree.touch(&new_paths, now)?;
        Ok(Some(record))
    }

    fn remove(&self, sid: &SessionId) -> Result<()> {
        let Ok(p) = self.tree.paths(sid) else {
            return Ok(());
        };
        // A session file often has no lock file (beego makes none, and its
        // GC removes ours): the lock is made then, so that a write which
        // read the file before this unlink cannot rename it back after.
        // With no session file, only a lock file left behind may go.
        let exists = self.tree.file_exists(&p)?;
        let Some(_lock) = self.tree.lock(&p, exists)? else {
            return Ok(());
        };
        if let Some(size) = self.tree.remove(&p)? {
            self.budget.release(size);
        }
        Ok(())
    }

    fn count(&self, now: u64) -> Result<usize> {
        let mut live = 0usize;
        // Every write sets the mtime to the access time, so the mtime
        // alone tells whether a session is live.
        self.tree.walk(None, |_, _, mtime, _| {
            if !self.cx.lifetimes.idle_expired(mtime, now) {
                live += 1;
            }
        })?;
        Ok(live)
    }

    /// Removes expired sessions, and sets the disk budget's counters from
    /// what the walk leaves.
    fn gc(&self, now: u64) -> Result<usize> {
        let (mut removed, mut kept, mut kept_bytes) = (0usize, 0usize, 0u64);
        let idle = std::time::Duration::from_millis(self.cx.lifetimes.idle_ms());
        self.tree.walk(Some(idle), |tree, name, mtime, size| {
            if self.gc_one(tree, name, mtime, now) {
                removed += 1;
            } else {
                kept += 1;
                kept_bytes = kept_bytes.saturating_add(size);
            }
        })?;
        self.budget.rescan(kept, kept_bytes);
        Ok(removed)
    }

    /// True when GC removed the session file `name`.
    fn gc_one(&self, tree: &Tree, name: &str, mtime: u64, now: u64) -> bool {
        if !self.cx.lifetimes.idle_expired(mtime, now) {
            return false;
        }
        let Ok(p) = tree.paths_of_name(name) else {
            return false;
        };
        // Re-checked under the session's own lock: a request may have
        // refreshed it since the walk saw it. Corrupt files go too.
        let Ok(Some(_lock)) = tree.lock(&p, true) else {
            return false;
        };
        let gone = match self.live(&p, now_ms()) {
            Ok(record) => record.is_none(),
            Err(e) => e.is_corrupt() && self.still_idle(&p, now),
        };
        gone && tree.remove(&p).is_ok()
    }

    /// True when the file at `p` was not touched since the idle lifetime.
    fn still_idle(&self, p: &Paths, now: u64) -> bool {
        matches!(self.tree.read(p), Ok(Some((_, mtime))) if self.cx.lifetimes.idle_expired(mtime, now))
    }
}

/// A write's parts, owned so they can cross into a blocking call.
struct Owned {
    mode: WriteMode,
    changes: Changes,
    now: u64,
}

#[async_trait]
impl RecordStore for Files {
    const NAME: &'static str = NAME;
    const FORMATS: &'static [Format] = &[Format::Native, Format::Beego];

    async fn open(cx: StoreContext, config: &str) -> Result<Self> {
        let cfg = FileConfig::parse(config)?;
        let layout = match cx.format {
            Format::Beego => Layout::Head,
            _ => Layout::Tail,
        };
        let shared = blocking(NAME, move || {
            let shared = Shared {
                tree: Tree::open(&cfg.dir, layout)?,
                io: IoThreads::start(NAME, io_thread_count())
                    .map_err(|e| Error::backend(NAME, e))?,
                cx,
                budget: Budget::new(cfg.max_sessions, cfg.max_bytes),
                max_session_bytes: cfg.max_session_bytes,
            };
            shared.rescan()?;
            Ok(shared)
        })
        .await?;
        let (sessions, bytes) = shared.budget.used();
        tracing::debug!(sessions, bytes, "session: file engine ready");
        Ok(Files(Arc::new(shared)))
    }

    fn max_session_bytes(&self) -> usize {
        self.0.max_session_bytes
    }

    async fn load(&self, sid: &SessionId, now: u64) -> Loaded {
        // In place when nothing would wait, else on the I/O threads.
        let p = self.0.tree.paths(sid)?;
        if let Nowait::Done(found) = self.0.live_nowait(&p, now)? {
            return Ok(found);
        }
        self.run(move |s| s.live(&p, now)).await
    }

    async fn exists(&self, sid: &SessionId, now: u64) -> Result<bool> {
        if !tree::safe_name(sid.as_str()) {
            return Ok(false);
        }
        Ok(self.load(sid, now).await?.is_some())
    }

    async fn write(&self, w: Write<'_>) -> Result<Released> {
        let sid = w.sid.clone();
        if w.mode == WriteMode::Create {
            let record = w.merged.clone();
            let now = w.now_ms;
            self.run(move |s| s.insert(&sid, &record, now)).await?;
            return Ok(Released::wrote(true));
        }
        let owned = Owned {
            mode: w.mode,
            changes: w.changes.clone(),
            now: w.now_ms,
        };
        let wrote = self.run(move |s| s.update(&sid, &owned)).await?;
        Ok(Released::wrote(wrote))
    }

    async fn insert(&self, sid: &SessionId, record: &SessionRecord, now: u64) -> Result<()> {
        let (sid, record) = (sid.clone(), record.clone());
        self.run(move |s| s.insert(&sid, &record, now)).await
    }

    async fn remove(&self, sid: &SessionId) -> Result<()> {
        let sid = sid.clone();
        self.run(move |s| s.remove(&sid)).await
    }

    async fn move_record(&self, old: &SessionId, new: &SessionId, now: u64) -> Loaded {
        let (old, new) = (old.clone(), new.clone());
        self.run(move |s| s.move_record(&old, &new, now)).await
    }

    async fn count(&self, now: u64) -> Result<usize> {
        self.walk(move |s| s.count(now)).await
    }

    fn owner_index(&self) -> Option<&dyn crate::session::OwnerIndex> {
        Some(self)
    }

    async fn gc(&self, now: u64) -> Result<usize> {
        // Sessions first, so that the index loses the expired ones too.
        let (removed, owners) = self
            .walk(move |s| Ok((s.gc(now)?, s.gc_owners(now)?)))
            .await?;
        tracing::debug!(removed, owners, "session: file GC");
        Ok(removed)
    }

    #[cfg(feature = "metrics")]
    fn live_sessions(&self) -> Option<usize> {
        Some(self.0.budget.used().0)
    }
}
