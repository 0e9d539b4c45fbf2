//! The registry: every algorithm `[algo] name` accepts, named once, one line each. A line names
//! the variant of [`AlgoConfig`] and the algorithm's config type (which implements
//! [`Algorithm`]); the macro generates the enum, [`ALGOS`] (for `rl algos` and the loader) and
//! the dispatch of name, checks, training and policy loading.

use std::path::Path;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use super::flops::UpdateWork;
use super::footprint::{CrossChecks, Footprint, RunShape};
use super::{
    Algorithm, Kind, actor_critic, bandit, control, multi_agent, planning, policy_gradient, skills,
    tabular, value_based,
};
use crate::env::Env;
use crate::env::multi::MultiAgentSpec;
use crate::hyper::{Checker, Hyperparameters};
use crate::nn::Backend;
use crate::rng::Rng;
use crate::session::{MultiPolicy, Policy, Session};

macro_rules! registry {
    ($($variant:ident($ty:ty),)*) => {
        /// The `[algo]` table: the algorithm and its own typed hyperparameters.
        #[derive(Clone, Debug, PartialEq)]
        pub enum AlgoConfig {
            $($variant($ty),)*
        }

        $(impl From<$ty> for AlgoConfig {
            fn from(cfg: $ty) -> Self {
                AlgoConfig::$variant(cfg)
            }
        })*

        /// Every algorithm `[algo] name` accepts, in `rl algos` order.
        pub const ALGOS: &[AlgoEntry] = &[$(AlgoEntry::of::<$ty>(),)*];

        impl AlgoConfig {
            /// The registered name (`q_learning`, ...).
            pub fn name(&self) -> &'static str {
                match self {
                    $(AlgoConfig::$variant(_) => <$ty as Algorithm>::NAME,)*
                }
            }

            pub fn kind(&self) -> Kind {
                match self {
                    $(AlgoConfig::$variant(_) => <$ty as Algorithm>::KIND,)*
                }
            }

            /// Range checks of the hyperparameters.
            pub fn check(&self, c: &mut Checker) {
                match self {
                    $(AlgoConfig::$variant(cfg) => cfg.check(c),)*
                }
            }

            /// Whether the algorithm can run on `env` with `num_envs` copies: `Err((key, message))`.
            pub fn check_env(
                &self,
                env: &dyn Env,
                num_envs: usize,
            ) -> Result<(), (&'static str, String)> {
                match self {
                    $(AlgoConfig::$variant(cfg) => cfg.check_env(env, num_envs),)*
                }
            }

            /// Whether the algorithm can run on the multi-agent env `env` (see
            /// [`Algorithm::check_multi_env`]).
            pub fn check_multi_env(
                &self,
                env: &MultiAgentSpec,
                num_envs: usize,
            ) -> Result<(), (&'static str, String)> {
                match self {
                    $(AlgoConfig::$variant(cfg) => cfg.check_multi_env(env, num_envs),)*
                }
            }

            /// Checks across tables (see [`Algorithm::check_run`]).
            pub fn check_run(&self, run: &RunShape) -> CrossChecks {
                match self {
                    $(AlgoConfig::$variant(cfg) => cfg.check_run(run),)*
                }
            }

            /// One seed's memory (see [`Algorithm::footprint`]).
            pub fn footprint(&self, run: &RunShape) -> Footprint {
                match self {
                    $(AlgoConfig::$variant(cfg) => cfg.footprint(run),)*
                }
            }

            /// The matrix products of its training (see [`Algorithm::update_work`]).
            pub fn update_work(&self, run: &RunShape) -> Option<UpdateWork> {
                match self {
                    $(AlgoConfig::$variant(cfg) => cfg.update_work(run),)*
                }
            }

            /// Whether a seed's run is reproducible (see [`Algorithm::deterministic`]).
            pub fn deterministic(&self) -> bool {
                match self {
                    $(AlgoConfig::$variant(cfg) => cfg.deterministic(),)*
                }
            }

            /// Trains on `session` until its step budget is spent.
            pub fn train(&self, session: &mut Session) -> anyhow::Result<()> {
                match self {
                    $(AlgoConfig::$variant(cfg) => cfg.train(session),)*
                }
            }

            /// The policy of a finished run (see [`Algorithm::policy`]).
            pub fn policy(
                &self,
                env: &dyn Env,
                rng: Rng,
                run_dir: &Path,
                backend: Backend,
            ) -> anyhow::Result<Box<dyn Policy>> {
                match self {
                    $(AlgoConfig::$variant(cfg) => cfg.policy(env, rng, run_dir, backend),)*
                }
            }

            /// The agents' policy of a finished multi-agent run (see
            /// [`Algorithm::multi_policy`]).
            pub fn multi_policy(
                &self,
                env: &MultiAgentSpec,
                rng: Rng,
                run_dir: &Path,
                backend: Backend,
            ) -> anyhow::Result<Box<dyn MultiPolicy>> {
                match self {
                    $(AlgoConfig::$variant(cfg) => cfg.multi_policy(env, rng, run_dir, backend),)*
                }
            }
        }

        /// `name = "..."` first, then the algorithm's keys.
        impl Serialize for AlgoConfig {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    $(AlgoConfig::$variant(cfg) => serialize_named(cfg, serializer),)*
                }
            }
        }
    };
}

