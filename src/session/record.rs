//! What a session holds, and what one request changed in it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::error::{Error, Result};

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
/// cookie): creation and access times plus the encoded values.
///
/// # Examples
///
/// ```
/// use actix_bee::session::engine::SessionRecord;
///
/// let mut r = SessionRecord::new(1_000);
/// r.values.insert("k".into(), vec![1, 2, 3]);
/// let bytes = r.encode().unwrap();
/// assert_eq!(SessionRecord::decode(&bytes).unwrap(), r);
/// assert!(SessionRecord::decode(&bytes[..3]).is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// Creation time, ms since the epoch; never changes.
    #[serde(rename = "c")]
    pub created_ms: u64,
    /// Last access time, ms since the epoch.
    #[serde(rename = "a")]
    pub accessed_ms: u64,
    /// The values.
    #[serde(rename = "v", with = "values_as_bytes")]
    pub values: Values,
}

/// Version tag in front of every encoded record, so the format can change.
const RECORD_VERSION: u8 = 1;

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

    /// Encodes the record in a versioned envelope.
    ///
    /// # Errors
    ///
    /// [`Error::Corrupt`] if MessagePack encoding fails (it does not for
    /// this type, but the error is not swallowed).
    ///
    /// # Examples
    ///
    /// ```
    /// let bytes = actix_bee::session::engine::SessionRecord::new(0).encode().unwrap();
    /// assert_eq!(bytes[0], 1);
    /// ```
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.encode_into(&mut out)?;
        Ok(out)
    }

    /// Appends what [`SessionRecord::encode`] returns to `out`, for
    /// callers that build a larger buffer around the record.
    ///
    /// # Errors
    ///
    /// [`Error::Corrupt`] if the record cannot be serialized.
    ///
    /// # Examples
    ///
    /// ```
    /// let r = actix_bee::session::engine::SessionRecord::new(0);
    /// let mut out = b"head".to_vec();
    /// r.encode_into(&mut out).unwrap();
    /// assert_eq!(&out[4..], r.encode().unwrap());
    /// ```
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<()> {
        out.push(RECORD_VERSION);
        // The bytes rmp_serde's `write_named` gives, without its detours.
        super::record_msgpack::write(self, out);
        Ok(())
    }

    /// Decodes a record written by [`SessionRecord::encode`].
    ///
    /// # Errors
    ///
    /// [`Error::Corrupt`] on an unknown version or malformed bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(actix_bee::session::engine::SessionRecord::decode(b"\x07junk").is_err());
    /// ```
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        match bytes.split_first() {
            Some((&RECORD_VERSION, body)) => match super::record_msgpack::read(body) {
                Some(record) => Ok(record),
                // Not the shape this crate writes: rmp_serde decides.
                None => rmp_serde::from_slice(body).map_err(Error::corrupt),
            },
            _ => Err(Error::corrupt("unknown session record version")),
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

mod values_as_bytes {
    //! Values as MessagePack `bin`, not arrays of integers.

    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use serde_bytes::{ByteBuf, Bytes};

    use super::Values;

    pub fn serialize<S: Serializer>(values: &Values, s: S) -> Result<S::Ok, S::Error> {
        let view: std::collections::BTreeMap<&str, &Bytes> = values
            .iter()
            .map(|(k, v)| (k.as_str(), Bytes::new(v)))
            .collect();
        view.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Values, D::Error> {
        let raw = std::collections::BTreeMap::<String, ByteBuf>::deserialize(d)?;
        Ok(raw.into_iter().map(|(k, v)| (k, v.into_vec())).collect())
    }
}
