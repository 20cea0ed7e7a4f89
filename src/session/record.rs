//! What a session holds, and what one request changed in it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Encoded values by key. Each value is encoded on its own, so engines can
/// store keys separately (Redis hash fields) and merge per key.
pub type Values = BTreeMap<String, Vec<u8>>;

/// Milliseconds since the Unix epoch, the clock every engine uses.
///
/// # Examples
///
/// ```
/// assert!(actix_bee::session::engine::now_ms() > 1_700_000_000_000);
/// ```
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The net effect of one request on a session's values.
///
/// Mutations are folded as they happen, so engines see at most one entry per
/// key: a set, a delete, and whether everything before was flushed.
///
/// # Examples
///
/// ```
/// use actix_bee::session::engine::{Changes, Values};
///
/// let mut stored = Values::new();
/// stored.insert("a".into(), vec![1]);
/// stored.insert("b".into(), vec![2]);
/// let mut changes = Changes::default();
/// changes.set("c", vec![3]);
/// changes.delete("a");
/// changes.apply(&mut stored);
/// assert_eq!(stored.keys().collect::<Vec<_>>(), ["b", "c"]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    flushed: bool,
    set: Values,
    deleted: BTreeSet<String>,
}

impl Changes {
    /// Records `key = value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut c = actix_bee::session::engine::Changes::default();
    /// c.set("k", vec![1]);
    /// assert!(!c.is_empty());
    /// ```
    pub fn set(&mut self, key: &str, value: Vec<u8>) {
        self.deleted.remove(key);
        self.set.insert(key.to_owned(), value);
    }

    /// Records the removal of `key`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut c = actix_bee::session::engine::Changes::default();
    /// c.set("k", vec![1]);
    /// c.delete("k");
    /// assert!(c.sets().is_empty());
    /// assert!(c.deletes().contains("k"));
    /// ```
    pub fn delete(&mut self, key: &str) {
        self.set.remove(key);
        if !self.flushed {
            self.deleted.insert(key.to_owned());
        }
    }

    /// Records that every value was removed.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut c = actix_bee::session::engine::Changes::default();
    /// c.set("k", vec![1]);
    /// c.flush();
    /// assert!(c.flushed() && c.sets().is_empty());
    /// ```
    pub fn flush(&mut self) {
        self.flushed = true;
        self.set.clear();
        self.deleted.clear();
    }

    /// True when nothing changed.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(actix_bee::session::engine::Changes::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        !self.flushed && self.set.is_empty() && self.deleted.is_empty()
    }

    /// True when the request flushed the session before its other changes.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!actix_bee::session::engine::Changes::default().flushed());
    /// ```
    pub fn flushed(&self) -> bool {
        self.flushed
    }

    /// The keys set, with their new encoded values.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(actix_bee::session::engine::Changes::default().sets().is_empty());
    /// ```
    pub fn sets(&self) -> &Values {
        &self.set
    }

    /// The keys deleted (empty after a flush, which removes them all).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(actix_bee::session::engine::Changes::default().deletes().is_empty());
    /// ```
    pub fn deletes(&self) -> &BTreeSet<String> {
        &self.deleted
    }

    /// Records `later` as happening after these changes.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut first = actix_bee::session::engine::Changes::default();
    /// first.set("a", vec![1]);
    /// let mut later = actix_bee::session::engine::Changes::default();
    /// later.flush();
    /// later.set("b", vec![2]);
    /// first.merge(&later);
    /// assert!(first.flushed() && first.sets().len() == 1);
    /// ```
    pub fn merge(&mut self, later: &Changes) {
        if later.flushed {
            self.flush();
        }
        for key in &later.deleted {
            self.delete(key);
        }
        for (key, value) in &later.set {
            self.set(key, value.clone());
        }
    }

    /// Applies the changes on top of `values`, which may hold writes that
    /// other requests made meanwhile.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::session::engine::{Changes, Values};
    ///
    /// let mut v = Values::new();
    /// v.insert("other".into(), vec![9]);
    /// let mut c = Changes::default();
    /// c.flush();
    /// c.set("mine", vec![1]);
    /// c.apply(&mut v);
    /// assert_eq!(v.len(), 1);
    /// ```
    pub fn apply(&self, values: &mut Values) {
        if self.flushed {
            values.clear();
        }
        for key in &self.deleted {
            values.remove(key);
        }
        for (key, value) in &self.set {
            values.insert(key.clone(), value.clone());
        }
    }
}

