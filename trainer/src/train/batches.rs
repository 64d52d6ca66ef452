//! Which items and coordinates each step of an epoch uses, drawn from a seeded RNG stream per
//! epoch so that a resumed run continues with exactly the batches it would have had.

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
}
