//! beego's `app.conf` dialect, parsed the way `core/config/ini.go` does.
//!
//! Neither the `config` crate's INI format nor `rust-ini` can express this
//! dialect (case-folded keys, `include`, `${ENV||default}`, greedy quote
//! trimming), so the parser is written by hand; the [`Loader`](super::Loader)
//! layers its sections with `config`.
//!
//! Rules, each copied from beego unless marked as a deliberate difference:
//!
//! * a UTF-8 BOM at the start of a file is skipped; every line is trimmed and
//!   blank lines are skipped;
//! * only whole lines starting with `#` or `;` are comments: `a = file # x`
//!   yields `file # x`;
//! * `[name]` starts a section; section names and keys are lower-cased; keys
//!   before any section belong to `default`;
//! * `key = value` splits on the first `=`; a duplicate key keeps the last value;
//! * a value starting with `"` loses **all** leading and trailing `"`; single
//!   quotes are kept; there are no escapes;
//! * a whole value `${VAR}` or `${VAR||default}` is replaced by the environment
//!   variable (or the default when it is unset or empty);
//! * `include "file"` / `include file` reads another file relative to the
//!   including file's directory and merges it at that point. Difference: the
//!   file name keeps its case (beego lower-cases it), and a cycle is an
//!   [`Error::IncludeCycle`] instead of a stack overflow, and the whole
//!   tree reads at most [`MAX_INCLUDED_FILES`] regular files and
//!   [`MAX_CONF_BYTES`] bytes (beego reads `include /dev/zero` for ever);
//! * any other line is an [`Error::Syntax`] naming the file and line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::error::Error;

/// The section that holds keys written before any `[section]` line.
pub const DEFAULT_SECTION: &str = "default";

/// How deep `include`s may nest; guards against runaway chains that a cycle
/// check cannot see (e.g. thousands of distinct generated files).
pub const MAX_INCLUDE_DEPTH: usize = 32;

/// How many files one app.conf may read, itself and every include counted
/// each time it is included: a tree that includes each file twice, 32 deep,
/// would otherwise parse 2^31 times.
pub const MAX_INCLUDED_FILES: usize = 256;

/// How many bytes one app.conf and its includes may read in all.
pub const MAX_CONF_BYTES: u64 = 4 * 1024 * 1024;

/// Longest line excerpt kept in an [`Error::Syntax`], so that a stray secret
/// or a binary file does not end up whole in a log line.
const MAX_ERROR_TEXT: usize = 80;

/// Where an inline text is said to come from in errors and warnings.
const INLINE_ORIGIN: &str = "<inline app.conf>";

/// One `key = value` of a parsed file, with where it was written.
///
/// # Examples
///
/// ```
/// use actix_bee::config::AppConf;
///
/// let conf = AppConf::parse_str("\n\nappname = demo\n", ".").unwrap();
/// let entry = conf.entry("appname").unwrap();
/// assert_eq!((entry.value.as_str(), entry.line), ("demo", 3));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Entry {
    /// The value after quote trimming and `${ENV}` expansion.
    pub value: String,
    /// The file the line is in (an included file for included keys).
    pub file: PathBuf,
    /// 1-based line number in [`Entry::file`].
    pub line: usize,
    /// Set when the written value was `${VAR}` or `${VAR||default}`.
    pub from_env: Option<FromEnv>,
}

/// The environment variable a `${VAR||default}` value was read from.
///
/// # Examples
///
/// ```
/// use actix_bee::config::AppConf;
///
/// let conf = AppConf::parse_str("a = ${ACTIX_BEE_DOC_UNSET_VAR||x}", ".").unwrap();
/// let from = conf.entry("a").unwrap().from_env.as_ref().unwrap();
/// assert_eq!((from.var.as_str(), from.default_used), ("ACTIX_BEE_DOC_UNSET_VAR", true));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FromEnv {
    /// The variable's name.
    pub var: String,
    /// True when the variable was unset or empty, so the default (or `""`) was used.
    pub default_used: bool,
}

type Sections = BTreeMap<String, BTreeMap<String, Entry>>;

/// A parsed `app.conf`: sections of case-folded keys.
///
/// # Examples
///
/// ```
/// use actix_bee::config::AppConf;
///
/// let conf = AppConf::parse_str("AppName = demo\n[Dev]\nHttpPort = 9000\n", ".").unwrap();
/// assert_eq!(conf.get("appname"), Some("demo"));
/// assert_eq!(conf.get("DEV::httpport"), Some("9000"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppConf {
    sections: Sections,
}

