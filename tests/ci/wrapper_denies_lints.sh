#!/usr/bin/env bash
# CI lints the rl crate through RUSTC_WORKSPACE_WRAPPER=clippy-driver and CLIPPY_ARGS (see .ci/run).
# That is cargo-clippy's internal interface: if a toolchain changed it, the build would pass
# without linting. This check builds a one-line crate with a clippy warning under the same
# environment and fails unless clippy denies it.
set -euo pipefail
: "${RUSTC_WORKSPACE_WRAPPER:?set RUSTC_WORKSPACE_WRAPPER to clippy-driver}"
: "${CLIPPY_ARGS:?set CLIPPY_ARGS}"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/src"
printf '[package]\nname = "lint_probe"\nversion = "0.0.0"\nedition = "2021"\n\n[workspace]\n' >"$dir/Cargo.toml"
printf 'fn main() {\n    let v = vec![1];\n    if v.len() == 0 {\n        println!("empty");\n    }\n}\n' >"$dir/src/main.rs"
if out="$(cd "$dir" && CARGO_TARGET_DIR="$dir/target" cargo build --quiet 2>&1)"; then
  echo "wrapper_denies_lints: the clippy wrapper let a clippy::len_zero warning through" >&2
  exit 1
fi
if ! grep -q "clippy::len.zero" <<<"$out"; then
  echo "wrapper_denies_lints: the probe failed, but not on clippy's lint:" >&2
  echo "$out" >&2
  exit 1
fi
echo "wrapper_denies_lints: clippy-driver denies lints in CI's build"
