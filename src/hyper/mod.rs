//! Hyperparameters: each key declared once — field, type, default, help line, range check — with
//! [`hyperparameters!`], and shared groups of keys (the off-policy keys, an ε-greedy schedule,
//! a network table) declared once and embedded wherever they are used.
//!
//! A declared table parses with its own serde code: keys it does not give keep the defaults of
//! the table that embeds it, and an unknown key or a wrong type is an error at the key's (or the
//! value's) span, so that the loader names the file, key and line:column. [`Checker`] collects
//! the range checks with the path of each key.

mod check;
mod declare;
mod table;

pub use check::{Checker, Scalar};
pub(crate) use declare::hyperparameters;
pub use table::{Fill, serialize_table};

use serde::Serialize;
use serde::de::{DeserializeOwned, MapAccess};
use serde::ser::SerializeMap;

/// A table of hyperparameters, implemented by [`hyperparameters!`].
///
/// Besides help and checks, it carries what the generated serde code needs to embed one table
/// in another: its keys (a group's keys included), setting one key from a map, writing its
/// entries into a map.
pub trait Hyperparameters:
    Clone + std::fmt::Debug + PartialEq + Default + Serialize + DeserializeOwned
{
    /// `(key, meaning)` for every key in declaration order; a table's keys as `table.key`.
    fn help() -> Vec<(String, &'static str)> {
        let mut out = Vec::new();
        Self::describe("", &mut out);
        out
    }

    /// Appends the help of every key, each key prefixed by `prefix`.
    fn describe(prefix: &str, out: &mut Vec<(String, &'static str)>);

    /// Records out-of-range values (keys relative to the checker's section).
    fn check(&self, c: &mut Checker);

    /// The keys this table accepts (those of its groups included), for unknown-key errors.
    fn keys() -> &'static [&'static str];

    /// Appends the keys this table accepts.
    fn collect_keys(out: &mut Vec<&'static str>);

    /// Sets `key` (one of [`Self::keys`]) from the next value of `map`.
    fn set<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error>;

    /// Writes every key and value into `map`.
    fn serialize_entries<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error>;
}
