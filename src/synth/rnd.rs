//! Randomness: the ChaCha8 stream seeded with `(seed, index)` that draws one
//! conversation (`Rnd`, with the distributions the model uses), and `mix`, the
//! hash behind everything derived without drawing (customers, attachments).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub(super) struct Rnd(ChaCha8Rng);

impl Rnd {
    pub(super) fn new(seed: u64, index: u64) -> Rnd {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8..16].copy_from_slice(&index.to_le_bytes());
        key[16..24].copy_from_slice(b"convstat");
        key[24..].copy_from_slice(b"gen-v1\0\0");
        Rnd(ChaCha8Rng::from_seed(key))
    }

    fn u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `[0, 1)`.
    pub(super) fn f64(&mut self) -> f64 {
        (self.u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[0, n)`; 0 when `n == 0`.
    pub(super) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `[lo, hi]` (`lo` when `hi < lo`).
    pub(super) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo) as u64 + 1) as i64
    }

    pub(super) fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    pub(super) fn pick<T: Copy>(&mut self, xs: &[T], fallback: T) -> T {
        let i = self.below(xs.len() as u64) as usize;
        xs.get(i).copied().unwrap_or(fallback)
    }

    /// Index drawn with the given relative weights.
    pub(super) fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.f64() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len().saturating_sub(1)
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.f64();
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Log-normal seconds with the given median, clamped to `[lo, hi]`.
    pub(super) fn lognormal(&mut self, median: f64, sigma: f64, lo: i64, hi: i64) -> i64 {
        let x = median * (sigma * self.normal()).exp();
        if x.is_finite() {
            (x as i64).clamp(lo, hi.max(lo))
        } else {
            hi.max(lo)
        }
    }
}

pub(super) fn mix(mut x: u64) -> u64 {
    // splitmix64 finaliser
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}
