//! Sine and cosine of one f32 argument together, written without branches or calls so that
//! loops over slices vectorise (Cody–Waite reduction by pi/2, then the Cephes `sinf`/`cosf`
//! polynomials on [-pi/4, pi/4]; about 1 ulp for |a| up to 8192, slowly degrading beyond).

/// 2/pi.
const FRAC_2_PI: f32 = std::f32::consts::FRAC_2_PI;
/// 1.5 * 2^23: adding it rounds an f32 below 2^22 in magnitude to an integer, left in the low
/// mantissa bits.
const ROUNDER: f32 = 12_582_912.0;
/// pi/2 split in three parts whose products with a quadrant count below 2^13 are exact.
const PIO2_1: f32 = 1.570_312_5;
const PIO2_2: f32 = 4.837_513e-4;
const PIO2_3: f32 = 7.549_79e-8;
/// Cephes `sinf` coefficients.
const S1: f32 = -1.666_665_5e-1;
const S2: f32 = 8.332_161e-3;
const S3: f32 = -1.951_529_6e-4;
/// Cephes `cosf` coefficients.
const C1: f32 = 4.166_664_6e-2;
const C2: f32 = -1.388_731_6e-3;
const C3: f32 = 2.443_315_7e-5;

/// `(sin a, cos a)`.
#[inline(always)]
pub fn sin_cos(a: f32) -> (f32, f32) {
    let shifted = a * FRAC_2_PI + ROUNDER;
    let quadrant = shifted.to_bits();
    let q = shifted - ROUNDER;
    let r = ((a - q * PIO2_1) - q * PIO2_2) - q * PIO2_3;
    let z = r * r;
    let s = ((S3 * z + S2) * z + S1) * z * r + r;
    let c = ((C3 * z + C2) * z + C1) * z * z - 0.5 * z + 1.0;
    // sin(r + q pi/2): quadrant 0 (s, c), 1 (c, -s), 2 (-s, -c), 3 (-c, s).
    let odd = quadrant & 1 == 1;
    let (sin, cos) = if odd { (c, s) } else { (s, c) };
    let sin_sign = (quadrant & 2) << 30;
    let cos_sign = (quadrant.wrapping_add(1) & 2) << 30;
    (
        f32::from_bits(sin.to_bits() ^ sin_sign),
        f32::from_bits(cos.to_bits() ^ cos_sign),
    )
}

#[cfg(test)]
mod tests {
    use super::sin_cos;

    #[test]
    fn matches_the_standard_library_over_a_wide_range() {
        let mut worst: f64 = 0.0;
        for i in -200_000..=200_000 {
            let a = i as f32 * 0.0173;
            let (s, c) = sin_cos(a);
            let x = f64::from(a);
            worst = worst
                .max((f64::from(s) - x.sin()).abs())
                .max((f64::from(c) - x.cos()).abs());
        }
        assert!(worst < 1e-6, "worst error {worst}");
    }
}
