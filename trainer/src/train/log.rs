//! The run's `log.jsonl`: one JSON line per trained epoch, and one per recovery event, as
//! typed records that the training loop writes and every reader parses the same way.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sirenade_common::atomic_file;

use super::run_dir::log_path;

/// What one epoch measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochLine {
    /// The epoch's index (0-based).
    pub epoch: usize,
    /// Mean loss over the epoch's steps.
    pub loss: f64,
    /// Mean amplitude term.
    #[serde(default)]
    pub amplitude: f64,
    /// Mean derivative term.
    #[serde(default)]
    pub derivative: f64,
    /// Mean spectral (STFT) term; 0 when it is off.
    #[serde(default)]
    pub spectral: f64,
    /// Synthesis learning rate of the epoch's last step (the schedule's factor applied).
    #[serde(default)]
    pub lr: f64,
    /// Wall time of the epoch, seconds.
    #[serde(default)]
    pub seconds: f64,
    /// Coordinate samples (items × points) per second of wall time.
    #[serde(default)]
    pub coord_samples_per_s: f64,
}

/// What happened to the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// A non-finite loss or state: the run went back to a checkpoint with halved rates.
    Rollback,
    /// Too many rollbacks in a row: the run stopped.
    Diverged,
}

/// A recovery event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventLine {
    /// What happened.
    pub event: EventKind,
    /// The epoch that failed.
    pub epoch: usize,
    /// The step that failed (`None`: the state at the epoch's end).
    #[serde(default)]
    pub step: Option<usize>,
    /// What went non-finite ("loss", or "tensor NAME").
    #[serde(default)]
    pub cause: String,
    /// The epoch the run went back to.
    #[serde(default)]
    pub resumed_at_epoch: usize,
    /// The synthesis learning rate after halving (rollbacks only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr: Option<f64>,
}

/// One line of `log.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LogLine {
    /// An event (its `event` key tells it from an epoch line).
    Event(EventLine),
    /// An epoch's figures.
    Epoch(EpochLine),
}

/// Appends `line` to `RUN/log.jsonl`.
pub fn append(run: &Path, line: &LogLine) -> Result<()> {
    let path = log_path(run);
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("{}: cannot append", path.display()))?;
    let text = serde_json::to_string(line).context("a log line serialises")?;
    writeln!(f, "{text}").with_context(|| format!("{}: write failed", path.display()))?;
    Ok(())
}

/// Every line of the log at `path` (blank lines skipped; a missing file is empty); a line
/// that is not a log record is an error naming the file and the line.
pub fn read(path: &Path) -> Result<Vec<LogLine>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("{}: cannot read", path.display())),
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            serde_json::from_str(l)
                .with_context(|| format!("{}: line {} is malformed", path.display(), n + 1))
        })
        .collect()
}

/// Drops the epoch lines of epochs at or after `epoch` (they are redone after a resume or a
/// rollback); event lines stay, as the run's history, and so does nothing unreadable.
pub fn truncate(run: &Path, epoch: usize) -> Result<()> {
    let path = log_path(run);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    let kept: String = text
        .lines()
        .filter(|l| match serde_json::from_str::<LogLine>(l) {
            Ok(LogLine::Event(_)) => true,
            Ok(LogLine::Epoch(e)) => e.epoch < epoch,
            Err(_) => false,
        })
        .map(|l| format!("{l}\n"))
        .collect();
    atomic_file::write(&path, kept.as_bytes())
        .with_context(|| format!("{}: cannot rewrite", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_and_events_are_told_from_epochs() {
        let epoch = LogLine::Epoch(EpochLine {
            epoch: 3,
            loss: 1.5,
            amplitude: 1.0,
            derivative: 0.25,
            spectral: 0.25,
            lr: 1e-4,
            seconds: 0.5,
            coord_samples_per_s: 32_000.0,
        });
        let event = LogLine::Event(EventLine {
            event: EventKind::Rollback,
            epoch: 4,
            step: Some(2),
            cause: "loss".into(),
            resumed_at_epoch: 3,
            lr: Some(5e-5),
        });
        for line in [&epoch, &event] {
            let text = serde_json::to_string(line).unwrap();
            assert_eq!(&serde_json::from_str::<LogLine>(&text).unwrap(), line);
        }
        let text = serde_json::to_string(&event).unwrap();
        assert!(text.contains("\"event\":\"rollback\""), "{text}");
        let diverged: LogLine = serde_json::from_str(
            r#"{"event":"diverged","epoch":2,"step":null,"cause":"tensor w","resumed_at_epoch":1}"#,
        )
        .unwrap();
        assert!(matches!(
            diverged,
            LogLine::Event(EventLine {
                event: EventKind::Diverged,
                lr: None,
                ..
            })
        ));
    }

    #[test]
    fn truncation_keeps_earlier_epochs_and_every_event() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_path(dir.path());
        std::fs::write(
            &path,
            concat!(
                "{\"epoch\":0,\"loss\":4.0}\n",
                "{\"epoch\":1,\"loss\":3.0}\n",
                "{\"event\":\"rollback\",\"epoch\":2,\"step\":0,\"resumed_at_epoch\":1}\n",
                "{\"epoch\":2,\"loss\":2.0}\n",
            ),
        )
        .unwrap();
        truncate(dir.path(), 1).unwrap();
        let lines = read(&path).unwrap();
        assert_eq!(lines.len(), 2);
        assert!(matches!(&lines[0], LogLine::Epoch(e) if e.epoch == 0));
        assert!(matches!(&lines[1], LogLine::Event(e) if e.epoch == 2));
        std::fs::write(&path, "{\"epoch\":0,\"loss\":4.0}\nnot json\n").unwrap();
        let err = read(&path).unwrap_err().to_string();
        assert!(err.contains("log.jsonl: line 2 is malformed"), "{err}");
    }
}
