//! What reaches the merge from each layer: one app.conf section as a
//! `config` source, and the rules a file, environment or code value must
//! pass (a known key, a value of its type, not an obsolete key), each
//! failure said with where the value came from.

use std::collections::BTreeMap;

use ::config::{Map, Source, Value, ValueKind};

use super::bconfig::BConfig;
use super::ini::AppConf;
use super::keys::{kind_of, not_implemented, slot, SetError};
use super::origin::Origin;

/// Keys that beego v1 read and v2 ignores; users migrating still write them.
const OBSOLETE_KEYS: &[(&str, &str)] = &[("sessionsavepath", "sessionproviderconfig")];

/// One app.conf section as a `config` source. Every value's `config`
/// origin is `file:line`, for messages. Only keys made of ASCII lower-case
/// letters, digits, `_` and `-` are emitted: `config` reads other characters
/// as path syntax (`a.b`, `a[9999999]`), which could nest tables or
/// allocate huge arrays from one line of a file.
#[derive(Debug, Clone)]
pub(super) struct SectionSource {
    /// Key, value and `file:line`.
    entries: Vec<(String, String, String)>,
}

impl SectionSource {
    /// The section's values that reach the merge, each tagged in `layered`
    /// with its origin.
    pub(super) fn new(
        conf: &AppConf,
        section: &str,
        layered: &mut BTreeMap<String, Origin>,
    ) -> Self {
        let mut entries = Vec::new();
        for (key, entry) in conf.section_entries(section) {
            let at = format!("{}:{}", entry.file.display(), entry.line);
            if is_plain_key(key) && keep_layer_value(key, &entry.value, &at) {
                layered.insert(key.to_owned(), Origin::file(entry, section));
                entries.push((key.to_owned(), entry.value.clone(), at));
            }
        }
        SectionSource { entries }
    }
}

impl Source for SectionSource {
    fn clone_into_box(&self) -> Box<dyn Source + Send + Sync> {
        Box::new(self.clone())
    }

    fn collect(&self) -> Result<Map<String, Value>, ::config::ConfigError> {
        Ok(self
            .entries
            .iter()
            .map(|(key, value, at)| {
                let value = Value::new(Some(at), ValueKind::String(value.clone()));
                (key.clone(), value)
            })
            .collect())
    }
}

pub(super) fn is_plain_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Whether a file or environment value should reach the merge.
pub(super) fn keep_layer_value(key: &str, value: &str, origin: &str) -> bool {
    if let Some((_, instead)) = OBSOLETE_KEYS.iter().find(|(k, _)| *k == key) {
        tracing::warn!("{origin}: key {key} is ignored since beego v2; use {instead}");
        return false;
    }
    let Some(kind) = kind_of(key) else {
        return false;
    };
    // The run mode is resolved before layering, with its own precedence.
    if key == "runmode" || (value.is_empty() && kind.empty_is_unset()) {
        return false;
    }
    passes(key, value, origin)
}

pub(super) fn keep_override(key: &str, value: &str) -> bool {
    if kind_of(key).is_none() {
        tracing::warn!("override of unknown key {key} ignored");
        return false;
    }
    passes(key, value, "code")
}

fn passes(key: &str, value: &str, origin: &str) -> bool {
    let mut scratch = BConfig::default();
    match slot(&mut scratch, key).map(|s| s.set(value)) {
        Some(Ok(())) => true,
        // Kept so that the final assignment reports it as a start-up error with its origin.
        Some(Err(SetError::Invalid(_) | SetError::Json(_))) => true,
        Some(Err(SetError::Unparsable)) => {
            warn_unparsable(key, value, origin);
            false
        }
        None => false,
    }
}

/// A beego key set away from its default that actix-bee does not act on is
/// said once at start-up, with what is left undone, rather than ignored.
pub(super) fn warn_if_not_implemented(key: &str, value: &str, origin: &str) {
    let Some(undone) = not_implemented(key) else {
        return;
    };
    let mut set = BConfig::default();
    let differs = match slot(&mut set, key).map(|s| s.set(value)) {
        Some(Ok(())) => set != BConfig::default(),
        _ => false,
    };
    if differs {
        tracing::warn!(key, origin, "{origin}: {key} is not implemented: {undone}");
    }
}

pub(super) fn warn_unparsable(key: &str, value: &str, origin: &str) {
    let expected = kind_of(key).map(|k| k.describe()).unwrap_or("value");
    tracing::warn!(
        key,
        value,
        origin,
        "{origin}: value {value:?} of key {key} is not a valid {expected}; keeping the default"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ini::DEFAULT_SECTION;

    #[test]
    fn plain_key_rule() {
        assert!(is_plain_key("session-on_2"));
        assert!(!is_plain_key("a.b"));
        assert!(!is_plain_key(""));
        assert!(!is_plain_key("a[1]"));
    }

    #[test]
    fn section_source_emits_only_plain_keys_with_file_origins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.conf");
        std::fs::write(&path, "appname = x\na.b = 2\nc[999999999] = 3\n = 4\n").unwrap();
        let conf = AppConf::parse_file(&path).unwrap();
        let mut layered = BTreeMap::new();
        let map = SectionSource::new(&conf, DEFAULT_SECTION, &mut layered)
            .collect()
            .unwrap();
        assert_eq!(map.len(), 1);
        let origin = map["appname"].origin().unwrap();
        assert!(origin.ends_with("app.conf:1"), "{origin}");
        assert!(matches!(&layered["appname"], Origin::File { line: 1, .. }));
    }
}
