//! Trials: the points of a sweep (every combination of the grid lists, each with `samples`
//! random draws from the sweep's own seed), each named by the values that vary, e.g.
//! `learning_rate=3e-4,n_epochs=10`.

use toml_edit::Value;

use super::spec::SweepSpec;
use crate::error::UsageError;
use crate::rng;

/// The most trials one sweep expands into (a larger grid is a typo, not a plan).
pub const MAX_TRIALS: usize = 10_000;
/// Trial ids longer than this are replaced by `trial_<k>` (folder names have a length limit).
const MAX_ID_LEN: usize = 200;

/// One point of a sweep.
#[derive(Clone, Debug)]
pub struct Trial {
    /// Folder name: the values that vary, `key=value` joined by `,`.
    pub id: String,
    /// The value of every swept key (TOML), in the file's order.
    pub params: Vec<(String, Value)>,
}

impl Trial {
    /// The trial as `--set` overrides (`algo.learning_rate=0.0003`).
    pub fn overrides(&self) -> Vec<String> {
        self.params
            .iter()
            .map(|(key, value)| format!("{key}={}", value.to_string().trim()))
            .collect()
    }
}

/// Expands `spec` into its trials: the grid's combinations (the last key varying fastest),
/// each with `spec.samples` draws of the random keys; the same spec gives the same trials.
pub fn expand(spec: &SweepSpec) -> Result<Vec<Trial>, UsageError> {
    let count = spec
        .grid
        .iter()
        .try_fold(spec.samples, |n, (_, values)| n.checked_mul(values.len()))
        .filter(|n| *n <= MAX_TRIALS);
    if count.is_none() {
        return Err(UsageError::new(format!(
            "{}: [sweep] expands into more than {MAX_TRIALS} trials; shrink the grid or samples",
            spec.origin
        )));
    }
    let mut points: Vec<Vec<(String, Value)>> = vec![Vec::new()];
    for (key, values) in &spec.grid {
        points = points
            .into_iter()
            .flat_map(|point| {
                values.iter().map(move |v| {
                    let mut p = point.clone();
                    p.push((key.clone(), v.clone()));
                    p
                })
            })
            .collect();
    }
    let mut rng = rng::from_seed(spec.seed);
    let mut params = Vec::new();
    for point in points {
        for _ in 0..spec.samples {
            let mut p = point.clone();
            p.extend(
                spec.random
                    .iter()
                    .map(|(key, d)| (key.clone(), d.sample(&mut rng))),
            );
            params.push(p);
        }
    }
    let varying: Vec<&str> = spec
        .grid
        .iter()
        .filter(|(_, values)| values.len() > 1)
        .map(|(k, _)| k.as_str())
        .chain(spec.random.iter().map(|(k, _)| k.as_str()))
        .collect();
    let mut trials: Vec<Trial> = params
        .into_iter()
        .map(|params| Trial {
            id: id(&params, &varying),
            params,
        })
        .collect();
    for k in 0..trials.len() {
        let repeated = trials.iter().filter(|t| t.id == trials[k].id).count() > 1;
        if repeated || trials[k].id.len() > MAX_ID_LEN {
            trials[k].id = format!("trial_{k}");
        }
    }
    Ok(trials)
}

