//! The `trainer` command line. All logic lives in the library so that it can be tested.

fn main() -> std::process::ExitCode {
    sirenade_trainer::cli::main()
}
