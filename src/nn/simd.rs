//! Host loops compiled for the widest vectors the CPU has.
//!
//! The crate is built for baseline x86-64 (SSE2: four f32 lanes). [`widest`] defines a function
//! that runs an `#[inline(always)]` loop compiled three times, for AVX-512, AVX2 and the
//! baseline, in the widest variant the CPU supports (checked at each call; std caches the
//! answer). IEEE addition, multiplication, division and square root round the same at every
//! width and Rust never fuses a·b + c into one FMA, so the variants give bit-identical results
//! (the loops' own tests run whichever this machine picks).

/// `widest!(pub fn name = portable(a: A, b: B) -> R);` (attributes and doc comments first)
/// defines `name`, which calls the `#[inline(always)]` function `portable` compiled for
/// AVX-512F, AVX2 or the baseline.
macro_rules! widest {
    ($(#[$attr:meta])* $vis:vis fn $name:ident = $portable:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)?) => {
        $(#[$attr])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                fn avx512($($arg: $ty),*) $(-> $ret)? {
                    $portable($($arg),*)
                }
                #[target_feature(enable = "avx2")]
                fn avx2($($arg: $ty),*) $(-> $ret)? {
                    $portable($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU supports AVX-512F, checked just above.
                    return unsafe { avx512($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU supports AVX2, checked just above.
                    return unsafe { avx2($($arg),*) };
                }
            }
            $portable($($arg),*)
        }
    };
}

pub(crate) use widest;
