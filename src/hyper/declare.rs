//! [`hyperparameters!`]: one declaration per key.

/// Declares a table of hyperparameters, each key once: its help line (the doc comment), name,
/// type, default and range check. It generates the struct (public fields, rustdoc from the
/// help lines), `Default`, `Serialize`, `Deserialize` and [`Hyperparameters`].
///
/// ```text
/// hyperparameters! {
///     /// Hyperparameters of X.
///     pub struct XConfig {
///         /// discount factor γ ∈ [0, 1]
///         gamma: f64 = 0.99, in_closed(0.0, 1.0);
///         /// minibatch size
///         batch_size: usize = 64, nonzero;
///         /// global gradient-norm bound (unset: none)
///         max_grad_norm: Option<f64> = None, positive;
///         /// initial value of every Q(s, a)
///         q_init: f64 = 0.0;
///         ..off_policy: OffPolicyConfig = OffPolicyConfig { tau: 1.0, ..Default::default() };
///         [policy]: PolicyConfig;
///     }
///     check: Self::consistency;
/// }
/// ```
///
/// - `/// help` then `key: Type = default, check(args);`: a key. The doc comment is the help
///   line `rl algos` shows (it may wrap over several `///` lines); `check` is a [`Checker`]
///   method called as `c.check("key", &value, args)` (none: no range check).
/// - `..name: Type = default;`: a group (a [`Hyperparameters`] type) whose keys sit in this
///   table, e.g. the off-policy keys; its values are `self.name.key`.
/// - `[name]: Type = default;`: a nested table `[section.name]`; its keys read `name.key` in
///   help and errors.
/// - The `= default` of a group or table is optional (else the type's own default); keys it
///   does not give in a file keep this default.
/// - `check: path;`: a cross-field check `fn(&Self, &mut Checker)`, run after the range checks.
///
/// [`Hyperparameters`]: crate::hyper::Hyperparameters
/// [`Checker`]: crate::hyper::Checker
macro_rules! hyperparameters {
    // A group: `..name: Type = default;`.
    (@parse $head:tt $cross:tt [$($done:tt)*]
        $(#[doc = $doc:literal])*
        .. $key:ident : $ty:ty $(= $default:expr)? ;
        $($rest:tt)*
    ) => {
        $crate::hyper::hyperparameters!(@parse $head $cross
            [$($done)* (group $key $ty [$($default)?] [$($doc)*] [])] $($rest)*);
    };
    // A nested table: `[name]: Type = default;`.
    (@parse $head:tt $cross:tt [$($done:tt)*]
        $(#[doc = $doc:literal])*
        [$key:ident] : $ty:ty $(= $default:expr)? ;
        $($rest:tt)*
    ) => {
        $crate::hyper::hyperparameters!(@parse $head $cross
            [$($done)* (table $key $ty [$($default)?] [$($doc)*] [])] $($rest)*);
    };
    // A key: `/// help` then `name: Type = default, check(args);`.
    (@parse $head:tt $cross:tt [$($done:tt)*]
        $(#[doc = $doc:literal])+
        $key:ident : $ty:ty = $default:expr $(, $check:ident $(($($arg:expr),* $(,)?))?)? ;
        $($rest:tt)*
    ) => {
        $crate::hyper::hyperparameters!(@parse $head $cross
            [$($done)* (key $key $ty [$default] [$($doc)+] [$($check $($($arg),*)?)?])]
            $($rest)*);
    };
    // Every entry parsed: generate.
    (@parse [$(#[$attr:meta])* $vis:vis struct $name:ident] [$($cross:path)?]
        [$(($kind:ident $key:ident $ty:ty [$($default:expr)?] [$($doc:literal)*] [$($check:tt)*]))*]
    ) => {
        $(#[$attr])*
        #[derive(Clone, Debug, PartialEq)]
        $vis struct $name {
            $($(#[doc = $doc])* pub $key: $ty,)*
        }

        impl ::std::default::Default for $name {
            fn default() -> Self {
                Self {
                    $($key: $crate::hyper::hyperparameters!(@default $($default)?),)*
                }
            }
        }

        // A table without keys (a reference policy's) leaves the arguments unused.
        #[allow(unused_variables)]
        impl $crate::hyper::Hyperparameters for $name {
            fn describe(prefix: &str, out: &mut Vec<(String, &'static str)>) {
                $($crate::hyper::hyperparameters!(@describe $kind $key [$ty] [$($doc)*] prefix out);)*
            }

            fn check(&self, c: &mut $crate::hyper::Checker) {
                $($crate::hyper::hyperparameters!(@check $kind $key self c [$($check)*]);)*
                $($cross(self, c);)?
            }

            fn keys() -> &'static [&'static str] {
                static KEYS: ::std::sync::OnceLock<Vec<&'static str>> = ::std::sync::OnceLock::new();
                KEYS.get_or_init(|| {
                    let mut out = Vec::new();
                    <Self as $crate::hyper::Hyperparameters>::collect_keys(&mut out);
                    out
                })
            }

            fn collect_keys(out: &mut Vec<&'static str>) {
                $($crate::hyper::hyperparameters!(@keys $kind $key [$ty] out);)*
            }

            fn set<'de, A: ::serde::de::MapAccess<'de>>(
                &mut self,
                key: &str,
                map: &mut A,
            ) -> ::std::result::Result<(), A::Error> {
                $($crate::hyper::hyperparameters!(@set $kind $key [$ty] self key map);)*
                Err(<A::Error as ::serde::de::Error>::unknown_field(
                    key,
                    <Self as $crate::hyper::Hyperparameters>::keys(),
                ))
            }

            fn serialize_entries<M: ::serde::ser::SerializeMap>(
                &self,
                map: &mut M,
            ) -> ::std::result::Result<(), M::Error> {
                $($crate::hyper::hyperparameters!(@serialize $kind $key self map);)*
                Ok(())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                $crate::hyper::serialize_table(self, serializer)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                let mut table = <Self as ::std::default::Default>::default();
                ::serde::de::DeserializeSeed::deserialize(
                    $crate::hyper::Fill(&mut table),
                    deserializer,
                )?;
                Ok(table)
            }
        }
    };

    (@default $default:expr) => { $default };
    (@default) => { ::std::default::Default::default() };

    (@describe key $key:ident [$ty:ty] [$($doc:literal)+] $prefix:ident $out:ident) => {
        $out.push((format!("{}{}", $prefix, stringify!($key)), concat!($($doc),+).trim()));
    };
    (@describe group $key:ident [$ty:ty] [$($doc:literal)*] $prefix:ident $out:ident) => {
        <$ty as $crate::hyper::Hyperparameters>::describe($prefix, $out);
    };
    (@describe table $key:ident [$ty:ty] [$($doc:literal)*] $prefix:ident $out:ident) => {
        <$ty as $crate::hyper::Hyperparameters>::describe(
            &format!("{}{}.", $prefix, stringify!($key)),
            $out,
        );
    };

    (@check key $key:ident $this:ident $c:ident []) => {};
    (@check key $key:ident $this:ident $c:ident [$check:ident $($arg:expr),*]) => {
        $c.$check(stringify!($key), &$this.$key $(, $arg)*);
    };
    (@check group $key:ident $this:ident $c:ident []) => {
        $crate::hyper::Hyperparameters::check(&$this.$key, $c);
    };
    (@check table $key:ident $this:ident $c:ident []) => {
        $c.table(stringify!($key), |c| $crate::hyper::Hyperparameters::check(&$this.$key, c));
    };

    (@keys group $key:ident [$ty:ty] $out:ident) => {
        <$ty as $crate::hyper::Hyperparameters>::collect_keys($out);
    };
    (@keys $kind:ident $key:ident [$ty:ty] $out:ident) => {
        $out.push(stringify!($key));
    };

    (@set key $key:ident [$ty:ty] $this:ident $k:ident $map:ident) => {
        if $k == stringify!($key) {
            $this.$key = ::serde::de::MapAccess::next_value($map)?;
            return Ok(());
        }
    };
    (@set table $key:ident [$ty:ty] $this:ident $k:ident $map:ident) => {
        if $k == stringify!($key) {
            return ::serde::de::MapAccess::next_value_seed(
                $map,
                $crate::hyper::Fill(&mut $this.$key),
            );
        }
    };
    (@set group $key:ident [$ty:ty] $this:ident $k:ident $map:ident) => {
        if <$ty as $crate::hyper::Hyperparameters>::keys().contains(&$k) {
            return $crate::hyper::Hyperparameters::set(&mut $this.$key, $k, $map);
        }
    };

    (@serialize group $key:ident $this:ident $map:ident) => {
        $crate::hyper::Hyperparameters::serialize_entries(&$this.$key, $map)?;
    };
    (@serialize $kind:ident $key:ident $this:ident $map:ident) => {
        ::serde::ser::SerializeMap::serialize_entry($map, stringify!($key), &$this.$key)?;
    };

    // The declaration.
    (
        $(#[$attr:meta])*
        $vis:vis struct $name:ident { $($body:tt)* }
        $(check: $cross:path;)?
    ) => {
        $crate::hyper::hyperparameters!(@parse [$(#[$attr])* $vis struct $name] [$($cross)?] []
            $($body)*);
    };
}

pub(crate) use hyperparameters;

#[cfg(test)]
mod tests {
    use crate::hyper::{Checker, Hyperparameters};

    hyperparameters! {
        /// A group embedded below.
        struct Group {
            /// step size α
            alpha: f64 = 0.5, in_half_open(0.0, 1.0);
            /// how many
            count: usize = 3, nonzero;
        }
    }

    hyperparameters! {
        /// A nested table.
        struct Net {
            /// hidden sizes
            sizes: Vec<usize> = vec![64, 64], all_nonzero;
            /// a flag
            wide: bool = false;
        }
    }

    hyperparameters! {
        /// A table with a key, a group, a nested table and a cross-field check.
        struct Outer {
            /// discount factor γ,
            /// in [0, 1]
            gamma: f64 = 0.99, in_closed(0.0, 1.0);
            /// optional bound (unset: none)
            bound: Option<f64> = None, positive;
            ..group: Group = Group { count: 7, ..Default::default() };
            [net]: Net = Net { sizes: vec![400, 300], ..Default::default() };
        }
        check: Self::consistency;
    }

    impl Outer {
        fn consistency(&self, c: &mut Checker) {
            c.require("count", self.group.count <= 10, || "must be <= 10".into());
        }
    }

    fn parse(text: &str) -> Result<Outer, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn defaults_come_from_the_embedding_table() {
        let outer = Outer::default();
        assert_eq!((outer.group.alpha, outer.group.count), (0.5, 7));
        assert_eq!((outer.net.sizes, outer.net.wide), (vec![400, 300], false));
        assert_eq!(parse("").unwrap(), Outer::default());
        let given = parse("count = 2\n[net]\nwide = true\n").unwrap();
        assert_eq!(given.group.count, 2);
        assert_eq!(given.group.alpha, 0.5);
        assert_eq!(
            given.net.sizes,
            vec![400, 300],
            "a nested table keeps the embedding default"
        );
        assert!(given.net.wide);
    }

    #[test]
    fn help_lists_group_and_table_keys_in_order() {
        let help = Outer::help();
        let keys: Vec<&str> = help.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["gamma", "bound", "alpha", "count", "net.sizes", "net.wide"]
        );
        assert_eq!(help[0].1, "discount factor γ, in [0, 1]");
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_errors_at_the_key() {
        let text = "gamma = 0.9\ncuont = 2\n";
        let err = parse(text).unwrap_err();
        assert!(
            err.message()
                .starts_with("unknown field `cuont`, expected one of `gamma`, `bound`, `alpha`"),
            "{}",
            err.message()
        );
        assert_eq!(err.span(), Some(12..17));
        let err = parse("[net]\nsizes = \"big\"\n").unwrap_err();
        assert!(err.message().contains("invalid type"), "{}", err.message());
        assert_eq!(err.span(), Some(14..19));
        let err = parse("[net]\nnarrow = 1\n").unwrap_err();
        assert!(err.message().contains("`narrow`"), "{}", err.message());
        assert_eq!(err.span(), Some(6..12));
    }

    #[test]
    fn serialises_groups_inline_and_round_trips() {
        let mut outer = Outer {
            bound: Some(2.0),
            ..Default::default()
        };
        outer.group.alpha = 0.25;
        let text = toml::to_string(&outer).unwrap();
        assert_eq!(
            text,
            "gamma = 0.99\nbound = 2.0\nalpha = 0.25\ncount = 7\n\n[net]\nsizes = [400, 300]\nwide = false\n"
        );
        assert_eq!(parse(&text).unwrap(), outer);
        let unset = toml::to_string(&Outer::default()).unwrap();
        assert!(!unset.contains("bound"), "{unset}");
    }

    #[test]
    fn checks_name_keys_of_groups_and_tables() {
        let outer =
            parse("gamma = 2.0\nbound = -1.0\ncount = 11\nalpha = 0.0\n[net]\nsizes = [0]\n")
                .unwrap();
        let mut c = Checker::new("algo");
        outer.check(&mut c);
        let keys: Vec<String> = c.into_errors().into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            [
                "algo.gamma",
                "algo.bound",
                "algo.alpha",
                "algo.net.sizes",
                "algo.count"
            ]
        );
    }
}
