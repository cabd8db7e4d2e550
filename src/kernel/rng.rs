//! Xoshiro256++ in several lanes side by side, so the compiler can keep them in SIMD
//! registers.
//!
//! Why this generator: xoshiro256++ passes BigCrush and PractRand, has a period of
//! 2^256 − 1, and offers `jump` (2^128 steps) and `long_jump` (2^192 steps) so that every
//! worker and every lane gets its own non-overlapping stream from one seed — the standard way
//! to give parallel workers independent streams. The lanes here produce exactly the numbers of
//! `rand_xoshiro::Xoshiro256PlusPlus` (the rand project's implementation) from the same states;
//! the tests check that.

/// Number of generators advanced together.
pub const LANES: usize = 16;

const JUMP: [u64; 4] = [
    0x180e_c6d3_3cfd_0aba,
    0xd5a6_1266_f0c9_392c,
    0xa958_2618_e03f_c9aa,
    0x39ab_dc45_29b1_661c,
];
const LONG_JUMP: [u64; 4] = [
    0x76e1_5d3e_fefd_cbbf,
    0xc500_4e44_1c52_2fb3,
    0x7771_0069_854e_e241,
    0x3910_9bb0_2acb_e635,
];

/// One xoshiro256++ state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Xoshiro256pp {
    s: [u64; 4],
}

impl Xoshiro256pp {
    /// Seeds from a `u64` the way `rand_xoshiro` does: four outputs of SplitMix64.
    pub fn seed_from_u64(seed: u64) -> Self {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let s = [next(), next(), next(), next()];
        // An all-zero state never leaves zero; SplitMix64 cannot produce four zeros in a row,
        // but keep the guard the reference implementation has.
        if s == [0; 4] {
            return Self { s: [1, 0, 0, 0] };
        }
        Self { s }
    }

    /// The next number.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let out = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        out
    }

    fn apply(&mut self, poly: &[u64; 4]) {
        let mut acc = [0u64; 4];
        for word in poly {
            for b in 0..64 {
                if word & (1u64 << b) != 0 {
                    for (a, s) in acc.iter_mut().zip(self.s) {
                        *a ^= s;
                    }
                }
                self.next_u64();
            }
        }
        self.s = acc;
    }

    /// Advances 2^128 steps: the start of the next lane's stream.
    pub fn jump(&mut self) {
        self.apply(&JUMP);
    }

    /// Advances 2^192 steps: the start of the next worker's stream.
    pub fn long_jump(&mut self) {
        self.apply(&LONG_JUMP);
    }

    /// The stream of worker `worker` for `seed`: the seed's stream, long-jumped `worker` times.
    pub fn for_worker(seed: u64, worker: usize) -> Self {
        let mut g = Self::seed_from_u64(seed);
        for _ in 0..worker {
            g.long_jump();
        }
        g
    }
}

/// [`LANES`] generators in struct-of-arrays layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lanes {
    s0: [u64; LANES],
    s1: [u64; LANES],
    s2: [u64; LANES],
    s3: [u64; LANES],
}

impl Lanes {
    /// Lane `j` starts at `base` jumped `j` times, so lanes never overlap.
    pub fn new(mut base: Xoshiro256pp) -> Self {
        let mut l = Self {
            s0: [0; LANES],
            s1: [0; LANES],
            s2: [0; LANES],
            s3: [0; LANES],
        };
        for j in 0..LANES {
            l.s0[j] = base.s[0];
            l.s1[j] = base.s[1];
            l.s2[j] = base.s[2];
            l.s3[j] = base.s[3];
            base.jump();
        }
        l
    }

    /// One number from every lane.
    #[inline(always)]
    pub fn next_block(&mut self) -> [u64; LANES] {
        self.next_group::<LANES>(0)
    }

    /// One number from each lane of group `g` of `G` lanes (lanes `g·G .. (g+1)·G`): the
    /// other lanes stay where they are. A loop over one group keeps its state in vector
    /// registers where all lanes would not fit (16 lanes need 16 AVX2 registers for the
    /// state alone, all there are).
    #[inline(always)]
    // Indexing all five arrays by lane keeps the struct-of-arrays shape the vectorizer needs.
    #[allow(clippy::needless_range_loop)]
    pub fn next_group<const G: usize>(&mut self, g: usize) -> [u64; G] {
        const { assert!(G > 0 && LANES.is_multiple_of(G)) };
        let mut out = [0u64; G];
        let base = g * G;
        for (j, o) in out.iter_mut().enumerate() {
            let k = base + j;
            let (s0, s1, s2, s3) = (self.s0[k], self.s1[k], self.s2[k], self.s3[k]);
            *o = s0.wrapping_add(s3).rotate_left(23).wrapping_add(s0);
            let t = s1 << 17;
            let s2 = s2 ^ s0;
            let s3 = s3 ^ s1;
            let s1 = s1 ^ s2;
            let s0 = s0 ^ s3;
            self.s0[k] = s0;
            self.s1[k] = s1;
            self.s2[k] = s2 ^ t;
            self.s3[k] = s3.rotate_left(45);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn matches_the_reference_implementation() {
        for seed in [0, 1, 42, u64::MAX] {
            let mut ours = Xoshiro256pp::seed_from_u64(seed);
            let mut reference = Xoshiro256PlusPlus::seed_from_u64(seed);
            for _ in 0..1000 {
                assert_eq!(ours.next_u64(), reference.next_u64());
            }
            ours.jump();
            reference.jump();
            for _ in 0..100 {
                assert_eq!(ours.next_u64(), reference.next_u64());
            }
            ours.long_jump();
            reference.long_jump();
            for _ in 0..100 {
                assert_eq!(ours.next_u64(), reference.next_u64());
            }
        }
    }

    #[test]
    fn groups_step_their_lanes_as_blocks_do() {
        let mut blocks = Lanes::new(Xoshiro256pp::for_worker(9, 1));
        let mut groups = blocks.clone();
        for _ in 0..20 {
            let want = blocks.next_block();
            let mut got = Vec::new();
            for g in 0..LANES / 4 {
                got.extend(groups.next_group::<4>(g));
            }
            assert_eq!(got, want);
        }
        assert_eq!(groups, blocks);
    }

    #[test]
    fn lanes_are_jumped_streams() {
        let base = Xoshiro256pp::for_worker(7, 3);
        let mut lanes = Lanes::new(base);
        let mut reference: Vec<Xoshiro256PlusPlus> = (0..LANES)
            .map(|j| {
                let mut r = Xoshiro256PlusPlus::seed_from_u64(7);
                for _ in 0..3 {
                    r.long_jump();
                }
                for _ in 0..j {
                    r.jump();
                }
                r
            })
            .collect();
        for _ in 0..50 {
            let got = lanes.next_block();
            for j in 0..LANES {
                assert_eq!(got[j], reference[j].next_u64());
            }
        }
    }
}
