//! WAV decoding and atomic WAV writing.
//!
//! Any common PCM layout is accepted: 8/16/24/32-bit integer and 32-bit float, any channel
//! count. Integer samples are scaled by `1 / (2^(bits-1) - 1)`, which for 16-bit is the
//! thesis' `int16 / 32767` (docs/reference-code.md, "Data"), and channels are averaged to
//! mono.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::atomic_file::AtomicFile;

/// Why a WAV file could not be read or written.
#[derive(Debug, Error)]
pub enum AudioError {
    /// The file could not be opened or read at the operating-system level.
    #[error("{path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not a WAV file, or its header is malformed.
    #[error("{path}: not a readable WAV file ({reason})")]
    NotWav {
        /// The file concerned.
        path: PathBuf,
        /// What the decoder reported.
        reason: String,
    },
    /// The header promises more samples than the file holds.
    #[error("{path}: truncated WAV data ({reason})")]
    Truncated {
        /// The file concerned.
        path: PathBuf,
        /// What the decoder reported.
        reason: String,
    },
    /// The file decodes but holds no audio.
    #[error("{path}: WAV file holds no samples")]
    Empty {
        /// The file concerned.
        path: PathBuf,
    },
    /// The file uses a sample layout this reader does not support.
    #[error("{path}: unsupported WAV layout ({reason})")]
    Unsupported {
        /// The file concerned.
        path: PathBuf,
        /// The layout found.
        reason: String,
    },
}

/// The sample encoding of a WAV file, as found in its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleEncoding {
    /// Integer PCM with the given bit depth.
    Int(u16),
    /// IEEE float PCM (32-bit).
    Float32,
}

impl std::fmt::Display for SampleEncoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SampleEncoding::Int(bits) => write!(f, "{bits}-bit int"),
            SampleEncoding::Float32 => write!(f, "32-bit float"),
        }
    }
}

/// A decoded WAV file: mono samples at the file's own rate, and what the file was.
#[derive(Debug, Clone)]
pub struct DecodedWav {
    /// Mono samples (channels averaged), scaled to roughly [-1, 1].
    pub samples: Vec<f32>,
    /// The file's sample rate in Hz.
    pub sample_rate: u32,
    /// The file's channel count before downmixing.
    pub channels: u16,
    /// The file's sample encoding.
    pub encoding: SampleEncoding,
}

fn decode_error(path: &Path, err: hound::Error) -> AudioError {
    match err {
        hound::Error::IoError(e)
            if e.kind() == std::io::ErrorKind::UnexpectedEof
                || e.to_string().contains("enough bytes") =>
        {
            AudioError::Truncated {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }
        }
        hound::Error::IoError(e) => AudioError::Io {
            path: path.to_path_buf(),
            source: e,
        },
        hound::Error::FormatError(msg) if msg.contains("enough bytes") => AudioError::Truncated {
            path: path.to_path_buf(),
            reason: msg.to_string(),
        },
        hound::Error::Unsupported => AudioError::Unsupported {
            path: path.to_path_buf(),
            reason: "format not supported by the decoder".into(),
        },
        other => AudioError::NotWav {
            path: path.to_path_buf(),
            reason: other.to_string(),
        },
    }
}

fn collect<T, F>(
    path: &Path,
    reader: hound::WavReader<BufReader<File>>,
    scale: F,
) -> Result<Vec<f32>, AudioError>
where
    T: hound::Sample,
    F: Fn(T) -> f32,
{
    let expected = reader.len() as usize;
    let mut out = Vec::with_capacity(expected);
    for s in reader.into_samples::<T>() {
        out.push(scale(s.map_err(|e| decode_error(path, e))?));
    }
    if out.len() < expected {
        return Err(AudioError::Truncated {
            path: path.to_path_buf(),
            reason: format!(
                "header promises {expected} samples, file holds {}",
                out.len()
            ),
        });
    }
    Ok(out)
}

