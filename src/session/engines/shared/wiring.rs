//! How a built-in engine's public type becomes a [`Provider`](crate::session::Provider):
//! a newtype over [`Engine`](crate::session::engine::Engine) with every
//! method forwarded, written once in [`engine_provider!`].

use crate::session::error::Result;

/// The boxed future type `async_trait` gives a `Provider` method.
pub(crate) type Boxed<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T>> + Send + 'a>>;

/// One method of [`engine_provider!`] that takes an id: it hands on
/// `Engine`'s boxed future as is (the signature `async_trait` gives it).
macro_rules! forward_boxed {
    ($method:ident -> $ty:ty) => {
        fn $method<'life0, 'life1, 'async_trait>(
            &'life0 self,
            sid: &'life1 $crate::session::SessionId,
        ) -> $crate::session::engines::shared::wiring::Boxed<'async_trait, $ty>
        where
            'life0: 'async_trait,
            'life1: 'async_trait,
            Self: 'async_trait,
        {
            self.0.$method(sid)
        }
    };
}
pub(crate) use forward_boxed;

/// Declares a public engine type over `Engine<$records>` and implements
/// [`Provider`] for it by delegation: the one place engines' public types
/// are wired. The per-request methods hand on `Engine`'s boxed future
/// rather than boxing it again (an `async fn` here would allocate a second
/// future per call).
macro_rules! engine_provider {
    ($(#[$meta:meta])* pub struct $name:ident($records:ty);) => {
        $(#[$meta])*
        #[derive(Debug)]
        pub struct $name($crate::session::engine::Engine<$records>);

        #[async_trait::async_trait]
        impl $crate::session::Provider for $name {
            async fn session_init(
                &mut self,
                max_lifetime: std::time::Duration,
                config: &str,
            ) -> $crate::session::Result<()> {
                self.0.session_init(max_lifetime, config).await
            }
            $crate::session::engines::shared::wiring::forward_boxed!(
                session_read -> std::sync::Arc<dyn $crate::session::Store>
            );
            $crate::session::engines::shared::wiring::forward_boxed!(
                session_new -> std::sync::Arc<dyn $crate::session::Store>
            );
            $crate::session::engines::shared::wiring::forward_boxed!(session_exist -> bool);
            async fn session_regenerate(
                &self,
                old: &$crate::session::SessionId,
                new: &$crate::session::SessionId,
            ) -> $crate::session::Result<std::sync::Arc<dyn $crate::session::Store>> {
                self.0.session_regenerate(old, new).await
            }
            $crate::session::engines::shared::wiring::forward_boxed!(session_destroy -> ());
            async fn session_all(&self) -> $crate::session::Result<usize> {
                self.0.session_all().await
            }
            async fn session_gc(&self) -> $crate::session::Result<()> {
                self.0.session_gc().await
            }
            fn owner_index(
                &self,
            ) -> $crate::session::Result<&dyn $crate::session::OwnerIndex> {
                self.0.owner_index()
            }
            fn name(&self) -> &'static str {
                self.0.name()
            }
            fn id_format(&self) -> $crate::session::engine::IdFormat {
                self.0.id_format()
            }
            fn set_format(
                &mut self,
                format: $crate::session::engine::Format,
            ) -> $crate::session::Result<()> {
                self.0.set_format(format)
            }
        }
    };
}
pub(crate) use engine_provider;
