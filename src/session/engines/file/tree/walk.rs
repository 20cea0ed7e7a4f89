//! Walking the whole tree: counts, GC, and the leftovers GC removes.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustix::fs::AtFlags;

use super::{found, ms_of, safe_name, Tree, LOCK_SUFFIX, SPARE_SUFFIX, TMP_MARK};
use crate::session::error::{Error, Result};

impl Tree {
    /// Visits every session file name in the tree with its mtime (ms) and
    /// size. With `cleanup` (the idle lifetime), also removes leftovers:
    /// stale temporary files, orphan lock files, empty shard directories,
    /// and session files idle that long in a shard the layout would not
    /// put them in (left by the other layout, such as a version that
    /// sharded native sessions by their first characters): no request can
    /// reach those, so they are neither visited nor counted. Holds no lock
    /// while walking.
    pub(in crate::session::engines::file) fn walk(
        &self,
        cleanup: Option<Duration>,
        mut visit: impl FnMut(&Tree, &str, u64, u64),
    ) -> Result<()> {
        let now = SystemTime::now();
        for (first, shard1) in self.subdirs(&self.root)? {
            for (second, shard2) in self.subdirs(&shard1)? {
                let key = [first, second];
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
                    let kept = name
                        .strip_suffix(LOCK_SUFFIX)
                        .or_else(|| name.strip_suffix(SPARE_SUFFIX));
                    if let Some(session) = kept {
                        if cleanup.is_some() {
                            self.drop_orphan(session, &name);
                        }
                    } else if name.contains(TMP_MARK) {
                        if cleanup.is_some() && age > Duration::from_secs(600) {
                            let _ = fs::remove_file(entry.path());
                        }
                    } else if !safe_name(&name) {
                        // Not a session file of ours: left alone.
                    } else if self.key_of(&name) == Some(key) {
                        visit(self, &name, ms_of(mtime), meta.len());
                    } else if cleanup.is_some_and(|idle| age > idle) {
                        tracing::debug!("file session: removing an idle file outside its shard");
                        let _ = fs::remove_file(entry.path());
                    }
                }
                // Fails harmlessly while the directory has entries.
                if cleanup.is_some() && fs::remove_dir(&shard2).is_ok() {
                    self.dirs.forget_key(key);
                }
            }
            if cleanup.is_some() {
                let _ = fs::remove_dir(&shard1);
            }
        }
        Ok(())
    }

    /// The one-character directories of ours under `dir`, with that
    /// character.
    fn subdirs(&self, dir: &Path) -> Result<Vec<(u8, PathBuf)>> {
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
            })
            .filter_map(|e| match e.file_name().as_encoded_bytes() {
                [one] => Some((*one, e.path())),
                _ => None,
            })
            .collect())
    }

    /// Removes `left`, the lock or spare file of `session`, when that
    /// session has no file: under the session's lock, so that a write in
    /// progress keeps them.
    fn drop_orphan(&self, session: &str, left: &str) {
        let Ok(p) = self.paths_of(session) else {
            return;
        };
        if self.file_exists(&p).unwrap_or(true) {
            return;
        }
        let unlink = |name: &str| {
            let _ = self.at(&p, false, |d| {
                found(rustix::fs::unlinkat(d, name, AtFlags::empty()))
            });
        };
        if left == p.spare {
            // Without a lock file nobody writes it: made to take the lock.
            if let Ok(Some(_lock)) = self.lock(&p, true) {
                if !self.file_exists(&p).unwrap_or(true) {
                    unlink(&p.spare);
                    unlink(&p.lock);
                }
            }
        } else if let Ok(Some(_lock)) = self.lock(&p, false) {
            if !self.file_exists(&p).unwrap_or(true) {
                unlink(&p.lock);
            }
        }
    }
}
