//! Eigen-decomposition of a small symmetric matrix by the cyclic Jacobi method, in f64.
//!
//! Jacobi rotations are slow (O(n³) per sweep) but simple, unconditionally stable and accurate
//! to the last bits for symmetric matrices, which is all PCA of a latent table (n ≤ a few
//! hundred) needs.

/// Sweeps after which the iteration stops even if off-diagonal mass remains (it converges
/// quadratically; 10 sweeps are typical for n = 256).
const MAX_SWEEPS: usize = 60;

/// Eigenvalues (descending) and unit eigenvectors of the symmetric `n × n` row-major matrix `a`:
/// `vectors[k * n..(k + 1) * n]` belongs to `values[k]`. Only the upper triangle is read.
pub(crate) fn symmetric_eigen(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut m: Vec<f64> = (0..n * n)
        .map(|k| {
            let (i, j) = (k / n, k % n);
            if i <= j {
                a[k]
            } else {
                a[j * n + i]
            }
        })
        .collect();
    // v holds the eigenvectors as columns while rotating.
    let mut v: Vec<f64> = (0..n * n)
        .map(|k| if k / n == k % n { 1.0 } else { 0.0 })
        .collect();
    let scale: f64 = m.iter().map(|x| x * x).sum::<f64>().sqrt();
    for _ in 0..MAX_SWEEPS {
        let off: f64 = (0..n)
            .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
            .map(|(i, j)| m[i * n + j] * m[i * n + j])
            .sum::<f64>()
            .sqrt();
        if off <= f64::EPSILON * 1e-3 * scale || off == 0.0 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                rotate(&mut m, &mut v, n, p, q);
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&x, &y| m[y * n + y].total_cmp(&m[x * n + x]));
    let values = order.iter().map(|&k| m[k * n + k]).collect();
    let vectors = order
        .iter()
        .flat_map(|&k| (0..n).map(move |i| (i, k)))
        .map(|(i, k)| v[i * n + k])
        .collect();
    (values, vectors)
}

/// One Jacobi rotation zeroing `m[p][q]` (Golub & Van Loan, Algorithm 8.4.1), applied to `m`
/// on both sides and accumulated into the columns of `v`.
fn rotate(m: &mut [f64], v: &mut [f64], n: usize, p: usize, q: usize) {
    let apq = m[p * n + q];
    if apq == 0.0 {
        return;
    }
    let theta = (m[q * n + q] - m[p * n + p]) / (2.0 * apq);
    let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
    let t = if theta == 0.0 { 1.0 } else { t };
    let c = 1.0 / (t * t + 1.0).sqrt();
    let s = t * c;
    for k in 0..n {
        let (mkp, mkq) = (m[k * n + p], m[k * n + q]);
        m[k * n + p] = c * mkp - s * mkq;
        m[k * n + q] = s * mkp + c * mkq;
    }
    for k in 0..n {
        let (mpk, mqk) = (m[p * n + k], m[q * n + k]);
        m[p * n + k] = c * mpk - s * mqk;
        m[q * n + k] = s * mpk + c * mqk;
    }
    for k in 0..n {
        let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
        v[k * n + p] = c * vkp - s * vkq;
        v[k * n + q] = s * vkp + c * vkq;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tridiagonal_matrix_has_its_known_spectrum() {
        // Eigenvalues of tridiag(-1, 2, -1) of size n: 2 - 2 cos(k π / (n + 1)).
        let n = 6;
        let a: Vec<f64> = (0..n * n)
            .map(|k| match (k / n) as i64 - (k % n) as i64 {
                0 => 2.0,
                1 | -1 => -1.0,
                _ => 0.0,
            })
            .collect();
        let (values, vectors) = symmetric_eigen(&a, n);
        for (k, value) in values.iter().enumerate() {
            let j = (n - k) as f64;
            let expected = 2.0 - 2.0 * (j * std::f64::consts::PI / (n as f64 + 1.0)).cos();
            assert!(
                (value - expected).abs() < 1e-12,
                "{k}: {value} vs {expected}"
            );
            // The eigenvector is sin(i j π / (n + 1)) up to sign and norm.
            let v = &vectors[k * n..(k + 1) * n];
            let e: Vec<f64> = (1..=n)
                .map(|i| (i as f64 * j * std::f64::consts::PI / (n as f64 + 1.0)).sin())
                .collect();
            let norm = e.iter().map(|x| x * x).sum::<f64>().sqrt();
            let dot: f64 = v.iter().zip(&e).map(|(a, b)| a * b).sum::<f64>() / norm;
            assert!((dot.abs() - 1.0).abs() < 1e-12, "{k}: {dot}");
        }
    }

    #[test]
    fn random_symmetric_matrix_is_diagonalised() {
        let n = 40;
        let mut x = 0.5f64;
        let mut next = || {
            x = (x * 3.9 * (1.0 - x)).clamp(1e-9, 1.0 - 1e-9);
            x - 0.5
        };
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in i..n {
                let r = next();
                a[i * n + j] = r;
                a[j * n + i] = r;
            }
        }
        let (values, vectors) = symmetric_eigen(&a, n);
        assert!(values.windows(2).all(|w| w[0] >= w[1]));
        for k in 0..n {
            let v = &vectors[k * n..(k + 1) * n];
            for i in 0..n {
                let av: f64 = (0..n).map(|j| a[i * n + j] * v[j]).sum();
                assert!((av - values[k] * v[i]).abs() < 1e-10, "A v != λ v");
            }
            for l in 0..n {
                let dot: f64 = v
                    .iter()
                    .zip(&vectors[l * n..(l + 1) * n])
                    .map(|(a, b)| a * b)
                    .sum();
                let expected = if l == k { 1.0 } else { 0.0 };
                assert!((dot - expected).abs() < 1e-10, "not orthonormal");
            }
        }
    }
}