impl AppConf {
    /// Reads and parses a file; includes are resolved relative to its directory.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::config::AppConf;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("app.conf");
    /// std::fs::write(&path, "sessionon = true\n").unwrap();
    /// assert_eq!(AppConf::parse_file(&path).unwrap().get("sessionon"), Some("true"));
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the file or an included file cannot be read,
    /// [`Error::NotAFile`] for anything but a regular file,
    /// [`Error::Syntax`] for a malformed line, [`Error::IncludeCycle`],
    /// [`Error::IncludeTooDeep`] and [`Error::TooMuchConfig`] for bad include
    /// structures.
    pub fn parse_file(path: impl AsRef<Path>) -> Result<AppConf, Error> {
        let mut walk = Walk::default();
        let sections = parse_path(path.as_ref(), &mut walk)?;
        Ok(AppConf { sections })
    }

    /// Parses text as if it were a file in `base_dir` (which anchors relative includes).
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::config::AppConf;
    ///
    /// let conf = AppConf::parse_str("a = file # not a comment", ".").unwrap();
    /// assert_eq!(conf.get("a"), Some("file # not a comment"));
    /// ```
    ///
    /// # Errors
    ///
    /// As [`AppConf::parse_file`], for the text and the files it includes.
    pub fn parse_str(text: &str, base_dir: impl AsRef<Path>) -> Result<AppConf, Error> {
        let mut walk = Walk::default();
        let sections = parse_bytes(
            text.as_bytes(),
            Path::new(INLINE_ORIGIN),
            base_dir.as_ref(),
            &mut walk,
        )?;
        Ok(AppConf { sections })
    }

    /// Looks a key up with beego's syntax: `key` (default section) or `section::key`.
    ///
    /// Matching is case-insensitive. No run-mode fallback happens here; see
    /// [`BConfig`](super::BConfig) for that.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::config::AppConf;
    ///
    /// let conf = AppConf::parse_str("[prod]\nrunmode = dev\n", ".").unwrap();
    /// assert_eq!(conf.get("prod::RunMode"), Some("dev"));
    /// assert_eq!(conf.get("runmode"), None);
    /// ```
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entry(key).map(|e| e.value.as_str())
    }

    /// Like [`AppConf::get`], with the file and line the value came from.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::config::AppConf;
    ///
    /// let conf = AppConf::parse_str("k = v", ".").unwrap();
    /// assert_eq!(conf.entry("k").map(|e| e.line), Some(1));
    /// ```
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        let lower = key.to_lowercase();
        // beego splits on every "::" and uses the first two parts.
        let mut parts = lower.split("::");
        let first = parts.next().unwrap_or_default();
        let (section, key) = match parts.next() {
            Some(k) => (first, k),
            None => (DEFAULT_SECTION, first),
        };
        self.sections.get(section)?.get(key)
    }

    /// The names of all sections, including `default` when it has keys.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::config::AppConf;
    ///
    /// let conf = AppConf::parse_str("a = 1\n[Dev]\n", ".").unwrap();
    /// assert_eq!(conf.section_names().collect::<Vec<_>>(), ["default", "dev"]);
    /// ```
    pub fn section_names(&self) -> impl Iterator<Item = &str> {
        self.sections.keys().map(String::as_str)
    }

    /// The keys and values of one section (name matched case-insensitively).
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::config::AppConf;
    ///
    /// let conf = AppConf::parse_str("[dev]\nhttpport = 1\n", ".").unwrap();
    /// let dev: Vec<_> = conf.section("DEV").collect();
    /// assert_eq!(dev, [("httpport", "1")]);
    /// ```
    pub fn section(&self, name: &str) -> impl Iterator<Item = (&str, &str)> {
        self.sections
            .get(&name.to_lowercase())
            .into_iter()
            .flat_map(|s| s.iter().map(|(k, e)| (k.as_str(), e.value.as_str())))
    }

    /// The entries of one section (name matched case-insensitively), for
    /// the loader's layers.
    pub(crate) fn section_entries(&self, name: &str) -> impl Iterator<Item = (&str, &Entry)> {
        self.sections
            .get(&name.to_lowercase())
            .into_iter()
            .flat_map(|s| s.iter().map(|(k, e)| (k.as_str(), e)))
    }
}

/// Parses beego's boolean words (`ParseBool` in `core/config/config.go`).
///
/// Accepted: `1 t T true TRUE True YES yes Yes Y y ON on On` and
/// `0 f F false FALSE False NO no No N n OFF off Off`. Everything else,
/// including `1.0`, `yES` and the empty string, is `None`.
///
pub(crate) fn parse_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "true" | "TRUE" | "True" | "YES" | "yes" | "Yes" | "Y" | "y" | "ON"
        | "on" | "On" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" | "NO" | "no" | "No" | "N" | "n" | "OFF"
        | "off" | "Off" => Some(false),
        _ => None,
    }
}

