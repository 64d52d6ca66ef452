//! `synth info`: what a preset holds — its model, what it was trained on and how well, the
//! reach of its latent controls, and its items by the numbers the `Sound` parameter and
//! `synth render --item` take.

use serde::Serialize;
use sirenade_common::model_config::{Conditioning, ModelConfig};
use sirenade_common::preset::TrainingSummary;
use sirenade_common::thousands::grouped;

use crate::engine::controls::LATENT_CONTROLS;
use crate::engine::Sound;

/// Everything `synth info` prints (`--json`: this object).
#[derive(Debug, Clone, Serialize)]
pub struct PresetReport {
    /// The file (or `embedded preset`).
    pub origin: String,
    /// SHA-256 of the file, lower-case hex (what a project's state records).
    pub sha256: String,
    /// The trainer's model name.
    pub model_name: String,
    /// Weights and biases of the (folded) network.
    pub parameters: usize,
    /// The architecture.
    pub model: ModelConfig,
    /// The rate the model was trained at, Hz.
    pub sample_rate: u32,
    /// Clip length the model spans, seconds.
    pub duration_seconds: f64,
    /// The training set as the trainer was given it.
    pub data_source: String,
    /// Its format.
    pub data_format: String,
    /// Its selection flags.
    pub selection: Vec<String>,
    /// Training epochs, final loss and evaluation, as far as recorded.
    pub training: TrainingSummary,
    /// How far `Latent 1`…`Latent 8` at ±1 move the latent: the training latents' standard
    /// deviation along each principal direction (0 where the preset has fewer).
    pub latent_control_stds: Vec<f32>,
    /// The items.
    pub items: Vec<ItemReport>,
}

/// One item as the plugin lists it.
#[derive(Debug, Clone, Serialize)]
pub struct ItemReport {
    /// Its number (`Sound`, `Morph to`, `--item`).
    pub index: usize,
    /// Its id in the training set.
    pub id: String,
    /// The name the plugin shows.
    pub name: String,
    /// Its MIDI pitch, if labelled.
    pub pitch: Option<u8>,
}

impl PresetReport {
    /// The report of a loaded preset.
    pub fn of(sound: &Sound) -> PresetReport {
        let info = sound.info();
        let stds = sound.direction_stds();
        PresetReport {
            origin: sound.origin().to_string(),
            sha256: sound.sha256().to_string(),
            model_name: info.training.model_name.clone(),
            parameters: info.model.parameter_count(),
            model: info.model.clone(),
            sample_rate: info.sample_rate,
            duration_seconds: info.duration_seconds,
            data_source: info.data.source.clone(),
            data_format: info.data.format.clone(),
            selection: info.data.selection.clone(),
            training: info.training.clone(),
            latent_control_stds: (0..LATENT_CONTROLS)
                .map(|k| stds.get(k).copied().unwrap_or(0.0))
                .collect(),
            items: (0..sound.items())
                .map(|index| ItemReport {
                    index,
                    id: sound.item_id(index).unwrap_or("").to_string(),
                    name: sound.item_name(index).unwrap_or("").to_string(),
                    pitch: sound.item_pitch(index),
                })
                .collect(),
        }
    }

    /// The report as text: a summary, then one line per item.
    pub fn text(&self) -> String {
        let m = &self.model;
        let widths: Vec<String> = m.layers.iter().map(|l| l.width.to_string()).collect();
        let conditioning = match &m.conditioning {
            Conditioning::Film => "FiLM".to_string(),
            Conditioning::FilmPerLayer => "FiLM per layer".to_string(),
            Conditioning::Concat { .. } => "concatenation".to_string(),
        };
        let mut out = format!("preset {} (sha256 {})\n", self.origin, self.sha256);
        out += &format!(
            "model {}: {} parameters; latent {}; synthesis widths {} ({conditioning}); \
             omega {} first, {} hidden\n",
            self.model_name,
            grouped(self.parameters),
            m.latent_size,
            widths.join(", "),
            m.omega_first,
            m.omega_hidden,
        );
        let selection = if self.selection.is_empty() {
            String::new()
        } else {
            format!(" {}", self.selection.join(" "))
        };
        out += &format!(
            "trained on {} ({}{selection}): {} items of {} s at {} Hz\n",
            self.data_source,
            self.data_format,
            self.items.len(),
            self.duration_seconds,
            self.sample_rate,
        );
        out += &format!("training: {}\n", training_line(&self.training));
        let stds: Vec<String> = self
            .latent_control_stds
            .iter()
            .map(|s| format!("{s:.4}"))
            .collect();
        out += &format!(
            "Latent 1-{LATENT_CONTROLS} at ±1 move: {}\n",
            stds.join(" ")
        );
        out += "items:\n";
        for item in &self.items {
            out += &format!("{:>5}  {:<40}  {}\n", item.index, item.name, item.id);
        }
        out
    }
}

fn training_line(t: &TrainingSummary) -> String {
    let mut parts = Vec::new();
    if let Some(epochs) = t.epochs {
        parts.push(format!("{epochs} epochs"));
    }
    if let Some(loss) = t.final_loss {
        parts.push(format!("final loss {loss:.4}"));
    }
    if let Some(e) = t.eval {
        parts.push(format!(
            "MSE ×10³ {:.3}, STFT MSE {:.4}, LSD ×10 {:.2}",
            e.mse_x1e3, e.stft_mse, e.lsd_x10
        ));
    }
    if parts.is_empty() {
        "not recorded".to_string()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_preset_reports_its_model_items_and_controls() {
        let sound = Sound::embedded();
        let report = PresetReport::of(&sound);
        assert_eq!(report.model_name, "layered-96");
        assert_eq!(report.parameters, 176_705);
        assert_eq!(report.sample_rate, 16_000);
        assert_eq!(report.items.len(), sound.items());
        assert_eq!(report.latent_control_stds.len(), LATENT_CONTROLS);
        assert!(report.latent_control_stds.iter().all(|&s| s > 0.0));
        assert!(
            report.latent_control_stds.windows(2).all(|w| w[0] >= w[1]),
            "largest variance first"
        );
        let first = &report.items[0];
        assert_eq!(first.name, sound.item_name(0).unwrap());
        assert_eq!(first.pitch, sound.item_pitch(0));
        assert!(!first.id.is_empty());
        let text = report.text();
        assert!(
            text.contains("model layered-96: 176,705 parameters"),
            "{text}"
        );
        assert!(text.contains(&format!("    0  {}", first.name)), "{text}");
        assert_eq!(text.lines().count(), 6 + sound.items());
    }

    #[test]
    fn a_custom_latent_reports_its_single_item() {
        let sound = Sound::embedded();
        let custom = sound.with_latent(&vec![0.0; sound.latent_dim()]).unwrap();
        let report = PresetReport::of(&custom);
        assert_eq!(report.items.len(), 1);
        assert_eq!(report.items[0].name, "custom latent");
        assert_eq!(report.items[0].id, "custom latent");
    }
}
