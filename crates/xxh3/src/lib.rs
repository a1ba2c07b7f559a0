//! XXH3-128 (seed 0, the default secret), written from the XXH3 specification,
//! with its stripe loop chosen at run time: AVX2 where the CPU has it, a
//! portable loop otherwise. The `xxhash-rust` crate gives the same values
//! (the tests compare them), but picks its vector code when it is compiled,
//! so a build for baseline x86-64 hashes with SSE2 even on an AVX2 machine.
//!
//! Content hashes are xxh3-128 (`load::layer`, `load::plain`, `look`), so
//! this is what every content byte of an image goes through; the caches'
//! checksums keep `xxhash_rust::xxh3::xxh3_64`.
//!
//! [`hash128`] hashes one slice; [`Xxh3`] hashes a content given in pieces
//! and gives the same digest, however it is split.

const SECRET: [u8; 192] = [
    0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
    0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
    0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
    0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
    0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3,
    0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
    0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d,
    0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64,
    0xea, 0xc5, 0xac, 0x83, 0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb,
    0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e,
    0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce,
    0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e,
];

const P32_1: u64 = 0x9E37_79B1;
const P32_2: u64 = 0x85EB_CA77;
const P32_3: u64 = 0xC2B2_AE3D;
const P64_1: u64 = 0x9E37_79B1_85EB_CA87;
const P64_2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const P64_3: u64 = 0x1656_67B1_9E37_79F9;
const P64_4: u64 = 0x85EB_CA77_C2B2_AE63;
const P64_5: u64 = 0x27D4_EB2F_1656_67C5;
const MX1: u64 = 0x1656_6791_9E37_79F9;
const MX2: u64 = 0x9FB2_1C65_1E98_DF25;

/// Bytes of one stripe, the unit of the long loop.
const STRIPE: usize = 64;
/// Stripes in a block: a scramble follows each block.
const STRIPES_PER_BLOCK: usize = (SECRET.len() - STRIPE) / 8;
/// Where the scramble's key starts in the secret.
const SCRAMBLE_AT: usize = SECRET.len() - STRIPE;
/// Where the key of the last stripe starts.
const LAST_STRIPE_AT: usize = SECRET.len() - STRIPE - 7;
/// The longest input the short paths take.
const SHORT_MAX: usize = 240;

const ACC_INIT: [u64; 8] = [P32_3, P64_1, P64_2, P64_3, P64_4, P32_2, P64_5, P32_1];

#[inline(always)]
fn r32(b: &[u8], at: usize) -> u64 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as u64
}

#[inline(always)]
fn r64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

#[inline(always)]
fn mul128(a: u64, b: u64) -> (u64, u64) {
    let p = a as u128 * b as u128;
    (p as u64, (p >> 64) as u64)
}

#[inline(always)]
fn fold64(a: u64, b: u64) -> u64 {
    let (lo, hi) = mul128(a, b);
    lo ^ hi
}

#[inline(always)]
fn avalanche_xxh64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(P64_2);
    h ^= h >> 29;
    h = h.wrapping_mul(P64_3);
    h ^ (h >> 32)
}

#[inline(always)]
fn avalanche(mut h: u64) -> u64 {
    h ^= h >> 37;
    h = h.wrapping_mul(MX1);
    h ^ (h >> 32)
}

#[inline(always)]
fn join(lo: u64, hi: u64) -> u128 {
    (hi as u128) << 64 | lo as u128
}

#[inline(always)]
fn mix16(b: &[u8], at: usize, key: usize) -> u64 {
    fold64(
        r64(b, at) ^ r64(&SECRET, key),
        r64(b, at + 8) ^ r64(&SECRET, key + 8),
    )
}

/// Two 16-byte lanes into the two halves of the accumulator.
#[inline(always)]
fn mix32(acc: (u64, u64), b: &[u8], at1: usize, at2: usize, key: usize) -> (u64, u64) {
    let lo = acc.0.wrapping_add(mix16(b, at1, key)) ^ r64(b, at2).wrapping_add(r64(b, at2 + 8));
    let hi =
        acc.1.wrapping_add(mix16(b, at2, key + 16)) ^ r64(b, at1).wrapping_add(r64(b, at1 + 8));
    (lo, hi)
}

