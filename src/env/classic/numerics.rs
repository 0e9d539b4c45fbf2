//! Elementary functions computed exactly as gymnasium's numpy/libm calls compute them, where the
//! last bit matters for bit-exact trajectories (see the fixtures' README, "How to compare").

use std::hint::black_box;

unsafe extern "C" {
    fn pow(x: f64, y: f64) -> f64;
    fn powf(x: f32, y: f32) -> f32;
    fn cosf(x: f32) -> f32;
    fn sinf(x: f32) -> f32;
}

/// `x²` as numpy's `x**2` on a float64 scalar computes it: C `pow(x, 2)` (glibc).
///
/// glibc's `pow` is not correctly rounded, so it differs from `x * x` in the last bit for about
/// 0.1% of inputs; Rust's `powi(2)` and `powf(2.0)` both compile to `x * x`. The exponent goes
/// through [`black_box`] so that LLVM cannot simplify `pow(x, 2.0)` to `x * x` either.
pub fn pow2(x: f64) -> f64 {
    // SAFETY: `pow` is a pure libm function defined for every input.
    unsafe { pow(x, black_box(2.0)) }
}

/// `x²` as numpy's `x**2` on a float32 scalar computes it: C `powf(x, 2)` (see [`pow2`]).
pub fn powf2(x: f32) -> f32 {
    // SAFETY: `powf` is a pure libm function defined for every input.
    unsafe { powf(x, black_box(2.0)) }
}

/// numpy's float32 `np.cos`.
pub fn cos_f32(x: f32) -> f32 {
    sin_cos_f32(x, Trig::Cos)
}

/// numpy's float32 `np.sin`.
pub fn sin_f32(x: f32) -> f32 {
    sin_cos_f32(x, Trig::Sin)
}

#[derive(Clone, Copy, PartialEq)]
enum Trig {
    Sin,
    Cos,
}

/// numpy 2's float32 sine/cosine (`simd_sincos_f32` in `loops_trigonometric.dispatch`, the
/// kernel x86-64 CPUs with FMA3 run), one lane at a time.
///
/// It is not libm's `sinf`/`cosf`: a Cody-Waite reduction to `[-pi/4, pi/4]` and fused
/// multiply-add polynomials (within 1.49 ulp), which disagree with glibc's `sinf`/`cosf` for a
/// few percent of inputs. Large arguments go to libm, as in numpy. Checked against numpy 2.4.6
/// (AVX-512 dispatch) on all 2^32 float32 inputs.
fn sin_cos_f32(x: f32, op: Trig) -> f32 {
    const TWO_OVER_PI: f32 = f32::from_bits(0x3f22_f983);
    // -pi/2 split in three parts for the reduction.
    const PIO2_HIGH: f32 = f32::from_bits(0xbfc9_0fd8);
    const PIO2_MED: f32 = f32::from_bits(0xb4a8_885a);
    const PIO2_LOW: f32 = f32::from_bits(0xa7c2_34c4);
    /// 1.5 · 2^23: adding and subtracting it rounds to the nearest integer.
    const RINT_MAGIC: f32 = f32::from_bits(0x4b40_0000);
    const COS: [f32; 5] = [
        f32::from_bits(0x37cc_730b),
        f32::from_bits(0xbab6_036e),
        f32::from_bits(0x3d2a_aa9e),
        f32::from_bits(0xbf00_0000),
        1.0,
    ];
    const SIN: [f32; 4] = [
        f32::from_bits(0x363e_9dde),
        f32::from_bits(0xb950_35dd),
        f32::from_bits(0x3c08_88cd),
        f32::from_bits(0xbe2a_aaab),
    ];
    if x.is_nan() {
        return f32::NAN;
    }
    // numpy's bounds 117435.992f and 71476.0625f, written as the same float32 values.
    let max_cody_waite = match op {
        Trig::Sin => 117_435.99,
        Trig::Cos => 71_476.06,
    };
    if x.abs() > max_cody_waite {
        // SAFETY: `sinf` and `cosf` are pure libm functions defined for every input.
        return unsafe {
            match op {
                Trig::Sin => sinf(x),
                Trig::Cos => cosf(x),
            }
        };
    }
    // GCC contracts numpy's `Add(Mul(x, 2/pi), magic)` into one fused multiply-add.
    let quadrant = x.mul_add(TWO_OVER_PI, RINT_MAGIC) - RINT_MAGIC;
    let r = quadrant.mul_add(PIO2_HIGH, x);
    let r = quadrant.mul_add(PIO2_MED, r);
    let r = quadrant.mul_add(PIO2_LOW, r);
    let r2 = r * r;
    let cos = COS[1..].iter().fold(COS[0], |acc, &c| acc.mul_add(r2, c));
    let sin = SIN[1..].iter().fold(SIN[0], |acc, &c| acc.mul_add(r2, c));
    let sin = sin.mul_add(r2, 0.0).mul_add(r, r);
    let quadrant = quadrant as i32 + i32::from(op == Trig::Cos);
    let value = if quadrant & 1 == 0 { sin } else { cos };
    if quadrant & 2 == 2 {
        0.0 - value
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected bits are numpy 2.4.6's results (x86-64, AVX-512 dispatch).

    #[test]
    fn pow2_is_glibc_pow_not_a_product() {
        let x = -0.9334622280593852_f64;
        assert_eq!(pow2(x).to_bits(), 0x3feb_e21d_069c_02ef);
        assert_ne!(pow2(x), x * x);
        let x = 2.9269677943783483_f64;
        assert_eq!(pow2(x).to_bits(), 0x4021_2260_3c50_0110);
    }

    #[test]
    fn powf2_is_glibc_powf_not_a_product() {
        let x = f32::from_bits(0xbeae_9956);
        assert_eq!(powf2(x).to_bits(), 0x3dee_299a);
        assert_ne!(powf2(x), x * x);
        assert_eq!(powf2(f32::from_bits(0xbfd5_b0b4)).to_bits(), 0x4032_5f86);
    }

    #[test]
    fn float32_sin_cos_match_numpy_where_libm_differs() {
        // (x, numpy's cos or sin) where glibc's cosf/sinf is one ulp away.
        for (x, want) in [(0x3da8_0b7f, 0x3f7f_2382), (0xbd94_7bd3, 0x3f7f_53d4)] {
            assert_eq!(cos_f32(f32::from_bits(x)).to_bits(), want);
        }
        for (x, want) in [(0xbd75_cc77, 0xbd75_a6b4), (0xbdc3_6393, 0xbdc3_17ba)] {
            assert_eq!(sin_f32(f32::from_bits(x)).to_bits(), want);
        }
        // The quadrant is rounded from a fused x * 2/pi + 1.5 * 2^23, as numpy's compiled kernel
        // computes it; an unfused product picks the other quadrant here.
        assert_eq!(cos_f32(605.542).to_bits(), 0xbf35_0554);
    }

    #[test]
    fn float32_sin_cos_special_values() {
        assert_eq!((cos_f32(0.0), sin_f32(0.0)), (1.0, 0.0));
        assert!(cos_f32(f32::NAN).is_nan() && sin_f32(f32::INFINITY).is_nan());
        // Beyond the Cody-Waite range numpy calls libm.
        // SAFETY: `cosf` is a pure libm function defined for every input.
        assert_eq!(cos_f32(1.0e6), unsafe { cosf(1.0e6) });
    }
}
