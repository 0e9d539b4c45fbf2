//! The off-policy methods end to end: learning thresholds on short seeded runs, saved networks
//! replayed by `rl eval`, and config errors specific to them.

use crate::common::{final_eval, final_value, rl, run_experiment};

/// DQN with rl-zoo's CartPole hyperparameters reaches a clearly learned policy within 30k steps
/// (a random policy scores about 22).
#[test]
fn dqn_learns_cartpole() {
    let out = tempfile::tempdir().unwrap();
    run_experiment(
        "dqn_cartpole.toml",
        out.path(),
        &["--seeds", "1", "--set", "experiment.total_steps=30000"],
    );
    let seed = out.path().join("dqn_cartpole/seed_1");
    let ret = final_eval(&seed);
    assert!(ret >= 200.0, "DQN CartPole final return {ret} < 200");
    assert!(final_value(&seed, "q_mean").is_finite());
}

/// SAC swings Pendulum up within 5k steps (the untrained policy scores about −1200).
#[test]
fn sac_learns_pendulum_and_replays_with_rl_eval() {
    let out = tempfile::tempdir().unwrap();
    run_experiment(
        "sac_pendulum.toml",
        out.path(),
        &["--seeds", "0", "--set", "experiment.total_steps=5000"],
    );
    let seed = out.path().join("sac_pendulum/seed_0");
    let ret = final_eval(&seed);
    assert!(ret >= -400.0, "SAC Pendulum final return {ret} < -400");
    assert!(final_value(&seed, "alpha") > 0.0);
    let result = rl(
        &["eval", seed.to_str().unwrap(), "--episodes", "2"],
        out.path(),
    );
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(String::from_utf8_lossy(&result.stdout).contains("sac on Pendulum-v1"));
}

/// TD3 and DDPG start from random actions and learn once their critics have data: with a short
/// warm-up they beat the untrained policy clearly within 6k steps.
#[test]
fn td3_and_ddpg_learn_pendulum() {
    for experiment in ["td3_pendulum", "ddpg_pendulum"] {
        let out = tempfile::tempdir().unwrap();
        run_experiment(
            &format!("{experiment}.toml"),
            out.path(),
            &[
                "--seeds",
                "0",
                "--set",
                "experiment.total_steps=6000",
                "--set",
                "algo.learning_starts=1000",
            ],
        );
        let ret = final_eval(&out.path().join(format!("{experiment}/seed_0")));
        assert!(ret >= -600.0, "{experiment}: final return {ret} < -600");
    }
}

/// The course notes' off-policy actor-critic with the reparameterised actor gradient swings
/// Pendulum up within 5k steps (the untrained policy scores about −1400), and `rl eval` replays
/// the saved actor.
#[test]
fn offpolicy_ac_learns_pendulum_and_replays_with_rl_eval() {
    let out = tempfile::tempdir().unwrap();
    run_experiment(
        "offpolicy_ac_pendulum.toml",
        out.path(),
        &["--seeds", "0", "--set", "experiment.total_steps=5000"],
    );
    let seed = out.path().join("offpolicy_ac_pendulum/seed_0");
    let ret = final_eval(&seed);
    assert!(
        ret >= -400.0,
        "off-policy AC Pendulum final return {ret} < -400"
    );
    assert!(final_value(&seed, "q_mean").is_finite());
    let result = rl(
        &["eval", seed.to_str().unwrap(), "--episodes", "2"],
        out.path(),
    );
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(String::from_utf8_lossy(&result.stdout).contains("offpolicy_ac on Pendulum-v1"));
}

/// DIAYN's discriminator tells 4 skills apart on Pendulum-v1 (200-step episodes, so every skill
/// has run several times) within 4k steps, from the skills' states alone: accuracy ≥ 0.5, twice
/// chance (0.25), and a positive mean pseudo-reward log q(z|s) − log p(z) (better than chance).
/// The saved skill-conditioned policy replays with `rl eval`.
#[test]
fn diayn_learns_distinguishable_skills_and_replays_with_rl_eval() {
    let out = tempfile::tempdir().unwrap();
    run_experiment(
        "diayn_mountaincar_continuous.toml",
        out.path(),
        &[
            "--seeds",
            "0",
            "--set",
            "env.id=Pendulum-v1",
            "--set",
            "algo.num_skills=4",
            "--set",
            "experiment.total_steps=4000",
            "--set",
            "experiment.eval_every=2000",
            "--set",
            "experiment.eval_episodes=4",
        ],
    );
    let seed = out.path().join("diayn_mountaincar_continuous/seed_0");
    let accuracy = final_value(&seed, "disc_accuracy");
    assert!(accuracy >= 0.5, "discriminator accuracy {accuracy} < 0.5");
    let reward = final_value(&seed, "pseudo_reward");
    assert!(reward > 0.0, "mean pseudo-reward {reward} ≤ 0");
    assert!(final_value(&seed, "best_skill_return") >= final_eval(&seed));
    let result = rl(
        &["eval", seed.to_str().unwrap(), "--episodes", "4"],
        out.path(),
    );
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(String::from_utf8_lossy(&result.stdout).contains("diayn on Pendulum-v1"));
}

/// Value-based methods need discrete actions; actor-critics need a continuous box.
#[test]
fn action_spaces_are_checked_with_a_located_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    for (algo, env, hint) in [
        ("dqn", "Pendulum-v1", "discrete actions"),
        ("sac", "CartPole-v1", "continuous action box"),
        ("offpolicy_ac", "CartPole-v1", "continuous action box"),
    ] {
        std::fs::write(
            &path,
            format!(
                "[experiment]\nname = \"x\"\ntotal_steps = 1000\n\n[env]\nid = \"{env}\"\n\n[algo]\nname = \"{algo}\"\n"
            ),
        )
        .unwrap();
        let result = rl(&["run", path.to_str().unwrap()], dir.path());
        assert_eq!(result.status.code(), Some(2), "{algo} on {env}");
        let err = String::from_utf8_lossy(&result.stderr);
        assert!(err.contains("env.id") && err.contains(hint), "{err}");
    }
    std::fs::write(
        &path,
        "[experiment]\nname = \"x\"\ntotal_steps = 1000\n\n[env]\nid = \"CartPole-v1\"\n\n[algo]\nname = \"dqn\"\ndueling = true\n\n[algo.policy]\nnet_arch = []\n",
    )
    .unwrap();
    let result = rl(&["run", path.to_str().unwrap()], dir.path());
    assert_eq!(result.status.code(), Some(2));
    let err = String::from_utf8_lossy(&result.stderr);
    assert!(
        err.contains("algo.policy.net_arch") && err.contains("dueling"),
        "{err}"
    );
    for (line, key) in [
        ("ent_coef = -0.1", "algo.ent_coef"),
        ("actor_gradient = \"score\"", "actor_gradient"),
    ] {
        std::fs::write(
            &path,
            format!(
                "[experiment]\nname = \"x\"\ntotal_steps = 1000\n\n[env]\nid = \"Pendulum-v1\"\n\n[algo]\nname = \"offpolicy_ac\"\n{line}\n"
            ),
        )
        .unwrap();
        let result = rl(&["run", path.to_str().unwrap()], dir.path());
        assert_eq!(result.status.code(), Some(2), "{line}");
        let err = String::from_utf8_lossy(&result.stderr);
        assert!(err.contains(key), "{line}: {err}");
    }
    assert!(!dir.path().join("results").exists(), "nothing written");
}