#[inline(always)]
fn finish_mid(acc: (u64, u64), len: u64) -> u128 {
    let lo = acc.0.wrapping_add(acc.1);
    let hi = acc
        .0
        .wrapping_mul(P64_1)
        .wrapping_add(acc.1.wrapping_mul(P64_4))
        .wrapping_add(len.wrapping_mul(P64_2));
    join(avalanche(lo), avalanche(hi).wrapping_neg())
}

/// Inputs of at most 240 bytes.
#[inline(always)]
fn short(b: &[u8]) -> u128 {
    let len = b.len();
    let n = len as u64;
    match len {
        0 => join(
            avalanche_xxh64(r64(&SECRET, 64) ^ r64(&SECRET, 72)),
            avalanche_xxh64(r64(&SECRET, 80) ^ r64(&SECRET, 88)),
        ),
        1..=3 => {
            let lo = (b[0] as u32) << 16 | (b[len >> 1] as u32) << 24 | b[len - 1] as u32;
            let lo = lo | (len as u32) << 8;
            let hi = lo.swap_bytes().rotate_left(13);
            join(
                avalanche_xxh64(lo as u64 ^ (r32(&SECRET, 0) ^ r32(&SECRET, 4))),
                avalanche_xxh64(hi as u64 ^ (r32(&SECRET, 8) ^ r32(&SECRET, 12))),
            )
        }
        4..=8 => {
            let v = r32(b, 0) | r32(b, len - 4) << 32;
            let keyed = v ^ (r64(&SECRET, 16) ^ r64(&SECRET, 24));
            let (mut lo, mut hi) = mul128(keyed, P64_1.wrapping_add(n << 2));
            hi = hi.wrapping_add(lo << 1);
            lo ^= hi >> 3;
            lo ^= lo >> 35;
            lo = lo.wrapping_mul(MX2);
            lo ^= lo >> 28;
            join(lo, avalanche(hi))
        }
        9..=16 => {
            let flip_lo = r64(&SECRET, 32) ^ r64(&SECRET, 40);
            let flip_hi = r64(&SECRET, 48) ^ r64(&SECRET, 56);
            let first = r64(b, 0);
            let mut last = r64(b, len - 8);
            let (mut lo, mut hi) = mul128(first ^ last ^ flip_lo, P64_1);
            lo = lo.wrapping_add((n - 1) << 54);
            last ^= flip_hi;
            hi = hi
                .wrapping_add(last)
                .wrapping_add((last & 0xFFFF_FFFF).wrapping_mul(P32_2 - 1));
            lo ^= hi.swap_bytes();
            let (rlo, rhi) = mul128(lo, P64_2);
            let rhi = rhi.wrapping_add(hi.wrapping_mul(P64_2));
            join(avalanche(rlo), avalanche(rhi))
        }
        17..=128 => {
            let mut acc = (n.wrapping_mul(P64_1), 0);
            if len > 32 {
                if len > 64 {
                    if len > 96 {
                        acc = mix32(acc, b, 48, len - 64, 96);
                    }
                    acc = mix32(acc, b, 32, len - 48, 64);
                }
                acc = mix32(acc, b, 16, len - 32, 32);
            }
            acc = mix32(acc, b, 0, len - 16, 0);
            finish_mid(acc, n)
        }
        _ => mid(b),
    }
}

/// 129 to 240 bytes.
#[inline(never)]
fn mid(b: &[u8]) -> u128 {
    let len = b.len();
    let n = len as u64;
    let rounds = len / 32;
    let mut acc = (n.wrapping_mul(P64_1), 0);
    for i in 0..4 {
        acc = mix32(acc, b, 32 * i, 32 * i + 16, 32 * i);
    }
    acc = (avalanche(acc.0), avalanche(acc.1));
    for i in 4..rounds {
        acc = mix32(acc, b, 32 * i, 32 * i + 16, 3 + 32 * (i - 4));
    }
    // The last 32 bytes, with the key 17 bytes before the minimum secret's end
    // and the seed negated (0 here).
    acc = mix32(acc, b, len - 16, len - 32, 136 - 17 - 16);
    finish_mid(acc, n)
}

