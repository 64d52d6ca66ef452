//! The latent space a preset ships: the table of trained latents and its principal components,
//! which the plugin uses for its "explore" controls.

use super::eigen::symmetric_eigen;

/// Number of principal directions stored by [`LatentSpace::from_table`] (fewer when the
/// latent is smaller).
pub const PCA_COMPONENTS: usize = 16;

/// The least number of principal directions a preset must hold (fewer only when the latent
/// itself is smaller).
pub const MIN_COMPONENTS: usize = 8;

/// The trained latents and their summary. All matrices are row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct LatentSpace {
    /// Latent size L.
    pub dim: usize,
    /// `N × L`: row i is item i's latent.
    pub table: Vec<f32>,
    /// The mean latent (L values).
    pub mean: Vec<f32>,
    /// `K × L`: the top K principal directions, unit length, largest variance first.
    pub directions: Vec<f32>,
    /// The standard deviation of the latents along each direction (K values, sample std).
    pub stds: Vec<f32>,
}

impl LatentSpace {
    /// Summarises a table of `table.len() / dim` latents of size `dim`: mean, and the top
    /// `min(PCA_COMPONENTS, dim)` principal directions of the sample covariance (computed in
    /// f64), each signed so that its largest-magnitude entry is positive.
    pub fn from_table(table: Vec<f32>, dim: usize) -> LatentSpace {
        let rows = table.len().checked_div(dim).unwrap_or(0);
        let mut mean = vec![0.0f64; dim];
        for row in table.chunks_exact(dim.max(1)) {
            for (m, &x) in mean.iter_mut().zip(row) {
                *m += f64::from(x);
            }
        }
        for m in &mut mean {
            *m /= rows.max(1) as f64;
        }
        let mut cov = vec![0.0f64; dim * dim];
        for row in table.chunks_exact(dim.max(1)) {
            let centred: Vec<f64> = row
                .iter()
                .zip(&mean)
                .map(|(&x, m)| f64::from(x) - m)
                .collect();
            for i in 0..dim {
                for j in i..dim {
                    cov[i * dim + j] += centred[i] * centred[j];
                }
            }
        }
        let denominator = rows.saturating_sub(1).max(1) as f64;
        for c in &mut cov {
            *c /= denominator;
        }
        let (values, vectors) = symmetric_eigen(&cov, dim);
        let k = PCA_COMPONENTS.min(dim);
        let mut directions = Vec::with_capacity(k * dim);
        for v in vectors.chunks_exact(dim.max(1)).take(k) {
            let peak = v
                .iter()
                .copied()
                .max_by(|a, b| a.abs().total_cmp(&b.abs()))
                .unwrap_or(1.0);
            let sign = if peak < 0.0 { -1.0 } else { 1.0 };
            directions.extend(v.iter().map(|&x| (sign * x) as f32));
        }
        LatentSpace {
            dim,
            table,
            mean: mean.iter().map(|&m| m as f32).collect(),
            directions,
            stds: values
                .iter()
                .take(k)
                .map(|&l| l.max(0.0).sqrt() as f32)
                .collect(),
        }
    }

    /// Number of latents in the table.
    pub fn rows(&self) -> usize {
        self.table.len().checked_div(self.dim).unwrap_or(0)
    }

    /// Number of principal directions.
    pub fn components(&self) -> usize {
        self.stds.len()
    }

    /// Item `item`'s latent, if it exists.
    pub fn latent(&self, item: usize) -> Option<&[f32]> {
        self.table.chunks_exact(self.dim.max(1)).nth(item)
    }

    /// Principal direction `k` (unit length), if it exists.
    pub fn direction(&self, k: usize) -> Option<&[f32]> {
        self.directions.chunks_exact(self.dim.max(1)).nth(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_directions_of_a_stretched_cloud() {
        // Points along (1, 1, 0, ...)/√2 with spread 3, along (0, 0, 1, 0...) with spread 1.
        let dim = 10;
        let mut table = Vec::new();
        for i in 0..50 {
            let a = (i as f32 * 0.7).sin() * 3.0;
            let b = (i as f32 * 1.3).cos();
            let mut row = vec![0.5f32; dim];
            row[0] += a / 2f32.sqrt();
            row[1] += a / 2f32.sqrt();
            row[2] += b;
            table.extend(row);
        }
        let space = LatentSpace::from_table(table, dim);
        assert_eq!(space.rows(), 50);
        assert_eq!(space.components(), dim);
        let d0 = space.direction(0).unwrap();
        assert!((d0[0] - 0.5f32.sqrt()).abs() < 1e-5 && (d0[1] - d0[0]).abs() < 1e-5);
        let d1 = space.direction(1).unwrap();
        assert!((d1[2] - 1.0).abs() < 1e-4, "{d1:?}");
        assert!(space.stds[0] > 1.5 && space.stds[1] > 0.5 && space.stds[2] < 1e-3);
        assert!(space.mean.iter().skip(3).all(|&m| (m - 0.5).abs() < 1e-6));
    }
}
