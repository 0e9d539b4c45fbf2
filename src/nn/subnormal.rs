//! Subnormal floats flushed to zero on the threads that train.
//!
//! Adam's first moment decays by β₁ = 0.9 every step where a parameter gets no gradient (a dead
//! ReLU unit): within a few hundred steps it is subnormal, and x86 multiplies subnormals about a
//! hundred times slower than normal floats. DQN spent half its time in Adam's `m ← β₁ m`.
//! Flush-to-zero (FTZ) and denormals-are-zero (DAZ) only change values below 2⁻¹²⁶ ≈ 1.2·10⁻³⁸,
//! and every thread of a run sets them the same way, so results stay reproducible.

/// Sets FTZ and DAZ in this thread's MXCSR (x86-64; elsewhere nothing changes).
pub fn flush_to_zero() {
    #[cfg(target_arch = "x86_64")]
    {
        const FTZ: u32 = 1 << 15;
        const DAZ: u32 = 1 << 6;
        let mut csr: u32 = 0;
        // SAFETY: stmxcsr/ldmxcsr read and write this thread's SSE control register only; the
        // value written is the current one with two mode bits set.
        unsafe {
            std::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack, preserves_flags));
            csr |= FTZ | DAZ;
            std::arch::asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, preserves_flags, readonly));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnormal_products_become_zero_on_the_flushed_thread_only() {
        let tiny = std::hint::black_box(f32::MIN_POSITIVE);
        let half = std::hint::black_box(0.5f32);
        assert!(tiny * half > 0.0, "a fresh thread keeps subnormals");
        std::thread::spawn(move || {
            flush_to_zero();
            let product = std::hint::black_box(tiny) * std::hint::black_box(half);
            #[cfg(target_arch = "x86_64")]
            assert_eq!(product, 0.0);
            #[cfg(not(target_arch = "x86_64"))]
            assert!(product > 0.0);
        })
        .join()
        .unwrap();
    }
}
