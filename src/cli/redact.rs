//! Masks passwords and keys in printed values, so that `actix-bee config`
//! output can be pasted into a ticket.
//!
//! Provider configs are masked by their engine's own parser
//! ([`config_secrets`]): exactly the text it takes as a password or key,
//! whatever the form. `sessionhashkey` and `xsrfkey` are masked whole;
//! in `sessionconfig` (read by [`ManagerConfig::merge_json`](crate::session::ManagerConfig::merge_json),
//! keys in any case) `sessionIDHashKey` and the secrets of `providerConfig`.

use crate::session::config_secrets;
use crate::session::shared::secrets::{json_members, json_str, Raw, Secrets, MASK};

/// `value` of app.conf `key` as it may be printed; `provider` is the engine.
pub(crate) fn redact(key: &str, value: &str, provider: &str) -> String {
    match key {
        "sessionhashkey" | "xsrfkey" if !value.is_empty() => MASK.to_owned(),
        "sessionproviderconfig" => provider_config(value, provider),
        "sessionconfig" if !value.trim().is_empty() => session_config(value, provider),
        _ => value.to_owned(),
    }
}

/// A provider config, masked where its engine's parser took a secret; the
/// whole of it when the parser refuses it or the engine is unknown here.
fn provider_config(value: &str, provider: &str) -> String {
    if value.trim().is_empty() {
        return value.to_owned();
    }
    config_secrets(provider, value).map_or_else(|| MASK.to_owned(), |s| s.render())
}

/// `sessionconfig`'s JSON with `sessionIDHashKey` masked and
/// `providerConfig` (a string, or an embedded object) masked as its
/// engine's parser reads it.
fn session_config(value: &str, provider: &str) -> String {
    let Some(members) = json_members(value) else {
        return MASK.to_owned();
    };
    let mut secrets = Secrets::new(value);
    for (key, raw) in members {
        match key.to_ascii_lowercase().as_str() {
            "sessionidhashkey" => secrets.add_json(raw),
            "providerconfig" => {
                let text = json_str(raw).unwrap_or(raw.into());
                match config_secrets(provider, &text) {
                    Some(inner) => secrets.nest(inner, Raw::Json(raw)),
                    None => secrets.add_json(raw),
                }
            }
            _ => {}
        }
    }
    secrets.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_config_masks_the_hash_key_and_the_provider_secrets() {
        let cfg = r#"{"providerConfig":"redis://:hunter2@h:1","SESSIONIDHASHKEY":"k1"}"#;
        let out = redact("sessionconfig", cfg, "redis");
        assert_eq!(
            out,
            r#"{"providerConfig":"redis://:<redacted>@h:1","SESSIONIDHASHKEY":"<redacted>"}"#
        );
        let cfg = r#"{"providerConfig":{"securityKey":"s3"},"cookieName":"x"}"#;
        let out = redact("sessionconfig", cfg, "cookie");
        assert_eq!(
            out,
            r#"{"providerConfig":{"securityKey":"<redacted>"},"cookieName":"x"}"#
        );
        // An escaped string: the whole value is masked.
        let cfg = r#"{"providerConfig":"redis:\/\/:hunter2@h:1"}"#;
        assert!(!redact("sessionconfig", cfg, "redis").contains("hunter2"));
    }

    #[test]
    fn values_without_secrets_are_unchanged() {
        for (provider, value) in [
            ("redis_cluster", "127.0.0.1:7001;127.0.0.1:7002,100,,0"),
            ("mysql", "root:@tcp(127.0.0.1:3306)/test?table=session"),
            ("postgresql", "postgres://postgres@127.0.0.1/test"),
            ("file", "./tmp/sessions"),
            ("memory", "max_sessions=10"),
        ] {
            assert_eq!(redact("sessionproviderconfig", value, provider), value);
        }
        assert_eq!(redact("sessionproviderconfig", "x", "unknown"), MASK);
    }
}
