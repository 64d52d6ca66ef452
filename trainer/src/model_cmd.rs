//! `trainer model info`: the layer table and parameter count of a named model.

use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;
use sirenade_common::model_config::{Conditioning, LayerShape, ModelConfig};
use sirenade_common::thousands::grouped;

/// Arguments of `trainer model info`.
#[derive(Debug, Clone, Args)]
pub struct InfoArgs {
    /// Model name (see the error of an unknown name for the list).
    #[arg(long, value_name = "NAME")]
    pub model: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// What `--json` prints.
#[derive(Debug, Serialize)]
struct Report<'a> {
    /// The preset name.
    name: &'a str,
    /// Weights and biases, weight-norm gains excluded (the thesis' count).
    parameters: usize,
    /// Weight-norm gain entries, trained in addition.
    weight_norm_gains: usize,
    /// Every layer in order.
    layers: Vec<LayerShape>,
    /// The full configuration, as saved with a run.
    config: &'a ModelConfig,
}

/// Runs `trainer model info` and returns what it prints.
pub fn info(args: &InfoArgs) -> Result<String> {
    let config = ModelConfig::named(&args.model)?;
    config
        .validate()
        .with_context(|| format!("preset `{}`", args.model))?;
    let report = Report {
        name: &args.model,
        parameters: config.parameter_count(),
        weight_norm_gains: config.weight_norm_gain_count(),
        layers: config.layer_shapes(),
        config: &config,
    };
    if args.json {
        return Ok(serde_json::to_string_pretty(&report)? + "\n");
    }
    Ok(table(&report))
}

/// The human-readable layer table.
fn table(report: &Report<'_>) -> String {
    let config = report.config;
    let conditioning = match &config.conditioning {
        Conditioning::Film => "FiLM (one shared gamma/beta pair)".to_string(),
        Conditioning::FilmPerLayer => "FiLM (a gamma/beta pair per layer)".to_string(),
        Conditioning::Concat { hidden_layers } => {
            format!("concat (first layer and hidden layers {hidden_layers:?})")
        }
    };
    let mut out = format!(
        "model {}: {} parameters",
        report.name,
        grouped(report.parameters)
    );
    if report.weight_norm_gains > 0 {
        out += &format!(
            " (+{} weight-norm gains)",
            grouped(report.weight_norm_gains)
        );
    }
    out += &format!(
        "\nlatent {}, conditioning {conditioning}, omega_first {}, omega_hidden {}, weight norm {}",
        config.latent_size,
        config.omega_first,
        config.omega_hidden,
        if config.weight_norm { "on" } else { "off" }
    );
    if let Some(p) = config.progressive {
        out += &format!(
            ", progressive first layer: sorted U(0, {}) omegas in {} groups",
            config.omega_first, p.groups
        );
    }
    out += &format!(
        "\n{:<14} {:>7} {:>8}  {:<16} {:>8} {:>5} {:>11}\n",
        "layer", "inputs", "outputs", "activation", "omega", "film", "parameters"
    );
    for l in &report.layers {
        let omega = l.omega.map_or("-".to_string(), |w| w.to_string());
        out += &format!(
            "{:<14} {:>7} {:>8}  {:<16} {:>8} {:>5} {:>11}\n",
            l.name,
            l.inputs,
            l.outputs,
            l.activation,
            omega,
            if l.film { "yes" } else { "-" },
            grouped(l.parameters)
        );
    }
    out += &format!("{:<64} {:>11}\n", "total", grouped(report.parameters));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(model: &str, json: bool) -> Result<String> {
        info(&InfoArgs {
            model: model.to_string(),
            json,
        })
    }

    #[test]
    fn text_table_lists_every_layer_and_the_total() {
        let out = run("pigan", false).unwrap();
        assert!(out.starts_with("model pigan: 790,273 parameters (+2,049 weight-norm gains)"));
        assert!(out.contains("synthesis.7"), "{out}");
        assert!(out.contains("mapping.3"), "{out}");
        assert!(out.trim_end().ends_with("790,273"), "{out}");
    }

    #[test]
    fn json_has_parameters_name_and_layers() {
        let v: serde_json::Value =
            serde_json::from_str(&run("pigan-concat-all", true).unwrap()).unwrap();
        assert_eq!(v["parameters"], 1_250_561);
        assert_eq!(v["name"], "pigan-concat-all");
        assert_eq!(v["layers"].as_array().unwrap().len(), 4 + 8 + 1);
        let config: ModelConfig = serde_json::from_value(v["config"].clone()).unwrap();
        assert_eq!(config, ModelConfig::named("pigan-concat-all").unwrap());
    }

    #[test]
    fn unknown_model_names_the_known_ones() {
        let err = format!("{:#}", run("pigan-xl", false).unwrap_err());
        assert!(err.contains("unknown model `pigan-xl`"), "{err}");
        assert!(err.contains("pigan-wide-thesis"), "{err}");
    }
}
