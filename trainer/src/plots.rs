//! PNG figures of reconstructions (plotters, bitmap backend): the first samples of original
//! and reconstruction overlaid (like thesis figure 6.1), and both log-spectrograms.

use std::path::Path;
use std::sync::OnceLock;

use anyhow::{anyhow, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use sirenade_common::atomic_file::AtomicFile;
use sirenade_common::dsp::stft::stft_magnitudes;

/// The TrueType font used for labels (Debian `fonts-dejavu-core`).
pub const FONT_PATH: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

const FONT: &str = "sans-serif";

/// Registers the label font once per process.
fn ensure_font() -> Result<()> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            let bytes = std::fs::read(FONT_PATH).map_err(|e| {
                format!("{FONT_PATH}: {e} (plots need it: apt-get install fonts-dejavu-core)")
            })?;
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            plotters::style::register_font(FONT, FontStyle::Normal, bytes)
                .map_err(|_| format!("{FONT_PATH}: not a usable TrueType font"))
        })
        .clone()
        .map_err(|e| anyhow!(e))
}

/// Draws a `width`×`height` figure in memory, encodes it as an RGB PNG and writes it through
/// [`AtomicFile`], so that a figure appears whole or not at all, like every other output.
fn draw_png(
    path: &Path,
    (width, height): (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<()>,
) -> Result<()> {
    let mut pixels = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        draw(&root)?;
        root.present().map_err(plot_err(path))?;
    }
    let write = || -> std::io::Result<()> {
        let file = AtomicFile::new(path)?;
        let mut encoder = png::Encoder::new(file.file(), width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&pixels)?;
        writer.finish()?;
        file.commit()
    };
    write().with_context(|| format!("{}: cannot write the figure", path.display()))
}

fn plot_err<E: std::fmt::Debug>(path: &Path) -> impl Fn(E) -> anyhow::Error + '_ {
    move |e| anyhow!("{}: drawing failed: {e:?}", path.display())
}

/// The first `n` samples of original and reconstruction, overlaid.
pub fn waveform(path: &Path, title: &str, original: &[f32], recon: &[f32], n: usize) -> Result<()> {
    ensure_font()?;
    let n = n.min(original.len()).min(recon.len());
    let peak = original[..n]
        .iter()
        .chain(&recon[..n])
        .fold(1e-3f32, |m, v| m.max(v.abs()))
        * 1.1;
    draw_png(path, (1000, 420), |root| {
        let err = plot_err(path);
        root.fill(&WHITE).map_err(&err)?;
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0..n, -peak..peak)
            .map_err(&err)?;
        chart
            .configure_mesh()
            .x_desc("sample (16 kHz)")
            .y_desc("amplitude")
            .label_style((FONT, 14))
            .draw()
            .map_err(&err)?;
        chart
            .draw_series(LineSeries::new(
                original[..n].iter().enumerate().map(|(i, &v)| (i, v)),
                BLUE.stroke_width(2),
            ))
            .map_err(&err)?
            .label("original")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
        chart
            .draw_series(LineSeries::new(
                recon[..n].iter().enumerate().map(|(i, &v)| (i, v)),
                RED.stroke_width(2),
            ))
            .map_err(&err)?
            .label("reconstruction")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(2)));
        chart
            .configure_series_labels()
            .label_font((FONT, 14))
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(&err)?;
        Ok(())
    })
}

/// Log-magnitude spectrograms (Hamming 512, hop 128, dB) of original and
/// reconstruction, side by side on one colour scale.
pub fn spectrograms(
    path: &Path,
    title: &str,
    rate: u32,
    original: &[f32],
    recon: &[f32],
) -> Result<()> {
    ensure_font()?;
    let (win, hop) = (512usize, 128usize);
    let to_db = |x: &[f32]| -> Vec<Vec<f32>> {
        stft_magnitudes(x, win, hop)
            .into_iter()
            .map(|f| {
                f.into_iter()
                    .map(|m| 20.0 * (m.max(1e-6)).log10())
                    .collect()
            })
            .collect()
    };
    let a = to_db(original);
    let b = to_db(recon);
    let top = a
        .iter()
        .chain(&b)
        .flat_map(|f| f.iter())
        .fold(-120.0f32, |m, &v| m.max(v));
    let floor = top - 80.0;
    draw_png(path, (1200, 480), |root| {
        let err = plot_err(path);
        root.fill(&WHITE).map_err(&err)?;
        let root = root.titled(title, (FONT, 22)).map_err(&err)?;
        let panels = root.split_evenly((1, 2));
        for (panel, (frames, name)) in panels
            .iter()
            .zip([(&a, "original"), (&b, "reconstruction")])
        {
            let seconds = original.len() as f64 / rate as f64;
            let nyquist = rate as f64 / 2.0;
            let mut chart = ChartBuilder::on(panel)
                .caption(name, (FONT, 18))
                .margin(10)
                .x_label_area_size(36)
                .y_label_area_size(64)
                .build_cartesian_2d(0.0..seconds, 0.0..nyquist)
                .map_err(&err)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc("time (s)")
                .y_desc("frequency (Hz)")
                .x_label_formatter(&|v| format!("{v:.1}"))
                .y_label_formatter(&|v| format!("{v:.0}"))
                .label_style((FONT, 13))
                .draw()
                .map_err(&err)?;
            let dt = hop as f64 / rate as f64;
            let df = rate as f64 / win as f64;
            chart
                .draw_series(frames.iter().enumerate().flat_map(|(fi, frame)| {
                    frame.iter().enumerate().map(move |(k, &db)| {
                        let level = ((db - floor) / (top - floor)).clamp(0.0, 1.0) as f64;
                        let colour = ViridisRGB::get_color(level);
                        let (x0, y0) = (fi as f64 * dt, k as f64 * df);
                        Rectangle::new([(x0, y0), (x0 + dt, y0 + df)], colour.filled())
                    })
                }))
                .map_err(&err)?;
        }
        Ok(())
    })
}
