//! The multi-resolution STFT term of the training objective: per FFT size, spectral
//! convergence plus the mean L1 distance of log magnitudes (the form of Parallel WaveGAN,
//! arXiv 1910.11480, and of DDSP, arXiv 2001.04643), averaged over the sizes.
//!
//! The STFT is a gather of the overlapping frames followed by one product with a matrix of
//! Hann-windowed cosines and sines (a column per one-sided bin and part), so the term is made
//! of candle ops that have a backward on every device: the same code trains on the CPU and on
//! CUDA, and autograd gives its gradient. (Not a strided `conv1d`: candle 0.11's CPU backward
//! of a strided convolution is wrong for batches of more than one row.) Frames are not centred
//! or padded: a window of `L` samples gives `(L − n) / hop + 1` frames of size `n`, hop `n / 4`.

use candle_core::{DType, Device, Result, Tensor, D};

/// Magnitudes are `sqrt(re² + im² + MAG_FLOOR²)`: smooth everywhere, and their logarithm is
/// bounded below at −100 dB (a sine of amplitude 1 has magnitude 0.5 with the window
/// normalisation used here).
pub const MAG_FLOOR: f64 = 1e-5;

/// The spectral-convergence denominator is at least `SC_FLOOR · sqrt(entries)`: a batch of
/// silent target windows (speech is mostly silence) would otherwise divide by nearly zero and
/// send steps of any size through the latents' plain SGD. `1e-3` is −60 dB RMS magnitude.
pub const SC_FLOOR: f64 = 1e-3;

/// Added under the square root of spectral convergence's numerator (a value 10⁻¹⁵ when the
/// prediction is perfect, far below any real distance): `d sqrt(x)/dx` is infinite at 0.
const DISTANCE_OFFSET: f64 = 1e-30;

/// One FFT size: its hop, the clip positions of its frames in a window (built once: the
/// training step reuses them) and the `[n, 2K]` basis (K = n/2 + 1 cosine columns, then K sine
/// columns), each column the Hann window times the basis, divided by the window's sum.
struct Resolution {
    size: usize,
    frames: usize,
    index: Tensor,
    kernel: Tensor,
}

/// The multi-resolution STFT loss over a fixed set of FFT sizes.
pub struct SpectralLoss {
    /// Samples per window the loss reads.
    window: usize,
    resolutions: Vec<Resolution>,
}

