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
    /// f64), each signed so that its largest-magnitude entry is positive. With fewer latents
    /// than dimensions the eigenproblem is solved on the small Gram matrix; directions beyond
    /// the table's rank (standard deviation 0) complete an orthonormal set.
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
        let centred: Vec<Vec<f64>> = table
            .chunks_exact(dim.max(1))
            .map(|row| {
                row.iter()
                    .zip(&mean)
                    .map(|(&x, m)| f64::from(x) - m)
                    .collect()
            })
            .collect();
        let denominator = rows.saturating_sub(1).max(1) as f64;
        let (values, vectors) = if rows < dim {
            gram_pca(&centred, dim, denominator)
        } else {
            covariance_pca(&centred, dim, denominator)
        };
        let k = PCA_COMPONENTS.min(dim);
        let mut basis: Vec<Vec<f64>> = Vec::with_capacity(k);
        let mut stds = Vec::with_capacity(k);
        for (value, v) in values.iter().zip(&vectors) {
            if basis.len() == k || *value <= 1e-12 * values[0].max(f64::MIN_POSITIVE) {
                break;
            }
            basis.push(v.clone());
            stds.push(value.sqrt() as f32);
        }
        let mut axis = 0;
        while basis.len() < k && axis < dim {
            let mut e = vec![0.0; dim];
            e[axis] = 1.0;
            axis += 1;
            for b in &basis {
                let dot: f64 = e.iter().zip(b).map(|(x, y)| x * y).sum();
                e.iter_mut().zip(b).for_each(|(x, y)| *x -= dot * y);
            }
            let norm = e.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm > 1e-6 {
                basis.push(e.iter().map(|x| x / norm).collect());
                stds.push(0.0);
            }
        }
        let mut directions = Vec::with_capacity(k * dim);
        for v in &basis {
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
            stds,
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

/// Eigenpairs of the `dim × dim` sample covariance of the centred rows, largest first.
fn covariance_pca(centred: &[Vec<f64>], dim: usize, denominator: f64) -> (Vec<f64>, Vec<Vec<f64>>) {
    let mut cov = vec![0.0f64; dim * dim];
    for row in centred {
        for i in 0..dim {
            for j in i..dim {
                cov[i * dim + j] += row[i] * row[j] / denominator;
            }
        }
    }
    let (values, vectors) = symmetric_eigen(&cov, dim);
    let vectors = vectors
        .chunks_exact(dim.max(1))
        .map(<[f64]>::to_vec)
        .collect();
    (values, vectors)
}

/// The same eigenpairs (for non-zero eigenvalues) from the `rows × rows` Gram matrix
/// `X Xᵀ / d`: if `X Xᵀ u = λ d u` then `Xᵀ u` is a covariance eigenvector with eigenvalue λ.
fn gram_pca(centred: &[Vec<f64>], dim: usize, denominator: f64) -> (Vec<f64>, Vec<Vec<f64>>) {
    let rows = centred.len();
    let mut gram = vec![0.0f64; rows * rows];
    for i in 0..rows {
        for j in i..rows {
            let dot: f64 = centred[i].iter().zip(&centred[j]).map(|(a, b)| a * b).sum();
            gram[i * rows + j] = dot / denominator;
        }
    }
    let (values, u) = symmetric_eigen(&gram, rows);
    let vectors = u
        .chunks_exact(rows.max(1))
        .map(|u| {
            let mut v = vec![0.0; dim];
            for (row, &weight) in centred.iter().zip(u) {
                v.iter_mut().zip(row).for_each(|(x, r)| *x += weight * r);
            }
            let norm = v
                .iter()
                .map(|x| x * x)
                .sum::<f64>()
                .sqrt()
                .max(f64::MIN_POSITIVE);
            v.iter_mut().for_each(|x| *x /= norm);
            v
        })
        .collect();
    (values, vectors)
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
        assert!(
            (d0[0] - 0.5f32.sqrt()).abs() < 1e-2 && (d0[1] - d0[0]).abs() < 1e-5,
            "{d0:?}"
        );
        let d1 = space.direction(1).unwrap();
        assert!((d1[2] - 1.0).abs() < 1e-3, "{d1:?}");
        assert!(space.stds[0] > 1.5 && space.stds[1] > 0.5 && space.stds[2] < 1e-3);
        assert!(space.mean.iter().skip(3).all(|&m| (m - 0.5).abs() < 1e-6));
    }

    #[test]
    fn few_latents_give_the_same_directions_and_a_completed_basis() {
        // 5 points in 40 dimensions: the Gram path must agree with the covariance path.
        let dim = 40;
        let table: Vec<f32> = (0..5 * dim)
            .map(|k| ((k * 7919 % 113) as f32 / 113.0 - 0.5) * (1.0 + (k % dim) as f32 / 10.0))
            .collect();
        let small = LatentSpace::from_table(table.clone(), dim);
        let centred: Vec<Vec<f64>> = table
            .chunks_exact(dim)
            .map(|r| {
                r.iter()
                    .zip(&small.mean)
                    .map(|(&x, &m)| f64::from(x) - f64::from(m))
                    .collect()
            })
            .collect();
        let (values, vectors) = covariance_pca(&centred, dim, 4.0);
        assert_eq!(small.components(), PCA_COMPONENTS);
        for k in 0..4 {
            assert!((f64::from(small.stds[k]) - values[k].sqrt()).abs() < 1e-5);
            let dot: f64 = small
                .direction(k)
                .unwrap()
                .iter()
                .zip(&vectors[k])
                .map(|(&a, b)| f64::from(a) * b)
                .sum();
            assert!((dot.abs() - 1.0).abs() < 1e-5, "direction {k}: {dot}");
        }
        assert!(small.stds[4..].iter().all(|&s| s == 0.0));
        for a in 0..PCA_COMPONENTS {
            for b in 0..PCA_COMPONENTS {
                let dot: f32 = small
                    .direction(a)
                    .unwrap()
                    .iter()
                    .zip(small.direction(b).unwrap())
                    .map(|(x, y)| x * y)
                    .sum();
                let expected = if a == b { 1.0 } else { 0.0 };
                assert!((dot - expected).abs() < 1e-5, "{a}, {b}: {dot}");
            }
        }
    }
}
