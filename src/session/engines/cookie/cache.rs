//! The native tokens this engine opened or sealed lately, with what they
//! hold, so that a token seen again costs no decryption.
//!
//! A token is authenticated ciphertext under the engine's fixed key ring:
//! equal tokens hold equal contents, so a hit gives exactly what
//! decrypting would (record, per-session id, older-key flag), and every
//! check on the record's times still runs on it. Only tokens that opened,
//! or that this engine sealed, ever go in: a forged token can only miss,
//! then fails to open as before, so no client input can fill the cache.
//!
//! The common paths it serves: a read-only request resends the cookie of
//! the last write (sealed here, so a hit); a write request opens the
//! cookie at load and finds the per-session id again at release.
//!
//! Bounded: two generations of at most [`GEN_ENTRIES`] entries and
//! [`GEN_BYTES`] bytes of tokens each; a full generation becomes the old
//! one and the previous old one is dropped (outside the lock). The map is
//! keyed by a seeded 64-bit hash of the token, and a hit compares the whole
//! token without an early exit, so the lookup time does not tell how much
//! of a guessed token matches a cached one.

use std::collections::HashMap;
use std::hash::BuildHasher as _;

use parking_lot::Mutex;

use super::native::SESSION_ID_LEN;
use crate::session::record::SessionRecord;

/// Entries per generation.
const GEN_ENTRIES: usize = 4096;
/// Token bytes per generation (records are about as large as their token).
const GEN_BYTES: usize = 4 << 20;

/// A cached token's record, in the form the request that cached it had at
/// hand: caching costs that request little, and many tokens never return.
pub(super) enum Held {
    /// Opened: the decoded record, cloned by each hit.
    Record(SessionRecord),
    /// Sealed here: the record's encoding, decoded by each hit (a clone of
    /// the request's record would cost the write more than this costs the
    /// next request).
    Encoded(Box<[u8]>),
}

/// What a cached token holds.
pub(super) struct Cached {
    token: Box<str>,
    pub held: Held,
    pub session_id: [u8; SESSION_ID_LEN],
    pub old_key: bool,
}

type Map = HashMap<u64, Cached, foldhash::fast::RandomState>;

#[derive(Default)]
struct Generations {
    current: Map,
    current_bytes: usize,
    old: Map,
}

/// The cache of one engine (one key ring).
#[derive(Default)]
pub(super) struct TokenCache {
    hasher: foldhash::fast::RandomState,
    generations: Mutex<Generations>,
}

impl TokenCache {
    /// `read` of what `token` holds, if this engine opened or sealed it
    /// lately (run under the lock: keep it short).
    pub(super) fn get<T>(&self, token: &str, read: impl FnOnce(&Cached) -> T) -> Option<T> {
        let key = self.hasher.hash_one(token);
        let g = self.generations.lock();
        let found = g.current.get(&key).or_else(|| g.old.get(&key))?;
        same_token(found.token.as_bytes(), token.as_bytes()).then(|| read(found))
    }

    /// Notes what the authentic `token` holds.
    pub(super) fn put(
        &self,
        token: &str,
        held: Held,
        session_id: [u8; SESSION_ID_LEN],
        old_key: bool,
    ) {
        let key = self.hasher.hash_one(token);
        let bytes = token.len();
        let entry = Cached {
            token: token.into(),
            held,
            session_id,
            old_key,
        };
        let dropped = {
            let mut g = self.generations.lock();
            let full = g.current.len() >= GEN_ENTRIES || g.current_bytes + bytes > GEN_BYTES;
            let dropped = if full {
                let current = std::mem::take(&mut g.current);
                g.current_bytes = 0;
                Some(std::mem::replace(&mut g.old, current))
            } else {
                None
            };
            g.current_bytes += bytes;
            g.current.insert(key, entry);
            dropped
        };
        // Thousands of records: freed without holding the lock.
        drop(dropped);
    }
}

/// Equality of two tokens whose time depends on their lengths only (not
/// on where they differ): no early exit.
fn same_token(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(cache: &TokenCache, token: &str, id: u8) {
        cache.put(
            token,
            Held::Record(SessionRecord::new(u64::from(id))),
            [id; SESSION_ID_LEN],
            false,
        );
    }

    #[test]
    fn hits_only_the_exact_token() {
        let cache = TokenCache::default();
        put(&cache, "abcdef", 1);
        let id = |token: &str| cache.get(token, |c| c.session_id);
        assert_eq!(id("abcdef"), Some([1; 16]));
        assert_eq!(id("abcdeg"), None);
        assert_eq!(id("abcde"), None);
        assert_eq!(id(""), None);
        assert!(!same_token(b"ab", b"ac"));
        assert!(same_token(b"ab", b"ab"));
    }

    #[test]
    fn bounded_by_two_generations() {
        let cache = TokenCache::default();
        for i in 0..GEN_ENTRIES * 2 + 1 {
            put(&cache, &format!("t{i}"), 0);
        }
        // The first generation was dropped, the second is the old one.
        let cached = |i: usize| cache.get(&format!("t{i}"), |_| ()).is_some();
        assert!(!cached(0));
        assert!(cached(GEN_ENTRIES));
        assert!(cached(GEN_ENTRIES * 2));
        let g = cache.generations.lock();
        assert!(g.current.len() + g.old.len() <= GEN_ENTRIES * 2);
    }
}