/// The variable name and default of a whole-value `${VAR}` or `${VAR||default}`.
fn env_ref(value: &str) -> Option<(&str, &str)> {
    let b = value.as_bytes();
    let n = b.len();
    if n < 3 || b[0] != b'$' || b[1] != b'{' || b[n - 1] != b'}' {
        return None;
    }
    // Every index used for slicing points at an ASCII byte, so it is a char boundary.
    let mut i = 2;
    while i < n {
        if b[i] == b'|' && b.get(i + 1) == Some(&b'|') {
            return Some((
                value.get(2..i).unwrap_or_default(),
                value.get(i + 2..n - 1).unwrap_or_default(),
            ));
        }
        if b[i] == b'}' {
            return Some((value.get(2..i).unwrap_or_default(), ""));
        }
        i += 1;
    }
    Some(("", ""))
}

/// beego's `ExpandValueEnv`: replaces a whole value `${VAR}` or
/// `${VAR||default}`, and says which variable it read, for provenance.
///
/// The name ends at the first `||` or `}`; an unset or empty variable gives
/// the default (or `""`). Anything that is not exactly `${…}` (such as
/// `pre${HOME}`) is returned unchanged.
fn expand(value: &str) -> (String, Option<FromEnv>) {
    let Some((name, default)) = env_ref(value) else {
        return (value.to_owned(), None);
    };
    let (text, default_used) = match env_var(name) {
        Some(v) if !v.is_empty() => (v, false),
        _ => (default.to_owned(), true),
    };
    let from = FromEnv {
        var: name.to_owned(),
        default_used,
    };
    (text, Some(from))
}

fn env_var(name: &str) -> Option<String> {
    // The OS cannot hold such names; std may reject them, so never ask.
    if name.is_empty() || name.contains(['=', '\0']) {
        return None;
    }
    std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
}

/// One parse's way through its includes: the chain being read (for cycles)
/// and what has been read so far (for the budget).
#[derive(Default)]
struct Walk {
    stack: Vec<PathBuf>,
    files: usize,
    bytes: u64,
}

fn parse_path(path: &Path, walk: &mut Walk) -> Result<Sections, Error> {
    // Canonical paths make `./a.conf` and `a.conf` the same file for the cycle check.
    let id = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if walk.stack.contains(&id) {
        let mut chain = walk.stack.clone();
        chain.push(id);
        return Err(Error::IncludeCycle { chain });
    }
    if walk.stack.len() >= MAX_INCLUDE_DEPTH {
        return Err(Error::IncludeTooDeep {
            path: path.to_path_buf(),
            limit: MAX_INCLUDE_DEPTH,
        });
    }
    walk.files += 1;
    if walk.files > MAX_INCLUDED_FILES {
        return Err(Error::TooMuchConfig {
            path: path.to_path_buf(),
            what: format!("more than {MAX_INCLUDED_FILES} files read (includes counted each time)"),
        });
    }
    let data = read_regular_file(path, MAX_CONF_BYTES.saturating_sub(walk.bytes))?;
    walk.bytes += data.len() as u64;
    let dir = path.parent().unwrap_or_else(|| Path::new(""));
    walk.stack.push(id);
    let parsed = parse_bytes(&data, path, dir, walk);
    walk.stack.pop();
    parsed
}

/// Reads a regular file of at most `limit` bytes: a device (`/dev/zero`), a
/// FIFO or a directory is refused before it is read, and a file that grows
/// past the limit while being read stops the read there.
fn read_regular_file(path: &Path, limit: u64) -> Result<Vec<u8>, Error> {
    use std::io::Read as _;
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    if !file.metadata().map_err(io)?.is_file() {
        return Err(Error::NotAFile {
            path: path.to_path_buf(),
        });
    }
    let mut data = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(io)?;
    if data.len() as u64 > limit {
        return Err(Error::TooMuchConfig {
            path: path.to_path_buf(),
            what: format!("more than {MAX_CONF_BYTES} bytes read in all"),
        });
    }
    Ok(data)
}

