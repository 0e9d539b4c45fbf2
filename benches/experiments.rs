//! The headline experiments, timed end to end on one thread beside Stable-Baselines3's figures
//! measured on this kind of machine (`../shared/peer/RESULTS.md`, one core each).
//!
//! For each experiment: seed 0 runs through `rl run` with `RAYON_NUM_THREADS=1`; printed are
//! env steps per training second, CPU seconds of the whole process (evaluations included), CPU
//! seconds of training alone (`process_train_cpu_s` of meta.json: what SB3's "train cpu s"
//! measures) and env steps per such second, training seconds until the first evaluation at or
//! above the solve threshold, and the final evaluation return.
//!
//! A second table sets the arithmetic of training beside the machine's limit: the FLOPs of all
//! gradient updates (counted from the network shapes, `rl::algo::flops`), their rate per training
//! CPU second, and the rate flex multiplies the same `batch × input · input × output` products at
//! on one thread, measured here (the FLOP-weighted mean over the update's products).
//! Run: `make bench` (or `cargo bench --bench experiments`).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::process::Command;

use burn::prelude::{Device, Tensor};
use burn::tensor::Distribution;
use rl::algo::flops::Product;

/// The allocator `rl` runs with, so that the matmul's output buffers are reused as in training.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// (experiment file, SB3 algo, env id, solve threshold).
const HEADLINE: [(&str, &str, &str, f64); 7] = [
    ("ppo_cartpole.toml", "ppo", "CartPole-v1", 475.0),
    ("a2c_cartpole.toml", "a2c", "CartPole-v1", 475.0),
    ("ppo_pendulum.toml", "ppo", "Pendulum-v1", -200.0),
    ("dqn_cartpole.toml", "dqn", "CartPole-v1", 475.0),
    ("sac_pendulum.toml", "sac", "Pendulum-v1", -200.0),
    ("td3_pendulum.toml", "td3", "Pendulum-v1", -200.0),
    // sb3-contrib's TRPO is not in RESULTS.md: `../shared/peer/side_by_side.sh trpo CartPole-v1
    // 100000 trpo_cartpole` measures it beside rl (the README quotes both).
    ("trpo_cartpole.toml", "trpo", "CartPole-v1", 475.0),
];

/// CPU seconds (user + system) of `who` (`RUSAGE_SELF`, `RUSAGE_CHILDREN`) so far.
fn cpu_seconds(who: libc::c_int) -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a complete rusage into the pointer it is given.
    let usage = unsafe {
        libc::getrusage(who, usage.as_mut_ptr());
        usage.assume_init()
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// FLOP/s of flex's `product` on one thread: the best of five timings of at least 50 ms of CPU.
fn matmul_rate(product: &Product) -> f64 {
    let device = Device::flex();
    let x = Tensor::<2>::random(
        [product.batch, product.input],
        Distribution::Default,
        &device,
    );
    let w = Tensor::<2>::random(
        [product.input, product.output],
        Distribution::Default,
        &device,
    );
    let best = (0..5)
        .map(|_| {
            let start = cpu_seconds(libc::RUSAGE_SELF);
            let mut n = 0u32;
            while cpu_seconds(libc::RUSAGE_SELF) - start < 0.05 {
                // Flex computes eagerly: the product is done when `matmul` returns.
                black_box(x.clone().matmul(w.clone()));
                n += 1;
            }
            (cpu_seconds(libc::RUSAGE_SELF) - start) / f64::from(n)
        })
        .fold(f64::INFINITY, f64::min);
    product.flop() / best
}

/// SB3's "Across seeds" row for (algo, env): (steps/s, steps/cpu-s, train s, final eval,
/// first solved steps), as text cells.
fn peer_row(algo: &str, env: &str) -> Option<Vec<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/peer/RESULTS.md");
    let text = std::fs::read_to_string(path).ok()?;
    let section = text.split("## Across seeds").nth(1)?;
    section.lines().find_map(|line| {
        let cells: Vec<String> = line.split('|').map(|c| c.trim().to_string()).collect();
        (cells.len() > 10 && cells[1] == algo && cells[2] == env).then(|| {
            vec![
                cells[8].clone(),
                cells[9].clone(),
                cells[10].clone(),
                cells[4].clone(),
                cells[6].clone(),
            ]
        })
    })
}

