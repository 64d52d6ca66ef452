//! Which items and coordinates each step of an epoch uses, drawn from a seeded RNG stream per
//! epoch so that a resumed run continues with exactly the batches it would have had.

use candle_core::Tensor;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One step's items and each item's phase (first sampled audio index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Item indices into the data set.
    pub items: Vec<u32>,
    /// Per item, the phase in `0..stride`: the item uses samples `phase + stride * j`.
    pub phases: Vec<u32>,
}

/// The RNG of epoch `epoch` of a run seeded with `seed`: the same stream on every device and
/// after every resume.
pub fn epoch_rng(seed: u64, epoch: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(epoch as u64 + 1);
    rng
}

/// The batches of one epoch: a seeded permutation of the items cut into batches of `batch`
/// (the last one smaller when `items` is not a multiple), each item with a random phase.
pub fn epoch_batches(
    seed: u64,
    epoch: usize,
    items: usize,
    batch: usize,
    stride: usize,
) -> Vec<Batch> {
    let mut rng = epoch_rng(seed, epoch);
    let mut order: Vec<u32> = (0..items as u32).collect();
    order.shuffle(&mut rng);
    order
        .chunks(batch)
        .map(|chunk| Batch {
            items: chunk.to_vec(),
            phases: chunk
                .iter()
                .map(|_| rng.random_range(0..stride as u32))
                .collect(),
        })
        .collect()
}

/// The tensors of one step: the batch's row indices `[B]`, its coordinates t `[B, points]`
/// (t = −1 + 2k/16000 for audio index k) and the targets at those coordinates, gathered from
/// `targets` `[N, 16000]`.
pub fn gather(
    targets: &Tensor,
    b: &Batch,
    stride: usize,
    points: usize,
) -> candle_core::Result<(Tensor, Tensor, Tensor)> {
    let device = targets.device();
    let clip = targets.dim(1)?;
    let mut idx = Vec::with_capacity(b.items.len() * points);
    let mut t = Vec::with_capacity(b.items.len() * points);
    for &phase in &b.phases {
        for j in 0..points {
            let k = phase as usize + stride * j;
            idx.push(k as u32);
            t.push((-1.0 + 2.0 * k as f64 / clip as f64) as f32);
        }
    }
    let rows = Tensor::from_vec(b.items.clone(), b.items.len(), device)?;
    let idx = Tensor::from_vec(idx, (b.items.len(), points), device)?;
    let t = Tensor::from_vec(t, (b.items.len(), points), device)?;
    let target = targets.index_select(&rows, 0)?.gather(&idx, 1)?;
    Ok((rows, t, target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_once_per_epoch_and_seeded() {
        let b = epoch_batches(7, 3, 10, 4, 8);
        assert_eq!(
            b.iter().map(|x| x.items.len()).collect::<Vec<_>>(),
            [4, 4, 2]
        );
        let mut all: Vec<u32> = b.iter().flat_map(|x| x.items.clone()).collect();
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<u32>>());
        assert!(b.iter().flat_map(|x| x.phases.iter()).all(|&p| p < 8));
        assert_eq!(b, epoch_batches(7, 3, 10, 4, 8));
        assert_ne!(b, epoch_batches(7, 4, 10, 4, 8));
        assert_ne!(b, epoch_batches(8, 3, 10, 4, 8));
    }

    #[test]
    fn gather_picks_the_strided_samples() {
        let targets: Vec<f32> = (0..2 * 16).map(|v| v as f32).collect();
        let targets = Tensor::from_vec(targets, (2, 16), &candle_core::Device::Cpu).unwrap();
        let b = Batch {
            items: vec![1, 0],
            phases: vec![3, 0],
        };
        let (rows, t, y) = gather(&targets, &b, 4, 4).unwrap();
        assert_eq!(rows.to_vec1::<u32>().unwrap(), [1, 0]);
        assert_eq!(
            y.to_vec2::<f32>().unwrap(),
            [[19.0, 23.0, 27.0, 31.0], [0.0, 4.0, 8.0, 12.0]]
        );
        assert_eq!(t.to_vec2::<f32>().unwrap()[1], [-1.0, -0.5, 0.0, 0.5]);
    }
}