/// The long loop: stripes of 64 bytes into 8 accumulators, a scramble after
/// each block of 16 stripes. `stripe_in_block` is where the next stripe
/// falls in its block, kept across calls when hashing in pieces.
mod kernel {
    use super::{SCRAMBLE_AT, SECRET, STRIPE, STRIPES_PER_BLOCK};
    use std::sync::atomic::{AtomicU8, Ordering};

    /// Hashes `data` (whole stripes) into `acc`.
    #[inline]
    pub fn consume(acc: &mut [u64; 8], stripe_in_block: &mut usize, data: &[u8]) {
        debug_assert!(data.len() % STRIPE == 0);
        #[cfg(target_arch = "x86_64")]
        if avx2() {
            // SAFETY: the CPU has AVX2 (checked at run time).
            unsafe { x86::consume(acc, stripe_in_block, data) };
            return;
        }
        portable(acc, stripe_in_block, data)
    }

    /// Does the CPU have AVX2? Asked once.
    #[inline(always)]
    fn avx2() -> bool {
        static HAS: AtomicU8 = AtomicU8::new(0);
        match HAS.load(Ordering::Relaxed) {
            1 => false,
            2 => true,
            _ => {
                #[cfg(target_arch = "x86_64")]
                let has = std::arch::is_x86_feature_detected!("avx2");
                #[cfg(not(target_arch = "x86_64"))]
                let has = false;
                HAS.store(if has { 2 } else { 1 }, Ordering::Relaxed);
                has
            }
        }
    }

    #[inline(always)]
    pub fn accumulate_stripe(acc: &mut [u64; 8], stripe: &[u8], key: usize) {
        for i in 0..8 {
            let v = super::r64(stripe, 8 * i);
            let k = v ^ super::r64(&SECRET, key + 8 * i);
            acc[i ^ 1] = acc[i ^ 1].wrapping_add(v);
            acc[i] = acc[i].wrapping_add((k & 0xFFFF_FFFF).wrapping_mul(k >> 32));
        }
    }

    #[inline(always)]
    fn scramble(acc: &mut [u64; 8]) {
        for (i, a) in acc.iter_mut().enumerate() {
            let k = super::r64(&SECRET, SCRAMBLE_AT + 8 * i);
            *a = (*a ^ (*a >> 47) ^ k).wrapping_mul(super::P32_1);
        }
    }

    pub(super) fn portable(acc: &mut [u64; 8], stripe_in_block: &mut usize, data: &[u8]) {
        let mut s = *stripe_in_block;
        for stripe in data.chunks_exact(STRIPE) {
            accumulate_stripe(acc, stripe, 8 * s);
            s += 1;
            if s == STRIPES_PER_BLOCK {
                scramble(acc);
                s = 0;
            }
        }
        *stripe_in_block = s;
    }

    #[cfg(target_arch = "x86_64")]
    pub(super) mod x86 {
        use super::{SCRAMBLE_AT, SECRET, STRIPE, STRIPES_PER_BLOCK};
        use std::arch::x86_64::*;

