//! The cookie engine's `sessionproviderconfig`: beego's JSON, keys matched
//! case-insensitively, read once for both formats.

use crate::session::engines::shared::secrets::{json_members, Secrets};
use crate::session::error::{Error, Result};

/// The engine's name in errors, logs and metrics.
pub(super) const NAME: &str = "cookie";
/// Largest cookie (name, `=` and value) browsers are required to keep.
pub const MAX_COOKIE_BYTES: usize = 4096;

/// The keys whose values are secrets (matched as the parser matches keys,
/// case-insensitively): any of them forges or opens session cookies.
const SECRET_KEYS: [&str; 4] = ["securityKey", "blockKey", "securityKeys", "oldKeys"];

/// The cookie name when the JSON gives none (beego's default session name).
const DEFAULT_COOKIE_NAME: &str = "beegosessionID";

/// The shortest key text either format takes outside `devMode`, in bytes.
/// A shorter secret can be guessed offline from one cookie; with beego's
/// format (AES-CTR, which is malleable, signed with HMAC), whoever has the
/// HMAC key can flip bits of their own cookie and sign it again.
pub(super) const MIN_SECRET_BYTES: usize = 32;

/// The error for a key that is missing or under [`MIN_SECRET_BYTES`]:
/// names the key (`what`) and says what to give instead (`advice`).
pub(super) fn short_key(what: &str, advice: &str) -> Error {
    Error::config(
        NAME,
        format!(
            "{what} is missing or shorter than {MIN_SECRET_BYTES} bytes: {advice}, \
             or set devMode for development"
        ),
    )
}

/// The parsed JSON, as given; each format decides what it requires.
pub(super) struct Config {
    /// `securityKey`: beego's HMAC key.
    pub security_key: String,
    /// `blockKey`: beego's AES key.
    pub block_key: String,
    /// `securityKeys`: the native format's whole key ring, newest first.
    pub key_ring: Vec<String>,
    /// `oldKeys`: older native secrets that still open cookies.
    pub old_keys: Vec<String>,
    /// `cookieName`, or beego's default session name.
    pub cookie_name: String,
    /// `securityName`: bound into every seal (beego's MAC input).
    pub security_name: String,
    /// `devMode`: a missing key becomes a random one.
    pub dev_mode: bool,
}

/// The secrets of a cookie config, as [`parse`] takes them: the values of
/// [`SECRET_KEYS`]; a config error when [`parse`] refuses the text.
pub(crate) fn secrets(raw: &str) -> Result<Secrets<'_>> {
    let mut secrets = Secrets::new(raw);
    parse_recording(raw, &mut secrets)?;
    Ok(secrets)
}

impl Config {
    /// The rule both formats apply to a key that is missing or under
    /// [`MIN_SECRET_BYTES`]: refused with [`short_key`] unless `devMode` is
    /// on, where it is logged (`instead` says what the caller does with
    /// it) and the caller goes on.
    pub(super) fn allow_short_key(&self, what: &str, advice: &str, instead: &str) -> Result<()> {
        if !self.dev_mode {
            return Err(short_key(what, advice));
        }
        tracing::warn!(
            key = what,
            "cookie session: devMode with {what} missing or shorter than {MIN_SECRET_BYTES} \
             bytes: {instead}; never run so in production"
        );
        Ok(())
    }
}

/// Parses the JSON object (empty text is `{}`).
pub(super) fn parse(raw: &str) -> Result<Config> {
    parse_recording(raw, &mut Secrets::new(raw))
}

/// Parses the JSON object, recording in `secrets` the raw text of every
/// member named by [`SECRET_KEYS`] (in any case, each duplicate too).
fn parse_recording(raw: &str, secrets: &mut Secrets<'_>) -> Result<Config> {
    let raw = raw.trim();
    let object = if raw.is_empty() {
        serde_json::Map::new()
    } else {
        match serde_json::from_str::<serde_json::Value>(raw) {
            Ok(serde_json::Value::Object(o)) => o,
            _ => {
                return Err(Error::config(
                    NAME,
                    "sessionproviderconfig must be a JSON object",
                ))
            }
        }
    };
    for (key, value) in json_members(raw).unwrap_or_default() {
        if SECRET_KEYS.iter().any(|k| k.eq_ignore_ascii_case(&key)) {
            secrets.add_json(value);
        }
    }
    let get = |name: &str| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    let string = |name: &str| -> Result<String> {
        match get(name) {
            None | Some(serde_json::Value::Null) => Ok(String::new()),
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(Error::config(NAME, format!("{name} must be a string"))),
        }
    };
    let list = |name: &str| -> Result<Vec<String>> {
        match get(name) {
            None | Some(serde_json::Value::Null) => Ok(Vec::new()),
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| Error::config(NAME, format!("{name} must hold strings")))
                })
                .collect(),
            Some(_) => Err(Error::config(
                NAME,
                format!("{name} must be a list of strings"),
            )),
        }
    };
    let dev_mode = match get("devMode") {
        None | Some(serde_json::Value::Null) => false,
        Some(serde_json::Value::Bool(b)) => *b,
        Some(_) => return Err(Error::config(NAME, "devMode must be a boolean")),
    };
    let cookie_name = Some(string("cookieName")?)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| DEFAULT_COOKIE_NAME.to_owned());
    Ok(Config {
        security_key: string(SECRET_KEYS[0])?,
        block_key: string(SECRET_KEYS[1])?,
        key_ring: list(SECRET_KEYS[2])?,
        old_keys: list(SECRET_KEYS[3])?,
        cookie_name,
        security_name: string("securityName")?,
        dev_mode,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_case_insensitive_and_typed() {
        let c =
            parse(r#"{"SECURITYKEY":"s","blockkey":"b","oldKeys":["o"],"devmode":true}"#).unwrap();
        assert_eq!((c.security_key.as_str(), c.block_key.as_str()), ("s", "b"));
        assert_eq!(c.old_keys, ["o"]);
        assert!(c.dev_mode);
        assert_eq!(c.cookie_name, DEFAULT_COOKIE_NAME);
        assert!(parse("[]").is_err());
        assert!(parse(r#"{"securityKey": 5}"#).is_err());
        assert!(parse(r#"{"oldKeys": "x"}"#).is_err());
        assert!(parse(r#"{"devMode": "yes"}"#).is_err());
    }
}

#[cfg(test)]
mod shown {
    use super::*;
    use crate::session::engines::shared::fuzz;

    const SEEDS: &[&str] = &[
        r#"{"securityKey":"ZqSecurityZq","blockKey":"ZqBlock\"Zq","cookieName":"sid"}"#,
        r#"{"securityKeys":["ZqRingOneZq","ZqRingTwoZq"],"OLDKEYS":["ZqOldZq"]}"#,
    ];

    /// Whatever the text, no key the parser takes is shown once the
    /// secrets are masked.
    #[test]
    fn no_key_taken_is_shown() {
        let parse = |raw: &str| {
            let mut secrets = Secrets::new(raw);
            let cfg = parse_recording(raw, &mut secrets)?;
            Ok((cfg, secrets.render()))
        };
        fuzz::parser(SEEDS, parse, |(cfg, shown)| {
            [&cfg.security_key, &cfg.block_key]
                .into_iter()
                .chain(&cfg.key_ring)
                .chain(&cfg.old_keys)
                .all(|k| k.len() < 6 || !shown.contains(k.as_str()))
        });
    }
}
