//! `BConfig`: beego's `web.BConfig`, with beego's defaults and app.conf keys.
//!
//! Field names are the snake_case of beego's Go field names; the app.conf key
//! of a field is the lower-cased Go name (`SessionGCMaxLifetime` is
//! `sessiongcmaxlifetime`), listed in each field's doc.

use std::collections::BTreeMap;

/// The whole application configuration, as beego's `web.BConfig`.
///
/// `Default` gives beego's defaults; fields are public so code can change
/// them after loading, as `web.BConfig.WebConfig.Session.SessionOn = true`
/// does in beego.
///
/// # Examples
///
/// ```
/// use actix_bee::config::BConfig;
///
/// let mut cfg = BConfig::from_str_with_base("appname = counter\nsessionon = true\n", ".")?;
/// assert_eq!(cfg.app_name, "counter");
/// assert_eq!(cfg.run_mode, "prod");
/// assert!(cfg.web_config.session.session_on);
/// cfg.listen.http_port = 9090;
/// # Ok::<(), actix_bee::config::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BConfig {
    /// `appname`: application name. Default `beego`.
    pub app_name: String,
    /// `runmode`: `dev`, `prod`, `test`... Default `prod`. Selects the `[runmode]` overlay section.
    pub run_mode: String,
    /// `routercasesensitive`. Default `true`.
    pub router_case_sensitive: bool,
    /// `servername`. Default `beegoServer:<version>`.
    pub server_name: String,
    /// `recoverpanic`. Default `true`.
    pub recover_panic: bool,
    /// `copyrequestbody`. Default `false`.
    pub copy_request_body: bool,
    /// `enablegzip`. Default `false`.
    pub enable_gzip: bool,
    /// `maxmemory`: request body limit in bytes. Default 64 MiB.
    pub max_memory: i64,
    /// `maxuploadsize`: upload body limit in bytes. Default 1 GiB.
    pub max_upload_size: i64,
    /// `enableerrorsshow`. Default `true`.
    pub enable_errors_show: bool,
    /// `enableerrorsrender`. Default `true`.
    pub enable_errors_render: bool,
    /// Socket and HTTP(S) settings.
    pub listen: Listen,
    /// Web settings, sessions included.
    pub web_config: WebConfig,
    /// Log settings.
    pub log: LogConfig,
}

/// HTTP and HTTPS listener settings (beego's `Listen`).
///
/// # Examples
///
/// ```
/// let listen = actix_bee::config::Listen::default();
/// assert_eq!((listen.http_port, listen.https_port), (8080, 10443));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Listen {
    /// `graceful`. Default `false`.
    pub graceful: bool,
    /// `servertimeout`: read/write timeout in seconds, 0 for none. Default 0.
    pub server_timeout: i64,
    /// `listentcp4`. Default `false`.
    pub listen_tcp4: bool,
    /// `enablehttp`. Default `true`.
    pub enable_http: bool,
    /// `autotls`. Default `false`.
    pub auto_tls: bool,
    /// `enablehttps`. Default `false`. Also makes the session cookie `Secure`.
    pub enable_https: bool,
    /// `enablemutualhttps`. Default `false`.
    pub enable_mutual_https: bool,
    /// `enableadmin`. Default `false`.
    pub enable_admin: bool,
    /// `enablefcgi`. Default `false`.
    pub enable_fcgi: bool,
    /// `enablestdio`. Default `false`.
    pub enable_stdio: bool,
    /// `domains`: `;`-separated. Default empty.
    pub domains: Vec<String>,
    /// `tlscachedir`. Default `.`.
    pub tls_cache_dir: String,
    /// `httpaddr`. Default empty (all interfaces).
    pub http_addr: String,
    /// `httpport`. Default 8080. Values outside 0..=65535 are rejected with a warning.
    pub http_port: u16,
    /// `httpsaddr`. Default empty.
    pub https_addr: String,
    /// `httpsport`. Default 10443.
    pub https_port: u16,
    /// `httpscertfile`. Default empty.
    pub https_cert_file: String,
    /// `httpskeyfile`. Default empty.
    pub https_key_file: String,
    /// `trustcafile`. Default empty.
    pub trust_ca_file: String,
    /// `adminaddr`. Default empty.
    pub admin_addr: String,
    /// `adminport`. Default 8088.
    pub admin_port: u16,
    /// `clientauth`: Go's `tls.ClientAuthType`. Default 4 (require and verify).
    pub client_auth: i64,
}

