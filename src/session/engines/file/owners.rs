//! The owner index of the `file` engine.
//!
//! Per owner, a directory `dir/owners/<sha256 of the owner>/` (0700)
//! holding one empty file per attached session id, whose mtime is the
//! attach time, and a `.epoch` file holding the owner's epoch in decimal.
//! Ids and `.epoch` never collide: ids have no dot.
//!
//! - **attach** and **bump** run under an exclusive `flock` on the owner's
//!   directory, so two processes sharing the directory stay right; the
//!   epoch is written to a temporary file and renamed over `.epoch`, so a
//!   reader (`epoch`, without the lock) never sees a torn value.
//! - **bump** moves the epoch to the larger of `epoch + 1` and now (ms), and
//!   a new epoch starts at now: an owner directory that GC removed and a
//!   later login recreated never repeats a value.
//! - **sessions** lists the ids whose session is live and removes, under
//!   the lock, those whose session is gone and that were attached more
//!   than [`ATTACH_GRACE_MS`] ago (a login may be writing that session).
//! - **GC** prunes every owner the same way, then removes an owner's
//!   directory once it holds no id and its epoch was last written longer
//!   ago than the idle lifetime plus the grace: no login of that owner can
//!   be in flight, so no epoch read can be fooled.
//!
//! The index grows only with logins: one empty file per session that has
//! an owner, and ids whose session never came (refused by the disk budget,
//! say) go after the grace. The session walk skips `owners/` (it reads
//! only one-character shard directories). A beego app sharing the
//! directory counts these files as sessions and its GC removes files idle
//! past the lifetime, an index entry included: the session then is not
//! listed by owner (nor ended by "log out everywhere") until it logs in
//! again. Run "log out everywhere" from this crate's side only.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write as _};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use async_trait::async_trait;

use super::refusal::{io_error, refused};
use super::tree::{ms_of, nofollow, safe_name};
use super::{Files, Shared};
use crate::session::error::{Error, Result};
use crate::session::format::Format;
use crate::session::id::SessionId;
use crate::session::owner::{indexed_id, IndexedSession, Owner, OwnerIndex, ATTACH_GRACE_MS};
use crate::session::record::now_ms;

/// The directory of the owner directories, under the session root.
const OWNERS_DIR: &str = "owners";
const EPOCH_FILE: &str = ".epoch";
const EPOCH_TMP: &str = ".epoch.tmp.";
/// Attempts at locking an owner directory that GC keeps removing.
const LOCK_ATTEMPTS: usize = 16;