/// `key=value` of every varying key, joined by `,`; a key is its last component unless two
/// varying keys share it.
fn id(params: &[(String, Value)], varying: &[&str]) -> String {
    let short = |key: &str| key.rsplit('.').next().unwrap_or(key).to_string();
    let parts: Vec<String> = params
        .iter()
        .filter(|(key, _)| varying.contains(&key.as_str()))
        .map(|(key, value)| {
            let shared = varying.iter().filter(|v| short(v) == short(key)).count() > 1;
            let name = if shared { key.clone() } else { short(key) };
            format!("{name}={}", show(value))
        })
        .collect();
    if parts.is_empty() {
        return "base".into();
    }
    parts
        .join(",")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_-.=,+".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A value as an id shows it: a float as written in the file or, when drawn, to four
/// significant digits; a string without quotes; a list's items joined by `x`.
fn show(value: &Value) -> String {
    match value {
        Value::String(s) => s.value().clone(),
        Value::Float(f) if f.as_repr().is_none() => significant(*f.value()),
        Value::Array(items) => items.iter().map(show).collect::<Vec<_>>().join("x"),
        other => other.to_string().trim().to_string(),
    }
}

/// `x` to four significant digits, in scientific notation when very small or large.
fn significant(x: f64) -> String {
    if x != 0.0 && !(1e-3..1e4).contains(&x.abs()) {
        let text = format!("{x:.3e}");
        let (mantissa, exponent) = text.split_once('e').expect("scientific");
        format!(
            "{}e{exponent}",
            mantissa.trim_end_matches('0').trim_end_matches('.')
        )
    } else {
        let digits = (3 - x.abs().log10().floor() as i32).max(0) as usize;
        let text = format!("{x:.digits$}");
        if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::distribution::Distribution;

    fn spec(grid: &[(&str, &str)], random: Vec<(&str, Distribution)>, samples: usize) -> SweepSpec {
        SweepSpec {
            name: "s".into(),
            base: String::new(),
            base_origin: "b.toml".into(),
            origin: "s.toml".into(),
            seeds: None,
            grid: grid
                .iter()
                .map(|(k, list)| {
                    let array: Value = list.parse().unwrap();
                    let values = array
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.clone().decorated("", ""))
                        .collect();
                    (k.to_string(), values)
                })
                .collect(),
            random: random
                .into_iter()
                .map(|(k, d)| (k.to_string(), d))
                .collect(),
            samples,
            seed: 7,
        }
    }

    #[test]
    fn a_grid_expands_into_every_combination_named_by_what_varies() {
        let s = spec(
            &[
                ("algo.learning_rate", "[3e-4, 1e-3]"),
                ("algo.n_epochs", "[5, 10, 20]"),
                ("algo.gamma", "[0.99]"),
            ],
            vec![],
            1,
        );
        let trials = expand(&s).unwrap();
        let ids: Vec<&str> = trials.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "learning_rate=3e-4,n_epochs=5",
                "learning_rate=3e-4,n_epochs=10",
                "learning_rate=3e-4,n_epochs=20",
                "learning_rate=1e-3,n_epochs=5",
                "learning_rate=1e-3,n_epochs=10",
                "learning_rate=1e-3,n_epochs=20",
            ]
        );
        assert_eq!(
            trials[1].overrides(),
            [
                "algo.learning_rate=3e-4",
                "algo.n_epochs=10",
                "algo.gamma=0.99"
            ]
        );
    }

    #[test]
    fn random_search_draws_the_same_trials_from_the_same_seed() {
        let random = || {
            vec![
                ("algo.learning_rate", Distribution::LogUniform(1e-5, 1e-2)),
                ("algo.n_epochs", Distribution::Integer(1, 20)),
            ]
        };
        let s = spec(&[("env.num_envs", "[1, 4]")], random(), 3);
        let sets = |s: &SweepSpec| -> Vec<Vec<String>> {
            expand(s).unwrap().iter().map(Trial::overrides).collect()
        };
        let trials = expand(&s).unwrap();
        assert_eq!(trials.len(), 6);
        assert_eq!(sets(&s), sets(&s));
        let mut other = spec(&[("env.num_envs", "[1, 4]")], random(), 3);
        other.seed = 8;
        assert_ne!(sets(&s), sets(&other));
        for t in &trials {
            assert!(t.id.starts_with("num_envs="), "{}", t.id);
            let lr = t.params[1].1.as_float().unwrap();
            assert!((1e-5..=1e-2).contains(&lr));
        }
    }

    #[test]
    fn ids_of_shared_names_use_the_full_key_and_draws_are_rounded() {
        let s = spec(
            &[("algo.gamma", "[0.9, 0.99]"), ("env.gamma", "[1, 2]")],
            vec![],
            1,
        );
        assert_eq!(expand(&s).unwrap()[0].id, "algo.gamma=0.9,env.gamma=1");
        assert_eq!(significant(0.000312345), "3.123e-4");
        assert_eq!(significant(0.512345), "0.5123");
        assert_eq!(significant(123.456), "123.5");
        assert_eq!(significant(2.0), "2");
    }

    #[test]
    fn a_huge_grid_is_refused() {
        let list = format!(
            "[{}]",
            (0..200)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
        let s = spec(&[("algo.a", &list), ("algo.b", &list)], vec![], 1);
        assert!(expand(&s).unwrap_err().0.contains("more than 10000 trials"));
    }
}