fn column(rows: &[Vec<String>], name: &str) -> usize {
    rows[0]
        .iter()
        .position(|c| c == name)
        .expect("curve.csv column")
}

fn main() {
    // One thread for flex's matmul, as for the runs.
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build_global()
        .expect("the global rayon pool is built once, before any tensor");
    let out = tempfile::tempdir().expect("temporary folder");
    let mut arithmetic = Vec::new();
    println!(
        "{:<22} {:>9} {:>8} {:>11} {:>11} {:>14} {:>10}   | SB3 (1 core): {:>7} {:>9} {:>8} {:>22} {:>20}",
        "experiment",
        "steps/s",
        "cpu s",
        "train cpu s",
        "steps/cpu-s",
        "s to solved",
        "final",
        "steps/s",
        "steps/cpu-s",
        "train s",
        "final",
        "first solved at"
    );
    // `cargo bench --bench experiments -- ppo dqn` runs the headline experiments whose file
    // names contain one of the words (cargo's own `--bench` flag is not a word).
    let words: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let chosen = HEADLINE
        .into_iter()
        .filter(|(file, ..)| words.is_empty() || words.iter().any(|w| file.contains(w.as_str())));
    for (file, algo, env, threshold) in chosen {
        let config = format!("{}/experiments/{file}", env!("CARGO_MANIFEST_DIR"));
        let before = cpu_seconds(libc::RUSAGE_CHILDREN);
        let status = Command::new(env!("CARGO_BIN_EXE_rl"))
            .args([
                "run", &config, "--seeds", "0", "--jobs", "1", "-q", "--force", "--out",
            ])
            .arg(out.path())
            .env("RAYON_NUM_THREADS", "1")
            .status()
            .expect("rl runs");
        assert!(status.success(), "rl run {file} failed");
        let cpu = cpu_seconds(libc::RUSAGE_CHILDREN) - before;
        let name = file.trim_end_matches(".toml");
        let seed = out.path().join(name).join("seed_0");
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(seed.join("meta.json")).unwrap())
                .unwrap();
        let text = std::fs::read_to_string(seed.join("curve.csv")).unwrap();
        let rows: Vec<Vec<String>> = text
            .lines()
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect();
        let (step, wall, ret) = (
            column(&rows, "step"),
            column(&rows, "wall_s"),
            column(&rows, "eval_return_mean"),
        );
        let solved = rows[1..]
            .iter()
            .find(|r| r[step] != "0" && r[ret].parse::<f64>().is_ok_and(|x| x >= threshold));
        let solved = solved.map_or("never".to_string(), |r| {
            format!("{:.1} ({} st)", r[wall].parse::<f64>().unwrap(), r[step])
        });
        let peer = peer_row(algo, env).unwrap_or_else(|| vec!["?".into(); 5]);
        let train_cpu = meta["process_train_cpu_s"].as_f64().unwrap_or(f64::NAN);
        let steps = meta["env_steps"].as_f64().unwrap_or(f64::NAN);
        println!(
            "{:<22} {:>9.0} {:>8.1} {:>11.1} {:>11.0} {:>14} {:>10.1}   | {:>21} {:>9} {:>8} {:>22} {:>20}",
            name,
            meta["steps_per_s"].as_f64().unwrap_or(f64::NAN),
            cpu,
            train_cpu,
            steps / train_cpu,
            solved,
            rows.last().unwrap()[ret].parse::<f64>().unwrap_or(f64::NAN),
            peer[0],
            peer[1],
            peer[2],
            peer[3],
            peer[4]
        );
        let experiment = rl::config::load(Path::new(&config), &[]).expect("a shipped experiment");
        if let Some(work) = experiment.update_work() {
            arithmetic.push((name.to_string(), work, train_cpu));
        }
    }
    print_arithmetic(&arithmetic);
    if words.is_empty() || words.iter().any(|w| "pets".contains(w.as_str())) {
        print_pets_planning();
    }
}