        /// # Safety
        /// The CPU must have AVX2.
        #[target_feature(enable = "avx2")]
        pub unsafe fn consume(acc: &mut [u64; 8], stripe_in_block: &mut usize, data: &[u8]) {
            let accp = acc.as_mut_ptr() as *mut __m256i;
            let mut a0 = _mm256_loadu_si256(accp);
            let mut a1 = _mm256_loadu_si256(accp.add(1));
            let secret = SECRET.as_ptr();
            let prime = _mm256_set1_epi32(super::super::P32_1 as i32);
            let mut s = *stripe_in_block;
            let mut p = data.as_ptr();
            let end = p.add(data.len() / STRIPE * STRIPE);
            while p < end {
                // Stripes left in this block, or in the data.
                let left = (end.offset_from(p) as usize) / STRIPE;
                let n = left.min(STRIPES_PER_BLOCK - s);
                for j in 0..n {
                    let key = secret.add(8 * (s + j)) as *const __m256i;
                    let d = p.add(STRIPE * j) as *const __m256i;
                    a0 = lane(a0, _mm256_loadu_si256(d), _mm256_loadu_si256(key));
                    a1 = lane(
                        a1,
                        _mm256_loadu_si256(d.add(1)),
                        _mm256_loadu_si256(key.add(1)),
                    );
                }
                p = p.add(STRIPE * n);
                s += n;
                if s == STRIPES_PER_BLOCK {
                    let key = secret.add(SCRAMBLE_AT) as *const __m256i;
                    a0 = mix(a0, _mm256_loadu_si256(key), prime);
                    a1 = mix(a1, _mm256_loadu_si256(key.add(1)), prime);
                    s = 0;
                }
            }
            _mm256_storeu_si256(accp, a0);
            _mm256_storeu_si256(accp.add(1), a1);
            *stripe_in_block = s;
        }

        /// Four accumulators take 32 bytes of a stripe: each gets the
        /// product of its keyed word's halves, and its neighbour's word.
        #[inline]
        #[target_feature(enable = "avx2")]
        unsafe fn lane(acc: __m256i, data: __m256i, key: __m256i) -> __m256i {
            let keyed = _mm256_xor_si256(data, key);
            let high = _mm256_srli_epi64::<32>(keyed);
            let product = _mm256_mul_epu32(keyed, high);
            let swapped = _mm256_shuffle_epi32::<0b01_00_11_10>(data);
            _mm256_add_epi64(product, _mm256_add_epi64(acc, swapped))
        }

        /// The scramble of four accumulators.
        #[inline]
        #[target_feature(enable = "avx2")]
        unsafe fn mix(acc: __m256i, key: __m256i, prime: __m256i) -> __m256i {
            let v = _mm256_xor_si256(acc, _mm256_srli_epi64::<47>(acc));
            let v = _mm256_xor_si256(v, key);
            let lo = _mm256_mul_epu32(v, prime);
            let hi = _mm256_mul_epu32(_mm256_srli_epi64::<32>(v), prime);
            _mm256_add_epi64(lo, _mm256_slli_epi64::<32>(hi))
        }
    }
}

/// The 128-bit digest from the accumulators of a long input.
fn finish_long(acc: &[u64; 8], len: u64) -> u128 {
    let merge = |key: usize, start: u64| {
        let mut r = start;
        for i in 0..4 {
            r = r.wrapping_add(fold64(
                acc[2 * i] ^ r64(&SECRET, key + 16 * i),
                acc[2 * i + 1] ^ r64(&SECRET, key + 16 * i + 8),
            ));
        }
        avalanche(r)
    };
    join(
        merge(11, len.wrapping_mul(P64_1)),
        merge(SECRET.len() - STRIPE - 11, !len.wrapping_mul(P64_2)),
    )
}

/// More than 240 bytes: every whole stripe that some byte follows, then the
/// last 64 bytes.
fn long(b: &[u8]) -> u128 {
    let mut acc = ACC_INIT;
    let stripes = (b.len() - 1) / STRIPE;
    kernel::consume(&mut acc, &mut 0, &b[..stripes * STRIPE]);
    kernel::accumulate_stripe(&mut acc, &b[b.len() - STRIPE..], LAST_STRIPE_AT);
    finish_long(&acc, b.len() as u64)
}

/// XXH3-128 of `b` (seed 0): the value `xxhash_rust::xxh3::xxh3_128` gives.
#[inline]
pub fn hash128(b: &[u8]) -> u128 {
    if b.len() <= SHORT_MAX {
        short(b)
    } else {
        long(b)
    }
}

/// Bytes kept back when hashing in pieces (a multiple of the stripe).
const BUF: usize = 256;

