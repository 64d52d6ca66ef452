//! How the command-line tools end: one mapping from a command's result to its exit status,
//! shared by `trainer`, `synth` and `cargo xtask` so that they behave alike.
//!
//! - success: status 0;
//! - a command-line error (unknown flag, bad value): clap's own message and usage, status 2;
//!   `--help` and `--version` print on standard output, status 0;
//! - any other error: `error: ` and the error with its causes on one line
//!   ([`crate::error_line`]), status 1.

use std::process::ExitCode;

use crate::error_line::error_line;

/// The exit status for `result`, after printing what the mapping above prints.
pub fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if let Some(clap_err) = e.downcast_ref::<clap::Error>() {
                // Printing to a closed stream is the only failure; nothing is left to report.
                let _ = clap_err.print();
                return ExitCode::from(if clap_err.use_stderr() { 2 } else { 0 });
            }
            eprintln!("error: {}", error_line(&*e));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Cli {
        #[arg(long)]
        count: u32,
    }

    #[test]
    fn statuses_follow_the_kind_of_error() {
        assert_eq!(exit_code(Ok(())), ExitCode::SUCCESS);
        let usage = Cli::try_parse_from(["x", "--count", "many"]).unwrap_err();
        assert_eq!(exit_code(Err(usage.into())), ExitCode::from(2));
        let help = Cli::try_parse_from(["x", "--help"]).unwrap_err();
        assert_eq!(exit_code(Err(help.into())), ExitCode::from(0));
        assert_eq!(
            exit_code(Err(anyhow::anyhow!("x.wav: truncated"))),
            ExitCode::FAILURE
        );
    }
}