/// PETS' planning step (the shipped `pets_pendulum.toml`, one thread): CPU ms per step, over 100, on a
/// model fitted to 1,000 random Pendulum-v1 transitions, the model's FLOPs per step (its batched
/// forwards) per second, beside flex's matmul rate on the same per-member products.
fn print_pets_planning() {
    use rand::{RngExt, SeedableRng};
    use rl::algo::AlgoConfig;
    use rl::env::{Action, EnvOptions, make_env};
    use rl::model::fit::fit;
    use rl::model::learned::LearnedModel;
    use rl::model::trajectory_sampling::TrajectorySampling;
    use rl::model::transitions::Transitions;
    use rl::plan::cem::CemMpc;

    let config = format!(
        "{}/experiments/pets_pendulum.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let experiment = rl::config::load(Path::new(&config), &[]).expect("a shipped experiment");
    let AlgoConfig::Pets(cfg) = experiment.algo else {
        panic!("pets_pendulum.toml runs pets")
    };
    let mut env = make_env("Pendulum-v1", &EnvOptions::default()).expect("Pendulum-v1");
    let mut rng = rl::rng::Rng::seed_from_u64(0);
    let (mut obs, mut next) = ([0.0f32; 3], [0.0f32; 3]);
    env.reset(Some(0), &mut obs);
    let mut data = Transitions::new(3, 1);
    for t in 0..1000 {
        if t % 200 == 0 {
            env.reset(None, &mut obs);
        }
        let a = [rng.random_range(-2.0f32..=2.0)];
        env.step(Action::Continuous(&a), &mut next);
        data.push(&obs, &a, &next);
        obs = next;
    }
    let device = Device::flex();
    let shape = (3, 1);
    let mut learned = LearnedModel::new(
        cfg.ensemble_size,
        shape,
        &cfg.model.net_arch,
        true,
        &mut rng,
        &device.clone().autodiff(),
    );
    fit(&mut learned, &data, &(&cfg.model).into(), &mut rng);
    let model = learned.model();
    let mut planner = CemMpc::new(&cfg.cem_options(), &env.spec().action_space, rng);
    let reward_env = env.clone_box();
    let reward = reward_env
        .known_reward()
        .expect("Pendulum-v1 states its reward");
    let steps = 100;
    let start = cpu_seconds(libc::RUSAGE_SELF);
    for _ in 0..steps {
        let action = match planner.plan(&TrajectorySampling::new(
            &model,
            reward,
            &obs,
            cfg.particles,
        )) {
            Action::Continuous(a) => a.to_vec(),
            Action::Discrete(_) => unreachable!("Pendulum's actions are continuous"),
        };
        env.step(Action::Continuous(&action), &mut next);
        obs = next;
    }
    let per_step = (cpu_seconds(libc::RUSAGE_SELF) - start) / f64::from(steps);
    let work = cfg.planning_work(3, 1);
    let achieved = work.flop_per_update() / per_step;
    let limit = work.rate_at(matmul_rate);
    println!(
        "\n{:<22} {:>12} {:>15} {:>12} {:>16} {:>9}",
        "PETS planning step", "ms/step", "MFLOP/step", "GFLOP/s", "matmul GFLOP/s", "of limit"
    );
    println!(
        "{:<22} {:>12.1} {:>15.1} {:>12.2} {:>16.2} {:>8.0}%",
        "pets_pendulum",
        1e3 * per_step,
        work.flop_per_update() / 1e6,
        achieved / 1e9,
        limit / 1e9,
        100.0 * achieved / limit
    );
}

/// The updates' FLOPs per training CPU second beside flex's matmul rate on the same products.
fn print_arithmetic(runs: &[(String, rl::algo::UpdateWork, f64)]) {
    println!(
        "\n{:<22} {:>8} {:>13} {:>11} {:>15} {:>16} {:>9}",
        "update arithmetic",
        "updates",
        "MFLOP/update",
        "total GFLOP",
        "GFLOP/train-s",
        "matmul GFLOP/s",
        "of limit"
    );
    let mut rates = BTreeMap::new();
    for (name, work, train_cpu) in runs {
        let limit = work.rate_at(|p| *rates.entry(*p).or_insert_with(|| matmul_rate(p)));
        let achieved = work.total_flop() / train_cpu;
        println!(
            "{:<22} {:>8} {:>13.2} {:>11.1} {:>15.1} {:>16.1} {:>8.0}%",
            name,
            work.updates,
            work.flop_per_update() / 1e6,
            work.total_flop() / 1e9,
            achieved / 1e9,
            limit / 1e9,
            100.0 * achieved / limit
        );
    }
}
