//! Session ids: minted from the OS CSPRNG, and parsed before any engine sees one.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::Digest;

use super::error::{Error, Result, CORE};

/// A session id that was minted here or passed validation.
///
/// Engines only ever receive this type, never raw request input. `Debug` and
/// `Display` print a short SHA-256 fingerprint, so logging an id never leaks
/// it; [`SessionId::as_str`] gives the real value for the cookie.
///
/// # Examples
///
/// ```
/// use actix_bee::session::IdGenerator;
///
/// let ids = IdGenerator::default();
/// let id = ids.generate().unwrap();
/// assert_eq!(id.as_str().len(), 40); // hex HMAC-SHA1 by default
/// assert!(!format!("{id:?}").contains(id.as_str()));
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(Arc<str>);

impl SessionId {
    /// The id as it travels in the cookie, header or query.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::session::IdGenerator;
    ///
    /// let id = IdGenerator::default().generate().unwrap();
    /// assert!(id.as_str().chars().all(|c| c.is_ascii_hexdigit()));
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A short keyless fingerprint (SHA-256 prefix) for logs.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::session::IdGenerator;
    ///
    /// let id = IdGenerator::default().generate().unwrap();
    /// assert_eq!(id.fingerprint().len(), 12);
    /// ```
    pub fn fingerprint(&self) -> String {
        fingerprint_of(&self.0)
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({})", self.fingerprint())
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.fingerprint())
    }
}

/// How the id is derived from CSPRNG bytes (`sessionhashfunc`).
///
/// # Examples
///
/// ```
/// use actix_bee::session::HashFunc;
///
/// assert_eq!("SHA1".parse::<HashFunc>().unwrap(), HashFunc::Sha1);
/// assert!("md5".parse::<HashFunc>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HashFunc {
    /// Hex HMAC-SHA1 of the random bytes under the hash key: 40 hex chars.
    #[default]
    Sha1,
    /// Plain hex of the random bytes, as beego v2 does: 2 × length chars.
    None,
}

impl FromStr for HashFunc {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sha1" | "" => Ok(HashFunc::Sha1),
            "none" | "hex" => Ok(HashFunc::None),
            other => Err(format!(
                "unknown session id hash function {other:?} (use sha1 or none)"
            )),
        }
    }
}

/// What shape the ids of an engine have.
///
/// Server-side engines use random ids; the cookie engine carries its sealed
/// state in the id, so only its charset and length are checked before the
/// engine authenticates it.
///
/// # Examples
///
/// ```
/// use actix_bee::session::engine::IdFormat;
///
/// assert_eq!(IdFormat::default(), IdFormat::Random);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum IdFormat {
    /// Ids minted by [`IdGenerator`].
    #[default]
    Random,
    /// An opaque base64url token of at most `max_len` bytes; `%` is
    /// allowed too, for the query-escaped padding (`%3D`) of beego's
    /// cookie format.
    Sealed {
        /// Longest accepted token.
        max_len: usize,
    },
}

/// What [`SessionId::fingerprint`] gives for `raw`, for text that may not
/// be a valid id (the CLI prints what it was given this way).
pub(crate) fn fingerprint_of(raw: &str) -> String {
    let digest = sha2::Sha256::digest(raw.as_bytes());
    hex::encode(&digest[..6])
}

/// Smallest number of random bytes per id (128 bits).
pub const MIN_ID_BYTES: usize = 16;
/// Largest number of random bytes per id.
pub const MAX_ID_BYTES: usize = 64;

/// Longest id prefix, in bytes.
const MAX_PREFIX: usize = 32;

/// Mints and parses session ids.
///
/// # Examples
///
/// ```
/// use actix_bee::session::{HashFunc, IdGenerator};
///
/// let ids = IdGenerator::new("pfx_", HashFunc::None, b"", 16).unwrap();
/// let id = ids.generate().unwrap();
/// assert!(id.as_str().starts_with("pfx_"));
/// assert_eq!(id.as_str().len(), 4 + 32);
/// assert_eq!(ids.parse(id.as_str()), Some(id));
/// assert_eq!(ids.parse("pfx_../../etc/passwd"), None);
/// ```
#[derive(Clone)]
pub struct IdGenerator {
    prefix: String,
    hash: HashFunc,
    /// HMAC-SHA1 already keyed: cloning it skips the two block
    /// compressions of the key pads on every id (half the cost of one).
    keyed: Hmac<sha1::Sha1>,
    random_bytes: usize,
}

impl fmt::Debug for IdGenerator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdGenerator")
            .field("prefix", &self.prefix)
            .field("hash", &self.hash)
            .field("random_bytes", &self.random_bytes)
            .finish_non_exhaustive()
    }
}

impl Default for IdGenerator {
    fn default() -> Self {
        IdGenerator {
            prefix: String::new(),
            hash: HashFunc::Sha1,
            // HMAC pads a key with zeros to the block size, so a block of
            // zeros is the empty key.
            keyed: <Hmac<sha1::Sha1> as KeyInit>::new(&Default::default()),
            random_bytes: MIN_ID_BYTES,
        }
    }
}

