//! `rl`: parse the command line, dispatch, map errors to exit codes
//! (0 success, 1 a run failed or `rl check` found an expectation that fails, 2 bad usage or
//! config: nothing written, 130 interrupted).

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use rl::cli::{Cli, Command};
use rl::commands;
use rl::error::UsageError;
use rl::run::emit;
use tracing_subscriber::EnvFilter;

/// mimalloc instead of glibc's allocator: a training step allocates and frees the same tensor
/// sizes thousands of times, and glibc's trimming (`madvise`, then page faults) and bin search
/// took about a fifth of PPO's training time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // SAFETY: the first statement of `main`; no other thread exists yet.
    unsafe { rl::nn::device::pin_default_device() };
    // Every thread that computes (this one, the seed workers, the pool Burn's CPU backends use)
    // flushes subnormals to zero.
    rl::nn::subnormal::flush_to_zero();
    let _ = rayon::ThreadPoolBuilder::new()
        .start_handler(|_| rl::nn::subnormal::flush_to_zero())
        .build_global();
    let cli = Cli::parse();
    let verbosity = match &cli.command {
        Command::Run(args) => args.verbose,
        _ => 0,
    };
    let default_level = ["warn", "info", "debug"][usize::from(verbosity.min(2))];
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colour codes only on a terminal, not in redirected logs.
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level)),
        )
        .init();

    let result: Result<ExitCode, UsageError> = match &cli.command {
        Command::Run(args) => commands::run(args).map(ExitCode::from),
        Command::Validate(args) => commands::validate(args).map(|text| {
            emit(&text);
            ExitCode::SUCCESS
        }),
        Command::Compare(args) => commands::compare(args).map(|text| {
            emit(&text);
            ExitCode::SUCCESS
        }),
        Command::Plot(args) => commands::plot(args).map(|text| {
            emit(&text);
            ExitCode::SUCCESS
        }),
        Command::Merge(args) => commands::merge(args).map(|text| {
            emit(&text);
            ExitCode::SUCCESS
        }),
        Command::Check(args) => commands::check(args).map(|(text, passed)| {
            emit(&text);
            if passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }),
        Command::Eval(args) => commands::eval(args).map(|text| {
            emit(&text);
            ExitCode::SUCCESS
        }),
        Command::Collect(args) => commands::collect(args).map(|text| {
            emit(&text);
            ExitCode::SUCCESS
        }),
        Command::Sweep { command } => commands::sweep(command).map(ExitCode::from),
        Command::Envs => {
            emit(&commands::envs());
            Ok(ExitCode::SUCCESS)
        }
        Command::Algos { name } => commands::algos(name.as_deref()).map(|text| {
            emit(&text);
            ExitCode::SUCCESS
        }),
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })
}
