//! TRPO's backtracking line search (Schulman et al. 2015, appendix C): from the full natural
//! step β (scaled to the KL bound's quadratic estimate), try the fractions 1, s, s², … of it
//! (s = `line_search_shrinking_factor`, at most `line_search_max_iter` tries) and accept the first
//! whose surrogate objective improves on the old one and whose mean KL(π_old ‖ π_new) stays below
//! `target_kl`; if none does, the policy is left as it was (as sb3-contrib does).

/// The accepted fraction of the full step and what it achieved.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Accepted {
    /// The fraction sⁱ of the full step taken.
    pub coefficient: f64,
    /// The surrogate objective after the step.
    pub objective: f64,
    /// The mean KL(π_old ‖ π_new) after the step (< `target_kl`).
    pub kl: f64,
    /// Candidates evaluated, the accepted one included.
    pub tries: usize,
}

/// The settings of the search.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LineSearch {
    /// s ∈ (0, 1): each rejected fraction is multiplied by it.
    pub shrinking_factor: f64,
    /// Candidates tried before giving up.
    pub max_iter: usize,
}

impl LineSearch {
    /// Backtracks from the full step: `evaluate(c)` gives (objective, KL) of the policy moved by
    /// c × the full step. Returns the first candidate with KL < `target_kl` and objective >
    /// `old_objective`, or `None` (no step) when the tries run out.
    pub fn backtrack(
        &self,
        old_objective: f64,
        target_kl: f64,
        mut evaluate: impl FnMut(f64) -> (f64, f64),
    ) -> Option<Accepted> {
        let mut coefficient = 1.0;
        for tries in 1..=self.max_iter {
            let (objective, kl) = evaluate(coefficient);
            // NaN fails both comparisons, so a non-finite candidate is never accepted.
            if kl < target_kl && objective > old_objective {
                return Some(Accepted {
                    coefficient,
                    objective,
                    kl,
                    tries,
                });
            }
            coefficient *= self.shrinking_factor;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A quadratic model of a step: the objective gains linearly and loses quadratically, the
    /// KL grows as c²; the first fraction inside the bound is accepted.
    #[test]
    fn trpo_line_search_accepts_the_first_step_inside_the_bound() {
        let search = LineSearch {
            shrinking_factor: 0.5,
            max_iter: 10,
        };
        let mut tried = Vec::new();
        let accepted = search
            .backtrack(0.0, 0.01, |c| {
                tried.push(c);
                (c - c * c * 0.1, 10.0 * c * c)
            })
            .unwrap();
        // 10 c² < 0.01 first at c = 2⁻⁵ (0.0098); 2⁻⁴ gives 0.039.
        assert_eq!(accepted.coefficient, 0.5f64.powi(5));
        assert_eq!(accepted.tries, 6);
        assert_eq!(tried.len(), 6);
        assert!(accepted.kl < 0.01);
    }

    /// Over many shapes of objective and KL (some never improving, some with a KL that jumps),
    /// an accepted step always has KL below the bound and a better objective; a search that
    /// finds none takes no step.
    #[test]
    fn trpo_line_search_never_accepts_a_step_above_the_kl_bound() {
        let target = 0.02;
        let mut accepted_some = 0;
        let mut rejected_all = 0;
        for case in 0..200u32 {
            let a = f64::from(case % 7) * 0.3 - 0.6; // objective slope, some negative
            let k = 0.001 * f64::from(1 + case % 13) * f64::from(1 + case / 13); // KL scale
            let spike = case % 5 == 0; // a KL that is high at every other fraction
            let search = LineSearch {
                shrinking_factor: 0.3 + 0.05 * f64::from(case % 9),
                max_iter: 1 + (case as usize % 12),
            };
            let mut seen = Vec::new();
            let result = search.backtrack(0.0, target, |c| {
                let kl = k
                    * c
                    * c
                    * if spike && seen.len() % 2 == 0 {
                        50.0
                    } else {
                        1.0
                    };
                let objective = a * c - 0.05 * c * c;
                seen.push((objective, kl));
                (objective, kl)
            });
            match result {
                Some(step) => {
                    accepted_some += 1;
                    assert!(step.kl < target, "case {case}: {step:?}");
                    assert!(step.objective > 0.0, "case {case}: {step:?}");
                    assert_eq!(seen.len(), step.tries);
                    // Every earlier candidate broke a condition.
                    for &(o, kl) in &seen[..seen.len() - 1] {
                        assert!(kl >= target || o <= 0.0, "case {case}: skipped {o} {kl}");
                    }
                }
                None => {
                    rejected_all += 1;
                    assert_eq!(seen.len(), search.max_iter);
                    assert!(seen.iter().all(|&(o, kl)| kl >= target || o <= 0.0));
                }
            }
        }
        assert!(
            accepted_some > 20 && rejected_all > 20,
            "{accepted_some} {rejected_all}"
        );
    }

    #[test]
    fn trpo_line_search_rejects_non_finite_candidates() {
        let search = LineSearch {
            shrinking_factor: 0.5,
            max_iter: 3,
        };
        assert_eq!(search.backtrack(0.0, 0.01, |_| (f64::NAN, 0.0)), None);
        assert_eq!(search.backtrack(0.0, 0.01, |_| (1.0, f64::NAN)), None);
    }
}
