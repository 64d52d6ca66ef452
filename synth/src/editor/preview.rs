//! What the current sound looks like: the network's output over its whole clip (t from −1 to
//! 1 at the model's own rate) for the latent the controls give, and its magnitude spectrum.
//! Computed on a worker thread of the editor's own with the evaluator the voices use, so the
//! GUI thread only posts the latest request and picks up the latest result.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use rustfft::num_complex::Complex;
use rustfft::FftPlanner;
use sirenade_common::evaluator::Evaluator;
use sirenade_common::{CLIP_LEN, SAMPLE_RATE};

use crate::engine::Sound;

/// Points of the spectrum the editor draws: log-spaced bands from [`LOWEST_HZ`] to Nyquist,
/// about 1/24 octave each over the model's 20 Hz–8 kHz.
pub const SPECTRUM_BANDS: usize = 208;

/// Lowest frequency the spectrum shows, Hz.
pub const LOWEST_HZ: f32 = 20.0;

/// Level the spectrum floors at, dB relative to a full-scale sine.
pub const FLOOR_DB: f32 = -100.0;

/// One finished preview.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    /// The request it answers (the GUI compares it with what it shows now).
    pub request: Request,
    /// The network's output, [`CLIP_LEN`] samples at [`SAMPLE_RATE`].
    pub samples: Vec<f32>,
    /// Peak level per [`SPECTRUM_BANDS`] log-spaced band, dB relative to a full-scale sine,
    /// floored at [`FLOOR_DB`].
    pub spectrum_db: Vec<f32>,
}

/// What to draw: a latent of a preset (by its SHA-256, so a reloaded preset is redrawn).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The preset's SHA-256.
    pub sha256: String,
    /// The latent (`latent_dim` values).
    pub latent: Vec<f32>,
}

/// The slot both threads share: the newest request not yet taken, the newest result, and
/// whether the worker should stop.
#[derive(Default)]
struct Slot {
    pending: Option<(Arc<Sound>, Request)>,
    done: Option<Arc<Preview>>,
    stop: bool,
}

