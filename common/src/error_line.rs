//! One line for an error and its causes, as the command-line tools print it.
//!
//! Many errors of this workspace say their cause in their own message ("song.mid: No such
//! file or directory") and also return it as their `source`, so printing the whole chain
//! (anyhow's `{:#}`) would say it twice. Here a cause is added only where the text so far does
//! not already hold it.

use std::error::Error;

/// `error`'s message followed by each cause (`": cause"`) that the text so far lacks.
pub fn error_line(error: &(dyn Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        cause = c.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::error_line;

    /// An error that prints its cause and returns it as its source, like the library errors.
    #[derive(Debug, thiserror::Error)]
    #[error("{path}: {source}")]
    struct Reading {
        path: String,
        source: std::io::Error,
    }

    /// A wrapper that does not print its cause.
    #[derive(Debug, thiserror::Error)]
    #[error("cannot render {0}")]
    struct Rendering(String, #[source] Reading);

    #[test]
    fn each_cause_appears_once() {
        let missing = || std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let reading = Reading {
            path: "song.mid".into(),
            source: missing(),
        };
        assert_eq!(error_line(&reading), "song.mid: no such file");
        let rendering = Rendering(
            "song.wav".into(),
            Reading {
                path: "song.mid".into(),
                source: missing(),
            },
        );
        assert_eq!(
            error_line(&rendering),
            "cannot render song.wav: song.mid: no such file"
        );
    }
}
