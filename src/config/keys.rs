//! The table of app.conf keys and beego's typing of their values.
//!
//! [`slot`] is the only list of keys: filters, typing and assignment all go
//! through it, so a key cannot be known to one and missing from another.

use std::collections::BTreeMap;

use super::bconfig::BConfig;

/// What kind of value a key takes, and so how it is parsed and validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Str,
    Bool,
    Int,
    Port,
    Count,
    SameSite,
    HashFunc,
    StoreFormat,
    Json,
    List,
    StaticDir,
    GzipExts,
    LogOutputs,
}

impl Kind {
    /// Whether an empty value means "not set" (beego's `DefaultString`), as
    /// opposed to a value that fails to parse.
    pub(crate) fn empty_is_unset(self) -> bool {
        !matches!(self, Kind::Bool | Kind::Int | Kind::Port | Kind::Count)
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            Kind::Bool => "boolean (1/0, t/f, true/false, yes/no, y/n, on/off)",
            Kind::Int => "integer",
            Kind::Port => "port number (0-65535)",
            Kind::Count => "non-negative integer",
            Kind::GzipExts => "comma-separated list of extensions",
            _ => "string",
        }
    }
}

/// A mutable reference to the field behind one app.conf key.
pub(crate) enum Slot<'a> {
    Str(&'a mut String),
    Bool(&'a mut bool),
    Int(&'a mut i64),
    Port(&'a mut u16),
    Count(&'a mut usize),
    Checked(&'a mut String, Kind),
    List(&'a mut Vec<String>),
    StaticDir(&'a mut BTreeMap<String, String>),
    GzipExts(&'a mut Vec<String>),
    LogOutputs(&'a mut BTreeMap<String, String>),
}

/// Why a value could not be stored.
pub(crate) enum SetError {
    /// It does not parse as the field's type: keep the lower layer's value.
    Unparsable,
    /// It parses but is not acceptable; a start-up error.
    Invalid(String),
    /// `sessionconfig` is not a JSON object; a start-up error.
    Json(serde_json::Error),
}

/// A function giving the field behind one key.
type Field = for<'a> fn(&'a mut BConfig) -> Slot<'a>;

/// The single table of app.conf keys, in beego's order: every other key
/// list derives from it.
const TABLE: &[(&str, Field)] = &[
    ("appname", |c| Slot::Str(&mut c.app_name)),
    ("runmode", |c| Slot::Str(&mut c.run_mode)),
    ("routercasesensitive", |c| {
        Slot::Bool(&mut c.router_case_sensitive)
    }),
    ("servername", |c| Slot::Str(&mut c.server_name)),
    ("recoverpanic", |c| Slot::Bool(&mut c.recover_panic)),
    ("copyrequestbody", |c| Slot::Bool(&mut c.copy_request_body)),
    ("enablegzip", |c| Slot::Bool(&mut c.enable_gzip)),
    ("maxmemory", |c| Slot::Int(&mut c.max_memory)),
    ("maxuploadsize", |c| Slot::Int(&mut c.max_upload_size)),
    ("enableerrorsshow", |c| {
        Slot::Bool(&mut c.enable_errors_show)
    }),
    ("enableerrorsrender", |c| {
        Slot::Bool(&mut c.enable_errors_render)
    }),
    ("graceful", |c| Slot::Bool(&mut c.listen.graceful)),
    ("servertimeout", |c| Slot::Int(&mut c.listen.server_timeout)),
    ("listentcp4", |c| Slot::Bool(&mut c.listen.listen_tcp4)),
    ("enablehttp", |c| Slot::Bool(&mut c.listen.enable_http)),
    ("autotls", |c| Slot::Bool(&mut c.listen.auto_tls)),
    ("enablehttps", |c| Slot::Bool(&mut c.listen.enable_https)),
    ("enablemutualhttps", |c| {
        Slot::Bool(&mut c.listen.enable_mutual_https)
    }),
    ("enableadmin", |c| Slot::Bool(&mut c.listen.enable_admin)),
    ("enablefcgi", |c| Slot::Bool(&mut c.listen.enable_fcgi)),
    ("enablestdio", |c| Slot::Bool(&mut c.listen.enable_stdio)),
    ("domains", |c| Slot::List(&mut c.listen.domains)),
    ("tlscachedir", |c| Slot::Str(&mut c.listen.tls_cache_dir)),
    ("httpaddr", |c| Slot::Str(&mut c.listen.http_addr)),
    ("httpport", |c| Slot::Port(&mut c.listen.http_port)),
    ("httpsaddr", |c| Slot::Str(&mut c.listen.https_addr)),
    ("httpsport", |c| Slot::Port(&mut c.listen.https_port)),
    ("httpscertfile", |c| {
        Slot::Str(&mut c.listen.https_cert_file)
    }),
    ("httpskeyfile", |c| Slot::Str(&mut c.listen.https_key_file)),
    ("trustcafile", |c| Slot::Str(&mut c.listen.trust_ca_file)),
    ("adminaddr", |c| Slot::Str(&mut c.listen.admin_addr)),
    ("adminport", |c| Slot::Port(&mut c.listen.admin_port)),
    ("clientauth", |c| Slot::Int(&mut c.listen.client_auth)),
    ("autorender", |c| Slot::Bool(&mut c.web_config.auto_render)),
    ("enabledocs", |c| Slot::Bool(&mut c.web_config.enable_docs)),
    ("enablexsrf", |c| Slot::Bool(&mut c.web_config.enable_xsrf)),
    ("directoryindex", |c| {
        Slot::Bool(&mut c.web_config.directory_index)
    }),
    ("flashname", |c| Slot::Str(&mut c.web_config.flash_name)),
    ("flashseparator", |c| {
        Slot::Str(&mut c.web_config.flash_separator)
    }),
    ("staticdir", |c| {
        Slot::StaticDir(&mut c.web_config.static_dir)
    }),
    ("staticextensionstogzip", |c| {
        Slot::GzipExts(&mut c.web_config.static_extensions_to_gzip)
    }),
    ("staticcachefilesize", |c| {
        Slot::Int(&mut c.web_config.static_cache_file_size)
    }),
    ("staticcachefilenum", |c| {
        Slot::Int(&mut c.web_config.static_cache_file_num)
    }),
    ("templateleft", |c| {
        Slot::Str(&mut c.web_config.template_left)
    }),
    ("templateright", |c| {
        Slot::Str(&mut c.web_config.template_right)
    }),
    ("viewspath", |c| Slot::Str(&mut c.web_config.views_path)),
    ("templateengine", |c| {
        Slot::Str(&mut c.web_config.template_engine)
    }),
    ("commentrouterpath", |c| {
        Slot::Str(&mut c.web_config.comment_router_path)
    }),
    ("xsrfkey", |c| Slot::Str(&mut c.web_config.xsrf_key)),
    ("xsrfexpire", |c| Slot::Int(&mut c.web_config.xsrf_expire)),
    ("sessionon", |c| {
        Slot::Bool(&mut c.web_config.session.session_on)
    }),
    ("sessionprovider", |c| {
        Slot::Str(&mut c.web_config.session.session_provider)
    }),
    ("sessionname", |c| {
        Slot::Str(&mut c.web_config.session.session_name)
    }),
    ("sessiongcmaxlifetime", |c| {
        Slot::Int(&mut c.web_config.session.session_gc_max_lifetime)
    }),
    ("sessionproviderconfig", |c| {
        Slot::Str(&mut c.web_config.session.session_provider_config)
    }),
    ("sessioncookielifetime", |c| {
        Slot::Int(&mut c.web_config.session.session_cookie_lifetime)
    }),
    ("sessionautosetcookie", |c| {
        Slot::Bool(&mut c.web_config.session.session_auto_set_cookie)
    }),
    ("sessiondomain", |c| {
        Slot::Str(&mut c.web_config.session.session_domain)
    }),
    ("sessiondisablehttponly", |c| {
        Slot::Bool(&mut c.web_config.session.session_disable_http_only)
    }),
    ("sessionenablesidinhttpheader", |c| {
        Slot::Bool(&mut c.web_config.session.session_enable_sid_in_http_header)
    }),
    ("sessionnameinhttpheader", |c| {
        Slot::Str(&mut c.web_config.session.session_name_in_http_header)
    }),
    ("sessionenablesidinurlquery", |c| {
        Slot::Bool(&mut c.web_config.session.session_enable_sid_in_url_query)
    }),
    ("sessioncookiesamesite", |c| {
        Slot::Checked(
            &mut c.web_config.session.session_cookie_same_site,
            Kind::SameSite,
        )
    }),
    ("sessionidprefix", |c| {
        Slot::Str(&mut c.web_config.session.session_id_prefix)
    }),
    ("sessionhashfunc", |c| {
        Slot::Checked(&mut c.web_config.session.session_hash_func, Kind::HashFunc)
    }),
    ("sessionhashkey", |c| {
        Slot::Str(&mut c.web_config.session.session_hash_key)
    }),
    ("sessionconfig", |c| {
        Slot::Checked(&mut c.web_config.session.session_config, Kind::Json)
    }),
    ("sessionmaxlifetime", |c| {
        Slot::Int(&mut c.web_config.session.session_max_lifetime)
    }),
    ("sessionabsolutelifetime", |c| {
        Slot::Int(&mut c.web_config.session.session_absolute_lifetime)
    }),
    ("sessionsecure", |c| {
        Slot::Bool(&mut c.web_config.session.session_secure)
    }),
    ("sessiontrustproxy", |c| {
        Slot::Bool(&mut c.web_config.session.session_trust_proxy)
    }),
    ("sessionidlength", |c| {
        Slot::Count(&mut c.web_config.session.session_id_length)
    }),
    ("sessionstoreformat", |c| {
        Slot::Checked(
            &mut c.web_config.session.session_store_format,
            Kind::StoreFormat,
        )
    }),
    ("accesslogs", |c| Slot::Bool(&mut c.log.access_logs)),
    ("enablestaticlogs", |c| {
        Slot::Bool(&mut c.log.enable_static_logs)
    }),
    ("filelinenum", |c| Slot::Bool(&mut c.log.file_line_num)),
    ("accesslogsformat", |c| {
        Slot::Str(&mut c.log.access_logs_format)
    }),
    ("logoutputs", |c| Slot::LogOutputs(&mut c.log.outputs)),
];

/// The field behind `key`, or `None` for keys BConfig does not read.
pub(crate) fn slot<'a>(c: &'a mut BConfig, key: &str) -> Option<Slot<'a>> {
    TABLE
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, field)| field(c))
}

/// Every key BConfig reads, in the table's order.
pub(crate) fn keys() -> impl Iterator<Item = &'static str> {
    TABLE.iter().map(|(k, _)| *k)
}

/// What a beego key that actix-bee reads but does not act on leaves undone,
/// for the start-up warning; `None` for the keys that take effect.
///
/// The session keys, the listen address and port, `servertimeout`, the
/// view keys (`viewspath`, `templateleft`, `templateright`,
/// `templateengine`), `autorender`, the form keys (`enablexsrf`, `xsrfkey`,
/// `xsrfexpire`, `flashname`, `flashseparator`), `runmode` and `appname`
/// act; `enablehttps` marks the session and `_xsrf` cookies `Secure` but
/// serves no HTTPS. Everything else is parsed (so that `BConfig` matches
/// beego's) and has no effect.
pub(crate) fn not_implemented(key: &str) -> Option<&'static str> {
    const TLS: &str = "actix-bee serves plain HTTP only: terminate TLS in front of the app";
    Some(match key {
        "appname" | "runmode" | "httpaddr" | "httpport" | "servertimeout" | "viewspath"
        | "templateleft" | "templateright" | "templateengine" | "autorender" | "enablexsrf"
        | "xsrfkey" | "xsrfexpire" | "flashname" | "flashseparator" => return None,
        k if k.starts_with("session") => return None,
        "enablehttps" => {
            "it marks the session cookie Secure, but no HTTPS listener is started; \
             terminate TLS in front of the app"
        }
        "httpscertfile" | "httpskeyfile" | "httpsaddr" | "httpsport" | "enablemutualhttps"
        | "trustcafile" | "clientauth" | "autotls" | "domains" | "tlscachedir" => TLS,
        "enablehttp" => "the app always listens on httpaddr:httpport",
        "enableadmin" | "adminaddr" | "adminport" => "no admin server is started",
        "maxmemory" | "maxuploadsize" | "copyrequestbody" => {
            "request bodies follow actix-web's own limits"
        }
        _ => "it has no effect in actix-bee",
    })
}

/// Every key's current value as text, for the templates' `config`
/// function.
pub(crate) fn values(c: &BConfig) -> BTreeMap<String, String> {
    let mut scratch = c.clone();
    keys()
        .filter_map(|k| {
            let value = slot(&mut scratch, k)?.value();
            let text = match value {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            Some((k.to_owned(), text))
        })
        .collect()
}

/// The kind of a known key, or `None` for keys BConfig does not read.
pub(crate) fn kind_of(key: &str) -> Option<Kind> {
    slot(&mut BConfig::default(), key).map(|s| s.kind())
}

impl Slot<'_> {
    pub(crate) fn kind(&self) -> Kind {
        match self {
            Slot::Str(_) => Kind::Str,
            Slot::Bool(_) => Kind::Bool,
            Slot::Int(_) => Kind::Int,
            Slot::Port(_) => Kind::Port,
            Slot::Count(_) => Kind::Count,
            Slot::Checked(_, k) => *k,
            Slot::List(_) => Kind::List,
            Slot::StaticDir(_) => Kind::StaticDir,
            Slot::GzipExts(_) => Kind::GzipExts,
            Slot::LogOutputs(_) => Kind::LogOutputs,
        }
    }

    /// The field's current value: booleans and numbers typed, lists and
    /// maps written back in app.conf's syntax.
    pub(crate) fn value(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Slot::Str(f) | Slot::Checked(f, _) => Value::from(f.as_str()),
            Slot::Bool(f) => Value::from(**f),
            Slot::Int(f) => Value::from(**f),
            Slot::Port(f) => Value::from(**f),
            Slot::Count(f) => Value::from(**f),
            Slot::List(f) => Value::from(f.join(";")),
            Slot::GzipExts(f) => Value::from(f.join(",")),
            Slot::StaticDir(f) => Value::from(
                f.iter()
                    .map(|(url, dir)| format!("{url}:{dir}"))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            Slot::LogOutputs(f) => Value::from(
                f.iter()
                    .map(|(adapter, conf)| format!("{adapter},{conf}"))
                    .collect::<Vec<_>>()
                    .join(";"),
            ),
        }
    }

    /// Parses `v` with beego's rules and stores it.
    pub(crate) fn set(self, v: &str) -> Result<(), SetError> {
        match self {
            Slot::Str(f) => *f = v.to_owned(),
            Slot::Bool(f) => *f = super::ini::parse_bool(v).ok_or(SetError::Unparsable)?,
            Slot::Int(f) => *f = v.parse().map_err(|_| SetError::Unparsable)?,
            Slot::Port(f) => *f = v.parse().map_err(|_| SetError::Unparsable)?,
            Slot::Count(f) => *f = v.parse().map_err(|_| SetError::Unparsable)?,
            Slot::Checked(f, kind) => {
                check(kind, v)?;
                *f = v.to_owned();
            }
            Slot::List(f) => *f = split_list(v),
            Slot::StaticDir(f) => *f = parse_static_dir(v),
            Slot::GzipExts(f) => {
                let exts = parse_gzip_exts(v);
                // beego keeps the default when the list comes out empty.
                if exts.is_empty() && !v.is_empty() {
                    return Err(SetError::Unparsable);
                }
                *f = exts;
            }
            Slot::LogOutputs(f) => *f = parse_log_outputs(v),
        }
        Ok(())
    }
}

fn check(kind: Kind, v: &str) -> Result<(), SetError> {
    match kind {
        Kind::SameSite => super::bind::parse_same_site(v)
            .map(|_| ())
            .map_err(SetError::Invalid),
        Kind::HashFunc => super::bind::parse_hash_func(v)
            .map(|_| ())
            .map_err(SetError::Invalid),
        Kind::StoreFormat => super::bind::parse_store_format(v)
            .map(|_| ())
            .map_err(SetError::Invalid),
        // Only the shape is checked here; the session core reads the keys.
        Kind::Json if !v.trim().is_empty() => {
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(v)
                .map(|_| ())
                .map_err(SetError::Json)
        }
        _ => Ok(()),
    }
}

/// beego's `Strings`: split on `;`.
fn split_list(v: &str) -> Vec<String> {
    if v.is_empty() {
        return Vec::new();
    }
    v.split(';').map(str::to_owned).collect()
}

/// beego's `StaticDir`: whitespace-separated `url:dir` or `dir` entries.
fn parse_static_dir(v: &str) -> BTreeMap<String, String> {
    v.split_whitespace()
        .map(|item| match item.split_once(':') {
            Some((url, dir)) => (format!("/{}", url.trim_matches('/')), dir.to_owned()),
            None => (format!("/{}", item.trim_matches('/')), item.to_owned()),
        })
        .collect()
}

/// beego's `StaticExtensionsToGzip`: comma-separated, a leading `.` added when missing.
fn parse_gzip_exts(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| {
            if e.starts_with('.') {
                e.to_owned()
            } else {
                format!(".{e}")
            }
        })
        .collect()
}

/// beego's `LogOutputs`: `adapter,config` pairs separated by `;`; others are skipped.
fn parse_log_outputs(v: &str) -> BTreeMap<String, String> {
    v.split(';')
        .filter_map(|pair| pair.split_once(','))
        .map(|(a, c)| (a.to_owned(), c.to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_dir_forms() {
        let m = parse_static_dir("static /img/:images down");
        assert_eq!(m.get("/static").map(String::as_str), Some("static"));
        assert_eq!(m.get("/img").map(String::as_str), Some("images"));
        assert_eq!(m.get("/down").map(String::as_str), Some("down"));
    }

    #[test]
    fn gzip_exts_add_dot() {
        assert_eq!(parse_gzip_exts(" css, .js ,,"), [".css", ".js"]);
    }

    #[test]
    fn log_outputs_pairs() {
        let m = parse_log_outputs("console,;file,{\"filename\":\"a.log\"};bad");
        assert_eq!(m.len(), 2);
        assert_eq!(
            m.get("file").map(String::as_str),
            Some("{\"filename\":\"a.log\"}")
        );
    }

    #[test]
    fn every_key_has_a_kind() {
        for key in [
            "sessionon",
            "httpport",
            "sessioncookiesamesite",
            "logoutputs",
        ] {
            assert!(kind_of(key).is_some(), "{key}");
        }
        assert!(kind_of("sessionsavepath").is_none());
    }
}