/// Web settings (beego's `WebConfig`).
///
/// # Examples
///
/// ```
/// let web = actix_bee::config::WebConfig::default();
/// assert_eq!(web.views_path, "views");
/// assert_eq!(web.static_dir.get("/static").map(String::as_str), Some("static"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebConfig {
    /// `autorender`. Default `true`.
    pub auto_render: bool,
    /// `enabledocs`. Default `false` (unused by beego v2).
    pub enable_docs: bool,
    /// `enablexsrf`. Default `false`.
    pub enable_xsrf: bool,
    /// `directoryindex`. Default `false`.
    pub directory_index: bool,
    /// `flashname`. Default `BEEGO_FLASH`.
    pub flash_name: String,
    /// `flashseparator`. Default `BEEGOFLASH`.
    pub flash_separator: String,
    /// `staticdir`: space-separated `url:dir` pairs (or `dir`, served at `/dir`);
    /// a non-empty value replaces the default `/static` → `static`.
    pub static_dir: BTreeMap<String, String>,
    /// `staticextensionstogzip`: comma-separated. Default `.css`, `.js`.
    pub static_extensions_to_gzip: Vec<String>,
    /// `staticcachefilesize`, bytes. Default 102400.
    pub static_cache_file_size: i64,
    /// `staticcachefilenum`. Default 1000.
    pub static_cache_file_num: i64,
    /// `templateleft`. Default `{{`.
    pub template_left: String,
    /// `templateright`. Default `}}`.
    pub template_right: String,
    /// `viewspath`. Default `views`.
    pub views_path: String,
    /// `templateengine`: the language of the views, `go` (Go's
    /// `html/template`, as beego's) or `jinja` (minijinja). Default `go`.
    /// Not a beego key.
    pub template_engine: String,
    /// `commentrouterpath`. Default `controllers`.
    pub comment_router_path: String,
    /// `xsrfkey`. Default `beegoxsrf`.
    pub xsrf_key: String,
    /// `xsrfexpire`, seconds. Default 0.
    pub xsrf_expire: i64,
    /// Session settings.
    pub session: SessionConfig,
}

/// Session settings (beego's `WebConfig.Session`, plus this crate's additions).
///
/// Turn it into the session core's settings with
/// [`SessionConfig::manager_config`].
///
/// # Examples
///
/// ```
/// let s = actix_bee::config::SessionConfig::default();
/// assert!(!s.session_on);
/// assert_eq!((s.session_provider.as_str(), s.session_gc_max_lifetime), ("memory", 3600));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionConfig {
    /// `sessionon`: manage sessions automatically. Default `false`.
    pub session_on: bool,
    /// `sessionprovider`: engine name (`memory`, `file`, `cookie`, `redis`...). Default `memory`.
    pub session_provider: String,
    /// `sessionname`: cookie name. Default `beegosessionID`.
    pub session_name: String,
    /// `sessiongcmaxlifetime`: GC period and idle lifetime, seconds. Default 3600.
    pub session_gc_max_lifetime: i64,
    /// `sessionproviderconfig`: engine-specific string (path, DSN...). Default empty.
    pub session_provider_config: String,
    /// `sessioncookielifetime`: cookie Max-Age in seconds, 0 for a browser-session cookie. Default 0.
    pub session_cookie_lifetime: i64,
    /// `sessionautosetcookie`: emit `Set-Cookie`. Default `true`.
    pub session_auto_set_cookie: bool,
    /// `sessiondomain`: cookie domain. Default empty.
    pub session_domain: String,
    /// `sessiondisablehttponly`. Default `false`.
    pub session_disable_http_only: bool,
    /// `sessionenablesidinhttpheader`. Default `false`.
    pub session_enable_sid_in_http_header: bool,
    /// `sessionnameinhttpheader`. Default `Beegosessionid`.
    pub session_name_in_http_header: String,
    /// `sessionenablesidinurlquery`. Default `false`.
    pub session_enable_sid_in_url_query: bool,
    /// `sessioncookiesamesite`: beego's integer `0`..`4` or `lax`/`strict`/`none`
    /// (case-insensitive). Default `1`, which this crate maps to `Lax`.
    pub session_cookie_same_site: String,
    /// `sessionidprefix`. Default empty.
    pub session_id_prefix: String,
    /// `sessionhashfunc`: `sha1` or `none`. Default `sha1`.
    pub session_hash_func: String,
    /// `sessionhashkey`. Default empty.
    pub session_hash_key: String,
    /// `sessionconfig`: beego's JSON `ManagerConfig`; when non-empty it replaces
    /// the keys it maps (missing JSON keys keep their defaults). Default empty.
    pub session_config: String,
    /// `sessionmaxlifetime`: idle lifetime in seconds; 0 means the GC lifetime. Default 0.
    pub session_max_lifetime: i64,
    /// `sessionabsolutelifetime`: lifetime from creation, seconds. Default 86400.
    pub session_absolute_lifetime: i64,
    /// `sessionsecure`: force the `Secure` cookie flag. Default `false`.
    pub session_secure: bool,
    /// `sessiontrustproxy`: trust the proxy's scheme header. Default `false`.
    pub session_trust_proxy: bool,
    /// `sessionidlength`: random bytes per session id. Default 16.
    pub session_id_length: usize,
    /// `sessionstoreformat`: `native` (this crate's layout) or `beego`
    /// (beego's gob layout, to share the store with a beego app; needs
    /// `sessionhashfunc = none`). Default `native`.
    pub session_store_format: String,
}