impl IdGenerator {
    /// Builds a generator.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when `random_bytes` is below 16 or above 64, or the
    /// prefix has characters other than ASCII letters, digits, `-` and `_`
    /// (the prefix ends up in file paths and cookie values).
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::session::{HashFunc, IdGenerator};
    ///
    /// assert!(IdGenerator::new("", HashFunc::Sha1, b"key", 8).is_err());
    /// assert!(IdGenerator::new("a/b", HashFunc::Sha1, b"key", 16).is_err());
    /// ```
    pub fn new(prefix: &str, hash: HashFunc, key: &[u8], random_bytes: usize) -> Result<Self> {
        if !(MIN_ID_BYTES..=MAX_ID_BYTES).contains(&random_bytes) {
            return Err(Error::config(CORE, format!(
                "session id length must be {MIN_ID_BYTES} to {MAX_ID_BYTES} bytes, not {random_bytes}"
            )));
        }
        if prefix.len() > MAX_PREFIX
            || !prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(Error::config(
                CORE,
                "session id prefix may hold at most 32 ASCII letters, digits, '-' and '_'",
            ));
        }
        Ok(IdGenerator {
            prefix: prefix.to_owned(),
            hash,
            keyed: <Hmac<sha1::Sha1> as Mac>::new_from_slice(key)
                .map_err(|_| Error::config(CORE, "unusable session hash key"))?,
            random_bytes,
        })
    }

    /// Length in characters of every id this generator mints, prefix included.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::session::IdGenerator;
    ///
    /// assert_eq!(IdGenerator::default().id_len(), 40);
    /// ```
    pub fn id_len(&self) -> usize {
        self.prefix.len() + self.hex_len()
    }

    fn hex_len(&self) -> usize {
        match self.hash {
            HashFunc::Sha1 => 40,
            HashFunc::None => self.random_bytes * 2,
        }
    }

    /// Mints a fresh id from the OS CSPRNG.
    ///
    /// # Errors
    ///
    /// [`Error::Rng`] if the hash key is unusable (it never is for HMAC).
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::session::IdGenerator;
    ///
    /// let ids = IdGenerator::default();
    /// assert_ne!(ids.generate().unwrap(), ids.generate().unwrap());
    /// ```
    pub fn generate(&self) -> Result<SessionId> {
        let mut bytes = [0u8; MAX_ID_BYTES];
        let random = &mut bytes[..self.random_bytes];
        // ThreadRng is a ChaCha CSPRNG seeded and reseeded from the OS.
        rand::fill(random);
        let digest;
        let input: &[u8] = match self.hash {
            HashFunc::None => random,
            HashFunc::Sha1 => {
                let mut mac = self.keyed.clone();
                mac.update(random);
                digest = mac.finalize().into_bytes();
                &digest
            }
        };
        // Prefix and hex in a stack buffer (`hex::encode` goes char by
        // char), then one allocation: the id's `Arc<str>`.
        let mut buf = [0u8; MAX_PREFIX + 2 * MAX_ID_BYTES];
        let prefix = self.prefix.len();
        let id = buf.get_mut(..prefix + 2 * input.len()).ok_or(Error::Rng)?;
        let (head, hex) = id.split_at_mut(prefix);
        head.copy_from_slice(self.prefix.as_bytes());
        hex::encode_to_slice(input, hex).map_err(|_| Error::Rng)?;
        Ok(SessionId(
            std::str::from_utf8(id).map_err(|_| Error::Rng)?.into(),
        ))
    }

    /// Validates raw input as an id of this generator's shape.
    ///
    /// Exact length, the configured prefix, then lowercase hex only; no
    /// percent-decoding. Anything else is `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::session::IdGenerator;
    ///
    /// let ids = IdGenerator::default();
    /// assert!(ids.parse("").is_none());
    /// assert!(ids.parse(&"A".repeat(40)).is_none());
    /// assert!(ids.parse(&"a".repeat(40)).is_some());
    /// ```
    pub fn parse(&self, raw: &str) -> Option<SessionId> {
        let rest = raw.strip_prefix(self.prefix.as_str())?;
        if rest.len() != self.hex_len() || !lower_hex(rest.as_bytes()) {
            return None;
        }
        Some(SessionId(raw.into()))
    }

    /// Validates raw input for an engine whose ids have the given format.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::session::IdGenerator;
    /// use actix_bee::session::engine::IdFormat;
    ///
    /// let ids = IdGenerator::default();
    /// let sealed = IdFormat::Sealed { max_len: 8 };
    /// assert!(ids.parse_for("abc-_09", sealed).is_some());
    /// assert!(ids.parse_for("abc%3D", sealed).is_some());
    /// assert!(ids.parse_for("abc=", sealed).is_none());
    /// assert!(ids.parse_for("abcdefghi", sealed).is_none());
    /// ```
    pub fn parse_for(&self, raw: &str, format: IdFormat) -> Option<SessionId> {
        match format {
            IdFormat::Random => self.parse(raw),
            IdFormat::Sealed { max_len } => {
                let ok = !raw.is_empty()
                    && raw.len() <= max_len
                    && raw.bytes().all(|b| SEALED_BYTES[usize::from(b)]);
                ok.then(|| SessionId(raw.into()))
            }
        }
    }

    /// Wraps a token this crate produced or already checked (the cookie
    /// engine's sealed state, an id read back from an owner index) as an id,
    /// unchecked: input from outside goes through [`IdGenerator::parse_for`].
    pub(crate) fn sealed(token: &str) -> SessionId {
        SessionId(token.into())
    }
}

