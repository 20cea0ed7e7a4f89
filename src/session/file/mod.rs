//! The `file` engine: one file per session under a directory, shared safely
//! between threads and processes.
//!
//! Layout as beego: `dir/sid[0]/sid[1]/sid`, directories 0700 and files
//! 0600 whatever the umask. Each session file holds
//! [`SessionRecord::encode`] bytes and is replaced by rename, so readers
//! never see a torn session and never lock. Writers take an advisory lock
//! (`flock`) on `sid.lock` beside the session, then read, merge the
//! request's changes and write: two processes writing different keys of one
//! session lose nothing.

mod tree;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use self::tree::Tree;
use super::error::{Error, Result};
use super::id::SessionId;
use super::provider::Provider;
use super::record::{now_ms, Changes, Lifetimes, SessionRecord};
use super::store::{MapStore, Released, SessionWriter, Store, Write, WriteMode};

struct Shared {
    tree: Tree,
    lifetimes: Lifetimes,
}

/// Runs blocking file work on the blocking pool, never on an async worker.
async fn blocking<T, F>(shared: &Arc<Shared>, work: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&Shared) -> Result<T> + Send + 'static,
{
    let shared = shared.clone();
    tokio::task::spawn_blocking(move || work(&shared))
        .await
        .map_err(|e| Error::backend("file", e))?
}

impl Shared {
    /// The live record of `sid`, if any.
    fn live(&self, sid: &SessionId, now: u64) -> Result<Option<SessionRecord>> {
        let p = self.tree.paths(sid)?;
        Ok(self
            .tree
            .read(&p, sid)?
            .filter(|r| !r.is_expired(&self.lifetimes, now)))
    }

    fn write(
        &self,
        sid: &SessionId,
        mode: WriteMode,
        changes: &Changes,
        merged: &SessionRecord,
        now: u64,
    ) -> Result<Released> {
        let p = self.tree.paths(sid)?;
        if mode == WriteMode::Create {
            let _lock = self.tree.lock(&p, true)?;
            if self.live(sid, now)?.is_some() {
                return Err(Error::IdCollision);
            }
            let record = SessionRecord {
                accessed_ms: now,
                ..merged.clone()
            };
            self.tree.write_atomic(&p, &record.encode()?)?;
            return Ok(Released::wrote(true));
        }
        // Gone sessions are never recreated, and no lock file is left behind.
        if !self.tree.file_exists(&p)? {
            return Ok(Released::wrote(false));
        }
        let Some(_lock) = self.tree.lock(&p, true)? else {
            return Ok(Released::wrote(false));
        };
        let Some(mut record) = self.live(sid, now)? else {
            if !self.tree.file_exists(&p)? {
                self.tree.remove(&p)?;
            }
            return Ok(Released::wrote(false));
        };
        if mode == WriteMode::Touch {
            return self.tree.touch(&p, now).map(Released::wrote);
        }
        changes.apply(&mut record.values);
        record.accessed_ms = now;
        self.tree.write_atomic(&p, &record.encode()?)?;
        Ok(Released::wrote(true))
    }

    fn regenerate(&self, old: &SessionId, new: &SessionId) -> Result<Option<SessionRecord>> {
        let now = now_ms();
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
        let Some(mut record) = self.live(old, now)? else {
            return Ok(None);
        };
        record.accessed_ms = now;
        {
            let _new_lock = self.tree.lock(&new_paths, true)?;
            if self.live(new, now)?.is_some() {
                return Err(Error::IdCollision);
            }
            // The new session is complete on disk before the old one goes.
            self.tree.write_atomic(&new_paths, &record.encode()?)?;
        }
        self.tree.remove(&old_paths)?;
        Ok(Some(record))
    }

    fn destroy(&self, sid: &SessionId) -> Result<()> {
        let Ok(p) = self.tree.paths(sid) else {
            return Ok(());
        };
        // Without a lock file there is no session to race with.
        let _lock = self.tree.lock(&p, false)?;
        self.tree.remove(&p)
    }

    fn count(&self) -> Result<usize> {
        let now = now_ms();
        let mut live = 0usize;
        // Every write sets the mtime to the access time, so the mtime
        // alone tells whether a session is live.
        self.tree.walk(false, |_, _, mtime| {
            if !self.lifetimes.idle_expired(mtime, now) {
                live += 1;
            }
        })?;
        Ok(live)
    }

    fn gc(&self) -> Result<usize> {
        let now = now_ms();
        let mut removed = 0usize;
        self.tree.walk(true, |tree, name, mtime| {
            if !self.lifetimes.idle_expired(mtime, now) {
                return;
            }
            let Ok(p) = tree.paths_of_name(name) else {
                return;
            };
            // Re-checked under the session's own lock: a request may have
            // refreshed it since the walk saw it.
            let Ok(Some(_lock)) = tree.lock(&p, true) else {
                return;
            };
            let sid = super::id::IdGenerator::sealed(name);
            if matches!(self.live(&sid, now_ms()), Ok(None)) && tree.remove(&p).is_ok() {
                removed += 1;
            }
        })?;
        Ok(removed)
    }
}

