//! `--shard I/N`: one of N CI jobs runs the seeds (or sweep jobs) whose position in the list is
//! ≡ I (mod N), so that N jobs together run each exactly once.

use std::fmt;
use std::str::FromStr;

/// Shard `index` of `count` (0-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// The items of `items` in this shard: those at positions ≡ index (mod count), in order.
    pub fn select<T: Clone>(&self, items: &[T]) -> Vec<T> {
        items
            .iter()
            .skip(self.index)
            .step_by(self.count)
            .cloned()
            .collect()
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let usage = || format!("`{text}` is not a shard: expected I/N with 0 ≤ I < N, e.g. 0/3");
        let (i, n) = text.split_once('/').ok_or_else(usage)?;
        let (index, count): (usize, usize) = (
            i.trim().parse().map_err(|_| usage())?,
            n.trim().parse().map_err(|_| usage())?,
        );
        if count == 0 {
            return Err(format!("`{text}`: the shard count N must be at least 1"));
        }
        if index >= count {
            return Err(format!(
                "`{text}`: the shard index must be below the count (shards are 0..{count})"
            ));
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_list_in_order() {
        let seeds: Vec<u64> = (10..20).collect();
        let shards: Vec<Vec<u64>> = (0..3)
            .map(|i| Shard { index: i, count: 3 }.select(&seeds))
            .collect();
        assert_eq!(shards[0], [10, 13, 16, 19]);
        assert_eq!(shards[1], [11, 14, 17]);
        assert_eq!(shards[2], [12, 15, 18]);
        let mut union: Vec<u64> = shards.concat();
        union.sort();
        assert_eq!(union, seeds);
    }

    #[test]
    fn bad_shards_are_named() {
        assert_eq!("2/3".parse(), Ok(Shard { index: 2, count: 3 }));
        assert!(
            "3/2"
                .parse::<Shard>()
                .unwrap_err()
                .contains("below the count")
        );
        assert!("0/0".parse::<Shard>().unwrap_err().contains("at least 1"));
        assert!("a/b".parse::<Shard>().unwrap_err().contains("not a shard"));
        assert!("1".parse::<Shard>().unwrap_err().contains("not a shard"));
    }
}