/// A held owner lock; dropping it unlocks.
struct OwnerLock(#[allow(dead_code)] File);

fn backend(e: io::Error) -> Error {
    Error::backend("file", e)
}

/// True for the names of owner directories: 64 lowercase hex digits.
fn is_digest(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `now` less `ms`, as a time a file's mtime compares with.
fn before(now: u64, ms: u64) -> u64 {
    now.saturating_sub(ms)
}

impl Shared {
    fn owners_root(&self) -> PathBuf {
        self.tree.root().join(OWNERS_DIR)
    }

    /// `dir` if it is a directory of ours, `None` if missing; a symlink
    /// or another user's entry is refused.
    fn checked_dir(&self, dir: &Path) -> Result<Option<fs::Metadata>> {
        match fs::symlink_metadata(dir) {
            Ok(m) if m.is_dir() && self.tree.is_ours(&m) => Ok(Some(m)),
            Ok(_) => Err(refused("an owner directory")),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(backend(e)),
        }
    }

    /// The owner's directory, checked (created when `create`); `None` when
    /// it is missing and not created.
    fn owner_dir(&self, digest: &str, create: bool) -> Result<Option<PathBuf>> {
        let root = self.owners_root();
        let dir = root.join(digest);
        if create {
            self.tree.make_dir(&root)?;
            self.checked_dir(&root)?;
            self.tree.make_dir(&dir)?;
        } else if self.checked_dir(&root)?.is_none() {
            return Ok(None);
        }
        Ok(self.checked_dir(&dir)?.map(|_| dir))
    }

    /// Locks the owner's directory (an `flock` on the directory itself,
    /// which other processes share). `None` when it is missing and
    /// `create` is false.
    fn lock_owner(&self, digest: &str, create: bool) -> Result<Option<(PathBuf, OwnerLock)>> {
        for _ in 0..LOCK_ATTEMPTS {
            let Some(dir) = self.owner_dir(digest, create)? else {
                return Ok(None);
            };
            let opened = OpenOptions::new()
                .read(true)
                .custom_flags(nofollow() | rustix::fs::OFlags::DIRECTORY.bits() as i32)
                .open(&dir);
            let file = match opened {
                Ok(f) => f,
                // GC removed it meanwhile.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io_error(e)),
            };
            let meta = file.metadata().map_err(backend)?;
            file.lock().map_err(backend)?;
            // GC removes a directory under its lock: if the path no longer
            // names the inode we locked, the lock guards nothing.
            match fs::symlink_metadata(&dir) {
                Ok(now) if now.ino() == meta.ino() && now.dev() == meta.dev() => {
                    return Ok(Some((dir, OwnerLock(file))));
                }
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(backend(e)),
            }
        }
        Err(backend(io::Error::other(
            "could not lock an owner directory that keeps being removed",
        )))
    }

    /// The epoch in `dir`, `None` when there is none yet.
    fn read_epoch(&self, dir: &Path) -> Result<Option<u64>> {
        let mut file = match OpenOptions::new()
            .read(true)
            .custom_flags(nofollow())
            .open(dir.join(EPOCH_FILE))
        {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(e)),
        };
        let mut text = String::new();
        // An epoch is at most 20 digits: read no more than that.
        (&mut file)
            .take(32)
            .read_to_string(&mut text)
            .map_err(backend)?;
        text.trim()
            .parse()
            .map(Some)
            .map_err(|_| Error::corrupt("file session: an owner's epoch file is not a number"))
    }

    /// Writes the epoch in `dir` atomically (hold the owner's lock).
    fn write_epoch(&self, dir: &Path, epoch: u64) -> Result<()> {
        let mut suffix = [0u8; 8];
        rand::fill(&mut suffix);
        let tmp = dir.join(format!("{EPOCH_TMP}{}", hex::encode(suffix)));
        let result = (|| -> io::Result<()> {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(nofollow())
                .open(&tmp)?;
            file.write_all(epoch.to_string().as_bytes())?;
            drop(file);
            fs::rename(&tmp, dir.join(EPOCH_FILE))
        })();
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp);
            return Err(io_error(e));
        }
        Ok(())
    }

    /// The epoch, created at `now` if there is none (hold the lock).
    fn epoch_or_new(&self, dir: &Path, now: u64) -> Result<u64> {
        // A corrupt epoch is replaced by a new one, which is larger than
        // any it held (a time): a login that read it ends its session.
        match self.read_epoch(dir) {
            Ok(Some(e)) => return Ok(e),
            Ok(None) => {}
            Err(e) if e.is_corrupt() => {}
            Err(e) => return Err(e),
        }
        let epoch = now.max(1);
        self.write_epoch(dir, epoch)?;
        Ok(epoch)
    }

    fn attach(&self, digest: &str, sid: &SessionId, now: u64) -> Result<u64> {
        if !safe_name(sid.as_str()) {
            return Err(Error::corrupt(
                "file session: refusing an unsafe session id",
            ));
        }
        let Some((dir, _lock)) = self.lock_owner(digest, true)? else {
            return Err(backend(io::Error::other("the owner directory vanished")));
        };
        let entry = OpenOptions::new()
            .write(true)
            .create(true)
            .mode(0o600)
            .custom_flags(nofollow())
            .open(dir.join(sid.as_str()))
            .map_err(io_error)?;
        entry
            .set_modified(UNIX_EPOCH + Duration::from_millis(now))
            .map_err(backend)?;
        self.epoch_or_new(&dir, now)
    }

    fn bump(&self, digest: &str, now: u64) -> Result<u64> {
        let Some((dir, _lock)) = self.lock_owner(digest, true)? else {
            return Err(backend(io::Error::other("the owner directory vanished")));
        };
        let old = match self.read_epoch(&dir) {
            Ok(e) => e.unwrap_or(0),
            Err(e) if e.is_corrupt() => 0,
            Err(e) => return Err(e),
        };
        let epoch = old.saturating_add(1).max(now);
        self.write_epoch(&dir, epoch)?;
        Ok(epoch)
    }

    /// The ids in `dir` with their attach times (mtime, ms).
    fn entries(&self, dir: &Path) -> Result<Vec<(SessionId, u64)>> {
        let list = match fs::read_dir(dir) {
            Ok(l) => l,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(backend(e)),
        };
        let mut out = Vec::new();
        for entry in list.flatten() {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            // Only names an id can have: no `.epoch`, no path tricks.
            let Some(sid) = indexed_id(&name).filter(|_| safe_name(&name)) else {
                continue;
            };
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_file() && self.tree.is_ours(&meta) {
                out.push((sid, meta.modified().map(ms_of).unwrap_or(0)));
            }
        }
        Ok(out)
    }

    /// The live sessions among `dir`'s ids; removes, under the owner's
    /// lock, ids whose session is gone and that were attached before the
    /// grace. Returns the live ones and how many ids remain.
    fn prune(&self, digest: &str, dir: &Path, now: u64) -> Result<(Vec<IndexedSession>, usize)> {
        let mut live = Vec::new();
        let mut stale = Vec::new();
        let entries = self.entries(dir)?;
        let total = entries.len();
        for (sid, attached) in entries {
            match self.live(&self.tree.paths(&sid)?, now) {
                Ok(Some(record)) => {
                    let created = (self.cx.format != Format::Beego).then_some(record.created_ms);
                    live.push(IndexedSession::new(sid, created, Some(record.accessed_ms)));
                }
                // Corrupt data is still a session: listed, and ended with the rest.
                Err(e) if e.is_corrupt() => live.push(IndexedSession::new(sid, None, None)),
                Err(e) => return Err(e),
                Ok(None) if attached < before(now, ATTACH_GRACE_MS) => stale.push(sid),
                Ok(None) => {}
            }
        }
        if stale.is_empty() {
            return Ok((live, total));
        }
        let Some((dir, _lock)) = self.lock_owner(digest, false)? else {
            return Ok((live, 0));
        };
        let mut removed = 0;
        for sid in stale {
            let path = dir.join(sid.as_str());
            // Re-checked under the lock: a login may have attached it again.
            let attached = match fs::symlink_metadata(&path) {
                Ok(m) => m.modified().map(ms_of).unwrap_or(0),
                Err(_) => continue,
            };
            if attached < before(now, ATTACH_GRACE_MS) && fs::remove_file(&path).is_ok() {
                removed += 1;
            }
        }
        Ok((live, total - removed))
    }

    fn sessions(&self, digest: &str, now: u64) -> Result<Vec<IndexedSession>> {
        let Some(dir) = self.owner_dir(digest, false)? else {
            return Ok(Vec::new());
        };
        Ok(self.prune(digest, &dir, now)?.0)
    }

    /// GC of the index: every owner pruned, then owner directories with
    /// no id and an epoch idle past the lifetime plus the grace removed.
    pub(super) fn gc_owners(&self, now: u64) -> Result<usize> {
        let root = self.owners_root();
        if self.checked_dir(&root)?.is_none() {
            return Ok(0);
        }
        let keep_epoch = self.cx.lifetimes.idle_ms().saturating_add(ATTACH_GRACE_MS);
        let mut removed = 0;
        for entry in fs::read_dir(&root).map_err(backend)?.flatten() {
            let Ok(digest) = entry.file_name().into_string() else {
                continue;
            };
            if !is_digest(&digest) || self.checked_dir(&entry.path()).ok().flatten().is_none() {
                continue;
            }
            let (_, left) = self.prune(&digest, &entry.path(), now)?;
            if left == 0 && self.remove_idle_owner(&digest, before(now, keep_epoch))? {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Under the owner's lock: removes its directory if it holds no id and
    /// its epoch was written before `idle_before`.
    fn remove_idle_owner(&self, digest: &str, idle_before: u64) -> Result<bool> {
        let Some((dir, _lock)) = self.lock_owner(digest, false)? else {
            return Ok(false);
        };
        if !self.entries(&dir)?.is_empty() {
            return Ok(false);
        }
        let written = match fs::symlink_metadata(dir.join(EPOCH_FILE)) {
            Ok(m) => m.modified().map(ms_of).unwrap_or(0),
            Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
            Err(e) => return Err(backend(e)),
        };
        if written >= idle_before {
            return Ok(false);
        }
        // The epoch file and leftovers of a crashed epoch write: nothing
        // else of ours lives here (entries() found no id).
        for entry in fs::read_dir(&dir).map_err(backend)?.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name == EPOCH_FILE || name.starts_with(EPOCH_TMP) {
                let _ = fs::remove_file(entry.path());
            }
        }
        // Fails harmlessly if something else was put there.
        Ok(fs::remove_dir(&dir).is_ok())
    }
}

#[async_trait]
impl OwnerIndex for Files {
    async fn attach(&self, owner: &Owner, sid: &SessionId) -> Result<u64> {
        let (digest, sid) = (owner.digest(), sid.clone());
        self.run(move |s| s.attach(&digest, &sid, now_ms())).await
    }

    async fn detach(&self, owner: &Owner, sid: &SessionId) -> Result<()> {
        if !safe_name(sid.as_str()) {
            return Ok(());
        }
        let (digest, sid) = (owner.digest(), sid.clone());
        self.run(move |s| {
            let Some(dir) = s.owner_dir(&digest, false)? else {
                return Ok(());
            };
            match fs::remove_file(dir.join(sid.as_str())) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(backend(e)),
            }
        })
        .await
    }

    async fn epoch(&self, owner: &Owner) -> Result<u64> {
        let digest = owner.digest();
        self.run(move |s| match s.owner_dir(&digest, false)? {
            // 0 stands for "no epoch": epochs start at a time in ms.
            Some(dir) => match s.read_epoch(&dir) {
                Ok(e) => Ok(e.unwrap_or(0)),
                Err(e) if e.is_corrupt() => Ok(0),
                Err(e) => Err(e),
            },
            None => Ok(0),
        })
        .await
    }

    async fn bump(&self, owner: &Owner) -> Result<u64> {
        let digest = owner.digest();
        self.run(move |s| s.bump(&digest, now_ms())).await
    }

    async fn sessions(&self, owner: &Owner) -> Result<Vec<IndexedSession>> {
        let digest = owner.digest();
        self.run(move |s| s.sessions(&digest, now_ms())).await
    }
}
