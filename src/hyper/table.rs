//! The serde code of a declared table. serde's `flatten` cannot embed a group of keys here: it
//! does not combine with `deny_unknown_fields` and loses the spans of errors. Instead a table
//! reads its keys itself: each key is checked while it is read (so an unknown key's error
//! carries the key's span, as serde's derive gives), and its value goes to the field, group or
//! nested table that owns it, deserialised in place over the owner's default.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserializer, Serializer};

use super::Hyperparameters;

/// Deserialises a table into an existing value: the keys given replace the value's, the others
/// keep it (so a nested table keeps the defaults of the table that embeds it).
pub struct Fill<'a, H>(pub &'a mut H);

impl<'de, H: Hyperparameters> DeserializeSeed<'de> for Fill<'_, H> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, H: Hyperparameters> Visitor<'de> for Fill<'_, H> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a table of hyperparameters")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key_seed(Key(H::keys()))? {
            self.0.set(key, &mut map)?;
        }
        Ok(())
    }
}

/// Reads a key and checks it against the table's keys while the key is read.
struct Key(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for Key {
    type Value = &'static str;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = &'static str;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a hyperparameter name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        self.0
            .iter()
            .find(|k| **k == key)
            .copied()
            .ok_or_else(|| E::unknown_field(key, self.0))
    }
}

/// Serialises a table as a map of its keys (a group's keys inline).
pub fn serialize_table<H: Hyperparameters, S: Serializer>(
    table: &H,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(None)?;
    table.serialize_entries(&mut map)?;
    map.end()
}
