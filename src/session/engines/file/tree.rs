//! The session directory tree: safe paths, safe opens, locks, atomic writes.
//!
//! Everything here is blocking; the engine calls it on the blocking pool.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Write as _};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::session::error::{Error, Result};
use crate::session::id::SessionId;

/// The engine name, in errors.
const NAME: &str = "file";
const DIR_MODE: u32 = 0o700;
const FILE_MODE: u32 = 0o600;
/// Longest id used as a file name: NAME_MAX (255) less room for suffixes.
const MAX_NAME: usize = 200;
const LOCK_SUFFIX: &str = ".lock";
const TMP_MARK: &str = ".tmp.";
/// Attempts at locking a lock file that other processes keep replacing.
const LOCK_ATTEMPTS: usize = 16;

/// Where one session lives.
pub(super) struct Paths {
    shard1: PathBuf,
    shard2: PathBuf,
    file: PathBuf,
    lock: PathBuf,
    name: String,
}

/// A held per-session lock; dropping it unlocks.
pub(super) struct Lock(#[allow(dead_code)] File);

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

/// The session root, our uid and the shard layout.
pub(super) struct Tree {
    root: PathBuf,
    uid: u32,
    layout: Layout,
}

pub(super) fn nofollow() -> i32 {
    // O_NOFOLLOW fits an i32 on every platform rustix supports.
    rustix::fs::OFlags::NOFOLLOW.bits() as i32
}

/// True for the ids the engine accepts as file names: `[A-Za-z0-9_-]{2,200}`.
pub(super) fn safe_name(name: &str) -> bool {
    (2..=MAX_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

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

pub(super) fn ms_of(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
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
        Ok(Tree { root, uid, layout })
    }

    /// The root directory (canonical).
    pub(super) fn root(&self) -> &Path {
        &self.root
    }

    /// Validates `sid` and builds its paths under the root.
    pub(super) fn paths(&self, sid: &SessionId) -> Result<Paths> {
        self.paths_of(sid.as_str())
    }

    fn paths_of(&self, name: &str) -> Result<Paths> {
        if !safe_name(name) {
            return Err(Error::corrupt(
                "file session: the session id is not usable as a file name",
            ));
        }
        // `safe_name` allows ASCII only: byte offsets are characters.
        let pick = match self.layout {
            Layout::Head => name.get(..2),
            Layout::Tail => name.get(name.len().saturating_sub(2)..),
        };
        let Some((a, b)) = pick.and_then(|two| Some((two.get(..1)?, two.get(1..)?))) else {
            return Err(Error::corrupt("file session: the session id is too short"));
        };
        let shard1 = self.root.join(a);
        let shard2 = shard1.join(b);
        let file = shard2.join(name);
        let lock = shard2.join(format!("{name}{LOCK_SUFFIX}"));
        // Belt and braces: the validated charset cannot leave the root.
        let stays = file
            .strip_prefix(&self.root)
            .is_ok_and(|rel| rel.components().all(|c| matches!(c, Component::Normal(_))));
        if !stays {
            return Err(Error::corrupt("file session: path escapes the directory"));
        }
        Ok(Paths {
            shard1,
            shard2,
            file,
            lock,
            name: name.to_owned(),
        })
    }

    pub(super) fn is_ours(&self, meta: &fs::Metadata) -> bool {
        meta.uid() == self.uid
    }

    /// Checks the shard directories; `Ok(false)` when one is missing.
    fn shards_ok(&self, p: &Paths) -> Result<bool> {
        for dir in [&p.shard1, &p.shard2] {
            match fs::symlink_metadata(dir) {
                Ok(m) if m.is_dir() && self.is_ours(&m) => {}
                Ok(_) => return Err(refused("a shard directory")),
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
                Err(e) => return Err(Error::backend("file", e)),
            }
        }
        Ok(true)
    }

    pub(super) fn make_dir(&self, dir: &Path) -> Result<()> {
        match DirBuilder::new().mode(DIR_MODE).create(dir) {
            Ok(()) => fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE))
                .map_err(|e| Error::backend("file", e)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(Error::backend("file", e)),
        }
    }

    fn ensure_shards(&self, p: &Paths) -> Result<()> {
        if self.shards_ok(p)? {
            return Ok(());
        }
        self.make_dir(&p.shard1)?;
        self.make_dir(&p.shard2)?;
        if self.shards_ok(p)? {
            Ok(())
        } else {
            Err(Error::backend(
                "file",
                io::Error::other("a shard directory vanished while it was created"),
            ))
        }
    }

    /// Opens an existing entry without following a symlink and checks it.
    fn open_checked(&self, path: &Path, write: bool) -> Result<Option<(File, fs::Metadata)>> {
        let file = match OpenOptions::new()
            .read(true)
            .write(write)
            .custom_flags(nofollow())
            .open(path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(e)),
        };
        let meta = file.metadata().map_err(|e| Error::backend("file", e))?;
        if !meta.is_file() || !self.is_ours(&meta) {
            return Err(refused("a session file"));
        }
        Ok(Some((file, meta)))
    }

    /// The stored bytes and the file's mtime (ms), which Touch moves.
    pub(super) fn read(&self, p: &Paths) -> Result<Option<(Vec<u8>, u64)>> {
        if !self.shards_ok(p)? {
            return Ok(None);
        }
        let Some((mut file, meta)) = self.open_checked(&p.file, false)? else {
            return Ok(None);
        };
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        file.read_to_end(&mut bytes)
            .map_err(|e| Error::backend("file", e))?;
        let mtime = meta.modified().map(ms_of).unwrap_or(0);
        Ok(Some((bytes, mtime)))
    }

    /// True when the session file is there (live or not).
    pub(super) fn file_exists(&self, p: &Paths) -> Result<bool> {
        if !self.shards_ok(p)? {
            return Ok(false);
        }
        match fs::symlink_metadata(&p.file) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::backend("file", e)),
        }
    }

    /// Takes the session's exclusive lock (an flock on `sid.lock`, which
    /// other processes share). With `create` false, `Ok(None)` when there
    /// is no lock file.
    pub(super) fn lock(&self, p: &Paths, create: bool) -> Result<Option<Lock>> {
        for _ in 0..LOCK_ATTEMPTS {
            if create {
                self.ensure_shards(p)?;
            } else if !self.shards_ok(p)? {
                return Ok(None);
            }
            let opened = OpenOptions::new()
                .read(true)
                .write(true)
                .create(create)
                .mode(FILE_MODE)
                .custom_flags(nofollow())
                .open(&p.lock);
            let file = match opened {
                Ok(f) => f,
                // GC removed an empty shard directory meanwhile: make it again.
                Err(e) if e.kind() == io::ErrorKind::NotFound && create => continue,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(io_error(e)),
            };
            let meta = file.metadata().map_err(|e| Error::backend("file", e))?;
            if !meta.is_file() || !self.is_ours(&meta) {
                return Err(refused("a lock file"));
            }
            if meta.mode() & 0o777 != FILE_MODE {
                file.set_permissions(fs::Permissions::from_mode(FILE_MODE))
                    .map_err(|e| Error::backend("file", e))?;
            }
            file.lock().map_err(|e| Error::backend("file", e))?;
            // Whoever deleted the lock file held it; if the path now names
            // another inode (or none), our lock guards nothing: retry.
            match fs::symlink_metadata(&p.lock) {
                Ok(now) if now.ino() == meta.ino() && now.dev() == meta.dev() => {
                    return Ok(Some(Lock(file)));
                }
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::NotFound && create => continue,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(Error::backend("file", e)),
            }
        }
        Err(Error::backend(
            "file",
            io::Error::other("could not lock a session file that keeps being replaced"),
        ))
    }

    /// Writes `bytes` as the session, atomically: a new 0600 file created
    /// with O_CREAT|O_EXCL|O_NOFOLLOW in the same directory, then renamed
    /// over the session file. Call with the session's lock held.
    pub(super) fn write_atomic(&self, p: &Paths, bytes: &[u8]) -> Result<()> {
        self.ensure_shards(p)?;
        let mut suffix = [0u8; 8];
        rand::fill(&mut suffix);
        let tmp = p
            .shard2
            .join(format!("{}{TMP_MARK}{}", p.name, hex::encode(suffix)));
        let result = (|| -> io::Result<()> {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(FILE_MODE)
                .custom_flags(nofollow())
                .open(&tmp)?;
            file.set_permissions(fs::Permissions::from_mode(FILE_MODE))?;
            file.write_all(bytes)?;
            drop(file);
            // rename() replaces the directory entry; it never follows a
            // symlink that may sit at the session path.
            fs::rename(&tmp, &p.file)
        })();
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp);
            return Err(io_error(e));
        }
        Ok(())
    }

    /// Renames the session file of `from` to `to` (hold both locks) and
    /// drops `from`'s lock file: the move of a regenerate, in one step.
    pub(super) fn rename(&self, from: &Paths, to: &Paths) -> Result<()> {
        self.ensure_shards(to)?;
        fs::rename(&from.file, &to.file).map_err(io_error)?;
        match fs::remove_file(&from.lock) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::backend("file", e)),
        }
    }

    /// Moves the session's mtime to `now_ms` (Touch): no rewrite.
    pub(super) fn touch(&self, p: &Paths, now_ms: u64) -> Result<bool> {
        let Some((file, _)) = self.open_checked(&p.file, true)? else {
            return Ok(false);
        };
        let when = UNIX_EPOCH + Duration::from_millis(now_ms);
        file.set_modified(when)
            .map_err(|e| Error::backend("file", e))?;
        Ok(true)
    }

    /// The size of the session file, `None` when there is none.
    pub(super) fn file_size(&self, p: &Paths) -> Result<Option<u64>> {
        if !self.shards_ok(p)? {
            return Ok(None);
        }
        match fs::symlink_metadata(&p.file) {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::backend("file", e)),
        }
    }

    /// Unlinks the session file and its lock file (hold the lock), and
    /// gives the size of the session file it removed. unlink removes a
    /// symlink itself, never its target.
    pub(super) fn remove(&self, p: &Paths) -> Result<Option<u64>> {
        let size = self.file_size(p)?;
        let mut removed = None;
        for path in [&p.file, &p.lock] {
            match fs::remove_file(path) {
                Ok(()) if path == &p.file => removed = size,
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::backend("file", e)),
            }
        }
        Ok(removed)
    }

    /// Visits every session file name in the tree with its mtime (ms) and
    /// size. With `cleanup` (the idle lifetime), also removes leftovers:
    /// stale temporary files, orphan lock files, empty shard directories,
    /// and session files idle that long in a shard the layout would not
    /// put them in (left by the other layout, such as a version that
    /// sharded native sessions by their first characters): no request can
    /// reach those, so they are neither visited nor counted. Holds no lock
    /// while walking.
    pub(super) fn walk(
        &self,
        cleanup: Option<Duration>,
        mut visit: impl FnMut(&Tree, &str, u64, u64),
    ) -> Result<()> {
        let now = SystemTime::now();
        for shard1 in self.subdirs(&self.root)? {
            for shard2 in self.subdirs(&shard1)? {
                let entries = match fs::read_dir(&shard2) {
                    Ok(e) => e,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(Error::backend("file", e)),
                };
                for entry in entries.flatten() {
                    let Ok(name) = entry.file_name().into_string() else {
                        continue;
                    };
                    let Ok(meta) = entry.metadata() else { continue };
                    if !meta.is_file() || !self.is_ours(&meta) {
                        continue;
                    }
                    let mtime = meta.modified().unwrap_or(UNIX_EPOCH);
                    let age = now.duration_since(mtime).unwrap_or_default();
                    if let Some(session) = name.strip_suffix(LOCK_SUFFIX) {
                        if cleanup.is_some() {
                            self.drop_orphan_lock(session);
                        }
                    } else if name.contains(TMP_MARK) {
                        if cleanup.is_some() && age > Duration::from_secs(600) {
                            let _ = fs::remove_file(entry.path());
                        }
                    } else if !safe_name(&name) {
                        // Not a session file of ours: left alone.
                    } else if self.paths_of(&name).is_ok_and(|p| p.file == entry.path()) {
                        visit(self, &name, ms_of(mtime), meta.len());
                    } else if cleanup.is_some_and(|idle| age > idle) {
                        tracing::debug!("file session: removing an idle file outside its shard");
                        let _ = fs::remove_file(entry.path());
                    }
                }
                if cleanup.is_some() {
                    // Fails harmlessly while the directory has entries.
                    let _ = fs::remove_dir(&shard2);
                }
            }
            if cleanup.is_some() {
                let _ = fs::remove_dir(&shard1);
            }
        }
        Ok(())
    }

    fn subdirs(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        let entries = match fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::backend("file", e)),
        };
        Ok(entries
            .flatten()
            .filter(|e| {
                // DirEntry::metadata does not follow symlinks.
                e.metadata().is_ok_and(|m| m.is_dir() && self.is_ours(&m))
                    && e.file_name().len() == 1
            })
            .map(|e| e.path())
            .collect())
    }

    fn drop_orphan_lock(&self, session: &str) {
        let Ok(p) = self.paths_of(session) else {
            return;
        };
        if self.file_exists(&p).unwrap_or(true) {
            return;
        }
        if let Ok(Some(_lock)) = self.lock(&p, false) {
            if !self.file_exists(&p).unwrap_or(true) {
                let _ = fs::remove_file(&p.lock);
            }
        }
    }

    /// Paths of a name found while walking (validated again).
    pub(super) fn paths_of_name(&self, name: &str) -> Result<Paths> {
        self.paths_of(name)
    }
}
