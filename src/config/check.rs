//! Semantic checks of typed config values (ranges, consistency), collected with the key path
//! of each offending value so that the loader can point at its line and column.

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

    /// `lo <= value <= hi`.
    pub fn in_closed(&mut self, key: &str, value: f64, lo: f64, hi: f64) {
        self.require(key, value >= lo && value <= hi, || {
            format!("must be in [{lo}, {hi}], got {value}")
        });
    }

    /// `lo < value <= hi`.
    pub fn in_half_open(&mut self, key: &str, value: f64, lo: f64, hi: f64) {
        self.require(key, value > lo && value <= hi, || {
            format!("must be in ({lo}, {hi}], got {value}")
        });
    }

    /// A finite value `> 0`.
    pub fn positive(&mut self, key: &str, value: f64) {
        self.require(key, value.is_finite() && value > 0.0, || {
            format!("must be a finite number > 0, got {value}")
        });
    }

    /// A finite value.
    pub fn finite(&mut self, key: &str, value: f64) {
        self.require(key, value.is_finite(), || {
            format!("must be finite, got {value}")
        });
    }

    pub fn into_errors(self) -> Vec<(String, String)> {
        self.errors
    }

    pub fn extend(&mut self, other: Checker) {
        self.errors.extend(other.errors);
    }
}