/// True when every byte is `0-9` or `a-f`. Branch-free over the whole
/// slice (no early exit), so the compiler vectorises it: this runs on the
/// id of every request, and an id's length is public anyway.
fn lower_hex(bytes: &[u8]) -> bool {
    bytes.iter().fold(true, |ok, &b| {
        ok & ((b.wrapping_sub(b'0') < 10) | (b.wrapping_sub(b'a') < 6))
    })
}

/// The bytes of a sealed token: base64url and `%` (a table: this runs
/// over every byte of every cookie).
const SEALED_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'%');
        b += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_hex_of_the_configured_length() {
        let none = IdGenerator::new("", HashFunc::None, b"", 16).unwrap();
        let id = none.generate().unwrap();
        assert_eq!(id.as_str().len(), 32);
        let long = IdGenerator::new("x_", HashFunc::None, b"", 32).unwrap();
        assert_eq!(long.generate().unwrap().as_str().len(), 2 + 64);
    }

    /// The pre-keyed HMAC of the default generator is HMAC under the
    /// empty key, and a configured key is used.
    #[test]
    fn keyed_hmac_matches_a_fresh_one() {
        let digest = |g: &IdGenerator| g.keyed.clone().chain_update(b"msg").finalize().into_bytes();
        let fresh = |key: &[u8]| {
            <Hmac<sha1::Sha1> as Mac>::new_from_slice(key)
                .unwrap()
                .chain_update(b"msg")
                .finalize()
                .into_bytes()
        };
        assert_eq!(digest(&IdGenerator::default()), fresh(b""));
        let keyed = IdGenerator::new("", HashFunc::Sha1, b"secret", 16).unwrap();
        assert_eq!(digest(&keyed), fresh(b"secret"));
        assert_ne!(fresh(b"secret"), fresh(b""));
    }

    #[test]
    fn parse_rejects_hostile_input() {
        let ids = IdGenerator::default();
        let good = ids.generate().unwrap();
        for bad in [
            "",
            "a",
            "../../x",
            "..\\x",
            "%2e%2e%2f",
            "%zz",
            "\0",
            "\r\n",
            "' OR 1=1--",
            "*",
            " ",
            "é",
            &"a".repeat(10_000),
            &format!("{} ", good.as_str()),
            &good.as_str().to_uppercase(),
        ] {
            assert!(ids.parse(bad).is_none(), "{bad:?} accepted");
        }
        assert_eq!(ids.parse(good.as_str()), Some(good));
    }
}

#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;

    use super::*;
    use crate::session::engines::shared::fuzz::{config_string, CASES};

    const SEEDS: &[&str] = &[
        "0123456789abcdef0123456789abcdef01234567",
        "shop0123456789abcdef0123456789abcdef",
        "c2VhbGVk-_0",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(CASES))]

        /// Random and mutated ids: accepted only in the generator's exact
        /// shape, never a panic; a prefix is accepted only when safe.
        #[test]
        fn id_parsers_never_panic(raw in config_string(SEEDS), prefix in config_string(&["shop", "a-b_c"])) {
            let ids = IdGenerator::default();
            if let Some(id) = ids.parse(&raw) {
                prop_assert_eq!(id.as_str().len(), ids.id_len());
                prop_assert!(id.as_str().bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
            }
            let sealed = IdFormat::Sealed { max_len: 64 };
            if let Some(id) = ids.parse_for(&raw, sealed) {
                prop_assert!(id.as_str().len() <= 64);
                prop_assert!(id.as_str().bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'%')));
            }
            match IdGenerator::new(&prefix, HashFunc::None, b"", 16) {
                Ok(g) => {
                    let id = g.generate().unwrap();
                    prop_assert_eq!(g.parse(id.as_str()), Some(id.clone()));
                    prop_assert!(id.as_str().starts_with(prefix.as_str()));
                    let _ = g.parse(&raw);
                }
                Err(e) => prop_assert!(e.is_config(), "{e:?}"),
            }
            let _ = raw.parse::<HashFunc>();
        }
    }
}