/// Reads a WAV file of any common layout and downmixes it to mono.
///
/// Errors name the file: missing, not a WAV, truncated, empty or of an unsupported layout.
pub fn read_wav(path: &Path) -> Result<DecodedWav, AudioError> {
    let reader = hound::WavReader::open(path).map_err(|e| decode_error(path, e))?;
    let spec = reader.spec();
    if spec.channels == 0 {
        return Err(AudioError::NotWav {
            path: path.to_path_buf(),
            reason: "header declares zero channels".into(),
        });
    }
    if spec.sample_rate == 0 {
        return Err(AudioError::NotWav {
            path: path.to_path_buf(),
            reason: "header declares a sample rate of 0 Hz".into(),
        });
    }
    let (interleaved, encoding) = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => (
            collect::<f32, _>(path, reader, |s| s)?,
            SampleEncoding::Float32,
        ),
        (hound::SampleFormat::Int, bits @ (8 | 16 | 24 | 32)) => {
            let scale = 1.0 / (((1i64 << (bits - 1)) - 1) as f64);
            let samples = match bits {
                8 => collect::<i8, _>(path, reader, |s| (s as f64 * scale) as f32)?,
                16 => collect::<i16, _>(path, reader, |s| (s as f64 * scale) as f32)?,
                _ => collect::<i32, _>(path, reader, |s| (s as f64 * scale) as f32)?,
            };
            (samples, SampleEncoding::Int(bits))
        }
        (format, bits) => {
            return Err(AudioError::Unsupported {
                path: path.to_path_buf(),
                reason: format!("{bits}-bit {format:?}"),
            })
        }
    };
    let channels = spec.channels as usize;
    let samples: Vec<f32> = if channels == 1 {
        interleaved
    } else {
        interleaved
            .chunks_exact(channels)
            .map(|frame| frame.iter().sum::<f32>() / channels as f32)
            .collect()
    };
    if samples.is_empty() {
        return Err(AudioError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(DecodedWav {
        samples,
        sample_rate: spec.sample_rate,
        channels: spec.channels,
        encoding,
    })
}

/// How [`write_wav`] stores samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WavFormat {
    /// 16-bit integer PCM (samples scaled by 32767 and clamped), as NSynth and Speech Commands.
    Int16,
    /// 32-bit IEEE float PCM, lossless for f32 samples.
    Float32,
}

/// Writes mono samples to a WAV file atomically: into a temporary file beside `path`,
/// renamed over `path` only once complete, so a crash never leaves a half-written file.
pub fn write_wav(
    path: &Path,
    samples: &[f32],
    sample_rate: u32,
    format: WavFormat,
) -> Result<(), AudioError> {
    write_wav_channels(path, &[samples], sample_rate, format)
}

