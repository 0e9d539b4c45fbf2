//! `rl envs` and `rl algos`: what the registries hold.

use crate::algo::ALGOS;
use crate::env::multi::{MULTI_AGENT_REGISTRY, make_multi_env};
use crate::env::registry::REGISTRY;
use crate::env::{EnvOptions, make_env};
use crate::error::UsageError;

/// The env table: id, spaces, time limit, solve threshold, options.
pub fn envs() -> String {
    let mut out = String::new();
    for entry in REGISTRY {
        let env = make_env(entry.id, &EnvOptions::default())
            .expect("every registered env builds with default options");
        let spec = env.spec();
        let limit = spec
            .max_episode_steps
            .map_or("none".to_string(), |m| m.to_string());
        let threshold = spec
            .reward_threshold
            .map_or("-".to_string(), |t| t.to_string());
        out += &format!("{}  ({})\n", entry.id, entry.summary);
        out += &format!("    observation: {}\n", spec.observation_space.describe());
        out += &format!("    action:      {}\n", spec.action_space.describe());
        out += &format!("    time limit:  {limit}    solved at: {threshold}\n");
        if let Some(reward) = env.known_reward() {
            out += &format!("    reward:      known r(s, a) = {}\n", reward.describe());
        }
        if !entry.options.is_empty() {
            out += &format!("    options:     {}\n", entry.options.join(", "));
        }
    }
    out += "\nMulti-agent (PettingZoo's parallel API; no algorithm trains on them yet):\n";
    for entry in MULTI_AGENT_REGISTRY {
        let env = make_multi_env(entry.id, &EnvOptions::default())
            .expect("every registered env builds with default options");
        let spec = env.spec();
        out += &format!("{}  ({}; multi-agent)\n", entry.id, entry.summary);
        for (i, agent) in spec.agents.iter().enumerate() {
            out += &format!(
                "    {agent}: observation {}, action {}\n",
                spec.observation_spaces[i].describe(),
                spec.action_spaces[i].describe()
            );
        }
        out += &format!("    episode:     max_cycles = {}\n", spec.max_cycles);
        out += &format!("    options:     {}\n", entry.options.join(", "));
    }
    out
}

/// Every algorithm (or only `name`) with its hyperparameters, defaults and meaning.
pub fn algos(name: Option<&str>) -> Result<String, UsageError> {
    let selected: Vec<_> = ALGOS
        .iter()
        .filter(|a| name.is_none_or(|n| n == a.name))
        .collect();
    if selected.is_empty() {
        let names: Vec<&str> = ALGOS.iter().map(|a| a.name).collect();
        return Err(UsageError::new(format!(
            "unknown algorithm `{}`; allowed: {}",
            name.unwrap_or_default(),
            names.join(", ")
        )));
    }
    let mut out = String::new();
    for entry in selected {
        out += &format!("{}: {}\n", entry.name, entry.summary);
        let keys = entry.documented_keys();
        let width = keys.iter().map(|(k, _, _)| k.len()).max().unwrap_or(0);
        for (key, default, help) in keys {
            let value = default.map_or(String::new(), |v| v.to_string());
            let setting = format!("{key:<width$} = {value}");
            out += &format!("    {setting:<40} # {help}\n");
        }
        out += "\n";
    }
    Ok(out)
}
