//! Where two `config.toml` files differ, named by key: for `rl merge`'s and `--resume`'s refusals.

/// The first `table.key`, in the tables' sorted key order, whose value differs between two
/// serialised configs (`"its tables"` when only the set of tables differs).
pub fn first_differing_key(a: &str, b: &str) -> String {
    let parse = |t: &str| t.parse::<toml::Table>().unwrap_or_default();
    let (a, b) = (parse(a), parse(b));
    let empty = toml::Table::new();
    for (name, table) in a.iter().chain(b.iter()) {
        let ta = a.get(name).and_then(|v| v.as_table()).unwrap_or(&empty);
        let tb = b.get(name).and_then(|v| v.as_table()).unwrap_or(&empty);
        for key in table.as_table().into_iter().flat_map(|t| t.keys()) {
            if ta.get(key) != tb.get(key) {
                return format!("{name}.{key}");
            }
        }
    }
    "its tables".to_string()
}

#[cfg(test)]
mod tests {
    use super::first_differing_key;

    #[test]
    fn the_first_changed_or_missing_key_is_named() {
        let a = "[algo]\nname = \"ppo\"\nlearning_rate = 0.001\n[env]\nid = \"CartPole-v1\"\n";
        let b = "[algo]\nname = \"ppo\"\nlearning_rate = 0.0003\n[env]\nid = \"CartPole-v1\"\n";
        assert_eq!(first_differing_key(a, b), "algo.learning_rate");
        let c = "[algo]\nname = \"ppo\"\nlearning_rate = 0.001\n[env]\nid = \"CartPole-v1\"\nmax_episode_steps = 200\n";
        assert_eq!(first_differing_key(a, c), "env.max_episode_steps");
        assert_eq!(first_differing_key(a, "[algo]\n"), "algo.learning_rate");
        assert_eq!(first_differing_key("[a]\n", "[b]\n"), "its tables");
    }
}
