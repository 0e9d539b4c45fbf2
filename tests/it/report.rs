//! `rl compare` on real result folders: the table, flagged seeds, and bad input (exit 2).

use crate::common::{rl, run_experiment};

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn compare_prints_one_row_per_experiment() {
    let dir = tempfile::tempdir().unwrap();
    let quick = ["--set", "experiment.total_steps=20000", "--seeds", "0..3"];
    run_experiment("q_learning_taxi.toml", dir.path(), &quick);
    run_experiment("sarsa_lambda_taxi.toml", dir.path(), &quick);
    let out = rl(
        &[
            "compare",
            "q_learning_taxi",
            "sarsa_lambda_taxi",
            "--format",
            "csv",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("experiment,algo,env,complete,total,final_mean"));
    assert!(
        text.contains("q_learning_taxi,q_learning,Taxi-v3,3,3,"),
        "{text}"
    );
    assert!(
        text.contains("sarsa_lambda_taxi,sarsa_lambda,Taxi-v3,3,3,"),
        "{text}"
    );
    // The same folders always give the same table (fixed bootstrap seed); globs work.
    let again = rl(&["compare", "*_taxi", "--format", "csv"], dir.path());
    assert_eq!(stdout(&again), text);
    let table = stdout(&rl(&["compare", "."], dir.path()));
    assert!(
        table.contains("final (95% CI)") && table.contains("q_learning_taxi"),
        "{table}"
    );
}

#[test]
fn incomplete_seeds_are_flagged_not_mixed_in() {
    let dir = tempfile::tempdir().unwrap();
    run_experiment(
        "q_learning_cliffwalking.toml",
        dir.path(),
        &["--seeds", "0..2"],
    );
    let meta = dir.path().join("q_learning_cliffwalking/seed_1/meta.json");
    let text = std::fs::read_to_string(&meta)
        .unwrap()
        .replace("\"complete\"", "\"failed\"");
    std::fs::write(&meta, text).unwrap();
    let out = rl(&["compare", "q_learning_cliffwalking"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("1/2"), "{text}");
    assert!(
        text.contains("note: q_learning_cliffwalking: left out seed 1 failed"),
        "{text}"
    );
}

#[test]
fn bad_folders_are_rejected_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let out = rl(&["compare", "empty"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a result folder"),
        "{}",
        stderr(&out)
    );

    run_experiment(
        "q_learning_cliffwalking.toml",
        dir.path(),
        &["--seeds", "0..2"],
    );
    let curve = dir.path().join("q_learning_cliffwalking/seed_0/curve.csv");
    let text = std::fs::read_to_string(&curve).unwrap();
    std::fs::write(&curve, &text[..text.len() - 9]).unwrap();
    let out = rl(&["compare", "q_learning_cliffwalking"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("curve.csv: line"), "{}", stderr(&out));
    std::fs::write(&curve, text).unwrap();

    let meta = dir.path().join("q_learning_cliffwalking/seed_1/meta.json");
    let text = std::fs::read_to_string(&meta)
        .unwrap()
        .replace("CliffWalking-v0", "Taxi-v3");
    std::fs::write(&meta, text).unwrap();
    let out = rl(&["compare", "q_learning_cliffwalking"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("mismatched seeds"),
        "{}",
        stderr(&out)
    );

    let out = rl(&["compare", "nowhere*"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("matches no path"), "{}", stderr(&out));
}

#[test]
fn plot_writes_png_and_svg_with_one_series_per_experiment() {
    let dir = tempfile::tempdir().unwrap();
    let quick = ["--set", "experiment.total_steps=20000", "--seeds", "0..3"];
    run_experiment("q_learning_taxi.toml", dir.path(), &quick);
    run_experiment("sarsa_lambda_taxi.toml", dir.path(), &quick);
    run_experiment(
        "q_learning_cliffwalking.toml",
        dir.path(),
        &["--seeds", "0..2"],
    );

    let out = rl(&["plot", ".", "-o", "curves.png"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let png = std::fs::read(dir.path().join("curves.png")).unwrap();
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
        "a real PNG"
    );

    let out = rl(
        &[
            "plot",
            ".",
            "-o",
            "curves.svg",
            "--x",
            "wall",
            "--smooth",
            "3",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let svg = std::fs::read_to_string(dir.path().join("curves.svg")).unwrap();
    assert!(svg.starts_with("<svg"), "an SVG document");
    for label in [
        "q_learning_taxi (3 seeds)",
        "sarsa_lambda_taxi (3 seeds)",
        "q_learning_cliffwalking (2 seeds)",
    ] {
        assert_eq!(
            svg.matches(label).count(),
            1,
            "one legend entry for {label}"
        );
    }
    for panel in [
        "\nTaxi-v3\n",
        "\nCliffWalking-v0\n",
        "solved (8)",
        "training seconds",
    ] {
        assert!(svg.contains(panel), "{panel} missing");
    }
    // One mean line (a polyline) and one band (a polygon) per experiment, plus the legend marks.
    assert_eq!(
        svg.matches("<polygon").count(),
        3,
        "one CI band per experiment"
    );

    let out = rl(&["plot", ".", "-o", "curves.jpg"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(".png or .svg"), "{}", stderr(&out));

    // A part of the x axis: reversed or unparsable bounds and a range missing every curve exit
    // 2 and write nothing.
    for (range, says) in [
        ("5000..100", "LO must be below HI"),
        ("100-5000", "want LO..HI"),
        ("1e9..2e9", "no complete seed has points in --x-range"),
    ] {
        let out = rl(
            &["plot", ".", "-o", "part.svg", "--x-range", range],
            dir.path(),
        );
        assert_eq!(out.status.code(), Some(2), "--x-range {range}");
        assert!(stderr(&out).contains(says), "{}", stderr(&out));
        assert!(!dir.path().join("part.svg").exists());
    }
}

#[test]
fn eval_reruns_a_saved_tabular_policy_and_a_planner() {
    let dir = tempfile::tempdir().unwrap();
    run_experiment(
        "q_learning_cliffwalking.toml",
        dir.path(),
        &["--seeds", "0"],
    );
    let out = rl(
        &[
            "eval",
            "q_learning_cliffwalking/seed_0",
            "--episodes",
            "3",
            "--seed",
            "9",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("q_learning on CliffWalking-v0, 3 episodes (seed 9)"),
        "{text}"
    );
    assert!(
        text.contains("return mean -13.000  std 0.000  min -13.000  max -13.000"),
        "{text}"
    );

    run_experiment("lqr_double_integrator.toml", dir.path(), &["--seeds", "0"]);
    let out = rl(
        &["eval", "lqr_double_integrator/seed_0", "--episodes", "2"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("lqr on DoubleIntegrator-v0, 2 episodes"));

    std::fs::remove_file(
        dir.path()
            .join("q_learning_cliffwalking/seed_0/policy.json"),
    )
    .unwrap();
    let out = rl(&["eval", "q_learning_cliffwalking/seed_0"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no saved policy"), "{}", stderr(&out));
    let out = rl(&["eval", "q_learning_cliffwalking"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a run folder"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn compare_marks_planners_as_untrained() {
    let dir = tempfile::tempdir().unwrap();
    run_experiment(
        "lqr_double_integrator.toml",
        dir.path(),
        &["--seeds", "0..2"],
    );
    let out = rl(&["compare", "lqr_double_integrator"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("2/2") && text.contains("- (no training)"),
        "{text}"
    );
}

#[test]
fn compare_reads_the_threshold_from_meta_json() {
    let dir = tempfile::tempdir().unwrap();
    run_experiment(
        "q_learning_cliffwalking.toml",
        dir.path(),
        &["--seeds", "0..2"],
    );
    let compare = |extra: &[&str]| {
        let mut args = vec!["compare", "q_learning_cliffwalking"];
        args.extend_from_slice(extra);
        let out = rl(&args, dir.path());
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stdout(&out)
    };
    let text = compare(&[]);
    assert!(text.contains("≥ -13 ("), "CliffWalking's threshold: {text}");

    // Each meta.json is rewritten by `edit`.
    let edit = |change: &dyn Fn(&mut serde_json::Map<String, serde_json::Value>)| {
        for seed in 0..2 {
            let path = dir
                .path()
                .join(format!("q_learning_cliffwalking/seed_{seed}/meta.json"));
            let mut meta: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            change(meta.as_object_mut().unwrap());
            std::fs::write(&path, serde_json::to_string_pretty(&meta).unwrap()).unwrap();
        }
    };
    // An env this build does not know compares with the threshold its runs recorded.
    edit(&|meta| {
        meta.insert("env".into(), "GridWorld-v9".into());
        meta.insert("reward_threshold".into(), (-50.0).into());
    });
    let text = compare(&[]);
    assert!(
        text.contains("GridWorld-v9") && text.contains("≥ -50 (2/2)"),
        "{text}"
    );

    // Results written before meta.json recorded thresholds still compare, and say why the
    // threshold is missing; --threshold supplies one.
    edit(&|meta| {
        meta.remove("reward_threshold");
    });
    let text = compare(&[]);
    assert!(
        text.contains("- (not in meta.json; use --threshold)"),
        "{text}"
    );
    let text = compare(&["--threshold=-20"]);
    assert!(text.contains("≥ -20 (2/2)"), "{text}");
}
