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

/// The single table of app.conf keys: every other key list derives from it.
pub(crate) fn slot<'a>(c: &'a mut BConfig, key: &str) -> Option<Slot<'a>> {
    let l = &mut c.listen;
    let w = &mut c.web_config;
    let s = &mut w.session;
    Some(match key {
        "appname" => Slot::Str(&mut c.app_name),
        "runmode" => Slot::Str(&mut c.run_mode),
        "routercasesensitive" => Slot::Bool(&mut c.router_case_sensitive),
        "servername" => Slot::Str(&mut c.server_name),
        "recoverpanic" => Slot::Bool(&mut c.recover_panic),
        "copyrequestbody" => Slot::Bool(&mut c.copy_request_body),
        "enablegzip" => Slot::Bool(&mut c.enable_gzip),
        "maxmemory" => Slot::Int(&mut c.max_memory),
        "maxuploadsize" => Slot::Int(&mut c.max_upload_size),
        "enableerrorsshow" => Slot::Bool(&mut c.enable_errors_show),
        "enableerrorsrender" => Slot::Bool(&mut c.enable_errors_render),

        "graceful" => Slot::Bool(&mut l.graceful),
        "servertimeout" => Slot::Int(&mut l.server_timeout),
        "listentcp4" => Slot::Bool(&mut l.listen_tcp4),
        "enablehttp" => Slot::Bool(&mut l.enable_http),
        "autotls" => Slot::Bool(&mut l.auto_tls),
        "enablehttps" => Slot::Bool(&mut l.enable_https),
        "enablemutualhttps" => Slot::Bool(&mut l.enable_mutual_https),
        "enableadmin" => Slot::Bool(&mut l.enable_admin),
        "enablefcgi" => Slot::Bool(&mut l.enable_fcgi),
        "enablestdio" => Slot::Bool(&mut l.enable_stdio),
        "domains" => Slot::List(&mut l.domains),
        "tlscachedir" => Slot::Str(&mut l.tls_cache_dir),
        "httpaddr" => Slot::Str(&mut l.http_addr),
        "httpport" => Slot::Port(&mut l.http_port),
        "httpsaddr" => Slot::Str(&mut l.https_addr),
        "httpsport" => Slot::Port(&mut l.https_port),
        "httpscertfile" => Slot::Str(&mut l.https_cert_file),
        "httpskeyfile" => Slot::Str(&mut l.https_key_file),
        "trustcafile" => Slot::Str(&mut l.trust_ca_file),
        "adminaddr" => Slot::Str(&mut l.admin_addr),
        "adminport" => Slot::Port(&mut l.admin_port),
        "clientauth" => Slot::Int(&mut l.client_auth),

        "autorender" => Slot::Bool(&mut w.auto_render),
        "enabledocs" => Slot::Bool(&mut w.enable_docs),
        "enablexsrf" => Slot::Bool(&mut w.enable_xsrf),
        "directoryindex" => Slot::Bool(&mut w.directory_index),
        "flashname" => Slot::Str(&mut w.flash_name),
        "flashseparator" => Slot::Str(&mut w.flash_separator),
        "staticdir" => Slot::StaticDir(&mut w.static_dir),
        "staticextensionstogzip" => Slot::GzipExts(&mut w.static_extensions_to_gzip),
        "staticcachefilesize" => Slot::Int(&mut w.static_cache_file_size),
        "staticcachefilenum" => Slot::Int(&mut w.static_cache_file_num),
        "templateleft" => Slot::Str(&mut w.template_left),
        "templateright" => Slot::Str(&mut w.template_right),
        "viewspath" => Slot::Str(&mut w.views_path),
        "commentrouterpath" => Slot::Str(&mut w.comment_router_path),
        "xsrfkey" => Slot::Str(&mut w.xsrf_key),
        "xsrfexpire" => Slot::Int(&mut w.xsrf_expire),

        "sessionon" => Slot::Bool(&mut s.session_on),
        "sessionprovider" => Slot::Str(&mut s.session_provider),
        "sessionname" => Slot::Str(&mut s.session_name),
        "sessiongcmaxlifetime" => Slot::Int(&mut s.session_gc_max_lifetime),
        "sessionproviderconfig" => Slot::Str(&mut s.session_provider_config),
        "sessioncookielifetime" => Slot::Int(&mut s.session_cookie_lifetime),
        "sessionautosetcookie" => Slot::Bool(&mut s.session_auto_set_cookie),
        "sessiondomain" => Slot::Str(&mut s.session_domain),
        "sessiondisablehttponly" => Slot::Bool(&mut s.session_disable_http_only),
        "sessionenablesidinhttpheader" => Slot::Bool(&mut s.session_enable_sid_in_http_header),
        "sessionnameinhttpheader" => Slot::Str(&mut s.session_name_in_http_header),
        "sessionenablesidinurlquery" => Slot::Bool(&mut s.session_enable_sid_in_url_query),
        "sessioncookiesamesite" => Slot::Checked(&mut s.session_cookie_same_site, Kind::SameSite),
        "sessionidprefix" => Slot::Str(&mut s.session_id_prefix),
        "sessionhashfunc" => Slot::Checked(&mut s.session_hash_func, Kind::HashFunc),
        "sessionhashkey" => Slot::Str(&mut s.session_hash_key),
        "sessionconfig" => Slot::Checked(&mut s.session_config, Kind::Json),
        "sessionmaxlifetime" => Slot::Int(&mut s.session_max_lifetime),
        "sessionabsolutelifetime" => Slot::Int(&mut s.session_absolute_lifetime),
        "sessionsecure" => Slot::Bool(&mut s.session_secure),
        "sessiontrustproxy" => Slot::Bool(&mut s.session_trust_proxy),
        "sessionidlength" => Slot::Count(&mut s.session_id_length),
        "sessionstoreformat" => Slot::Checked(&mut s.session_store_format, Kind::StoreFormat),

        "accesslogs" => Slot::Bool(&mut c.log.access_logs),
        "enablestaticlogs" => Slot::Bool(&mut c.log.enable_static_logs),
        "filelinenum" => Slot::Bool(&mut c.log.file_line_num),
        "accesslogsformat" => Slot::Str(&mut c.log.access_logs_format),
        "logoutputs" => Slot::LogOutputs(&mut c.log.outputs),
        _ => return None,
    })
}

/// What a beego key that actix-bee reads but does not act on leaves undone,
/// for the start-up warning; `None` for the keys that take effect.
///
/// The session keys, the listen address and port, `servertimeout`,
/// `viewspath`, `autorender`, `runmode` and `appname` act; `enablehttps`
/// marks the session cookie `Secure` but serves no HTTPS. Everything else is
/// parsed (so that `BConfig` matches beego's) and has no effect.
pub(crate) fn not_implemented(key: &str) -> Option<&'static str> {
    const TLS: &str = "actix-bee serves plain HTTP only: terminate TLS in front of the app";
    Some(match key {
        "appname" | "runmode" | "httpaddr" | "httpport" | "servertimeout" | "viewspath"
        | "autorender" => return None,
        k if k.starts_with("session") => return None,
        "enablexsrf" | "xsrfkey" | "xsrfexpire" => {
            "no XSRF token is set or checked: protect state-changing forms yourself"
        }
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
