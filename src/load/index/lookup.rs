//! The merge's (directory, name) → node table: open addressing with linear
//! probing over slots of (key hash, node id). A probe reads one slot's
//! cache line (most keys that are not the one sought are told apart by
//! the hash kept in the slot, without reading a name), growing rehashes
//! from the slots alone, and the slot a key will need is known from its
//! hash, so the merge can ask for it ahead of the probe
//! ([`Lookup::prefetch`]): the table is far larger than the caches, and a
//! probe that waits for memory was the merge's largest cost.

/// The table. Node id 0 (the root, no one's child) marks an empty slot.
pub(super) struct Lookup {
    slots: Vec<[u32; 2]>,
    /// Occupied slots.
    len: usize,
    /// `64 - log2(slots.len())`: a hash's home slot is the top bits of its
    /// multiplicative mix.
    shift: u32,
}

/// Fewest slots (a power of two).
const MIN_SLOTS: usize = 1 << 10;

impl Lookup {
    pub(super) fn new() -> Lookup {
        Lookup {
            slots: empty_slots(MIN_SLOTS),
            len: 0,
            shift: 64 - MIN_SLOTS.trailing_zeros(),
        }
    }

    fn home(&self, h: u32) -> usize {
        ((h as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift) as usize
    }

    /// Hint that the key with hash `h` will be probed soon.
    #[inline]
    pub(super) fn prefetch(&self, h: u32) {
        #[cfg(target_arch = "x86_64")]
        {
            let p = self.slots.as_ptr().wrapping_add(self.home(h)) as *const i8;
            // SAFETY: a prefetch is only a hint: it reads nothing the
            // program sees and cannot fault (the slot is in bounds anyway).
            #[allow(unused_unsafe)]
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p)
            };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = h;
    }

    /// The node of hash `h` for which `is(node)` holds, else the empty
    /// slot where it would go.
    #[inline]
    fn probe(&self, h: u32, is: impl Fn(u32) -> bool) -> Result<u32, usize> {
        let mask = self.slots.len() - 1;
        let mut i = self.home(h);
        loop {
            let [sh, id] = self.slots[i];
            if id == 0 {
                return Err(i);
            }
            if sh == h && is(id) {
                return Ok(id);
            }
            i = (i + 1) & mask;
        }
    }

    pub(super) fn find(&self, h: u32, is: impl Fn(u32) -> bool) -> Option<u32> {
        self.probe(h, is).ok()
    }

    /// The node of hash `h` for which `is` holds, or `make()`'s, entered.
    #[inline]
    pub(super) fn find_or_insert(
        &mut self,
        h: u32,
        is: impl Fn(u32) -> bool,
        make: impl FnOnce() -> u32,
    ) -> (u32, bool) {
        match self.probe(h, is) {
            Ok(id) => (id, false),
            Err(mut slot) => {
                if (self.len + 1) * 8 > self.slots.len() * 5 {
                    self.reserve(1);
                    slot = self.probe(h, |_| false).unwrap_err();
                }
                let id = make();
                self.slots[slot] = [h, id];
                self.len += 1;
                (id, true)
            }
        }
    }

    /// Room for `more` keys without growing: at most 5/8 of the slots are
    /// occupied (linear probing stays short).
    pub(super) fn reserve(&mut self, more: usize) {
        let want = self.len.saturating_add(more);
        if want * 8 <= self.slots.len() * 5 {
            return;
        }
        let n = (want * 8).div_ceil(5).next_power_of_two().max(MIN_SLOTS);
        let old = std::mem::replace(&mut self.slots, empty_slots(n));
        self.shift = 64 - n.trailing_zeros();
        let mask = n - 1;
        for [h, id] in old {
            if id != 0 {
                let mut i = self.home(h);
                while self.slots[i][1] != 0 {
                    i = (i + 1) & mask;
                }
                self.slots[i] = [h, id];
            }
        }
    }
}

