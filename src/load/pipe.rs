//! Decompress a layer on one thread while its tar is parsed and its files
//! hashed on another (issue 14: a dominant compressed layer otherwise keeps
//! one core busy and leaves the other idle).
//!
//! The decoder thread reads the decompressed stream in chunks and hands
//! them over a bounded channel (a few MiB in flight per layer); chunks come
//! back to it for reuse, so no page is faulted in per chunk. It reports a
//! read error in order, after the bytes it read before it, so the parser
//! sees exactly what a single-threaded reader would have seen.

use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

/// Bytes per chunk handed over.
const CHUNK: usize = 256 * 1024;
/// Bytes asked of the decoder per read: the decoder drops what it decoded
/// in a read that fails, so this fixes where a corrupt stream's good bytes
/// end (and which file its error names), whatever the chunk size.
pub(super) const READ: usize = 256 * 1024;
/// Chunks in flight.
const DEPTH: usize = 8;

/// The parser's end of the pipe.
pub(super) struct PipeReader {
    rx: Receiver<io::Result<Vec<u8>>>,
    back: SyncSender<Vec<u8>>,
    cur: Vec<u8>,
    pos: usize,
}

impl Read for PipeReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        read_buffered(self, out)
    }
}

/// `Read::read` of a reader that keeps its own buffer.
fn read_buffered(r: &mut impl BufRead, out: &mut [u8]) -> io::Result<usize> {
    let b = r.fill_buf()?;
    let n = out.len().min(b.len());
    out[..n].copy_from_slice(&b[..n]);
    r.consume(n);
    Ok(n)
}

/// The chunks as they came: a reader of the pipe may take the bytes where
/// they are (the tar indexer hashes file contents in place).
impl BufRead for PipeReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos == self.cur.len() {
            match self.rx.recv() {
                Ok(Ok(chunk)) => {
                    let used = std::mem::replace(&mut self.cur, chunk);
                    let _ = self.back.try_send(used);
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                // The decoder ended: end of stream.
                Err(_) => return Ok(&[]),
            }
        }
        Ok(&self.cur[self.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.cur.len());
    }
}

/// The producer's end of the pipe: empty chunks to fill (recycled from
/// the reader) and the channel to send them on.
pub(super) struct Feeder {
    tx: SyncSender<io::Result<Vec<u8>>>,
    spare: Receiver<Vec<u8>>,
}

impl Feeder {
    /// A chunk of `CHUNK` bytes to fill (its old contents are garbage).
    pub(super) fn chunk(&self) -> Vec<u8> {
        let mut buf = self.spare.try_recv().unwrap_or_default();
        buf.resize(CHUNK, 0);
        buf
    }

    /// Hand `bytes` over; false once the reader has hung up.
    pub(super) fn send(&self, bytes: io::Result<Vec<u8>>) -> bool {
        self.tx.send(bytes).is_ok()
    }
}

/// A pipe: what the [`Feeder`] sends, the [`PipeReader`] reads, in order.
pub(super) fn channel() -> (Feeder, PipeReader) {
    let (tx, rx) = sync_channel::<io::Result<Vec<u8>>>(DEPTH);
    let (back, spare) = sync_channel::<Vec<u8>>(DEPTH + 2);
    (
        Feeder { tx, spare },
        PipeReader {
            rx,
            back,
            cur: Vec::new(),
            pos: 0,
        },
    )
}

/// Fill `buf` from `r` as far as it goes; the bytes read before an error
/// come with it.
/// Each read stops at a multiple of [`READ`].
fn fill(r: &mut impl Read, buf: &mut [u8]) -> (usize, Option<io::Error>) {
    let mut n = 0;
    while n < buf.len() {
        let end = ((n / READ + 1) * READ).min(buf.len());
        match r.read(&mut buf[n..end]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (n, Some(e)),
        }
    }
    (n, None)
}

/// A reader over `R` on this thread that reads it exactly as the pipe's
/// decoder thread does (chunks of [`READ`] bytes, an error after the bytes
/// read before it, then the end): the same bytes and the same error.
pub(super) struct Inline<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    err: Option<io::Error>,
    ended: bool,
}

impl<R: Read> Inline<R> {
    pub(super) fn new(inner: R) -> Self {
        Inline {
            inner,
            buf: Vec::new(),
            pos: 0,
            err: None,
            ended: false,
        }
    }

    /// The reader, and the error it met that was not read yet.
    pub(super) fn into_parts(self) -> (R, Option<io::Error>) {
        (self.inner, self.err)
    }
}

impl<R: Read> Read for Inline<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        read_buffered(self, out)
    }
}

impl<R: Read> BufRead for Inline<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos == self.buf.len() {
            if let Some(e) = self.err.take() {
                self.ended = true;
                return Err(e);
            }
            if self.ended {
                return Ok(&[]);
            }
            self.buf.resize(READ, 0);
            let (n, err) = fill(&mut self.inner, &mut self.buf);
            self.buf.truncate(n);
            self.pos = 0;
            self.err = err;
            self.ended = n == 0 && self.err.is_none();
        }
        Ok(&self.buf[self.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.buf.len());
    }
}

