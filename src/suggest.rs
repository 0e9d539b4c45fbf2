//! "Did you mean ...?": the closest allowed name to a misspelt one, by edit distance
//! (Damerau's optimal string alignment: typos are mostly one insertion, deletion, substitution or
//! swap of neighbours).

/// The candidate closest to `given` (edit distance, ties to the first), if it is close
/// enough to be a typo: at most a third of the longer name's characters differ (at least one).
pub fn closest<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(given, c), c))
        .filter(|(d, c)| *d > 0 && *d <= (given.chars().count().max(c.chars().count()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `"; did you mean `x`?"` for [`closest`], or nothing.
pub fn did_you_mean<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(given, candidates).map_or_else(String::new, |c| format!("; did you mean `{c}`?"))
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions and transpositions
/// of adjacent characters (`evn` → `env` is one edit), each costing one.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distances_of_known_pairs() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("expriment", "experiment"), 1);
        assert_eq!(edit_distance("same", "same"), 0);
        assert_eq!(
            edit_distance("evn", "env"),
            1,
            "a transposition is one edit"
        );
        assert_eq!(edit_distance("ca", "abc"), 3);
    }

    #[test]
    fn typos_get_a_suggestion_and_strangers_none() {
        let tables = ["experiment", "env", "algo"];
        assert_eq!(closest("expriment", tables), Some("experiment"));
        assert_eq!(closest("evn", tables), Some("env"));
        assert_eq!(closest("alog", ["ppo", "algo"]), Some("algo"));
        assert_eq!(closest("network", tables), None);
        assert_eq!(closest("env", tables), None, "an exact name is no typo");
        assert_eq!(did_you_mean("pp0", ["ppo", "a2c"]), "; did you mean `ppo`?");
        assert_eq!(did_you_mean("xyz", ["ppo", "a2c"]), "");
    }
}