/// How long sessions live.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use actix_bee::session::engine::Lifetimes;
///
/// let l = Lifetimes::new(Duration::from_secs(2), None);
/// assert!(l.idle_expired(0, 2_001));
/// assert!(!l.idle_expired(0, 1_999));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// Idle lifetime: time since the last access (`maxlifetime`).
    pub idle: Duration,
    /// Absolute lifetime from creation, whatever the activity.
    pub absolute: Option<Duration>,
}

impl Lifetimes {
    /// Builds lifetimes.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let l = actix_bee::session::engine::Lifetimes::new(Duration::from_secs(60), None);
    /// assert_eq!(l.idle_ms(), 60_000);
    /// ```
    pub fn new(idle: Duration, absolute: Option<Duration>) -> Self {
        Lifetimes { idle, absolute }
    }

    /// The idle lifetime in milliseconds.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let l = actix_bee::session::engine::Lifetimes::new(Duration::from_secs(1), None);
    /// assert_eq!(l.idle_ms(), 1_000);
    /// ```
    pub fn idle_ms(&self) -> u64 {
        u64::try_from(self.idle.as_millis()).unwrap_or(u64::MAX)
    }

    /// True when a session last accessed at `accessed_ms` has been idle too long.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let l = actix_bee::session::engine::Lifetimes::new(Duration::from_secs(1), None);
    /// assert!(l.idle_expired(5, 1_006));
    /// ```
    pub fn idle_expired(&self, accessed_ms: u64, now_ms: u64) -> bool {
        now_ms.saturating_sub(accessed_ms) > self.idle_ms()
    }

    /// True when a session created at `created_ms` is past the absolute lifetime.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use actix_bee::session::engine::Lifetimes;
    ///
    /// let l = Lifetimes::new(Duration::from_secs(60), Some(Duration::from_secs(5)));
    /// assert!(l.absolute_expired(0, 5_001));
    /// ```
    pub fn absolute_expired(&self, created_ms: u64, now_ms: u64) -> bool {
        self.absolute
            .is_some_and(|abs| u128::from(now_ms.saturating_sub(created_ms)) > abs.as_millis())
    }

    /// True when a read should refresh the stored expiry (sliding idle
    /// lifetime) although nothing changed. Refreshing at most every quarter
    /// of the idle lifetime, and at least every minute, keeps read-only
    /// requests from writing on every hit.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let l = actix_bee::session::engine::Lifetimes::new(Duration::from_secs(4), None);
    /// assert!(!l.touch_due(0, 999));
    /// assert!(l.touch_due(0, 1_000));
    /// ```
    pub fn touch_due(&self, accessed_ms: u64, now_ms: u64) -> bool {
        let every = (self.idle_ms() / 4).min(60_000);
        now_ms.saturating_sub(accessed_ms) >= every
    }
}

/// One session as stored by blob engines (file, SQL, memcache, couchbase,
/// cookie): creation and access times plus the encoded values. Plain data:
/// a [`Format`](super::engine::Format) turns it into bytes and back.
///
/// # Examples
///
/// ```
/// use actix_bee::session::engine::{Format, SessionRecord};
///
/// let mut r = SessionRecord::new(1_000);
/// r.values.insert("k".into(), vec![1, 2, 3]);
/// let bytes = Format::Native.encode(&r).unwrap();
/// assert_eq!(Format::Native.decode(&bytes).unwrap(), r);
/// assert!(Format::Native.decode(&bytes[..3]).is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionRecord {
    /// Creation time, ms since the epoch; never changes.
    pub created_ms: u64,
    /// Last access time, ms since the epoch.
    pub accessed_ms: u64,
    /// The values.
    pub values: Values,
}

impl SessionRecord {
    /// An empty record created and accessed at `now_ms`.
    ///
    /// # Examples
    ///
    /// ```
    /// let r = actix_bee::session::engine::SessionRecord::new(7);
    /// assert_eq!((r.created_ms, r.accessed_ms), (7, 7));
    /// ```
    pub fn new(now_ms: u64) -> Self {
        SessionRecord {
            created_ms: now_ms,
            accessed_ms: now_ms,
            values: Values::new(),
        }
    }

    /// True when the record is past its idle or absolute lifetime.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use actix_bee::session::engine::{Lifetimes, SessionRecord};
    ///
    /// let l = Lifetimes::new(Duration::from_secs(1), None);
    /// assert!(SessionRecord::new(0).is_expired(&l, 10_000));
    /// ```
    pub fn is_expired(&self, lifetimes: &Lifetimes, now_ms: u64) -> bool {
        lifetimes.idle_expired(self.accessed_ms, now_ms)
            || lifetimes.absolute_expired(self.created_ms, now_ms)
    }
}