/// The worker and its slot. Dropping it stops and joins the worker.
pub struct PreviewWorker {
    shared: Arc<(Mutex<Slot>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl PreviewWorker {
    /// Starts the worker; `on_done` runs on the worker after each result (the editor asks for
    /// a repaint there).
    pub fn start(on_done: impl Fn() + Send + 'static) -> PreviewWorker {
        let shared = Arc::new((Mutex::new(Slot::default()), Condvar::new()));
        let theirs = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("sirenade-preview".into())
            .spawn(move || run(&theirs, &on_done))
            .ok();
        PreviewWorker { shared, thread }
    }

    /// Asks for a preview of `request` (replacing one not yet started).
    pub fn request(&self, sound: Arc<Sound>, request: Request) {
        let (slot, wake) = &*self.shared;
        lock(slot).pending = Some((sound, request));
        wake.notify_one();
    }

    /// The newest finished preview, if any.
    pub fn latest(&self) -> Option<Arc<Preview>> {
        lock(&self.shared.0).done.clone()
    }

    /// Whether a request is waiting or being computed.
    pub fn busy(&self) -> bool {
        lock(&self.shared.0).pending.is_some()
    }
}

impl Drop for PreviewWorker {
    fn drop(&mut self) {
        let (slot, wake) = &*self.shared;
        lock(slot).stop = true;
        wake.notify_one();
        if let Some(thread) = self.thread.take() {
            // A worker that panicked has nothing left to clean up.
            let _ = thread.join();
        }
    }
}

/// The worker: waits for a request, computes it, publishes it, until told to stop. The
/// evaluator is rebuilt only when the preset changes.
fn run(shared: &(Mutex<Slot>, Condvar), on_done: &dyn Fn()) {
    let (slot, wake) = shared;
    let mut evaluator: Option<(String, Evaluator)> = None;
    loop {
        let (sound, request) = {
            let mut s = lock(slot);
            loop {
                if s.stop {
                    return;
                }
                if let Some(job) = s.pending.clone() {
                    break job;
                }
                s = wake.wait(s).unwrap_or_else(|e| e.into_inner());
            }
        };
        if evaluator
            .as_ref()
            .is_none_or(|(sha, _)| *sha != request.sha256)
        {
            evaluator = Some((request.sha256.clone(), sound.new_evaluator()));
        }
        let Some((_, ev)) = evaluator.as_mut() else {
            continue;
        };
        let preview = compute(ev, request.clone());
        {
            let mut s = lock(slot);
            s.done = Some(Arc::new(preview));
            // A newer request stays pending; this one is answered.
            if s.pending.as_ref().is_some_and(|(_, r)| *r == request) {
                s.pending = None;
            }
        }
        on_done();
    }
}

/// The preview of `request` with `evaluator` (a voice of the request's preset). A latent the
/// evaluator rejects gives silence.
pub fn compute(evaluator: &mut Evaluator, request: Request) -> Preview {
    let mut samples = vec![0.0f32; CLIP_LEN];
    if evaluator.prepare(&request.latent).is_ok() {
        evaluator.render_f64(-1.0, 2.0 / CLIP_LEN as f64, &mut samples);
    }
    for s in &mut samples {
        if !s.is_finite() {
            *s = 0.0;
        }
    }
    let spectrum_db = band_levels_db(&samples);
    Preview {
        request,
        samples,
        spectrum_db,
    }
}

/// Frequency (Hz) at the lower edge of band `b` of [`SPECTRUM_BANDS`]; band
/// `SPECTRUM_BANDS` is Nyquist.
pub fn band_edge_hz(b: usize) -> f32 {
    let nyquist = SAMPLE_RATE as f32 / 2.0;
    LOWEST_HZ * (nyquist / LOWEST_HZ).powf(b as f32 / SPECTRUM_BANDS as f32)
}

/// The spectrum of `x` (Hann window, whole signal) as the peak level of each log-spaced band,
/// dB relative to a full-scale sine. A band narrower than one bin reads the bin its centre
/// falls in.
pub fn band_levels_db(x: &[f32]) -> Vec<f32> {
    let n = x.len();
    if n < 2 {
        return vec![FLOOR_DB; SPECTRUM_BANDS];
    }
    let window_sum: f64 = (0..n).map(|i| hann(i, n)).sum();
    let mut buf: Vec<Complex<f32>> = x
        .iter()
        .enumerate()
        .map(|(i, &v)| Complex::new(v * hann(i, n) as f32, 0.0))
        .collect();
    FftPlanner::<f32>::new()
        .plan_fft_forward(n)
        .process(&mut buf);
    // A full-scale sine peaks at window_sum / 2 in its bin.
    let full_scale = (window_sum / 2.0) as f32;
    let bin_hz = SAMPLE_RATE as f32 / n as f32;
    let last_bin = n / 2;
    (0..SPECTRUM_BANDS)
        .map(|b| {
            let (lo, hi) = (band_edge_hz(b), band_edge_hz(b + 1));
            let first = ((lo / bin_hz).ceil() as usize).min(last_bin);
            let last = ((hi / bin_hz).floor() as usize).min(last_bin);
            let peak = if first <= last {
                buf[first..=last]
                    .iter()
                    .map(|c| c.norm())
                    .fold(0.0f32, f32::max)
            } else {
                let centre = (lo * hi).sqrt();
                buf[((centre / bin_hz).round() as usize).min(last_bin)].norm()
            };
            (20.0 * (peak / full_scale).max(1e-12).log10()).max(FLOOR_DB)
        })
        .collect()
}

fn hann(i: usize, n: usize) -> f64 {
    0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos()
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    /// A full-scale sine at a bin centre reads 0 dB in its band (within 0.01 dB), and a band an
    /// octave away sits at least 60 dB lower (the Hann window's sidelobes).
    #[test]
    fn a_full_scale_sine_reads_zero_db_in_its_band() {
        let f = 1000.0f64;
        let x: Vec<f32> = (0..CLIP_LEN)
            .map(|i| (2.0 * std::f64::consts::PI * f * i as f64 / SAMPLE_RATE as f64).sin() as f32)
            .collect();
        let db = band_levels_db(&x);
        assert_eq!(db.len(), SPECTRUM_BANDS);
        let band = (0..SPECTRUM_BANDS)
            .find(|&b| band_edge_hz(b) <= f as f32 && (f as f32) < band_edge_hz(b + 1))
            .unwrap();
        assert!(db[band].abs() < 0.01, "{} dB", db[band]);
        let octave_down = (0..SPECTRUM_BANDS)
            .find(|&b| band_edge_hz(b + 1) > 500.0)
            .unwrap();
        assert!(db[octave_down] < -60.0, "{} dB", db[octave_down]);
        assert!(band_levels_db(&[0.0; 64]).iter().all(|&v| v == FLOOR_DB));
    }

    /// The bands tile 20 Hz to Nyquist without gaps.
    #[test]
    fn bands_run_from_the_lowest_frequency_to_nyquist() {
        assert!((band_edge_hz(0) - LOWEST_HZ).abs() < 1e-3);
        assert!((band_edge_hz(SPECTRUM_BANDS) - SAMPLE_RATE as f32 / 2.0).abs() < 0.1);
        for b in 0..SPECTRUM_BANDS {
            assert!(band_edge_hz(b) < band_edge_hz(b + 1));
        }
    }

    /// The preview is the evaluator's own render of the latent (the voices' evaluator, same
    /// time grid), and the worker delivers it and calls back.
    #[test]
    fn the_worker_draws_what_the_evaluator_renders() {
        let sound = Arc::new(Sound::embedded());
        let latent = sound.item_latent(3).unwrap().to_vec();
        let mut ev = sound.new_evaluator();
        ev.prepare(&latent).unwrap();
        let mut expected = vec![0.0f32; CLIP_LEN];
        ev.render_f64(-1.0, 2.0 / CLIP_LEN as f64, &mut expected);

        let calls = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&calls);
        let worker = PreviewWorker::start(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        let request = Request {
            sha256: sound.sha256().to_string(),
            latent,
        };
        worker.request(Arc::clone(&sound), request.clone());
        let deadline = Instant::now() + Duration::from_secs(30);
        let preview = loop {
            if let Some(p) = worker.latest() {
                break p;
            }
            assert!(Instant::now() < deadline, "no preview");
            std::thread::sleep(Duration::from_millis(5));
        };
        assert_eq!(preview.request, request);
        assert_eq!(preview.samples, expected);
        assert!(preview.samples.iter().any(|&s| s.abs() > 1e-3));
        assert!(calls.load(Ordering::SeqCst) >= 1);
        assert!(!worker.busy());
        drop(worker);
    }

    /// A latent the evaluator rejects (wrong length) previews as silence, not a panic.
    #[test]
    fn a_rejected_latent_previews_as_silence() {
        let sound = Sound::embedded();
        let mut ev = sound.new_evaluator();
        let p = compute(
            &mut ev,
            Request {
                sha256: String::new(),
                latent: vec![0.0; 3],
            },
        );
        assert!(p.samples.iter().all(|&s| s == 0.0));
    }
}
