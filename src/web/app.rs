//! `App`: beego's `web.Run()` shape on an actix-web `HttpServer`.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::{
    Payload, Server, ServerHandle, ServiceFactory, ServiceRequest, ServiceResponse,
};
use actix_web::web::{self, Bytes, ServiceConfig};
use actix_web::{Error as ActixError, FromRequest, HttpRequest, HttpResponse, HttpServer};

use super::context::Context;
use super::controller::{dispatch, Controller};
use super::form_state::FormSettings;
use super::middleware::SessionMiddleware;
use super::template::{RenderMode, TemplateError, TemplateOptions, Templates};
use crate::config::BConfig;
use crate::session::{GcTask, Manager};

/// Why an app could not start.
///
/// # Examples
///
/// ```
/// let err = actix_bee::web::StartError::from(std::io::Error::other("port in use"));
/// assert!(err.to_string().contains("port in use"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// `conf/app.conf` could not be read or has invalid values.
    #[error("web: invalid configuration: {0}")]
    Config(#[from] crate::config::Error),
    /// The session manager could not start (unknown engine, bad engine config, backend down).
    #[error("web: could not start sessions: {0}")]
    Session(#[from] crate::session::Error),
    /// A template under `viewspath` does not parse (the message names the
    /// file and the line), or the template settings are invalid.
    #[error("web: templates: {0}")]
    Template(#[from] TemplateError),
    /// `enablexsrf` is on with an `xsrfkey` nobody should sign with.
    #[error("web: {0}")]
    Xsrf(#[from] super::xsrf::XsrfKeyError),
    /// The listener could not be bound, or the server failed.
    #[error("web: server error: {0}")]
    Io(#[from] std::io::Error),
}

type Routes = Arc<[(String, Arc<dyn Controller>, &'static str)]>;

/// The last path segment of a type's name, without generics
/// (`app::MainController` is `MainController`).
fn short_type_name<T: ?Sized>() -> &'static str {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}

/// A beego-style application: a [`BConfig`], routes to controllers, and
/// sessions when `sessionon = true`.
///
/// # Examples
///
/// ```no_run
/// use actix_bee::config::BConfig;
/// use actix_bee::web::{async_trait, App, Context, Controller, HandlerResult};
///
/// struct MainController;
///
/// #[async_trait(?Send)]
/// impl Controller for MainController {
///     async fn get(&self, ctx: &mut Context) -> HandlerResult {
///         ctx.write_body("hello");
///         Ok(())
///     }
/// }
///
/// # async fn run() -> Result<(), actix_bee::web::StartError> {
/// let mut app = App::new(BConfig::load()?);
/// app.config_mut().web_config.session.session_on = true;
/// app.router("/", MainController);
/// app.run().await // serves on httpaddr:httpport
/// # }
/// ```
pub struct App {
    config: BConfig,
    routes: Vec<(String, Arc<dyn Controller>, &'static str)>,
    manager: Option<Manager>,
    #[cfg(feature = "gotmpl")]
    funcs: Vec<(String, super::template::TemplateFunc)>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("app_name", &self.config.app_name)
            .field("routes", &self.routes.len())
            .finish_non_exhaustive()
    }
}

impl App {
    /// An app with no routes yet.
    ///
    /// # Examples
    ///
    /// See [`App`].
    pub fn new(config: BConfig) -> App {
        App {
            config,
            routes: Vec::new(),
            manager: None,
            #[cfg(feature = "gotmpl")]
            funcs: Vec::new(),
        }
    }

    /// The configuration.
    ///
    /// # Examples
    ///
    /// ```
    /// let app = actix_bee::web::App::new(Default::default());
    /// assert_eq!(app.config().listen.http_port, 8080);
    /// ```
    pub fn config(&self) -> &BConfig {
        &self.config
    }

    /// The configuration, to change before the app starts (as
    /// `web.BConfig.WebConfig.Session.SessionOn = true` in beego).
    ///
    /// # Examples
    ///
    /// See [`App`].
    pub fn config_mut(&mut self) -> &mut BConfig {
        &mut self.config
    }

    /// Routes `path` (actix-web syntax: `/user/{id}`) to `controller`, for
    /// every HTTP method (beego's `web.Router`).
    ///
    /// # Examples
    ///
    /// See [`App`].
    pub fn router<C: Controller>(&mut self, path: &str, controller: C) -> &mut Self {
        let name = short_type_name::<C>();
        self.routes
            .push((path.to_owned(), Arc::new(controller), name));
        self
    }

    /// Adds a function to the Go templates (beego's `web.AddFuncMap`),
    /// before they are parsed at start; it replaces a built-in or beego
    /// function of the same name.
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_bee::web::{gotmpl::Value, App};
    ///
    /// let mut app = App::new(Default::default());
    /// app.add_func_map("double", |args| {
    ///     Ok(Value::Int(args.first().and_then(Value::as_int).unwrap_or(0) * 2))
    /// });
    /// ```
    #[cfg(feature = "gotmpl")]
    pub fn add_func_map(
        &mut self,
        name: &str,
        f: impl Fn(&[gotmpl::Value]) -> Result<gotmpl::Value, gotmpl::TemplateError>
            + Send
            + Sync
            + 'static,
    ) -> &mut Self {
        self.funcs.push((name.to_owned(), Arc::new(f)));
        self
    }

    /// Uses `manager` for sessions instead of building one from the
    /// configuration (an engine instance that is not registered, or a
    /// manager a test wants to inspect). Sessions are on with it.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// use actix_bee::session::Manager;
    ///
    /// let manager = Manager::new("memory", Default::default()).await.unwrap();
    /// let mut app = actix_bee::web::App::new(Default::default());
    /// app.with_manager(manager);
    /// assert!(app.build().await.unwrap().manager().is_some());
    /// # });
    /// ```
    pub fn with_manager(&mut self, manager: Manager) -> &mut Self {
        self.manager = Some(manager);
        self
    }

    /// Builds what the workers share: the session manager (when
    /// `sessionon`), the templates and the routes.
    ///
    /// # Errors
    ///
    /// [`StartError::Config`] for invalid session settings,
    /// [`StartError::Session`] when the engine cannot start,
    /// [`StartError::Template`] when a file under `viewspath` does not parse.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// let app = actix_bee::web::App::new(Default::default());
    /// // sessionon defaults to false.
    /// assert!(app.build().await.unwrap().manager().is_none());
    /// # });
    /// ```
    pub async fn build(&self) -> Result<AppState, StartError> {
        let manager = match (&self.manager, self.config.web_config.session.session_on) {
            (Some(manager), _) => Some(manager.clone()),
            (None, true) => {
                let provider = &self.config.web_config.session.session_provider;
                let settings = self.config.session_manager_config()?;
                Some(Manager::new(provider, settings).await?)
            }
            (None, false) => None,
        };
        let routes = self
            .routes
            .iter()
            .map(|(path, _, name)| (path.as_str(), *name));
        #[cfg(feature = "gotmpl")]
        let opts = TemplateOptions::from_app(&self.config, routes, &self.funcs)?;
        #[cfg(not(feature = "gotmpl"))]
        let opts = TemplateOptions::from_app(&self.config, routes)?;
        let templates = Templates::with_options(opts)?;
        let forms = FormSettings::from_bconfig(&self.config)?;
        Ok(AppState {
            forms: Arc::new(forms),
            manager,
            templates: Arc::new(templates),
            routes: self.routes.clone().into(),
            render: RenderMode {
                auto_render: self.config.web_config.auto_render,
                show_errors: self.config.run_mode == "dev",
            },
        })
    }

    /// Starts serving on `addr` (port 0 picks a free port), with the GC task.
    ///
    /// # Errors
    ///
    /// As [`App::build`], and [`StartError::Io`] when `addr` cannot be bound.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// let app = actix_bee::web::App::new(Default::default());
    /// let listening = app.listen("127.0.0.1:0").await.unwrap();
    /// assert_ne!(listening.addrs()[0].port(), 0);
    /// let handle = listening.handle();
    /// let server = actix_rt::spawn(listening.run());
    /// handle.stop(true).await;
    /// server.await.unwrap().unwrap();
    /// # });
    /// ```
    pub async fn listen(self, addr: impl ToSocketAddrs) -> Result<Listening, StartError> {
        let state = self.build().await?;
        let factory = state.clone();
        let mut server = HttpServer::new(move || factory.app());
        let timeout = self.config.listen.server_timeout;
        if timeout > 0 {
            let secs = u64::try_from(timeout).unwrap_or(u64::MAX);
            server = server.client_request_timeout(Duration::from_secs(secs));
        }
        let server = server.bind(addr)?;
        let addrs = server.addrs();
        let gc = state.manager().map(Manager::gc).transpose()?;
        for addr in &addrs {
            tracing::info!("http server Running on http://{addr}");
        }
        Ok(Listening {
            server: server.run(),
            addrs,
            state,
            gc,
        })
    }

    /// Serves on `httpaddr:httpport` until the server stops (beego's
    /// `web.Run()`); an empty `httpaddr` means every interface.
    ///
    /// # Errors
    ///
    /// As [`App::listen`].
    ///
    /// # Examples
    ///
    /// See [`App`].
    pub async fn run(self) -> Result<(), StartError> {
        let listen = &self.config.listen;
        let host = match listen.http_addr.trim_matches(['[', ']']) {
            "" => "0.0.0.0".to_owned(),
            host => host.to_owned(),
        };
        let port = listen.http_port;
        self.listen((host, port)).await?.run().await?;
        Ok(())
    }
}

/// What every worker shares: build it with [`App::build`], then serve it
/// with [`AppState::app`] (or mount it in your own `App` with
/// [`AppState::middleware`] and [`AppState::configure`]).
///
/// # Examples
///
/// ```
/// # actix_rt::System::new().block_on(async {
/// use actix_web::test;
///
/// let state = actix_bee::web::App::new(Default::default()).build().await.unwrap();
/// let service = test::init_service(state.app()).await;
/// let res = test::call_service(&service, test::TestRequest::get().uri("/none").to_request()).await;
/// assert_eq!(res.status(), 404);
/// # });
/// ```
#[derive(Clone)]
pub struct AppState {
    manager: Option<Manager>,
    templates: Arc<Templates>,
    forms: Arc<FormSettings>,
    routes: Routes,
    render: RenderMode,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("sessions", &self.manager.is_some())
            .field("routes", &self.routes.len())
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// The session manager, when sessions are on.
    ///
    /// # Examples
    ///
    /// See [`App::build`].
    pub fn manager(&self) -> Option<&Manager> {
        self.manager.as_ref()
    }

    /// The templates.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// let state = actix_bee::web::App::new(Default::default()).build().await.unwrap();
    /// assert!(state.templates().render("missing.tpl", &()).is_err());
    /// # });
    /// ```
    pub fn templates(&self) -> &Arc<Templates> {
        &self.templates
    }

    /// The session middleware (a pass-through when sessions are off).
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// let state = actix_bee::web::App::new(Default::default()).build().await.unwrap();
    /// let app = actix_web::App::new()
    ///     .wrap(state.middleware())
    ///     .configure(|cfg| state.configure(cfg));
    /// # let _ = actix_web::test::init_service(app).await;
    /// # });
    /// ```
    pub fn middleware(&self) -> SessionMiddleware {
        match &self.manager {
            Some(manager) => SessionMiddleware::new(manager.clone()),
            None => SessionMiddleware::disabled(),
        }
    }

    /// Registers the controllers' routes.
    ///
    /// # Examples
    ///
    /// See [`AppState::middleware`].
    pub fn configure(&self, cfg: &mut ServiceConfig) {
        for (path, controller, name) in self.routes.iter() {
            let controller = Arc::clone(controller);
            let name: &'static str = name;
            let state = self.clone();
            cfg.route(
                path,
                web::route().to(move |req: HttpRequest, payload: web::Payload| {
                    let controller = Arc::clone(&controller);
                    let state = state.clone();
                    async move {
                        let body = read_body(&req, payload).await?;
                        state.serve(controller.as_ref(), name, req, body).await
                    }
                }),
            );
        }
    }

    async fn serve(
        &self,
        controller: &dyn Controller,
        name: &'static str,
        req: HttpRequest,
        body: Bytes,
    ) -> Result<HttpResponse, ActixError> {
        let mut ctx = Context::new(req, body);
        ctx.set_controller(name);
        ctx.set_form_settings(Arc::clone(&self.forms));
        dispatch(controller, &mut ctx).await?;
        Ok(ctx.into_response(&self.templates, &self.render))
    }

    /// The whole actix-web app: the session middleware around the routes.
    ///
    /// # Examples
    ///
    /// See [`AppState`].
    pub fn app(
        &self,
    ) -> actix_web::App<
        impl ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<EitherBody<BoxBody>>,
            Error = ActixError,
            InitError = (),
        >,
    > {
        actix_web::App::new()
            .wrap(self.middleware())
            .configure(|cfg| self.configure(cfg))
    }
}

/// The request body, read only when the request has one.
///
/// actix-web's HTTP/1 decoder gives a request with no body (no
/// `Content-Length`, or 0, and not chunked) no payload at all; skipping
/// `Bytes`' extractor then saves its configuration lookups and future on
/// every GET. Everything else, HTTP/2 included (it always carries a payload
/// stream), goes through that extractor, so its `PayloadConfig` limit and
/// errors stay in force.
async fn read_body(req: &HttpRequest, payload: web::Payload) -> Result<Bytes, ActixError> {
    let mut payload = payload.into_inner();
    if matches!(payload, Payload::None) {
        return Ok(Bytes::new());
    }
    Bytes::from_request(req, &mut payload).await
}

/// A running server, from [`App::listen`].
///
/// # Examples
///
/// See [`App::listen`].
pub struct Listening {
    server: Server,
    addrs: Vec<SocketAddr>,
    state: AppState,
    gc: Option<GcTask>,
}

impl std::fmt::Debug for Listening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listening")
            .field("addrs", &self.addrs)
            .finish_non_exhaustive()
    }
}

impl Listening {
    /// The bound addresses (with the real port when 0 was asked for).
    ///
    /// # Examples
    ///
    /// See [`App::listen`].
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// A handle that stops the server; the stop completes while
    /// [`Listening::run`] is being awaited.
    ///
    /// # Examples
    ///
    /// See [`App::listen`].
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// The shared state (the session manager, the templates).
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// let listening = actix_bee::web::App::new(Default::default()).listen("127.0.0.1:0").await.unwrap();
    /// assert!(listening.state().manager().is_none());
    /// # let handle = listening.handle();
    /// # let server = actix_rt::spawn(listening.run());
    /// # handle.stop(true).await;
    /// # server.await.unwrap().unwrap();
    /// # });
    /// ```
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until the server stops, then stops the GC task.
    ///
    /// # Errors
    ///
    /// The server's I/O error.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), actix_bee::web::StartError> {
    /// let app = actix_bee::web::App::new(Default::default());
    /// app.listen("127.0.0.1:0").await?.run().await?;
    /// # Ok(()) }
    /// ```
    pub async fn run(self) -> std::io::Result<()> {
        let result = self.server.await;
        if let Some(gc) = self.gc {
            gc.stop();
        }
        result
    }
}
