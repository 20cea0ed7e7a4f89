//! The typed accessors every [`Store`] has: serde values encoded and
//! decoded by the store's [`Format`], read and written in place when the
//! store is a [`MapStore`].
//!
//! Apart from `store.rs` so that the `Store` trait does not depend on
//! `MapStore`, which implements it.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::engine::MapStore;
use super::error::Result;
use super::format::Format;
use super::store::Store;

impl dyn Store {
    /// This store as a [`MapStore`], when it is one (see
    /// [`Store::as_any`]): the typed
    /// [`get`](#method.get) and [`set`](#method.set) then read and write its
    /// in-request values directly, without a boxed future or a copy of the
    /// value (they run on every request). `None` by default.
    ///
    /// # Examples
    ///
    /// ```
    /// # actix_rt::System::new().block_on(async {
    /// use actix_bee::session::Provider;
    /// use actix_bee::session::memory::MemoryProvider;
    /// use actix_bee::session::IdGenerator;
    ///
    /// let store = MemoryProvider::default()
    ///     .session_new(&IdGenerator::default().generate().unwrap())
    ///     .await
    ///     .unwrap();
    /// assert!(store.as_map_store().is_some());
    /// # });
    /// ```
    pub fn as_map_store(&self) -> Option<&MapStore> {
        self.as_any()?.downcast_ref()
    }

    /// Sets `key` to a serde value.
    ///
    /// # Errors
    ///
    /// [`Error::Encode`](super::Error::Encode) when the value cannot be
    /// encoded; engine errors otherwise.
    ///
    /// # Examples
    ///
    /// See [`Store`].
    pub async fn set<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<()> {
        let format = self.format();
        if let Some(map) = self.as_map_store() {
            let bytes = match format {
                Format::Native => format.encode_value(key, value, None)?,
                _ => map
                    .with_value(key, |old| format.encode_value(key, value, Some(old)))
                    .unwrap_or_else(|| format.encode_value(key, value, None))?,
            };
            map.put(key, bytes);
            return Ok(());
        }
        let bytes = match format {
            Format::Native => format.encode_value(key, value, None)?,
            // A beego value keeps the Go type of the value it replaces.
            _ => {
                let old = self.get_value(key).await?;
                format.encode_value(key, value, old.as_deref())?
            }
        };
        self.set_value(key, bytes).await
    }

    /// Sets `key` to a Go value with the Go type it carries (see
    /// [`Session::set_gob`](super::Session::set_gob)).
    ///
    /// # Errors
    ///
    /// [`Error::Encode`](super::Error::Encode) in the native format, for a
    /// nil value or a reserved key; engine errors otherwise.
    ///
    /// # Examples
    ///
    /// See [`Session::set_gob`](super::Session::set_gob).
    pub async fn set_gob(&self, key: &str, value: crate::gob::Value) -> Result<()> {
        let bytes = self.format().encode_gob(key, value)?;
        self.set_value(key, bytes).await
    }

    /// Gets `key` as `T`; `Ok(None)` when absent.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`](super::Error::Decode) when the stored value has
    /// another type.
    ///
    /// # Examples
    ///
    /// See [`Store`].
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        let format = self.format();
        if format.is_reserved(key) {
            return Ok(None);
        }
        if let Some(map) = self.as_map_store() {
            return map
                .with_value(key, |bytes| format.decode_value(key, bytes))
                .transpose();
        }
        match self.get_value(key).await? {
            Some(bytes) => format.decode_value(key, &bytes).map(Some),
            None => Ok(None),
        }
    }
}