struct FileWriter(Arc<Shared>);

#[async_trait]
impl SessionWriter for FileWriter {
    async fn write(&self, w: Write<'_>) -> Result<Released> {
        let (sid, mode, now) = (w.sid.clone(), w.mode, w.now_ms);
        let changes = w.changes.clone();
        let merged = w.merged.clone();
        blocking(&self.0, move |s| {
            s.write(&sid, mode, &changes, &merged, now)
        })
        .await
    }
}

/// The `file` engine.
///
/// `sessionproviderconfig` is the directory (created 0700 if missing; an
/// existing one must belong to this process's user). Sessions live in
/// `dir/sid[0]/sid[1]/sid`, 0600.
///
/// - **Safety**: every id is checked again before a path is built (only
///   `[A-Za-z0-9_-]`, 2 to 200 characters) and the path must stay under the
///   directory. Symlinks are never followed (O_NOFOLLOW, `lstat` on shard
///   directories): a symlink or a file owned by another user gives an
///   error, and nothing outside the directory is read, written or removed.
/// - **Concurrency**: readers never lock; writers hold a per-session
///   `flock` on `sid.lock` while they read, merge and write. There is no
///   global lock, in the process or on disk.
/// - **Expiry**: the idle lifetime slides with use (the file's mtime, which
///   a read-only request refreshes at most every quarter of the lifetime)
///   and is checked on every read; the creation time stays in the file for
///   the absolute lifetime. GC walks the tree without a global lock,
///   removes expired sessions and empty directories.
/// - **Corruption**: a file that does not decode reads as no session (with
///   a warning) and the next write replaces it.
/// - **Durability**: writes are atomic (temporary file, then rename), so a
///   crashed process never leaves a torn session. Files are not fsynced:
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
pub struct FileProvider {
    shared: Option<Arc<Shared>>,
}

impl std::fmt::Debug for FileProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileProvider").finish_non_exhaustive()
    }
}

impl FileProvider {
    fn shared(&self) -> Result<&Arc<Shared>> {
        self.shared
            .as_ref()
            .ok_or_else(|| Error::Config("the file engine was used before session_init".into()))
    }

    fn store(&self, sid: SessionId, record: Option<SessionRecord>) -> Result<Arc<dyn Store>> {
        let shared = self.shared()?;
        let writer = Arc::new(FileWriter(shared.clone()));
        let lifetimes = shared.lifetimes;
        Ok(match record {
            Some(record) => Arc::new(MapStore::loaded(sid, record, lifetimes, writer)),
            None => Arc::new(MapStore::new_session(sid, lifetimes, writer)),
        })
    }
}

#[async_trait]
impl Provider for FileProvider {
    async fn session_init(&mut self, max_lifetime: Duration, config: &str) -> Result<()> {
        let config = config.to_owned();
        let tree = tokio::task::spawn_blocking(move || Tree::open(&config))
            .await
            .map_err(|e| Error::backend("file", e))??;
        self.shared = Some(Arc::new(Shared {
            tree,
            lifetimes: Lifetimes::new(max_lifetime, None),
        }));
        Ok(())
    }

    async fn session_read(&self, sid: &SessionId) -> Result<Arc<dyn Store>> {
        let id = sid.clone();
        let record = blocking(self.shared()?, move |s| s.live(&id, now_ms())).await?;
        self.store(sid.clone(), record)
    }

    async fn session_exist(&self, sid: &SessionId) -> Result<bool> {
        if !tree::safe_name(sid.as_str()) {
            return Ok(false);
        }
        let id = sid.clone();
        blocking(self.shared()?, move |s| {
            s.live(&id, now_ms()).map(|r| r.is_some())
        })
        .await
    }

    async fn session_regenerate(&self, old: &SessionId, new: &SessionId) -> Result<Arc<dyn Store>> {
        let (o, n) = (old.clone(), new.clone());
        let record = blocking(self.shared()?, move |s| s.regenerate(&o, &n)).await?;
        self.store(new.clone(), record)
    }

    async fn session_destroy(&self, sid: &SessionId) -> Result<()> {
        let id = sid.clone();
        blocking(self.shared()?, move |s| s.destroy(&id)).await
    }

    async fn session_all(&self) -> Result<usize> {
        blocking(self.shared()?, |s| s.count()).await
    }

    async fn session_gc(&self) -> Result<()> {
        let removed = blocking(self.shared()?, |s| s.gc()).await?;
        tracing::debug!(removed, "session: file GC");
        Ok(())
    }
}
