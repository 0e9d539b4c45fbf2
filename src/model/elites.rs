//! The elites of an ensemble (Janner et al. 2019, appendix C; Chua et al. 2018's reference
//! code): the members with the lowest one-step error on transitions held out of the fit, the
//! ones MBPO's model rollouts draw from.

use super::learned::Model;
use super::transitions::Transitions;

impl Model {
    /// Each member's squared error of μ on the normalised Δs, Σ_j (μ_bj − Δ̂_j)² averaged over
    /// all transitions of `data`.
    pub fn member_errors(&self, data: &Transitions) -> Vec<f64> {
        let (n, d) = (data.len(), data.obs_dim);
        let members = self.ensemble.members();
        let means = self.member_means(&data.inputs());
        let deltas = data.deltas();
        (0..members)
            .map(|b| {
                let sum: f64 = (0..n * d)
                    .map(|at| {
                        let target = self.target.normalize(at % d, deltas[at]);
                        f64::from(means[b * n * d + at] - target).powi(2)
                    })
                    .sum();
                sum / n.max(1) as f64
            })
            .collect()
    }
}

/// The indices of the `k` smallest `errors`, ascending by error (ties: the lower index first).
pub fn elites(errors: &[f64], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..errors.len()).collect();
    order.sort_by(|&a, &b| errors[a].total_cmp(&errors[b]).then(a.cmp(&b)));
    order.truncate(k);
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elites_are_the_k_smallest_errors() {
        let errors = [0.5, 0.1, 0.9, 0.1, 0.3];
        assert_eq!(elites(&errors, 3), vec![1, 3, 4]);
        assert_eq!(elites(&errors, 5), vec![1, 3, 4, 0, 2]);
    }
}