/// XXH3-128 of a content given in pieces: [`Xxh3::digest128`] equals
/// [`hash128`] of the pieces joined, however they are cut.
#[derive(Clone)]
pub struct Xxh3 {
    acc: [u64; 8],
    stripe_in_block: usize,
    total: u64,
    /// Bytes not hashed yet: a stripe is hashed only once some byte follows
    /// it (the last 64 bytes of the content are hashed differently).
    buf: [u8; BUF],
    buffered: usize,
    /// The 64 bytes before `buf`'s, for a last stripe that starts there.
    before: [u8; STRIPE],
}

impl Default for Xxh3 {
    fn default() -> Self {
        Self::new()
    }
}

impl Xxh3 {
    pub fn new() -> Self {
        Xxh3 {
            acc: ACC_INIT,
            stripe_in_block: 0,
            total: 0,
            buf: [0; BUF],
            buffered: 0,
            before: [0; STRIPE],
        }
    }

    pub fn update(&mut self, mut input: &[u8]) {
        self.total += input.len() as u64;
        if self.buffered + input.len() <= BUF {
            self.buf[self.buffered..self.buffered + input.len()].copy_from_slice(input);
            self.buffered += input.len();
            return;
        }
        // Bytes follow the buffer: its stripes can be hashed.
        if self.buffered > 0 {
            let fill = BUF - self.buffered;
            self.buf[self.buffered..].copy_from_slice(&input[..fill]);
            input = &input[fill..];
            kernel::consume(&mut self.acc, &mut self.stripe_in_block, &self.buf);
            self.before.copy_from_slice(&self.buf[BUF - STRIPE..]);
            self.buffered = 0;
        }
        // `input` is not empty here. Hash its stripes in place, all but the
        // last byte's, and keep the rest.
        if input.len() > BUF {
            let whole = (input.len() - 1) / STRIPE * STRIPE;
            kernel::consume(&mut self.acc, &mut self.stripe_in_block, &input[..whole]);
            self.before.copy_from_slice(&input[whole - STRIPE..whole]);
            input = &input[whole..];
        }
        self.buf[..input.len()].copy_from_slice(input);
        self.buffered = input.len();
    }