/// As [`write_wav`] for several channels of equal length (interleaved in the file; the
/// shortest channel sets the length).
pub fn write_wav_channels(
    path: &Path,
    channels: &[&[f32]],
    sample_rate: u32,
    format: WavFormat,
) -> Result<(), AudioError> {
    let io_err = |source: std::io::Error| AudioError::Io {
        path: path.to_path_buf(),
        source,
    };
    let tmp = AtomicFile::new(path).map_err(io_err)?;
    let spec = hound::WavSpec {
        channels: u16::try_from(channels.len()).unwrap_or(u16::MAX),
        sample_rate,
        bits_per_sample: match format {
            WavFormat::Int16 => 16,
            WavFormat::Float32 => 32,
        },
        sample_format: match format {
            WavFormat::Int16 => hound::SampleFormat::Int,
            WavFormat::Float32 => hound::SampleFormat::Float,
        },
    };
    let hound_err = |e: hound::Error| match e {
        hound::Error::IoError(source) => io_err(source),
        other => AudioError::Unsupported {
            path: path.to_path_buf(),
            reason: other.to_string(),
        },
    };
    {
        let file = tmp.file().try_clone().map_err(io_err)?;
        let mut writer =
            hound::WavWriter::new(std::io::BufWriter::new(file), spec).map_err(hound_err)?;
        let frames = channels.iter().map(|c| c.len()).min().unwrap_or(0);
        let interleaved = (0..frames).flat_map(|i| channels.iter().map(move |c| c[i]));
        for s in interleaved {
            match format {
                WavFormat::Int16 => writer
                    .write_sample((s.clamp(-1.0, 1.0) * 32767.0).round() as i16)
                    .map_err(hound_err)?,
                WavFormat::Float32 => writer.write_sample(s).map_err(hound_err)?,
            }
        }
        writer.finalize().map_err(hound_err)?;
    }
    tmp.commit().map_err(io_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_raw(path: &Path, spec: hound::WavSpec, ints: &[i32]) {
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for &v in ints {
            match spec.bits_per_sample {
                8 => w.write_sample(v as i8).unwrap(),
                16 => w.write_sample(v as i16).unwrap(),
                _ => w.write_sample(v).unwrap(),
            }
        }
        w.finalize().unwrap();
    }

    fn int_spec(bits: u16, channels: u16) -> hound::WavSpec {
        hound::WavSpec {
            channels,
            sample_rate: 16_000,
            bits_per_sample: bits,
            sample_format: hound::SampleFormat::Int,
        }
    }

    #[test]
    fn integer_depths_scale_to_unit_range() {
        let dir = tempfile::tempdir().unwrap();
        for (bits, full) in [(8u16, 127i32), (16, 32767), (24, 8_388_607), (32, i32::MAX)] {
            let p = dir.path().join(format!("x{bits}.wav"));
            write_raw(&p, int_spec(bits, 1), &[full, -full, full / 2, 0]);
            let d = read_wav(&p).unwrap();
            assert_eq!(d.encoding, SampleEncoding::Int(bits));
            assert!(
                (d.samples[0] - 1.0).abs() < 1e-6,
                "{bits}: {}",
                d.samples[0]
            );
            assert!((d.samples[1] + 1.0).abs() < 1e-6);
            assert!((d.samples[2] - 0.5).abs() < 0.01);
            assert_eq!(d.samples[3], 0.0);
        }
    }

    #[test]
    fn sixteen_bit_uses_thesis_scale() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.wav");
        write_raw(&p, int_spec(16, 1), &[1000]);
        let d = read_wav(&p).unwrap();
        assert_eq!(d.samples[0], (1000.0f64 / 32767.0) as f32);
    }

    #[test]
    fn stereo_is_averaged() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.wav");
        write_raw(&p, int_spec(16, 2), &[32767, 0, -32767, -32767]);
        let d = read_wav(&p).unwrap();
        assert_eq!(d.channels, 2);
        assert_eq!(d.samples.len(), 2);
        assert!((d.samples[0] - 0.5).abs() < 1e-6);
        assert!((d.samples[1] + 1.0).abs() < 1e-6);
    }

    #[test]
    fn float_round_trip_is_exact() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.wav");
        let x = [0.25f32, -0.125, 1.5, 1e-7];
        write_wav(&p, &x, 44_100, WavFormat::Float32).unwrap();
        let d = read_wav(&p).unwrap();
        assert_eq!(d.samples, x);
        assert_eq!(d.sample_rate, 44_100);
        assert_eq!(d.encoding, SampleEncoding::Float32);
    }

    #[test]
    fn bad_files_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.wav");
        let e = read_wav(&missing).unwrap_err();
        assert!(matches!(e, AudioError::Io { .. }));
        assert!(e.to_string().contains("missing.wav"));

        let text = dir.path().join("text.wav");
        std::fs::write(&text, b"this is not a wav file at all, just text").unwrap();
        let e = read_wav(&text).unwrap_err();
        assert!(matches!(e, AudioError::NotWav { .. }), "{e}");
        assert!(e.to_string().contains("text.wav"));

        let full = dir.path().join("full.wav");
        write_raw(&full, int_spec(16, 1), &vec![100; 1000]);
        let bytes = std::fs::read(&full).unwrap();
        let cut = dir.path().join("cut.wav");
        std::fs::write(&cut, &bytes[..bytes.len() - 501]).unwrap();
        let e = read_wav(&cut).unwrap_err();
        assert!(matches!(e, AudioError::Truncated { .. }), "{e}");
        assert!(e.to_string().contains("cut.wav"));

        let empty = dir.path().join("empty.wav");
        write_raw(&empty, int_spec(16, 1), &[]);
        let e = read_wav(&empty).unwrap_err();
        assert!(matches!(e, AudioError::Empty { .. }), "{e}");
    }
}