registry! {
    ValueIteration(tabular::value_iteration::ValueIterationConfig),
    PolicyIteration(tabular::policy_iteration::PolicyIterationConfig),
    SoftValueIteration(tabular::soft_value_iteration::SoftValueIterationConfig),
    FittedQIteration(tabular::fitted_q_iteration::FittedQIterationConfig),
    QLearning(tabular::td::QLearningConfig),
    Sarsa(tabular::td::SarsaConfig),
    ExpectedSarsa(tabular::td::ExpectedSarsaConfig),
    SarsaLambda(tabular::sarsa_lambda::SarsaLambdaConfig),
    DynaQ(tabular::dyna_q::DynaQConfig),
    SuccessorRepresentation(tabular::successor_representation::SuccessorRepresentationConfig),
    SuccessorFeatures(tabular::successor_features::SuccessorFeaturesConfig),
    RandomShooting(planning::random_shooting::RandomShootingConfig),
    Cem(planning::cem::CemConfig),
    Mcts(planning::mcts::MctsConfig),
    Lqr(control::lqr::LqrConfig),
    Ilqr(control::ilqr::IlqrConfig),
    Reinforce(policy_gradient::reinforce::ReinforceConfig),
    A2c(policy_gradient::a2c::A2cConfig),
    Ppo(policy_gradient::ppo::PpoConfig),
    A3c(policy_gradient::a3c::A3cConfig),
    Dppo(policy_gradient::dppo::DppoConfig),
    Acer(policy_gradient::acer::AcerConfig),
    Npg(policy_gradient::trpo::NpgConfig),
    Trpo(policy_gradient::trpo::TrpoConfig),
    QProp(policy_gradient::qprop::QPropConfig),
    Dqn(value_based::dqn::DqnConfig),
    SoftDqn(value_based::soft_dqn::SoftDqnConfig),
    Naf(value_based::naf::NafConfig),
    NeuralFittedQ(value_based::neural_fitted_q::NeuralFittedQConfig),
    Ddpg(actor_critic::td3::DdpgConfig),
    Td3(actor_critic::td3::Td3Config),
    Sac(actor_critic::sac::SacConfig),
    OffPolicyAc(actor_critic::offpolicy_ac::OffPolicyAcConfig),
    Diayn(skills::diayn::DiaynConfig),
    EpsilonGreedy(bandit::epsilon_greedy::EpsilonGreedyConfig),
    Ucb(bandit::ucb::UcbConfig),
    Thompson(bandit::thompson::ThompsonConfig),
    GradientBandit(bandit::gradient::GradientBanditConfig),
    Bc(super::imitation::bc::BcConfig),
    Dagger(super::imitation::dagger::DaggerConfig),
    MaxEntIrl(super::imitation::maxent_irl::MaxEntIrlConfig),
    Gail(super::imitation::gail::GailConfig),
    Airl(super::imitation::airl::AirlConfig),
    RandomAgents(multi_agent::random::RandomAgentsConfig),
    ScriptedSpread(multi_agent::scripted_spread::ScriptedSpreadConfig),
    Mappo(multi_agent::mappo::MappoConfig),
    Ippo(multi_agent::mappo::IppoConfig),
    Maddpg(multi_agent::maddpg::MaddpgConfig),
    Iddpg(multi_agent::maddpg::IddpgConfig),
    LearnedMpc(super::model_based::learned_mpc::LearnedMpcConfig),
    Pets(super::model_based::pets::PetsConfig),
    Mbpo(super::model_based::mbpo::MbpoConfig),
}

/// One registered algorithm.
pub struct AlgoEntry {
    pub name: &'static str,
    pub summary: &'static str,
    pub kind: Kind,
    /// Runs on multi-agent envs.
    pub multi_agent: bool,
    /// `(key, meaning)` of every key, a nested table's as `table.key`.
    pub help: fn() -> Vec<(String, &'static str)>,
    /// Parses the `[algo]` table (without `name`) of the experiment document `text` as this
    /// algorithm's config; the other tables are left to the caller. Errors carry spans in `text`.
    pub parse: fn(&str) -> Result<AlgoConfig, toml::de::Error>,
    /// This algorithm's default hyperparameters as a TOML table.
    pub defaults: fn() -> toml::Table,
}

impl AlgoEntry {
    const fn of<A: Algorithm>() -> Self
    where
        AlgoConfig: From<A>,
    {
        AlgoEntry {
            name: A::NAME,
            summary: A::SUMMARY,
            kind: A::KIND,
            multi_agent: A::MULTI_AGENT,
            help: A::help,
            parse: parse::<A>,
            defaults: defaults::<A>,
        }
    }