impl SpectralLoss {
    /// The loss over FFT sizes `sizes` (each ≥ 2 and at most `window`) of windows of `window`
    /// samples, hop a quarter of each size, kernels and frame positions built once in `dtype`
    /// on `device`.
    pub fn new(sizes: &[usize], window: usize, dtype: DType, device: &Device) -> Result<Self> {
        let resolutions = sizes
            .iter()
            .map(|&size| {
                if size > window {
                    return Err(candle_core::Error::Msg(format!(
                        "an STFT of size {size} needs windows of at least {size} samples, \
                         got {window}"
                    )));
                }
                let hop = (size / 4).max(1);
                let frames = (window - size) / hop + 1;
                let index: Vec<u32> = (0..frames)
                    .flat_map(|f| (0..size).map(move |j| (f * hop + j) as u32))
                    .collect();
                let index = Tensor::from_vec(index, frames * size, device)?;
                let bins = size / 2 + 1;
                let window: Vec<f64> = (0..size)
                    .map(|j| {
                        let x = std::f64::consts::TAU * j as f64 / size as f64;
                        0.5 - 0.5 * x.cos()
                    })
                    .collect();
                let norm: f64 = window.iter().sum();
                let mut kernel = Vec::with_capacity(2 * bins * size);
                for (j, w) in window.iter().enumerate() {
                    for part in 0..2 {
                        for k in 0..bins {
                            // k·j mod n keeps the phase exact for large sizes.
                            let phase =
                                std::f64::consts::TAU * ((k * j) % size) as f64 / size as f64;
                            let basis = if part == 0 { phase.cos() } else { -phase.sin() };
                            kernel.push(w * basis / norm);
                        }
                    }
                }
                let kernel = Tensor::from_vec(kernel, (size, 2 * bins), device)?.to_dtype(dtype)?;
                Ok(Resolution {
                    size,
                    frames,
                    index,
                    kernel,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            window,
            resolutions,
        })
    }

    /// The term for predicted windows `pred` against `target`, both `[R, L]` with every FFT
    /// size at most `L`: the mean over sizes of spectral convergence plus log-magnitude L1.
    pub fn forward(&self, pred: &Tensor, target: &Tensor) -> Result<Tensor> {
        let len = pred.dim(D::Minus1)?;
        if len != self.window {
            return Err(candle_core::Error::Msg(format!(
                "this STFT loss reads windows of {} samples (FFT size {}), got {len}",
                self.window,
                self.sizes()
            )));
        }
        let mut total: Option<Tensor> = None;
        for r in &self.resolutions {
            let p = r.magnitudes(pred)?;
            let t = r.magnitudes(target)?.detach();
            let entries = t.elem_count() as f64;
            // Kept on the device: a read here would make a GPU wait four times a step.
            let denominator = t
                .sqr()?
                .sum_all()?
                .sqrt()?
                .maximum(SC_FLOOR * entries.sqrt())?;
            // The tiny offset keeps the square root's gradient finite for a perfect prediction.
            let distance = ((&p - &t)?.sqr()?.sum_all()? + DISTANCE_OFFSET)?.sqrt()?;
            let convergence = distance.div(&denominator)?;
            let log_l1 = (p.log()? - t.log()?)?.abs()?.mean_all()?;
            let term = (convergence + log_l1)?;
            total = Some(match total {
                None => term,
                Some(sum) => (sum + term)?,
            });
        }
        match total {
            Some(sum) => sum / self.resolutions.len() as f64,
            None => Err(candle_core::Error::Msg(
                "the STFT loss needs at least one FFT size".into(),
            )),
        }
    }
}

impl SpectralLoss {
    /// The FFT sizes, comma separated (for messages).
    fn sizes(&self) -> String {
        let sizes: Vec<String> = self
            .resolutions
            .iter()
            .map(|r| r.size.to_string())
            .collect();
        sizes.join(", ")
    }
}

impl Resolution {
    /// `[R, F, K]` magnitudes of the frames of `x` `[R, L]` (`L` the loss' window).
    fn magnitudes(&self, x: &Tensor) -> Result<Tensor> {
        let (rows, frames) = (x.dim(0)?, self.frames);
        let framed = x
            .index_select(&self.index, 1)?
            .reshape((rows * frames, self.size))?;
        let spectrum = framed.matmul(&self.kernel)?;
        let bins = spectrum.dim(1)? / 2;
        let re = spectrum.narrow(1, 0, bins)?.reshape((rows, frames, bins))?;
        let im = spectrum
            .narrow(1, bins, bins)?
            .reshape((rows, frames, bins))?;
        ((re.sqr()? + im.sqr()?)? + MAG_FLOOR * MAG_FLOOR)?.sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustfft::{num_complex::Complex, FftPlanner};

    fn tensor(rows: &[Vec<f64>]) -> Tensor {
        let n = rows[0].len();
        let flat: Vec<f64> = rows.concat();
        Tensor::from_vec(flat, (rows.len(), n), &Device::Cpu).unwrap()
    }

    fn signal(seed: u64, n: usize) -> Vec<f64> {
        // A deterministic mix of partials and a little pseudo-random noise.
        let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        (0..n)
            .map(|j| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let noise = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                let t = j as f64 / 16_000.0;
                0.4 * (std::f64::consts::TAU * 440.0 * t).sin()
                    + 0.1 * (std::f64::consts::TAU * 2_310.0 * t + 0.3).sin()
                    + 0.02 * noise
            })
            .collect()
    }

    /// The magnitudes against rustfft's FFT of the same Hann-windowed frames (tolerance 1e-12
    /// relative to the largest magnitude, in f64).
    #[test]
    fn magnitudes_match_an_fft() {
        let x = signal(1, 256);
        let loss = SpectralLoss::new(&[64], 256, DType::F64, &Device::Cpu).unwrap();
        let got = loss.resolutions[0]
            .magnitudes(&tensor(std::slice::from_ref(&x)))
            .unwrap()
            .squeeze(0)
            .unwrap()
            .to_vec2::<f64>()
            .unwrap();
        let fft = FftPlanner::<f64>::new().plan_fft_forward(64);
        let window: Vec<f64> = (0..64)
            .map(|j| 0.5 - 0.5 * (std::f64::consts::TAU * j as f64 / 64.0).cos())
            .collect();
        let norm: f64 = window.iter().sum();
        let frames = (256 - 64) / 16 + 1;
        assert_eq!(got.len(), frames);
        let mut peak = 0.0f64;
        let mut worst = 0.0f64;
        for f in 0..frames {
            let mut buf: Vec<Complex<f64>> = (0..64)
                .map(|j| Complex::new(x[f * 16 + j] * window[j] / norm, 0.0))
                .collect();
            fft.process(&mut buf);
            for (k, c) in buf.iter().take(33).enumerate() {
                let want = (c.norm_sqr() + MAG_FLOOR * MAG_FLOOR).sqrt();
                peak = peak.max(want);
                worst = worst.max((got[f][k] - want).abs());
            }
        }
        assert!(worst <= 1e-12 * peak, "{worst} vs peak {peak}");
    }

    /// A perfect prediction scores 0; half the target's amplitude scores spectral
    /// convergence 0.5 and log L1 ln 2 where magnitudes are far above the floor.
    #[test]
    fn known_values() {
        let x = signal(2, 512);
        let loss = SpectralLoss::new(&[128], 512, DType::F64, &Device::Cpu).unwrap();
        let t = tensor(&[x]);
        let zero: f64 = loss.forward(&t, &t).unwrap().to_scalar().unwrap();
        assert!(zero.abs() < 1e-12, "{zero}");
        // A perfect prediction still has a finite gradient (no NaN into the weights).
        let var = candle_core::Var::from_tensor(&t).unwrap();
        let grads = loss
            .forward(var.as_tensor(), &t)
            .unwrap()
            .backward()
            .unwrap();
        let grad = grads.get(var.as_tensor()).unwrap().flatten_all().unwrap();
        assert!(grad.to_vec1::<f64>().unwrap().iter().all(|g| g.is_finite()));
        // A loud broadband signal keeps every bin far above the floor.
        let loud: Vec<f64> = signal(3, 512).iter().map(|v| v * 1e3).collect();
        let half: Vec<f64> = loud.iter().map(|v| v * 0.5).collect();
        let value: f64 = loss
            .forward(&tensor(&[half]), &tensor(&[loud]))
            .unwrap()
            .to_scalar()
            .unwrap();
        let want = 0.5 + std::f64::consts::LN_2;
        assert!((value - want).abs() < 1e-6, "{value} vs {want}");
    }

    /// The gradient with respect to the prediction against central finite differences in f64
    /// (step 1e-6; tolerance 1e-5 relative to the largest gradient entry).
    #[test]
    fn gradient_matches_finite_differences() {
        let target = tensor(&[signal(4, 160), signal(5, 160)]);
        let start: Vec<Vec<f64>> = [signal(6, 160), signal(7, 160)]
            .iter()
            .map(|r| r.iter().map(|v| 0.7 * v + 0.01).collect())
            .collect();
        let loss = SpectralLoss::new(&[64, 32, 16], 160, DType::F64, &Device::Cpu).unwrap();
        let var = candle_core::Var::from_tensor(&tensor(&start)).unwrap();
        let value = loss.forward(var.as_tensor(), &target).unwrap();
        let grad = value
            .backward()
            .unwrap()
            .get(var.as_tensor())
            .unwrap()
            .to_vec2::<f64>()
            .unwrap();
        let h = 1e-6;
        let peak = grad.iter().flatten().fold(0.0f64, |m, g| m.max(g.abs()));
        let mut worst = 0.0f64;
        for r in 0..2 {
            for j in (0..160).step_by(7) {
                let at = |delta: f64| {
                    let mut rows = start.clone();
                    rows[r][j] += delta;
                    loss.forward(&tensor(&rows), &target)
                        .unwrap()
                        .to_scalar::<f64>()
                        .unwrap()
                };
                let numeric = (at(h) - at(-h)) / (2.0 * h);
                worst = worst.max((numeric - grad[r][j]).abs());
            }
        }
        assert!(worst <= 1e-5 * peak, "{worst} vs peak {peak}");
    }

    #[test]
    fn windows_shorter_than_a_size_are_refused() {
        let loss = SpectralLoss::new(&[256], 256, DType::F32, &Device::Cpu).unwrap();
        let x = Tensor::zeros((1, 100), DType::F32, &Device::Cpu).unwrap();
        let err = loss.forward(&x, &x).unwrap_err().to_string();
        assert!(err.contains("size 256"), "{err}");
        let err = SpectralLoss::new(&[256], 100, DType::F32, &Device::Cpu)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("size 256"), "{err}");
    }
}
