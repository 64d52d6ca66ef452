//! Which items and coordinates each step of an epoch uses, drawn from a seeded RNG stream per
//! epoch so that a resumed run continues with exactly the batches it would have had.

use candle_core::Tensor;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The coordinates one item gets in a step, as positions in its clip: `points` samples
/// `stride` apart from one random phase in `0..stride` (the reference code's sampling, read by
/// the amplitude and derivative terms), then `windows` contiguous windows of `window` samples,
/// each from a random start (read by the STFT term; none when it is off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    /// Samples between consecutive strided points.
    pub stride: usize,
    /// Strided points per item.
    pub points: usize,
    /// Samples per window.
    pub window: usize,
    /// Windows per item.
    pub windows: usize,
}

impl Grid {
    /// Coordinates per item per step: the strided points and the windows' samples.
    pub fn total_points(&self) -> usize {
        self.points + self.window * self.windows
    }

    /// Model-time distance between neighbouring strided points (`2·stride/16000`).
    pub fn spacing(&self, clip: usize) -> f64 {
        2.0 * self.stride as f64 / clip as f64
    }

    /// Random starts per item: the phase, then one per window.
    fn starts_per_item(&self) -> usize {
        1 + self.windows
    }

    /// The clip positions of the points that one item's `starts` select, in order.
    fn positions<'a>(&self, starts: &'a [u32]) -> impl Iterator<Item = usize> + 'a {
        let Grid {
            stride,
            points,
            window,
            ..
        } = *self;
        let (phase, windows) = starts.split_first().expect("a phase per item");
        let strided = (0..points).map(move |j| *phase as usize + stride * j);
        let windowed = windows
            .iter()
            .flat_map(move |&start| (0..window).map(move |j| start as usize + j));
        strided.chain(windowed)
    }
}

/// One step's items and where each item's points start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Item indices into the data set.
    pub items: Vec<u32>,
    /// Per item (item-major), the phase in `0..stride` of its strided points (the item uses
    /// samples `phase + stride * j`), then each window's first sample.
    pub starts: Vec<u32>,
}

/// The RNG of epoch `epoch` of a run seeded with `seed`: the same stream on every device and
/// after every resume.
pub fn epoch_rng(seed: u64, epoch: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(epoch as u64 + 1);
    rng
}

/// The batches of one epoch: a seeded permutation of the items cut into batches of `batch`
/// (the last one smaller when `items` is not a multiple), each item with random starts.
pub fn epoch_batches(
    seed: u64,
    epoch: usize,
    items: usize,
    batch: usize,
    grid: Grid,
) -> Vec<Batch> {
    let mut rng = epoch_rng(seed, epoch);
    let mut order: Vec<u32> = (0..items as u32).collect();
    order.shuffle(&mut rng);
    order
        .chunks(batch)
        .map(|chunk| Batch {
            items: chunk.to_vec(),
            starts: random_starts(&mut rng, grid, chunk.len()),
        })
        .collect()
}

/// Random starts for `items` items on `grid` (item-major): a phase in `0..stride`, then each
/// window's start, drawn so that the window lies inside the clip. Without windows the draws
/// are exactly the reference's one phase per item.
pub fn random_starts(rng: &mut ChaCha8Rng, grid: Grid, items: usize) -> Vec<u32> {
    let last = (sirenade_common::CLIP_LEN - grid.window.min(sirenade_common::CLIP_LEN)) as u32;
    let mut starts = Vec::with_capacity(items * grid.starts_per_item());
    for _ in 0..items {
        starts.push(rng.random_range(0..grid.stride as u32));
        starts.extend((0..grid.windows).map(|_| rng.random_range(0..=last)));
    }
    starts
}

/// One item's starts for each round of a deterministic full pass: every phase `0..stride`,
/// and windows tiling the clip from sample 0 (a tail shorter than a window is left out), as
/// many rounds as the more numerous of the two needs, cycling through the other.
pub fn tiling(grid: Grid, clip: usize) -> Vec<Vec<u32>> {
    let tiles: Vec<u32> = (0..clip / grid.window.max(1))
        .map(|k| (k * grid.window) as u32)
        .collect();
    let rounds = if grid.windows == 0 || tiles.is_empty() {
        grid.stride
    } else {
        grid.stride.max(tiles.len().div_ceil(grid.windows))
    };
    (0..rounds)
        .map(|r| {
            let mut starts = vec![(r % grid.stride) as u32];
            if !tiles.is_empty() {
                starts
                    .extend((0..grid.windows).map(|w| tiles[(r * grid.windows + w) % tiles.len()]));
            }
            starts
        })
        .collect()
}