/// Run `parse` on the bytes `dec` yields, `dec` being read on its own
/// thread. When `parse` succeeds and `want_finish` is set, the decoder
/// thread goes on to `finish(dec)` (reading what the parser left, for the
/// digests) and its result comes back; a read error met after the parser
/// stopped comes back there too. When `parse` fails, the decoder thread
/// stops at its next chunk.
pub(super) fn run<D, T, E, F>(
    dec: D,
    want_finish: bool,
    parse: impl FnOnce(&mut PipeReader) -> Result<T, E>,
    finish: impl FnOnce(D) -> io::Result<F> + Send,
) -> (Result<T, E>, Option<io::Result<F>>)
where
    D: Read + Send,
    F: Send,
{
    let failed = AtomicBool::new(false);
    let (feeder, mut reader) = channel();
    std::thread::scope(|scope| {
        let failed = &failed;
        let decoder = scope.spawn(move || -> Option<io::Result<F>> {
            let mut dec = dec;
            loop {
                let mut buf = feeder.chunk();
                let (n, err) = fill(&mut dec, &mut buf);
                buf.truncate(n);
                let taken = n == 0 || feeder.send(Ok(buf));
                if let Some(e) = err {
                    // Also kept for the caller: the parser may have
                    // finished before this point.
                    let again = io::Error::new(e.kind(), e.to_string());
                    feeder.send(Err(e));
                    return Some(Err(again));
                }
                // End of stream, or the parser is done (at the tar's end,
                // or with an error).
                if n == 0 || !taken {
                    break;
                }
            }
            drop(feeder);
            (want_finish && !failed.load(Ordering::Acquire)).then(|| finish(dec))
        });
        let out = parse(&mut reader);
        if out.is_err() {
            failed.store(true, Ordering::Release);
        }
        // Hanging up lets the decoder's next send fail.
        drop(reader);
        let tail = decoder
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (out, if want_finish { tail } else { None })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `good` bytes (i mod 251), then an error (when `fail`), else the end.
    struct Source {
        good: usize,
        at: usize,
        fail: bool,
    }

    impl Read for Source {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.at == self.good {
                return if self.fail {
                    Err(io::Error::new(io::ErrorKind::InvalidData, "bad block"))
                } else {
                    Ok(0)
                };
            }
            let n = out.len().min(self.good - self.at).min(1000);
            for (i, b) in out[..n].iter_mut().enumerate() {
                *b = ((self.at + i) % 251) as u8;
            }
            self.at += n;
            Ok(n)
        }
    }

    fn src(good: usize, fail: bool) -> Source {
        Source { good, at: 0, fail }
    }

    fn expected(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn the_parser_reads_every_byte_then_the_error_in_order() {
        let n = 3 * CHUNK + 12_345;
        let (out, tail) = run(
            src(n, true),
            true,
            |r| {
                let mut got = Vec::new();
                let e = r.read_to_end(&mut got).unwrap_err();
                Ok::<_, ()>((got, e.to_string()))
            },
            |_| Ok(()),
        );
        let (got, e) = out.unwrap();
        assert_eq!(got, expected(n));
        assert_eq!(e, "bad block");
        // The decoder reports the error to the caller too.
        assert_eq!(tail.unwrap().unwrap_err().to_string(), "bad block");
    }

    #[test]
    fn finish_runs_after_a_parser_that_stopped_early() {
        let n = 20 * CHUNK;
        let (out, tail) = run(
            src(n, false),
            true,
            |r| {
                let mut head = [0u8; 100];
                r.read_exact(&mut head).map(|_| head.to_vec())
            },
            |mut rest| {
                // What the parser did not take is still there to read.
                let mut v = Vec::new();
                rest.read_to_end(&mut v)?;
                Ok(rest.at)
            },
        );
        assert_eq!(out.unwrap(), expected(100));
        assert_eq!(tail.unwrap().unwrap(), n);
        // Not wanted: no finish, and an error past the parser's stop is
        // not reported.
        let (out, tail) = run(
            src(20 * CHUNK, true),
            false,
            |r| r.read_exact(&mut [0u8; 10]),
            |_| -> io::Result<()> { panic!("finish not wanted") },
        );
        assert!(out.is_ok() && tail.is_none());
    }

    #[test]
    fn a_failed_parse_stops_the_decoder() {
        let (out, tail) = run(
            src(usize::MAX / 2, false),
            true,
            |r| {
                r.read_exact(&mut [0u8; 10])?;
                Err::<(), _>(io::Error::other("limit"))
            },
            |_| -> io::Result<()> { panic!("no finish after a failed parse") },
        );
        assert_eq!(out.unwrap_err().to_string(), "limit");
        assert!(tail.is_none());
    }

    /// Like a zstd decoder: a read that would go past `good` fails whole,
    /// dropping the bytes it decoded.
    struct Dropping {
        good: usize,
        at: usize,
    }

    impl Read for Dropping {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.at + out.len() > self.good {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "corrupt"));
            }
            for (i, b) in out.iter_mut().enumerate() {
                *b = ((self.at + i) % 251) as u8;
            }
            self.at += out.len();
            Ok(out.len())
        }
    }

    #[test]
    fn inline_reads_what_the_pipe_reads() {
        let good = 5 * READ + 777;
        let read_all = |r: &mut dyn BufRead| {
            let mut got = Vec::new();
            let e = r.read_to_end(&mut got).unwrap_err();
            let mut more = Vec::new();
            // After the error: the end.
            assert_eq!(r.read_to_end(&mut more).unwrap(), 0);
            Ok::<_, ()>((got, e.to_string()))
        };
        let (piped, _) = run(Dropping { good, at: 0 }, false, |r| read_all(r), |_| Ok(()));
        let mut inline = Inline::new(Dropping { good, at: 0 });
        let direct = read_all(&mut inline).unwrap();
        assert_eq!(piped.unwrap(), direct);
        // Whole READ-byte reads: the good bytes end at a READ boundary.
        assert_eq!(direct, (expected(5 * READ), "corrupt".to_string()));
        // A parser that stops early leaves the rest (and the error) to the
        // caller.
        let mut inline = Inline::new(Dropping { good, at: 0 });
        inline.read_exact(&mut [0u8; 10]).unwrap();
        let (rest, err) = inline.into_parts();
        assert!(err.is_none() && rest.at == READ);
    }
}
