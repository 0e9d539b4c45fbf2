//! Semantic checks of typed config values (ranges, consistency), collected with the key path
//! of each offending value so that the loader can point at its line and column.
//!
//! The range checks take any [`Scalar`], so that one declaration (`batch_size: usize = 64,
//! nonzero;`, `max_grad_norm: Option<f64> = None, positive;`) checks integers, floats and unset
//! options alike.

/// A value the range checks read as a number; an unset option is not checked.
pub trait Scalar {
    fn number(&self) -> Option<f64>;
}

impl Scalar for f64 {
    fn number(&self) -> Option<f64> {
        Some(*self)
    }
}

/// Integers of every width a hyperparameter uses.
macro_rules! integer_scalars {
    ($($t:ty),*) => {$(
        impl Scalar for $t {
            fn number(&self) -> Option<f64> {
                Some(*self as f64)
            }
        }
    )*};
}
integer_scalars!(usize, u64, u32, i64);

impl<T: Scalar> Scalar for Option<T> {
    fn number(&self) -> Option<f64> {
        self.as_ref().and_then(Scalar::number)
    }
}

impl<T: Scalar> Scalar for &T {
    fn number(&self) -> Option<f64> {
        (*self).number()
    }
}

/// Collects `(key path, message)` pairs for the values that fail a check.
#[derive(Debug, Default)]
pub struct Checker {
    section: String,
    errors: Vec<(String, String)>,
}

impl Checker {
    /// A checker whose keys are relative to `section` (e.g. `algo`).
    pub fn new(section: &str) -> Self {
        Self {
            section: section.to_string(),
            errors: Vec::new(),
        }
    }

    /// Records `message` for `key` unless `ok`.
    pub fn require(&mut self, key: &str, ok: bool, message: impl FnOnce() -> String) {
        if !ok {
            self.errors
                .push((format!("{}.{key}", self.section), message()));
        }
    }

    /// Runs `check` with keys relative to the table `key` of this section (`algo.policy`).
    pub fn table(&mut self, key: &str, check: impl FnOnce(&mut Checker)) {
        let mut inner = Checker::new(&format!("{}.{key}", self.section));
        check(&mut inner);
        self.extend(inner);
    }

    /// Records `message(value)` for `key` when a set `value` fails `ok`.
    fn check_number(
        &mut self,
        key: &str,
        value: impl Scalar,
        ok: impl FnOnce(f64) -> bool,
        message: impl FnOnce(f64) -> String,
    ) {
        if let Some(v) = value.number() {
            self.require(key, ok(v), || message(v));
        }
    }

    /// `lo <= value <= hi`.
    pub fn in_closed(&mut self, key: &str, value: impl Scalar, lo: f64, hi: f64) {
        self.check_number(
            key,
            value,
            |v| v >= lo && v <= hi,
            |v| format!("must be in [{lo}, {hi}], got {v}"),
        );
    }

    /// `lo < value <= hi`.
    pub fn in_half_open(&mut self, key: &str, value: impl Scalar, lo: f64, hi: f64) {
        self.check_number(
            key,
            value,
            |v| v > lo && v <= hi,
            |v| format!("must be in ({lo}, {hi}], got {v}"),
        );
    }

    /// `lo <= value < hi`.
    pub fn in_closed_open(&mut self, key: &str, value: impl Scalar, lo: f64, hi: f64) {
        self.check_number(
            key,
            value,
            |v| v >= lo && v < hi,
            |v| format!("must be in [{lo}, {hi}), got {v}"),
        );
    }

    /// A finite value `> lo`.
    pub fn above(&mut self, key: &str, value: impl Scalar, lo: f64) {
        self.check_number(
            key,
            value,
            |v| v.is_finite() && v > lo,
            |v| format!("must be a finite number > {lo}, got {v}"),
        );
    }

    /// A finite value `> 0`.
    pub fn positive(&mut self, key: &str, value: impl Scalar) {
        self.above(key, value, 0.0);
    }

    /// A finite value `>= 0`.
    pub fn non_negative(&mut self, key: &str, value: impl Scalar) {
        self.check_number(
            key,
            value,
            |v| v.is_finite() && v >= 0.0,
            |v| format!("must be a finite number >= 0, got {v}"),
        );
    }

    /// A count `> 0`.
    pub fn nonzero(&mut self, key: &str, value: impl Scalar) {
        self.check_number(key, value, |v| v > 0.0, |_| "must be > 0".into());
    }

    /// A finite value.
    pub fn finite(&mut self, key: &str, value: impl Scalar) {
        self.check_number(key, value, f64::is_finite, |v| {
            format!("must be finite, got {v}")
        });
    }

    /// Finite values only.
    pub fn all_finite(&mut self, key: &str, values: &[f64]) {
        self.require(key, values.iter().all(|x| x.is_finite()), || {
            "must hold finite numbers".into()
        });
    }

    /// Layer sizes (or other counts), each `> 0`.
    pub fn all_nonzero(&mut self, key: &str, values: &[usize]) {
        self.require(key, values.iter().all(|&n| n > 0), || {
            format!("sizes must be > 0, got {values:?}")
        });
    }

    pub fn into_errors(self) -> Vec<(String, String)> {
        self.errors
    }

    pub fn extend(&mut self, other: Checker) {
        self.errors.extend(other.errors);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_messages_and_unset_options() {
        let mut c = Checker::new("algo");
        c.in_closed("gamma", 1.5, 0.0, 1.0);
        c.nonzero("batch_size", 0usize);
        c.positive("max_grad_norm", None::<f64>);
        c.positive("target_kl", Some(-1.0));
        c.table("policy", |c| c.all_nonzero("net_arch", &[64, 0]));
        c.in_closed_open("alpha", 1.0, 0.0, 1.0);
        assert_eq!(
            c.into_errors(),
            [
                ("algo.gamma", "must be in [0, 1], got 1.5"),
                ("algo.batch_size", "must be > 0"),
                ("algo.target_kl", "must be a finite number > 0, got -1"),
                ("algo.policy.net_arch", "sizes must be > 0, got [64, 0]"),
                ("algo.alpha", "must be in [0, 1), got 1"),
            ]
            .map(|(k, m)| (k.to_string(), m.to_string()))
        );
    }
}
