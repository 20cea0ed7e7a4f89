//! A session's values packed into one allocation: what the memory engine
//! keeps per session. A `BTreeMap` would cost a ~550-byte node plus two
//! allocations per key, which made a one-key session take ~800 bytes.
//!
//! Layout: for each key in ascending order, the key's length (u32 LE), the
//! key, the value's length (u32 LE), the value. Only this module writes it.

use std::cmp::Ordering;

use crate::session::error::{Error, Result};
use crate::session::record::{Changes, Values};

/// Packed values; see the module docs.
#[derive(Debug, Default)]
pub(super) struct Packed(Box<[u8]>);

/// One length prefix.
fn push_len(out: &mut Vec<u8>, len: usize) -> Result<()> {
    let len = u32::try_from(len).map_err(|_| Error::TooLarge {
        what: "session value",
        size: len,
        limit: u32::MAX as usize,
    })?;
    out.extend_from_slice(&len.to_le_bytes());
    Ok(())
}

fn push_entry(out: &mut Vec<u8>, key: &[u8], value: &[u8]) -> Result<()> {
    push_len(out, key.len())?;
    out.extend_from_slice(key);
    push_len(out, value.len())?;
    out.extend_from_slice(value);
    Ok(())
}

/// Splits one length-prefixed field off `rest`.
fn take_field<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let (len, tail) = rest.split_first_chunk::<4>()?;
    let len = usize::try_from(u32::from_le_bytes(*len)).ok()?;
    let (field, tail) = (tail.get(..len)?, tail.get(len..)?);
    *rest = tail;
    Some(field)
}

/// The entries of packed bytes, in key order.
struct Entries<'a>(&'a [u8]);

impl<'a> Iterator for Entries<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let mut rest = self.0;
        let entry = take_field(&mut rest).zip(take_field(&mut rest));
        // Bytes only `Packed` wrote never end mid-entry; stop if they did.
        self.0 = if entry.is_some() { rest } else { &[] };
        entry
    }
}

impl Packed {
    /// Packs `values`.
    pub(super) fn new(values: &Values) -> Result<Packed> {
        let len = values.iter().map(|(k, v)| 8 + k.len() + v.len()).sum();
        let mut out = Vec::with_capacity(len);
        for (key, value) in values {
            push_entry(&mut out, key.as_bytes(), value)?;
        }
        Ok(Packed(out.into_boxed_slice()))
    }

    fn entries(&self) -> Entries<'_> {
        Entries(&self.0)
    }

    /// The values, unpacked.
    pub(super) fn values(&self) -> Values {
        // Inserted one by one: `collect` into a `BTreeMap` first gathers a
        // `Vec` and sorts it, an allocation and a sort per read for keys
        // that are already in order.
        let mut values = Values::new();
        for (k, v) in self.entries() {
            if let Ok(k) = std::str::from_utf8(k) {
                values.insert(k.to_owned(), v.to_vec());
            }
        }
        values
    }

    /// Keys and values in bytes, and the number of keys.
    pub(super) fn sizes(&self) -> (usize, usize) {
        self.entries().fold((0, 0), |(bytes, n), (k, v)| {
            (bytes + k.len() + v.len(), n + 1)
        })
    }

    /// These values with `changes` applied, packed again without building
    /// a map: one merge of two sorted lists.
    pub(super) fn with_changes(&self, changes: &Changes) -> Result<Packed> {
        let mut out = Vec::with_capacity(self.0.len() + changes_len(changes));
        let mut old = self.entries().filter(|_| !changes.flushed()).peekable();
        let mut new = changes.sets().iter().peekable();
        loop {
            let order = match (old.peek(), new.peek()) {
                (None, None) => break,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some((ok, _)), Some((nk, _))) => ok.cmp(&nk.as_bytes()),
            };
            if order != Ordering::Greater {
                if let Some((key, value)) = old.next() {
                    // A key set again is written once, with its new value.
                    let deleted = !changes.deletes().is_empty()
                        && std::str::from_utf8(key).is_ok_and(|k| changes.deletes().contains(k));
                    if order == Ordering::Less && !deleted {
                        push_entry(&mut out, key, value)?;
                    }
                }
            }
            if order != Ordering::Less {
                if let Some((key, value)) = new.next() {
                    push_entry(&mut out, key.as_bytes(), value)?;
                }
            }
        }
        Ok(Packed(out.into_boxed_slice()))
    }
}

fn changes_len(changes: &Changes) -> usize {
    changes
        .sets()
        .iter()
        .map(|(k, v)| 8 + k.len() + v.len())
        .sum()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn key() -> impl Strategy<Value = String> {
        "[a-d]{0,2}"
    }

    proptest! {
        /// Merging packed values gives what `Changes::apply` gives on a map.
        #[test]
        fn with_changes_matches_apply(
            stored in prop::collection::btree_map(key(), prop::collection::vec(any::<u8>(), 0..4), 0..5),
            flush in any::<bool>(),
            ops in prop::collection::vec((key(), prop::option::of(prop::collection::vec(any::<u8>(), 0..4))), 0..6),
        ) {
            let mut changes = Changes::default();
            if flush {
                changes.flush();
            }
            for (k, v) in ops {
                match v {
                    Some(v) => changes.set(&k, v),
                    None => changes.delete(&k),
                }
            }
            let packed = Packed::new(&stored).unwrap();
            prop_assert_eq!(packed.values(), stored.clone());
            let mut expected = stored;
            changes.apply(&mut expected);
            let merged = packed.with_changes(&changes).unwrap();
            prop_assert_eq!(merged.values(), expected.clone());
            let bytes: usize = expected.iter().map(|(k, v)| k.len() + v.len()).sum();
            prop_assert_eq!(merged.sizes(), (bytes, expected.len()));
        }
    }
}
