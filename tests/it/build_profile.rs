//! Cargo.toml's build profiles: the release build leaves the wgpu backend's host side
//! unoptimised for a quick cold build, and `--profile gpu` optimises exactly those crates again.

use std::collections::BTreeMap;

/// `profile.<name>.package`: crate name → opt-level (the `"*"` entry sets no opt-level).
fn package_opt_levels(manifest: &toml::Table, profile: &str) -> BTreeMap<String, i64> {
    manifest["profile"][profile]["package"]
        .as_table()
        .unwrap_or_else(|| panic!("Cargo.toml has no [profile.{profile}.package]"))
        .iter()
        .filter_map(|(name, settings)| {
            let level = settings.get("opt-level")?.as_integer()?;
            Some((name.clone(), level))
        })
        .collect()
}

#[test]
fn the_gpu_profile_optimises_every_crate_the_release_build_does_not() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    let manifest: toml::Table = text.parse().unwrap();
    let gpu = &manifest["profile"]["gpu"];
    assert_eq!(gpu["inherits"].as_str(), Some("release"));
    let release = package_opt_levels(&manifest, "release");
    let optimised = package_opt_levels(&manifest, "gpu");
    for name in ["burn-cubecl", "cubecl-runtime", "wgpu-core", "naga"] {
        assert_eq!(release.get(name), Some(&0), "{name} in the release build");
    }
    let lowered: Vec<_> = release
        .iter()
        .filter(|(_, l)| **l == 0)
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        optimised.keys().collect::<Vec<_>>(),
        lowered,
        "[profile.gpu.package] names the same crates"
    );
    assert!(optimised.values().all(|l| *l >= 1), "{optimised:?}");
}
