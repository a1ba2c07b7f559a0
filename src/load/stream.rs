//! An archive read as a stream (standard input, an engine's pipe, a file
//! compressed as a whole): one pass over its members, small metadata kept in
//! memory, each layer blob indexed on its own thread as it goes by.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

use super::source::{member_head, read_up_to, Source, MAX_METADATA, MAX_METADATA_TOTAL};
use crate::error::{Error, Location, Result};
use crate::load::layer::{self, Compression, LayerIndex, Progress};

fn looks_like_layer(head: &[u8]) -> bool {
    Compression::detect(head) != Compression::None
        || (head.len() >= 262 && &head[257..262] == b"ustar")
        || layer::v7_header_ok(head)
}

/// A read error of an archive compressed as `outer`: truncated or corrupt.
pub(super) fn archive_error(outer: Compression, loc: &Location, e: std::io::Error) -> Error {
    let what = match outer {
        Compression::Gzip => "gzip-compressed archive",
        Compression::Zstd => "zstd-compressed archive",
        Compression::None => "archive",
    };
    let msg = if e.kind() == std::io::ErrorKind::UnexpectedEof
        || e.to_string().contains("entire block")
    {
        format!("truncated {what} ({e})")
    } else {
        format!("corrupt {what} ({e})")
    };
    Error::format(loc.clone(), msg)
}

pub(super) fn stream_members(
    reader: Box<dyn Read + Send + '_>,
    outer: Compression,
    loc: &Location,
    verify: bool,
) -> Result<Source> {
    let mut archive = tar::Archive::new(super::guard::TarGuard::new(reader));
    let mut small = HashMap::new();
    let mut links = HashMap::new();
    let mut blobs: HashMap<String, (u64, Result<LayerIndex>)> = HashMap::new();
    let err = |e: std::io::Error| archive_error(outer, loc, e);
    std::thread::scope(|scope| -> Result<()> {
        let mut handles = Vec::new();
        let entries = archive.entries().map_err(err)?;
        let mut count = 0;
        let mut kept = 0u64;
        for item in entries {
            let mut entry = item.map_err(err)?;
            let (name, link) = member_head(&entry, &mut count, loc)?;
            if let Some(link) = link {
                links.insert(name, link);
                continue;
            }
            let etype = entry.header().entry_type();
            if !etype.is_file() {
                continue;
            }
            let size = entry.size();
            let mut head = vec![0u8; 512.min(size as usize)];
            let n = read_up_to(&mut entry, &mut head).map_err(err)?;
            head.truncate(n);
            if (n as u64) < head.capacity() as u64 && (n as u64) < size {
                return Err(Error::format(loc.member(name), "truncated archive"));
            }
            if looks_like_layer(&head) {
                // Indexed on a thread of its own, fed through a pipe
                // (load::pipe: recycled chunks).
                let (feeder, r) = super::pipe::channel();
                let lloc = loc.member(name.clone());
                let h = scope.spawn(move || {
                    layer::index_layer(r, &lloc, Arc::new(Progress::default()), verify)
                });
                let mut open = feeder.send(Ok(head));
                let mut got = n as u64;
                loop {
                    let mut chunk = feeder.chunk();
                    let k = read_up_to(&mut entry, &mut chunk).map_err(err)?;
                    if k == 0 {
                        break;
                    }
                    got += k as u64;
                    chunk.truncate(k);
                    // Once the indexer stopped early (an error), the rest is
                    // read and dropped.
                    open = open && feeder.send(Ok(chunk));
                }
                drop(feeder);
                if got < size {
                    return Err(Error::format(loc.member(name), "truncated archive"));
                }
                handles.push((name, size, h));
            } else {
                if size > MAX_METADATA {
                    // Neither metadata nor a layer: skip it.
                    continue;
                }
                kept += size;
                if kept > MAX_METADATA_TOTAL {
                    return Err(Error::format(
                        loc.clone(),
                        format!(
                            "more than {MAX_METADATA_TOTAL} bytes of metadata files in the archive"
                        ),
                    ));
                }
                let mut v = head;
                entry.read_to_end(&mut v).map_err(err)?;
                if (v.len() as u64) < size {
                    return Err(Error::format(loc.member(name), "truncated archive"));
                }
                small.insert(name, v);
            }
        }
        if count == 0 {
            return Err(Error::format(
                loc.clone(),
                "not an image archive: empty or not a tar file",
            ));
        }
        for (name, size, h) in handles {
            let r = h.join().unwrap_or_else(|_| {
                Err(Error::format(
                    loc.member(name.clone()),
                    "indexer thread panicked",
                ))
            });
            blobs.insert(name, (size, r));
        }
        Ok(())
    })?;
    Ok(Source::Stream {
        small,
        blobs,
        links,
    })
}
