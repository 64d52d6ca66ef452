//! The fused layer as a candle [`CustomOp3`] over (x, W, film), with its backward.

use std::sync::OnceLock;

use candle_core::{CpuStorage, CustomOp3, Error, Layout, Result, Shape, Storage, Tensor};

use super::layer::{self, Dims};
use super::pool;

/// What the forward keeps for the backward.
struct Saved {
    dims: Dims,
    cos: Vec<f32>,
    product: Vec<f32>,
}

impl Drop for Saved {
    fn drop(&mut self) {
        pool::give(std::mem::take(&mut self.cos));
        pool::give(std::mem::take(&mut self.product));
    }
}

/// `sin(scale * (x W^T) + shift)` for x `[B, n, in]`, W `[out, in]`, film `[B, 2, out]`.
pub struct FilmSine {
    /// Whether a backward may follow (keep cos and the product).
    keep: bool,
    saved: OnceLock<Saved>,
}

impl FilmSine {
    /// A fresh op; with `keep` it retains what its backward needs.
    pub fn new(keep: bool) -> Self {
        Self {
            keep,
            saved: OnceLock::new(),
        }
    }
}

/// The contiguous f32 elements a storage and layout describe.
pub(super) fn f32_slice<'a>(storage: &'a CpuStorage, layout: &Layout) -> Result<&'a [f32]> {
    let CpuStorage::F32(data) = storage else {
        return Err(Error::Msg("fused FiLM-sine layer: f32 tensors only".into()));
    };
    let (start, end) = layout
        .contiguous_offsets()
        .ok_or_else(|| Error::Msg("fused FiLM-sine layer: contiguous tensors only".into()))?;
    Ok(&data[start..end])
}

/// Checks the three shapes against each other.
fn dims_of(x: &Layout, w: &Layout, film: &Layout) -> Result<Dims> {
    match (x.dims(), w.dims(), film.dims()) {
        (&[items, points, inputs], &[outputs, w_in], &[f_items, 2, f_out])
            if w_in == inputs && f_items == items && f_out == outputs =>
        {
            Ok(Dims {
                items,
                points,
                inputs,
                outputs,
            })
        }
        (x, w, f) => Err(Error::Msg(format!(
            "fused FiLM-sine layer: x {x:?}, W {w:?}, film {f:?} do not fit [B, n, in], \
             [out, in], [B, 2, out]"
        ))),
    }
}

impl CustomOp3 for FilmSine {
    fn name(&self) -> &'static str {
        "film-sine"
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
        let dims = dims_of(l1, l2, l3)?;
        let x = f32_slice(s1, l1)?;
        let w = f32_slice(s2, l2)?;
        let film = f32_slice(s3, l3)?;
        let f = layer::forward(dims, x, w, film);
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
        let shape = Shape::from((dims.items, dims.points, dims.outputs));
        Ok((CpuStorage::F32(f.sin), shape))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        film: &Tensor,
        _res: &Tensor,
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
        let (Storage::Cpu(xs), Storage::Cpu(ws), Storage::Cpu(fs)) = (&*xs, &*ws, &*fs) else {
            return Err(Error::Msg("fused FiLM-sine layer: CPU tensors only".into()));
        };
        let b = layer::backward(
            d,
            &mut grad,
            &saved.cos,
            &saved.product,
            f32_slice(xs, xl)?,
            f32_slice(ws, wl)?,
            f32_slice(fs, fl)?,
            x.track_op(),
        );
        let device = x.device();
        let grad_x =
            b.x.map(|g| Tensor::from_vec(g, (d.items, d.points, d.inputs), device))
                .transpose()?;
        let grad_w = Tensor::from_vec(b.weight, (d.outputs, d.inputs), device)?;
        let grad_film = Tensor::from_vec(b.film, (d.items, 2, d.outputs), device)?;
        Ok((grad_x, Some(grad_w), Some(grad_film)))
    }
}
