//! `trainer data info`: loads a data set with the selection flags and prints its summary.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use sirenade_common::dataset::{
    self, parse_pitch_range, split_list, Dataset, Format, QualityFilter, Selection, Summary,
};

use crate::bundled;

/// The data-selection flags shared by every command that reads a data set.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// Data set folder, or `bundled:keyboard` / `bundled:speech`.
    #[arg(long = "data", value_name = "PATH")]
    pub data: String,
    /// Data set format; detected when absent.
    #[arg(long, value_parser = ["nsynth", "speech-commands", "wav-folder"])]
    pub format: Option<String>,
    /// NSynth instrument families to keep, comma separated (e.g. keyboard,mallet,guitar).
    #[arg(long, value_name = "LIST")]
    pub families: Option<String>,
    /// MIDI pitch range to keep, e.g. 60-64.
    #[arg(long, value_name = "LOW-HIGH")]
    pub pitches: Option<String>,
    /// Speech Commands words to keep, comma separated (e.g. zero,one,two).
    #[arg(long, value_name = "LIST")]
    pub words: Option<String>,
    /// JSON file listing the item ids to use (array of ids, or object keyed by id).
    #[arg(long, value_name = "FILE")]
    pub ids: Option<PathBuf>,
    /// Number of items to take, balanced by pitch and family (notes) or word (speech).
    #[arg(long, value_name = "N")]
    pub items: Option<usize>,
    /// Seed of the balanced choice of items (and, for `trainer fit`, of training: weights,
    /// latents, batch order, phases). Default 0.
    #[arg(long)]
    pub seed: Option<u64>,
    /// NSynth quality flags that exclude an item: all (the thesis' rule), none, or a list.
    #[arg(long, default_value = "all", value_name = "all|none|LIST")]
    pub exclude_qualities: String,
    /// Skip unreadable files with a counted warning instead of failing.
    #[arg(long)]
    pub skip_bad: bool,
}

impl DataArgs {
    /// Builds the selection these flags describe.
    pub fn selection(&self) -> Result<Selection> {
        Ok(Selection {
            families: self.families.as_deref().map(split_list),
            pitches: self.pitches.as_deref().map(parse_pitch_range).transpose()?,
            words: self.words.as_deref().map(split_list),
            ids: self.ids.clone(),
            items: self.items,
            seed: self.seed.unwrap_or(0),
            qualities: QualityFilter::parse(&self.exclude_qualities)?,
            skip_bad: self.skip_bad,
        })
    }

    /// The selection flags as given, for the run description.
    pub fn describe(&self) -> Vec<String> {
        let mut v = Vec::new();
        let mut push = |flag: &str, value: Option<String>| {
            if let Some(x) = value {
                v.push(format!("--{flag}={x}"));
            }
        };
        push("format", self.format.clone());
        push("families", self.families.clone());
        push("pitches", self.pitches.clone());
        push("words", self.words.clone());
        push("ids", self.ids.as_ref().map(|p| p.display().to_string()));
        push("items", self.items.map(|n| n.to_string()));
        push("seed", Some(self.seed.unwrap_or(0).to_string()));
        push("exclude-qualities", Some(self.exclude_qualities.clone()));
        if self.skip_bad {
            v.push("--skip-bad".into());
        }
        v
    }

    /// Resolves the path, builds the selection and reads the data set.
    pub fn load(&self) -> Result<Dataset> {
        let root = bundled::resolve(&self.data)?;
        let format = self.format.as_deref().map(Format::parse).transpose()?;
        let selection = self.selection()?;
        let ds = dataset::load(&root, format, &selection)
            .with_context(|| format!("reading data set {}", root.display()))?;
        Ok(ds)
    }
}

/// Arguments of `trainer data info`.
#[derive(Debug, Clone, Args)]
pub struct InfoArgs {
    /// Data set and selection.
    #[command(flatten)]
    pub data: DataArgs,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs `trainer data info` and returns what it prints.
pub fn info(args: &InfoArgs) -> Result<String> {
    let ds = args.data.load()?;
    let summary = Summary::of(&ds);
    if args.json {
        Ok(serde_json::to_string_pretty(&summary)? + "\n")
    } else {
        Ok(summary.to_text())
    }
}