/// Log settings (beego's `Log`).
///
/// # Examples
///
/// ```
/// let log = actix_bee::config::LogConfig::default();
/// assert_eq!(log.access_logs_format, "APACHE_FORMAT");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogConfig {
    /// `accesslogs`. Default `false`.
    pub access_logs: bool,
    /// `enablestaticlogs`. Default `false`.
    pub enable_static_logs: bool,
    /// `filelinenum`. Default `true`.
    pub file_line_num: bool,
    /// `accesslogsformat`: `APACHE_FORMAT`, `JSON_FORMAT` or empty. Default `APACHE_FORMAT`.
    pub access_logs_format: String,
    /// `logoutputs`: `adapter,config;adapter,config`. Default `console` → empty.
    pub outputs: BTreeMap<String, String>,
}

impl Default for BConfig {
    fn default() -> Self {
        BConfig {
            app_name: "beego".into(),
            run_mode: "prod".into(),
            router_case_sensitive: true,
            server_name: concat!("beegoServer:", env!("CARGO_PKG_VERSION")).into(),
            recover_panic: true,
            copy_request_body: false,
            enable_gzip: false,
            max_memory: 1 << 26,
            max_upload_size: 1 << 30,
            enable_errors_show: true,
            enable_errors_render: true,
            listen: Listen::default(),
            web_config: WebConfig::default(),
            log: LogConfig::default(),
        }
    }
}

impl Default for Listen {
    fn default() -> Self {
        Listen {
            graceful: false,
            server_timeout: 0,
            listen_tcp4: false,
            enable_http: true,
            auto_tls: false,
            enable_https: false,
            enable_mutual_https: false,
            enable_admin: false,
            enable_fcgi: false,
            enable_stdio: false,
            domains: Vec::new(),
            tls_cache_dir: ".".into(),
            http_addr: String::new(),
            http_port: 8080,
            https_addr: String::new(),
            https_port: 10443,
            https_cert_file: String::new(),
            https_key_file: String::new(),
            trust_ca_file: String::new(),
            admin_addr: String::new(),
            admin_port: 8088,
            client_auth: 4,
        }
    }
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            auto_render: true,
            enable_docs: false,
            enable_xsrf: false,
            directory_index: false,
            flash_name: "BEEGO_FLASH".into(),
            flash_separator: "BEEGOFLASH".into(),
            static_dir: BTreeMap::from([("/static".to_owned(), "static".to_owned())]),
            static_extensions_to_gzip: vec![".css".into(), ".js".into()],
            static_cache_file_size: 100 * 1024,
            static_cache_file_num: 1000,
            template_left: "{{".into(),
            template_right: "}}".into(),
            views_path: "views".into(),
            template_engine: "go".into(),
            comment_router_path: "controllers".into(),
            xsrf_key: "beegoxsrf".into(),
            xsrf_expire: 0,
            session: SessionConfig::default(),
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            session_on: false,
            session_provider: "memory".into(),
            session_name: "beegosessionID".into(),
            session_gc_max_lifetime: 3600,
            session_provider_config: String::new(),
            session_cookie_lifetime: 0,
            session_auto_set_cookie: true,
            session_domain: String::new(),
            session_disable_http_only: false,
            session_enable_sid_in_http_header: false,
            session_name_in_http_header: "Beegosessionid".into(),
            session_enable_sid_in_url_query: false,
            session_cookie_same_site: "1".into(),
            session_id_prefix: String::new(),
            session_hash_func: "sha1".into(),
            session_hash_key: String::new(),
            session_config: String::new(),
            session_max_lifetime: 0,
            session_absolute_lifetime: 86400,
            session_secure: false,
            session_trust_proxy: false,
            session_id_length: 16,
            session_store_format: "native".into(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            access_logs: false,
            enable_static_logs: false,
            file_line_num: true,
            access_logs_format: "APACHE_FORMAT".into(),
            outputs: BTreeMap::from([("console".to_owned(), String::new())]),
        }
    }
}
