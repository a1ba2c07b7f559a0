//! A reader that counts the bytes read through it: for progress bars, and
//! to tell whether anything came through an engine's pipe.

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::layer::Progress;

/// Where a [`Counted`] reader adds what it read.
pub trait Tally {
    fn add(&self, n: u64);
}

impl Tally for Arc<AtomicU64> {
    fn add(&self, n: u64) {
        self.fetch_add(n, Ordering::Relaxed);
    }
}

/// A layer's (or the archive's) progress: its bytes read.
impl Tally for Arc<Progress> {
    fn add(&self, n: u64) {
        self.read.fetch_add(n, Ordering::Relaxed);
    }
}

impl<T: Tally> Tally for Option<T> {
    fn add(&self, n: u64) {
        if let Some(t) = self {
            t.add(n);
        }
    }
}

/// `inner`, with every byte read through it added to `tally`.
pub struct Counted<R, T> {
    pub inner: R,
    pub tally: T,
}

impl<R: Read, T: Tally> Read for Counted<R, T> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.tally.add(n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_is_read() {
        let n = Arc::new(AtomicU64::new(0));
        let mut r = Counted {
            inner: &b"hello world"[..],
            tally: n.clone(),
        };
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        assert_eq!(n.load(Ordering::Relaxed), 11);
    }
}