/// `n` empty slots, their pages made present and writable before anything
/// reads them. A zeroed allocation of this size is fresh mapped memory:
/// the rehash's (and the probes') first touch of a page would be a read,
/// which maps the shared zero page, and the write after it a copy-on-write
/// fault that flushes the TLB of every core running the process (an
/// inter-processor interrupt: a VM exit on a virtual machine). That was
/// ~10% of the load's CPU on 1M paths.
fn empty_slots(n: usize) -> Vec<[u32; 2]> {
    let mut slots = vec![[0u32, 0]; n];
    prefault(&mut slots);
    slots
}

/// Make the pages of `v`, which holds only `T::default()`, present and
/// writable: by one `MADV_POPULATE_WRITE` (Linux 5.14 and later; the
/// kernel faults each page in without a trap per page) where that works,
/// else by writing each page once ([`written_pages`]).
pub(super) fn prefault<T: Copy + Default>(v: &mut [T]) {
    // Small slices come from the allocator's heap, mostly present already.
    const MIN: usize = 64 << 10;
    if std::mem::size_of_val(v) < MIN || !populate_write(v) {
        written_pages(v);
    }
}

/// Room in `v` for `more` elements, the pages of the next `more` present
/// and writable when that is cheap (`MADV_POPULATE_WRITE`: one call
/// instead of a fault a page as they are pushed); nothing is written.
pub(super) fn populate<T>(v: &mut Vec<T>, more: usize) {
    const MIN: usize = 64 << 10;
    v.reserve(more);
    let spare = &mut v.spare_capacity_mut()[..more];
    if std::mem::size_of_val(spare) >= MIN {
        populate_write(spare);
    }
}

/// `MADV_POPULATE_WRITE` over the pages `v` lies on (every one of them
/// holds some of `v`'s bytes, so is mapped, and the advice changes no
/// byte): false when the kernel refuses it (older than 5.14: `EINVAL`).
#[cfg(target_os = "linux")]
fn populate_write<T>(v: &mut [T]) -> bool {
    const PAGE: usize = 4096;
    let start = v.as_mut_ptr() as usize;
    let end = start + std::mem::size_of_val(v);
    let from = start & !(PAGE - 1);
    let to = end.div_ceil(PAGE) * PAGE;
    // SAFETY: the range covers only pages that hold bytes of `v` (mapped,
    // writable: `v` is an exclusive slice); populating writes nothing.
    unsafe {
        libc::madvise(
            from as *mut libc::c_void,
            to - from,
            libc::MADV_POPULATE_WRITE,
        ) == 0
    }
}

#[cfg(not(target_os = "linux"))]
fn populate_write<T>(_: &mut [T]) -> bool {
    false
}

/// Write each page of `v`, which holds only `T::default()`, once (the
/// same value back, by volatile stores: the compiler would drop ordinary
/// ones to memory it knows is zeroed): one write fault a page, no zero
/// page, no copy-on-write.
fn written_pages<T: Copy + Default>(v: &mut [T]) {
    const PAGE: usize = 4096;
    let step = (PAGE / std::mem::size_of::<T>().max(1)).max(1);
    for x in v.iter_mut().step_by(step) {
        // SAFETY: `x` is a valid, aligned, exclusive reference into `v`;
        // the value written is the one it holds (`v` is all defaults).
        unsafe { std::ptr::write_volatile(x, T::default()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_was_entered_through_growth_and_collisions() {
        let mut t = Lookup::new();
        // Keys with equal hashes (collisions) and many more than the
        // first table holds.
        let key = |k: u32| k % 1000;
        for k in 1..5000u32 {
            let (id, new) = t.find_or_insert(key(k), |id| id == k, || k);
            assert!(new && id == k);
            if k % 7 == 0 {
                t.reserve(100);
            }
        }
        for k in 1..5000u32 {
            t.prefetch(key(k));
            assert_eq!(t.find(key(k), |id| id == k), Some(k));
            assert_eq!(t.find_or_insert(key(k), |id| id == k, || 0), (k, false));
        }
        assert_eq!(t.find(7, |id| id == 9_999), None);
        assert_eq!(t.len, 4999);
    }
}
