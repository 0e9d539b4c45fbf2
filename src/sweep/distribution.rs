//! The distributions of random search: `{ uniform = [low, high] }`, `{ log_uniform = [low,
//! high] }`, `{ integer = [low, high] }` (both ends included) and `{ choice = [a, b, ...] }`.

use rand::RngExt;
use toml_edit::Value;

use crate::rng::Rng;

/// The distribution names a sweep key may take.
pub const NAMES: [&str; 4] = ["uniform", "log_uniform", "integer", "choice"];

/// One swept key's distribution.
#[derive(Clone, Debug)]
pub enum Distribution {
    Uniform(f64, f64),
    LogUniform(f64, f64),
    Integer(i64, i64),
    Choice(Vec<Value>),
}

impl Distribution {
    /// Parses `{ <name> = [...] }`; the error says what is wrong (the caller names the key).
    pub fn parse(name: &str, args: &Value) -> Result<Self, String> {
        if !NAMES.contains(&name) {
            return Err(format!(
                "unknown distribution `{name}`{}; allowed: {}",
                crate::suggest::did_you_mean(name, NAMES),
                NAMES.join(", ")
            ));
        }
        let list: Vec<&Value> = args
            .as_array()
            .ok_or_else(|| format!("{name} takes a list, e.g. {name} = {}", example(name)))?
            .iter()
            .collect();
        if name == "choice" {
            if list.is_empty() {
                return Err("choice = []: the list of choices is empty".into());
            }
            return Ok(Self::Choice(list.into_iter().cloned().collect()));
        }
        let [low, high] = list[..] else {
            return Err(format!(
                "{name} takes [low, high], e.g. {name} = {}",
                example(name)
            ));
        };
        if name == "integer" {
            let (Some(l), Some(h)) = (low.as_integer(), high.as_integer()) else {
                return Err(format!(
                    "integer bounds must be integers, e.g. {}",
                    example(name)
                ));
            };
            if l >= h {
                return Err(format!("integer = [{l}, {h}]: low must be below high"));
            }
            return Ok(Self::Integer(l, h));
        }
        let number = |v: &Value| v.as_float().or_else(|| v.as_integer().map(|i| i as f64));
        let (Some(l), Some(h)) = (number(low), number(high)) else {
            return Err(format!(
                "{name} bounds must be numbers, e.g. {}",
                example(name)
            ));
        };
        if !(l.is_finite() && h.is_finite()) || l >= h {
            return Err(format!("{name} = [{l}, {h}]: low must be below high"));
        }
        match name {
            "log_uniform" if l <= 0.0 => Err(format!(
                "log_uniform = [{l}, {h}]: both bounds must be > 0 (it draws the logarithm uniformly)"
            )),
            "log_uniform" => Ok(Self::LogUniform(l, h)),
            _ => Ok(Self::Uniform(l, h)),
        }
    }

    /// One draw.
    pub fn sample(&self, rng: &mut Rng) -> Value {
        match self {
            Self::Uniform(l, h) => Value::from(l + (h - l) * rng.random::<f64>()),
            Self::LogUniform(l, h) => {
                Value::from((l.ln() + (h.ln() - l.ln()) * rng.random::<f64>()).exp())
            }
            Self::Integer(l, h) => Value::from(rng.random_range(*l..=*h)),
            Self::Choice(values) => values[rng.random_range(0..values.len())].clone(),
        }
    }
}

fn example(name: &str) -> &'static str {
    match name {
        "log_uniform" => "[1e-5, 1e-2]",
        "integer" => "[1, 10]",
        "choice" => "[\"linear\", \"exponential\"]",
        _ => "[0.0, 1.0]",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Distribution, String> {
        let value: Value = text.parse().unwrap();
        let table = value.as_inline_table().unwrap();
        let (name, args) = table.iter().next().unwrap();
        Distribution::parse(name, args)
    }

    #[test]
    fn draws_stay_in_their_bounds() {
        let mut rng = crate::rng::from_seed(0);
        for _ in 0..1000 {
            let u = parse("{ uniform = [-1, 2] }").unwrap().sample(&mut rng);
            assert!((-1.0..2.0).contains(&u.as_float().unwrap()));
            let l = parse("{ log_uniform = [1e-4, 1e-2] }")
                .unwrap()
                .sample(&mut rng);
            assert!((1e-4..=1e-2).contains(&l.as_float().unwrap()));
            let i = parse("{ integer = [1, 3] }").unwrap().sample(&mut rng);
            assert!((1..=3).contains(&i.as_integer().unwrap()));
            let c = parse("{ choice = [\"a\", \"b\"] }")
                .unwrap()
                .sample(&mut rng);
            assert!(["a", "b"].contains(&c.as_str().unwrap()));
        }
    }

    #[test]
    fn bad_bounds_are_named() {
        assert!(
            parse("{ uniform = [1, 1] }")
                .unwrap_err()
                .contains("low must be below high")
        );
        assert!(
            parse("{ log_uniform = [0, 1] }")
                .unwrap_err()
                .contains("must be > 0")
        );
        assert!(
            parse("{ integer = [5, 2] }")
                .unwrap_err()
                .contains("[5, 2]")
        );
        assert!(parse("{ choice = [] }").unwrap_err().contains("empty"));
        assert!(
            parse("{ uniform = [1] }")
                .unwrap_err()
                .contains("[low, high]")
        );
        assert!(
            parse("{ log_unifrom = [1, 2, 3] }")
                .unwrap_err()
                .contains("did you mean")
        );
    }
}
