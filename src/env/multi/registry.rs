//! The multi-agent env registry: ids, options and construction (MPE2's `parallel_env(...)`).

use std::sync::Arc;

use super::MultiAgentEnv;
use super::mpe::{
    ParticleEnv, Scenario, Simple, SimpleAdversary, SimpleReference, SimpleSpeakerListener,
    SimpleSpread, SimpleTag,
};
use crate::env::registry::{EnvOptions, OptionError, Registered};

/// Every multi-agent env id `make_multi_env` accepts (MPE2's module names).
pub const MULTI_AGENT_REGISTRY: &[Registered] = &[
    Registered {
        id: "simple_v3",
        options: &["max_cycles", "continuous_actions"],
        summary: "MPE2: one agent reaches a landmark",
    },
    Registered {
        id: "simple_spread_v3",
        options: &["N", "local_ratio", "max_cycles", "continuous_actions"],
        summary: "MPE2: N agents cover N landmarks without colliding (cooperative)",
    },
    Registered {
        id: "simple_adversary_v3",
        options: &["N", "max_cycles", "continuous_actions"],
        summary: "MPE2: N agents hide the goal landmark from an adversary",
    },
    Registered {
        id: "simple_tag_v3",
        options: &[
            "num_good",
            "num_adversaries",
            "num_obstacles",
            "max_cycles",
            "continuous_actions",
        ],
        summary: "MPE2: predators chase faster prey among obstacles",
    },
    Registered {
        id: "simple_speaker_listener_v4",
        options: &["max_cycles", "continuous_actions"],
        summary: "MPE2: a speaker guides a blind listener to the goal landmark",
    },
    Registered {
        id: "simple_reference_v3",
        options: &["local_ratio", "max_cycles", "continuous_actions"],
        summary: "MPE2: two agents tell each other which landmark to reach",
    },
];

/// Whether `id` names a multi-agent env.
pub fn is_multi_agent(id: &str) -> bool {
    MULTI_AGENT_REGISTRY.iter().any(|r| r.id == id)
}

/// Builds the multi-agent env `id` with `options`.
pub fn make_multi_env(
    id: &str,
    options: &EnvOptions,
) -> Result<Box<dyn MultiAgentEnv>, OptionError> {
    Ok(Box::new(make_particle_env(id, options)?))
}

/// `require(ok, key, message)`: an [`OptionError`] on `key` unless `ok`.
fn require(
    ok: bool,
    key: &'static str,
    message: impl FnOnce() -> String,
) -> Result<(), OptionError> {
    if ok {
        Ok(())
    } else {
        Err(OptionError {
            key,
            message: message(),
        })
    }
}

