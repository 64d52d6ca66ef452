//! The tangent-carrying fused layer as a candle [`CustomOp3`] over (stacked X, W, film), with
//! its backward.

use std::sync::OnceLock;

use candle_core::{CpuStorage, CustomOp3, Error, Layout, Result, Shape, Storage, Tensor};

use super::dual_kernels;
use super::kernels::Dims;
use super::op::{dims_of, f32_slice};

/// What the forward keeps for the backward (the sines are read from the op's own output).
struct Saved {
    dims: Dims,
    cos: Vec<f32>,
    product: Vec<f32>,
}

/// Stacked `[sin(a); cos(a) k p_t]` for stacked X `[B, 2n, in]`, W `[out, in]`, film
/// `[B, 2, out]` (see [`super::film_sine_dual`]).
pub struct FilmSineDual {
    /// Whether a backward may follow (keep cos and the product).
    keep: bool,
    saved: OnceLock<Saved>,
}

impl FilmSineDual {
    /// A fresh op; with `keep` it retains what its backward needs.
    pub fn new(keep: bool) -> Self {
        Self {
            keep,
            saved: OnceLock::new(),
        }
    }
}

/// The stacked call's sizes, with `points` = n (half the stacked rows per item).
fn stacked_dims(x: &Layout, w: &Layout, film: &Layout) -> Result<Dims> {
    let d = dims_of(x, w, film)?;
    if d.points % 2 != 0 {
        return Err(Error::Msg(format!(
            "fused FiLM-sine layer with tangent: {} stacked rows per item, not values then \
             tangents",
            d.points
        )));
    }
    Ok(Dims {
        points: d.points / 2,
        ..d
    })
}

impl CustomOp3 for FilmSineDual {
    fn name(&self) -> &'static str {
        "film-sine-dual"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let dims = stacked_dims(l1, l2, l3)?;
        let f = dual_kernels::forward(
            dims,
            f32_slice(s1, l1)?,
            f32_slice(s2, l2)?,
            f32_slice(s3, l3)?,
        );
        if self.keep {
            let saved = Saved {
                dims,
                cos: f.cos,
                product: f.product,
            };
            if self.saved.set(saved).is_err() {
                return Err(Error::Msg("fused FiLM-sine layer: op run twice".into()));
            }
        }
        let shape = Shape::from((dims.items, 2 * dims.points, dims.outputs));
        Ok((CpuStorage::F32(f.output), shape))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        film: &Tensor,
        res: &Tensor,
        grad_res: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let saved = self
            .saved
            .get()
            .ok_or_else(|| Error::Msg("fused FiLM-sine layer: no saved forward".into()))?;
        let d = saved.dims;
        let mut grad = grad_res.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
        let (xs, xl) = x.storage_and_layout();
        let (ws, wl) = w.storage_and_layout();
        let (fs, fl) = film.storage_and_layout();
        let (rs, rl) = res.storage_and_layout();
        let (Storage::Cpu(xs), Storage::Cpu(ws), Storage::Cpu(fs), Storage::Cpu(rs)) =
            (&*xs, &*ws, &*fs, &*rs)
        else {
            return Err(Error::Msg("fused FiLM-sine layer: CPU tensors only".into()));
        };
        let b = dual_kernels::backward(
            d,
            &mut grad,
            f32_slice(rs, rl)?,
            &saved.cos,
            &saved.product,
            f32_slice(xs, xl)?,
            f32_slice(ws, wl)?,
            f32_slice(fs, fl)?,
            x.track_op(),
        );
        let device = x.device();
        let grad_x =
            b.x.map(|g| Tensor::from_vec(g, (d.items, 2 * d.points, d.inputs), device))
                .transpose()?;
        let grad_w = Tensor::from_vec(b.weight, (d.outputs, d.inputs), device)?;
        let grad_film = Tensor::from_vec(b.film, (d.items, 2, d.outputs), device)?;
        Ok((grad_x, Some(grad_w), Some(grad_film)))
    }
}
