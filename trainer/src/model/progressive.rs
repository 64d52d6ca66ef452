//! The fade-in schedule of progressive activation scaling (thesis §5.4.2;
//! docs/reference-code.md, "Progressive activation scaling").

/// Which first-layer units are on after a number of epochs.
///
/// The first layer's units are split into `groups` contiguous groups (`[g W / G, (g+1) W / G)`,
/// so with sorted omegas group 0 holds the lowest frequencies). With `bt = floor(floor(E/2) / 2G)`
/// epochs, group g's mask after k schedule steps is `clamp((k - 2 g bt) / bt, 0, 1)`: each group
/// fades in over bt epochs, then bt epochs pass before the next one starts, and every group is on
/// within the first half of training. The reference steps once at the start of every epoch, so
/// epoch e (from 0) uses k = e + 1. The reference accumulates the mask by repeated float
/// additions of 1/bt; this computes the same value in closed form (ending at exactly 1). Where
/// the reference would divide by zero (bt = 0 for short runs), bt is 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgressiveSchedule {
    groups: usize,
    width: usize,
    block: usize,
}

impl ProgressiveSchedule {
    /// The schedule for a first layer of `width` units in `groups` groups over `epochs` epochs.
    pub fn new(groups: usize, width: usize, epochs: usize) -> ProgressiveSchedule {
        let block = ((epochs / 2) / (2 * groups.max(1))).max(1);
        ProgressiveSchedule {
            groups: groups.max(1),
            width,
            block,
        }
    }

    /// bt: the number of epochs one group takes to fade in.
    pub fn block_epochs(&self) -> usize {
        self.block
    }

    /// The mask (one value per first-layer unit) after `steps` schedule steps; use
    /// `steps = epoch + 1` during epoch `epoch` counted from 0.
    pub fn mask(&self, steps: usize) -> Vec<f64> {
        let bt = self.block as f64;
        (0..self.width)
            .map(|unit| {
                let group = (0..self.groups)
                    .rev()
                    .find(|g| g * self.width / self.groups <= unit)
                    .unwrap_or(0);
                ((steps as f64 - 2.0 * group as f64 * bt) / bt).clamp(0.0, 1.0)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thesis_schedule_fades_groups_in_one_after_another() {
        let s = ProgressiveSchedule::new(8, 256, 10_000);
        assert_eq!(s.block_epochs(), 312);
        assert!(s.mask(0).iter().all(|&m| m == 0.0));
        let half = s.mask(156);
        assert_eq!(half[0], 0.5);
        assert_eq!(half[31], 0.5);
        assert_eq!(half[32], 0.0);
        let second = s.mask(2 * 312 + 78);
        assert_eq!(second[0], 1.0);
        assert_eq!(second[32], 0.25);
        assert_eq!(second[64], 0.0);
        assert!(s.mask(15 * 312).iter().all(|&m| m == 1.0));
        assert!(s.mask(15 * 312 - 1)[255] < 1.0);
    }

    #[test]
    fn short_runs_do_not_divide_by_zero() {
        let s = ProgressiveSchedule::new(8, 10, 3);
        assert_eq!(s.block_epochs(), 1);
        assert_eq!(s.mask(100), vec![1.0; 10]);
    }
}
