//! The seed list of an experiment: `"0..5"` (end exclusive), `"0..=4"`, `"0,3,7"` or a TOML
//! array `[0, 3, 7]`.

use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The most seeds one experiment runs (a range beyond it is a typo, not a plan: it is refused
/// before anything is allocated).
pub const MAX_SEEDS: u64 = 100_000;

/// Distinct seeds in the order given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seeds(pub Vec<u64>);

impl Seeds {
    /// Parses `"a..b"`, `"a..=b"` or a comma-separated list.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let number = |s: &str| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| format!("`{}` is not a non-negative integer", s.trim()))
        };
        let too_many = |count: u64| {
            format!("`{text}` is {count} seeds; at most {MAX_SEEDS} run in one experiment")
        };
        let seeds = if let Some((a, b)) = text.split_once("..=") {
            let (a, b) = (number(a)?, number(b)?);
            if b < a {
                return Err(format!(
                    "empty seed range `{text}`: the end is below the start"
                ));
            }
            if b - a >= MAX_SEEDS {
                return Err(too_many((b - a).saturating_add(1)));
            }
            (a..=b).collect()
        } else if let Some((a, b)) = text.split_once("..") {
            let (a, b) = (number(a)?, number(b)?);
            if b <= a {
                return Err(format!(
                    "empty seed range `{text}`: `a..b` runs a, a+1, ..., b-1, so b must be > a"
                ));
            }
            if b - a > MAX_SEEDS {
                return Err(too_many(b - a));
            }
            (a..b).collect()
        } else {
            text.split(',').map(number).collect::<Result<Vec<_>, _>>()?
        };
        Self::from_list(seeds)
    }

    /// Checks a list: not empty, at most [`MAX_SEEDS`], no repeats.
    pub fn from_list(seeds: Vec<u64>) -> Result<Self, String> {
        if seeds.is_empty() {
            return Err("the seed list is empty".into());
        }
        if seeds.len() as u64 > MAX_SEEDS {
            return Err(format!(
                "{} seeds; at most {MAX_SEEDS} run in one experiment",
                seeds.len()
            ));
        }
        let mut seen = std::collections::HashSet::with_capacity(seeds.len());
        if let Some(s) = seeds.iter().find(|s| !seen.insert(**s)) {
            return Err(format!("seed {s} is listed twice"));
        }
        Ok(Self(seeds))
    }
}

impl Serialize for Seeds {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Seeds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SeedsVisitor;
        impl<'de> Visitor<'de> for SeedsVisitor {
            type Value = Seeds;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a seed range such as \"0..5\" or \"0..=4\", or an array of seeds")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Seeds, E> {
                Seeds::parse(v).map_err(E::custom)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Seeds, A::Error> {
                let mut seeds = Vec::new();
                while let Some(s) = seq.next_element::<u64>()? {
                    seeds.push(s);
                }
                Seeds::from_list(seeds).map_err(de::Error::custom)
            }
        }
        deserializer.deserialize_any(SeedsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_lists_and_errors() {
        assert_eq!(Seeds::parse("0..5").unwrap().0, vec![0, 1, 2, 3, 4]);
        assert_eq!(Seeds::parse("2..=4").unwrap().0, vec![2, 3, 4]);
        assert_eq!(Seeds::parse("0, 3,7").unwrap().0, vec![0, 3, 7]);
        assert_eq!(Seeds::parse("9").unwrap().0, vec![9]);
        assert!(
            Seeds::parse("5..2")
                .unwrap_err()
                .contains("empty seed range")
        );
        assert!(Seeds::parse("3..3").is_err());
        assert!(Seeds::parse("1,1").unwrap_err().contains("twice"));
        assert!(Seeds::parse("a..3").unwrap_err().contains("`a`"));
        assert!(Seeds::parse("-1").is_err());
    }

    #[test]
    fn a_huge_range_is_refused_before_it_is_allocated() {
        assert_eq!(Seeds::parse("0..100000").unwrap().0.len(), 100_000);
        assert_eq!(Seeds::parse("1..=100000").unwrap().0.len(), 100_000);
        let error = Seeds::parse("0..100000000000").unwrap_err();
        assert!(
            error.contains("100000000000 seeds") && error.contains("at most 100000"),
            "{error}"
        );
        assert!(
            Seeds::parse("0..=18446744073709551615")
                .unwrap_err()
                .contains("at most")
        );
    }
}