fn parse_bytes(data: &[u8], file: &Path, dir: &Path, walk: &mut Walk) -> Result<Sections, Error> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let text = match std::str::from_utf8(data) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(_) => {
            // beego works on raw bytes; replacement characters keep every valid line intact.
            tracing::warn!(
                "{}: app.conf is not valid UTF-8; invalid bytes are replaced",
                file.display()
            );
            String::from_utf8_lossy(data)
        }
    };

    let mut sections = Sections::new();
    let mut section = DEFAULT_SECTION.to_owned();
    for (index, raw) in text.split('\n').enumerate() {
        let line_no = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if line.len() >= 2 && line.starts_with('[') && line.ends_with(']') {
            // Not trimmed inside the brackets, as in beego: `[ dev ]` is section " dev ".
            section = line[1..line.len() - 1].to_lowercase();
            sections.entry(section.clone()).or_default();
            continue;
        }
        sections.entry(section.clone()).or_default();

        let Some((raw_key, raw_value)) = line.split_once('=') else {
            if let Some(target) = include_target(line) {
                let path = if Path::new(target).is_absolute() {
                    PathBuf::from(target)
                } else {
                    dir.join(target)
                };
                // Included default-section keys land in `default`, whatever section
                // the include line is in: beego merges the included file's sections as-is.
                for (sec, entries) in parse_path(&path, walk)? {
                    sections.entry(sec).or_default().extend(entries);
                }
                continue;
            }
            return Err(Error::Syntax {
                path: file.to_path_buf(),
                line: line_no,
                text: excerpt(line),
            });
        };

        let key = raw_key.trim().to_lowercase();
        let mut value = raw_value.trim();
        if value.starts_with('"') {
            value = value.trim_matches('"');
        }
        let (value, from_env) = expand(value);
        let entry = Entry {
            value,
            file: file.to_path_buf(),
            line: line_no,
            from_env,
        };
        sections
            .entry(section.clone())
            .or_default()
            .insert(key, entry);
    }
    Ok(sections)
}

/// The file named by an `include` line, keeping its case (beego lower-cases it).
fn include_target(line: &str) -> Option<&str> {
    let mut fields = line.split_whitespace();
    let word = fields.next()?;
    let target = fields.next()?;
    if fields.next().is_some() || !word.eq_ignore_ascii_case("include") {
        return None;
    }
    Some(target.trim_matches('"'))
}

fn excerpt(line: &str) -> String {
    match line.char_indices().nth(MAX_ERROR_TEXT) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_value_env(value: &str) -> String {
        expand(value).0
    }

    #[test]
    fn env_name_stops_at_first_closing_brace() {
        assert_eq!(expand_value_env("${ACTIX_BEE_UNIT_UNSET}x}"), "");
    }

    #[test]
    fn empty_braces_expand_to_empty() {
        assert_eq!(expand_value_env("${}"), "");
        assert_eq!(expand_value_env("${||d}"), "d");
    }

    #[test]
    fn excerpt_is_bounded_and_char_safe() {
        let long = "é".repeat(200);
        let e = excerpt(&long);
        assert!(e.ends_with("..."));
        assert_eq!(e.chars().count(), MAX_ERROR_TEXT + 3);
    }

    #[test]
    fn empty_env_var_falls_back_to_default() {
        std::env::set_var("ACTIX_BEE_INI_T3", "");
        assert_eq!(expand_value_env("${ACTIX_BEE_INI_T3||dflt}"), "dflt");
        std::env::set_var("ACTIX_BEE_INI_T3B", "set");
        assert_eq!(expand_value_env("${ACTIX_BEE_INI_T3B||dflt}"), "set");
    }

    #[test]
    fn env_names_beego_cannot_hold_do_not_panic() {
        assert_eq!(expand_value_env("${A=B||d}"), "d");
        assert_eq!(expand_value_env("${A\0B||d}"), "d");
        assert_eq!(expand_value_env("${é||ü}"), "ü");
    }

    #[test]
    fn boolean_words_accepted() {
        for w in [
            "1", "t", "T", "true", "TRUE", "True", "YES", "yes", "Yes", "Y", "y", "ON", "on", "On",
        ] {
            assert_eq!(parse_bool(w), Some(true), "{w}");
        }
        for w in [
            "0", "f", "F", "false", "FALSE", "False", "NO", "no", "No", "N", "n", "OFF", "off",
            "Off",
        ] {
            assert_eq!(parse_bool(w), Some(false), "{w}");
        }
    }

    #[test]
    fn boolean_words_rejected() {
        for w in [
            "1.0", "0.0", "yES", "tRUE", "oN", "", " true", "2", "enabled",
        ] {
            assert_eq!(parse_bool(w), None, "{w:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn expand_value_env_never_panics(v in "\\$\\{[^}]{0,8}(\\|\\|)?[^}]{0,8}\\}") {
            let _ = expand_value_env(&v);
        }
    }
}