    /// Every key with its default (`None`: unset by default) and meaning, for `rl algos`.
    pub fn documented_keys(&self) -> Vec<(String, Option<toml::Value>, &'static str)> {
        let defaults = (self.defaults)();
        (self.help)()
            .into_iter()
            .map(|(key, meaning)| {
                let mut value = None;
                let mut table = Some(&defaults);
                for part in key.split('.') {
                    value = table.and_then(|t| t.get(part));
                    table = value.and_then(toml::Value::as_table);
                }
                (key, value.cloned(), meaning)
            })
            .collect()
    }
}

/// The registered algorithm called `name`.
pub fn find(name: &str) -> Option<&'static AlgoEntry> {
    ALGOS.iter().find(|a| a.name == name)
}

fn parse<A: Algorithm>(text: &str) -> Result<AlgoConfig, toml::de::Error>
where
    AlgoConfig: From<A>,
{
    #[derive(Deserialize)]
    struct Document<A> {
        /// An `[algo]` left empty (once its `name` is taken out) means all defaults.
        #[serde(default)]
        algo: A,
    }
    let document: Document<A> = toml::from_str(text)?;
    Ok(document.algo.into())
}

fn defaults<A: Algorithm>() -> toml::Table {
    toml::Table::try_from(A::default()).expect("defaults serialise to a TOML table")
}

fn serialize_named<A: Algorithm, S: Serializer>(cfg: &A, serializer: S) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(None)?;
    map.serialize_entry("name", A::NAME)?;
    cfg.serialize_entries(&mut map)?;
    map.end()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `rl algos` documents exactly the keys each config has (a nested table's as
    /// `table.key`); keys that are unset by default say so, and setting them parses.
    #[test]
    fn help_covers_every_key() {
        fn leaves(table: &toml::Table, prefix: &str, out: &mut Vec<String>) {
            for (key, value) in table {
                match value.as_table() {
                    Some(inner) => leaves(inner, &format!("{prefix}{key}."), out),
                    None => out.push(format!("{prefix}{key}")),
                }
            }
        }
        for entry in ALGOS {
            let documented = entry.documented_keys();
            let mut defaults = Vec::new();
            leaves(&(entry.defaults)(), "", &mut defaults);
            for key in &defaults {
                assert!(
                    documented.iter().any(|(k, _, _)| k == key),
                    "{}: {key} has no help",
                    entry.name
                );
            }
            for (key, default, text) in documented {
                if default.is_some() {
                    continue;
                }
                assert!(
                    text.contains("unset"),
                    "{}: {key} is not in the defaults",
                    entry.name
                );
                let file = format!(
                    "[experiment]\nname = \"x\"\n[env]\nid = \"CartPole-v1\"\n[algo]\n{key} = 0.5\n"
                );
                assert!(
                    (entry.parse)(&file).is_ok(),
                    "{}: {key} = 0.5 parses",
                    entry.name
                );
            }
        }
    }

    #[test]
    fn names_and_keys_are_unique_and_defaults_round_trip() {
        for (i, entry) in ALGOS.iter().enumerate() {
            assert!(
                ALGOS[..i].iter().all(|e| e.name != entry.name),
                "{} twice",
                entry.name
            );
            assert_eq!(find(entry.name).map(|e| e.name), Some(entry.name));
            let keys: Vec<String> = (entry.help)().into_iter().map(|(k, _)| k).collect();
            for (j, key) in keys.iter().enumerate() {
                assert!(!keys[..j].contains(key), "{}: {key} twice", entry.name);
            }
            let default = (entry.parse)("[algo]\n").unwrap();
            assert_eq!((default.name(), default.kind()), (entry.name, entry.kind));
            let mut document = toml::Table::new();
            document.insert("algo".into(), (entry.defaults)().into());
            let text = toml::to_string(&document).unwrap();
            assert_eq!((entry.parse)(&text).unwrap(), default, "{text}");
        }
    }

    #[test]
    fn planners_check_their_action_spaces() {
        use crate::env::{EnvOptions, make_env};
        let env = |id| make_env(id, &EnvOptions::default()).unwrap();
        let mcts = AlgoConfig::Mcts(Default::default());
        let cem = AlgoConfig::Cem(Default::default());
        let (key, message) = mcts.check_env(env("Pendulum-v1").as_ref(), 1).unwrap_err();
        assert_eq!(key, "env.id");
        assert!(
            message.contains("Pendulum-v1") && message.contains("discrete"),
            "{message}"
        );
        for id in ["CartPole-v1", "Acrobot-v1", "Taxi-v3", "FrozenLake-v1"] {
            assert_eq!(mcts.check_env(env(id).as_ref(), 1), Ok(()), "{id}");
        }
        for id in ["Pendulum-v1", "MountainCarContinuous-v0", "CartPole-v1"] {
            assert_eq!(cem.check_env(env(id).as_ref(), 1), Ok(()), "{id}");
        }
        let (key, _) = cem.check_env(env("Pendulum-v1").as_ref(), 4).unwrap_err();
        assert_eq!(key, "env.num_envs");
        assert!(cem.kind() == Kind::Planner && mcts.kind() == Kind::Planner);
    }
}