/// Builds the particle env `id` with `options`, as its concrete type (for the fixture test's
/// world access and simple_spread's diagnostics).
pub fn make_particle_env(id: &str, options: &EnvOptions) -> Result<ParticleEnv, OptionError> {
    let Some(entry) = MULTI_AGENT_REGISTRY.iter().find(|r| r.id == id) else {
        let ids: Vec<&str> = MULTI_AGENT_REGISTRY.iter().map(|r| r.id).collect();
        return Err(OptionError {
            key: "id",
            message: format!(
                "unknown multi-agent env id `{id}`{}; allowed: {}",
                crate::suggest::did_you_mean(id, ids.iter().copied()),
                ids.join(", ")
            ),
        });
    };
    options.check_applicable(entry)?;
    let max_cycles = options.max_cycles.unwrap_or(25);
    require(max_cycles >= 1, "max_cycles", || "must be >= 1".into())?;
    let positive = |key: &'static str, value: Option<usize>, default: usize| {
        let value = value.unwrap_or(default);
        require(value >= 1, key, || format!("must be >= 1, got {value}")).map(|()| value)
    };
    let local_ratio = match entry.options.contains(&"local_ratio") {
        true => {
            let ratio = options.local_ratio.unwrap_or(0.5);
            require((0.0..=1.0).contains(&ratio), "local_ratio", || {
                format!("must be between 0 and 1, got {ratio}")
            })?;
            Some(ratio)
        }
        false => None,
    };
    let scenario: Arc<dyn Scenario> = match id {
        "simple_v3" => Arc::new(Simple),
        "simple_spread_v3" => Arc::new(SimpleSpread {
            n: positive("N", options.n, 3)?,
        }),
        "simple_adversary_v3" => Arc::new(SimpleAdversary {
            n: positive("N", options.n, 2)?,
        }),
        "simple_tag_v3" => Arc::new(SimpleTag {
            num_good: positive("num_good", options.num_good, 1)?,
            num_adversaries: positive("num_adversaries", options.num_adversaries, 3)?,
            num_obstacles: options.num_obstacles.unwrap_or(2),
        }),
        "simple_speaker_listener_v4" => Arc::new(SimpleSpeakerListener),
        "simple_reference_v3" => Arc::new(SimpleReference),
        _ => unreachable!("every registered multi-agent id has a scenario"),
    };
    Ok(ParticleEnv::new(
        id,
        scenario,
        options.continuous_actions.unwrap_or(false),
        max_cycles,
        local_ratio,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Action;
    use crate::env::multi::MultiStep;

    #[test]
    fn bad_options_name_their_key() {
        let bad = |id: &str, options: EnvOptions| make_particle_env(id, &options).unwrap_err().key;
        let n0 = EnvOptions {
            n: Some(0),
            ..EnvOptions::default()
        };
        assert_eq!(bad("simple_spread_v3", n0.clone()), "N");
        assert_eq!(bad("simple_adversary_v3", n0.clone()), "N");
        assert_eq!(bad("simple_tag_v3", n0), "N");
        let ratio = EnvOptions {
            local_ratio: Some(1.5),
            ..EnvOptions::default()
        };
        assert_eq!(bad("simple_reference_v3", ratio.clone()), "local_ratio");
        assert_eq!(bad("simple_v3", ratio), "local_ratio");
        let cycles = EnvOptions {
            max_cycles: Some(0),
            ..EnvOptions::default()
        };
        assert_eq!(bad("simple_v3", cycles), "max_cycles");
        assert_eq!(bad("simple_spreed_v3", EnvOptions::default()), "id");
        assert_eq!(
            crate::env::make_env("simple_v3", &EnvOptions::default())
                .err()
                .map(|e| e.key),
            Some("id")
        );
    }

    /// Every env and action mode runs whole episodes from its spaces, truncating on
    /// `max_cycles`, and a snapshot continues exactly.
    #[test]
    fn every_env_runs_episodes_and_snapshots_continue_exactly() {
        for entry in MULTI_AGENT_REGISTRY {
            for continuous in [false, true] {
                let options = EnvOptions {
                    continuous_actions: Some(continuous),
                    max_cycles: Some(5),
                    ..EnvOptions::default()
                };
                let mut env = make_multi_env(entry.id, &options).unwrap();
                let spec = env.spec().clone();
                let mut out = MultiStep::new(&spec);
                env.reset(Some(3), &mut out);
                let values: Vec<Vec<f32>> = spec
                    .action_spaces
                    .iter()
                    .map(|s| {
                        (0..s.flat_dim().max(15))
                            .map(|k| (k % 3) as f32 * 0.5)
                            .collect()
                    })
                    .collect();
                let actions = |t: usize| -> Vec<Action<'_>> {
                    spec.action_spaces
                        .iter()
                        .zip(&values)
                        .map(|(space, v)| match space {
                            crate::env::Space::Discrete(n) => Action::Discrete((t * 7 + 1) % n),
                            crate::env::Space::Box { low, .. } => {
                                Action::Continuous(&v[..low.len()])
                            }
                        })
                        .collect()
                };
                env.step(&actions(0), &mut out);
                let snapshot = env.snapshot();
                let mut copy = make_multi_env(entry.id, &options).unwrap();
                copy.restore(&snapshot);
                let mut copy_out = out.clone();
                for t in 1..5 {
                    env.step(&actions(t), &mut out);
                    copy.step(&actions(t), &mut copy_out);
                    assert_eq!(out, copy_out, "{} at step {t}", entry.id);
                    assert_eq!(out.episode_over(), t == 4, "{} at step {t}", entry.id);
                }
                assert!(out.rewards.iter().all(|r| r.is_finite()), "{}", entry.id);
            }
        }
    }
}
