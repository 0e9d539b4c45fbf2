//! Bootstrap resampling (Efron 1979) of an ensemble's training data (Chua et al. 2018, §4.1:
//! each member is trained on its own dataset drawn with replacement from the collected one).

use rand::RngExt;

use crate::rng::Rng;

/// For each of `members` members, `n` indices drawn uniformly with replacement from 0..n.
pub fn bootstrap(n: usize, members: usize, rng: &mut Rng) -> Vec<Vec<usize>> {
    (0..members)
        .map(|_| (0..n).map(|_| rng.random_range(0..n)).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::from_seed;

    /// Reproducible, in range, different per member, and each covers about 1 − 1/e of the data.
    #[test]
    fn bootstraps_cover_about_one_minus_one_over_e() {
        let n = 20_000;
        let sets = bootstrap(n, 3, &mut from_seed(5));
        assert_eq!(sets, bootstrap(n, 3, &mut from_seed(5)));
        assert_ne!(sets[0], sets[1]);
        for set in &sets {
            assert_eq!(set.len(), n);
            assert!(set.iter().all(|&i| i < n));
            let mut seen = vec![false; n];
            set.iter().for_each(|&i| seen[i] = true);
            let covered = seen.iter().filter(|&&s| s).count() as f64 / n as f64;
            let want = 1.0 - (-1.0f64).exp();
            assert!((covered - want).abs() < 0.01, "covered {covered}");
        }
    }
}