/// The tensors of one step: the batch's row indices `[B]`, its coordinates t `[B, points]`
/// (t = −1 + 2k/16000 for audio index k) and the targets at those coordinates, gathered from
/// `targets` `[N, 16000]`.
pub fn gather(
    targets: &Tensor,
    b: &Batch,
    grid: Grid,
) -> candle_core::Result<(Tensor, Tensor, Tensor)> {
    let device = targets.device();
    let clip = targets.dim(1)?;
    let points = grid.total_points();
    let mut idx = Vec::with_capacity(b.items.len() * points);
    let mut t = Vec::with_capacity(b.items.len() * points);
    for starts in b.starts.chunks(grid.starts_per_item()) {
        for k in grid.positions(starts) {
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

    fn strided(stride: usize, points: usize) -> Grid {
        Grid {
            stride,
            points,
            window: 512,
            windows: 0,
        }
    }

    #[test]
    fn every_item_once_per_epoch_and_seeded() {
        let grid = strided(8, 2000);
        let b = epoch_batches(7, 3, 10, 4, grid);
        assert_eq!(
            b.iter().map(|x| x.items.len()).collect::<Vec<_>>(),
            [4, 4, 2]
        );
        let mut all: Vec<u32> = b.iter().flat_map(|x| x.items.clone()).collect();
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<u32>>());
        assert!(b.iter().flat_map(|x| x.starts.iter()).all(|&p| p < 8));
        assert_eq!(b, epoch_batches(7, 3, 10, 4, grid));
        assert_ne!(b, epoch_batches(7, 4, 10, 4, grid));
        assert_ne!(b, epoch_batches(8, 3, 10, 4, grid));
    }

    #[test]
    fn gather_picks_the_strided_samples() {
        let targets: Vec<f32> = (0..2 * 16).map(|v| v as f32).collect();
        let targets = Tensor::from_vec(targets, (2, 16), &candle_core::Device::Cpu).unwrap();
        let b = Batch {
            items: vec![1, 0],
            starts: vec![3, 0],
        };
        let (rows, t, y) = gather(&targets, &b, strided(4, 4)).unwrap();
        assert_eq!(rows.to_vec1::<u32>().unwrap(), [1, 0]);
        assert_eq!(
            y.to_vec2::<f32>().unwrap(),
            [[19.0, 23.0, 27.0, 31.0], [0.0, 4.0, 8.0, 12.0]]
        );
        assert_eq!(t.to_vec2::<f32>().unwrap()[1], [-1.0, -0.5, 0.0, 0.5]);
    }

    #[test]
    fn windows_follow_the_strided_points_and_lie_inside_the_clip() {
        let grid = Grid {
            windows: 2,
            ..strided(8, 2000)
        };
        assert_eq!(grid.total_points(), 3024);
        for b in epoch_batches(3, 0, 9, 4, grid) {
            assert_eq!(b.starts.len(), 3 * b.items.len());
            for s in b.starts.chunks(3) {
                assert!(s[0] < 8);
                assert!(s[1..].iter().all(|&w| w as usize + 512 <= 16_000));
            }
        }
        let targets: Vec<f32> = (0..2 * 16).map(|v| v as f32).collect();
        let targets = Tensor::from_vec(targets, (2, 16), &candle_core::Device::Cpu).unwrap();
        let b = Batch {
            items: vec![1, 0],
            starts: vec![1, 13, 2, 0, 5, 0],
        };
        let grid = Grid {
            stride: 8,
            points: 2,
            window: 3,
            windows: 2,
        };
        let (_, t, y) = gather(&targets, &b, grid).unwrap();
        assert_eq!(
            y.to_vec2::<f32>().unwrap(),
            [
                [17.0, 25.0, 29.0, 30.0, 31.0, 18.0, 19.0, 20.0],
                [0.0, 8.0, 5.0, 6.0, 7.0, 0.0, 1.0, 2.0]
            ]
        );
        assert_eq!(
            t.to_vec2::<f32>().unwrap()[1][2..5],
            [-0.375, -0.25, -0.125]
        );
    }

    #[test]
    fn without_windows_the_draws_are_the_references_phases() {
        let mut a = epoch_rng(5, 2);
        let mut b = epoch_rng(5, 2);
        let phases: Vec<u32> = (0..6).map(|_| b.random_range(0..8u32)).collect();
        assert_eq!(random_starts(&mut a, strided(8, 2000), 6), phases);
    }

    #[test]
    fn a_full_pass_covers_every_phase_and_tile() {
        let grid = Grid {
            stride: 4,
            points: 4000,
            window: 1000,
            windows: 2,
        };
        let rounds = tiling(grid, 16_000);
        assert_eq!(rounds.len(), 8);
        let phases: Vec<u32> = rounds.iter().map(|r| r[0]).collect();
        assert_eq!(phases, [0, 1, 2, 3, 0, 1, 2, 3]);
        let mut tiles: Vec<u32> = rounds.iter().flat_map(|r| r[1..].to_vec()).collect();
        tiles.sort_unstable();
        assert_eq!(tiles, (0..16).map(|k| k * 1000).collect::<Vec<u32>>());
        assert_eq!(tiling(strided(8, 2000), 16_000).len(), 8);
    }
}