    pub fn digest128(&self) -> u128 {
        let rest = &self.buf[..self.buffered];
        if self.total <= SHORT_MAX as u64 {
            return short(rest);
        }
        let mut acc = self.acc;
        let mut s = self.stripe_in_block;
        // `rest` holds 1..=BUF bytes here.
        let stripes = (rest.len() - 1) / STRIPE;
        kernel::consume(&mut acc, &mut s, &rest[..stripes * STRIPE]);
        if rest.len() >= STRIPE {
            kernel::accumulate_stripe(&mut acc, &rest[rest.len() - STRIPE..], LAST_STRIPE_AT);
        } else {
            let mut last = [0u8; STRIPE];
            let from_before = STRIPE - rest.len();
            last[..from_before].copy_from_slice(&self.before[rest.len()..]);
            last[from_before..].copy_from_slice(rest);
            kernel::accumulate_stripe(&mut acc, &last, LAST_STRIPE_AT);
        }
        finish_long(&acc, self.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use xxhash_rust::xxh3::xxh3_128 as reference;

    /// Bytes that look random: a 64-bit LCG's high bytes.
    fn bytes(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x2545_F491_4F6C_DD1D) | 1;
        (0..len)
            .map(|_| {
                x = x
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (x >> 56) as u8
            })
            .collect()
    }

    fn streamed(b: &[u8], cuts: &[usize]) -> u128 {
        let mut h = Xxh3::new();
        let mut at = 0;
        for &c in cuts {
            let c = c.min(b.len()).max(at);
            h.update(&b[at..c]);
            at = c;
        }
        h.update(&b[at..]);
        h.digest128()
    }

    /// The portable loop, whatever the CPU has.
    fn portable_long(b: &[u8]) -> u128 {
        let mut acc = ACC_INIT;
        let stripes = (b.len() - 1) / STRIPE;
        kernel::portable(&mut acc, &mut 0, &b[..stripes * STRIPE]);
        kernel::accumulate_stripe(&mut acc, &b[b.len() - STRIPE..], LAST_STRIPE_AT);
        finish_long(&acc, b.len() as u64)
    }

    #[test]
    fn every_length_to_2048_matches_the_reference() {
        for seed in 0..3 {
            let data = bytes(2048, seed);
            for len in 0..=2048 {
                let b = &data[..len];
                let want = reference(b);
                assert_eq!(hash128(b), want, "len {len} seed {seed}");
                assert_eq!(streamed(b, &[]), want, "streamed len {len}");
                assert_eq!(streamed(b, &[len / 2]), want, "halves len {len}");
                if len > SHORT_MAX {
                    assert_eq!(portable_long(b), want, "portable len {len}");
                }
            }
        }
    }

    #[test]
    fn long_inputs_match_the_reference() {
        let data = bytes(5 << 20, 7);
        let mut lens = vec![4096, 65_536, 65_537, 262_143, 262_144, 1 << 20, 5 << 20];
        for k in 1..40usize {
            lens.push((k * k * 3_331 + k) % (5 << 20));
            lens.push(1024 * k);
            lens.push(1024 * k + 1);
            lens.push(1024 * k - 1);
        }
        for len in lens {
            let b = &data[..len];
            let want = reference(b);
            assert_eq!(hash128(b), want, "len {len}");
            if len > SHORT_MAX {
                assert_eq!(portable_long(b), want, "portable len {len}");
            }
            // The pipe's and the mapped reader's piece sizes.
            for piece in [
                1, 63, 64, 65, 255, 256, 257, 1000, 1024, 4096, 65_536, 262_144,
            ] {
                if len / piece > 20_000 {
                    continue;
                }
                let cuts: Vec<usize> = (1..=len / piece).map(|i| i * piece).collect();
                assert_eq!(streamed(b, &cuts), want, "len {len} piece {piece}");
            }
        }
    }

    #[test]
    fn every_single_and_double_cut_matches() {
        // Single cuts at every position, double cuts around the buffer and
        // the block edges.
        for len in [
            241, 255, 256, 257, 300, 511, 512, 513, 1023, 1024, 1025, 1100, 2049, 3000,
        ] {
            let data = bytes(len, len as u64);
            let want = reference(&data);
            for c in 0..=len {
                assert_eq!(streamed(&data, &[c]), want, "len {len} cut {c}");
            }
            let edges = [
                0, 1, 63, 64, 65, 127, 128, 191, 192, 193, 240, 241, 255, 256, 257, 320, 1023,
                1024, 1025,
            ];
            for &a in &edges {
                for &b in &edges {
                    for shift in [0, 7] {
                        let cuts = [a + shift, a + shift + b];
                        assert_eq!(streamed(&data, &cuts), want, "len {len} cuts {cuts:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn short_inputs_given_in_pieces_match() {
        let data = bytes(240, 3);
        for len in 0..=240 {
            let b = &data[..len];
            let want = reference(b);
            let cuts: Vec<usize> = (1..len).step_by(3).collect();
            assert_eq!(streamed(b, &cuts), want, "len {len}");
        }
    }

    #[test]
    fn dispatched_and_portable_loops_agree_in_pieces() {
        let data = bytes(300_000, 11);
        let mut a = ACC_INIT;
        let mut b = ACC_INIT;
        let (mut sa, mut sb) = (0, 0);
        for part in data[..299_968].chunks(64 * 37) {
            kernel::consume(&mut a, &mut sa, part);
            kernel::portable(&mut b, &mut sb, part);
            assert_eq!((a, sa), (b, sb));
        }
    }

    proptest! {
        #[test]
        fn any_content_cut_anyhow_matches_the_reference(
            data in prop::collection::vec(any::<u8>(), 0..6000),
            cuts in prop::collection::vec(0usize..6000, 0..8),
        ) {
            let want = reference(&data);
            prop_assert_eq!(hash128(&data), want);
            let mut cuts = cuts;
            cuts.sort_unstable();
            prop_assert_eq!(streamed(&data, &cuts), want);
        }
    }
}
