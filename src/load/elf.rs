//! What an ELF file tells, read while its bytes stream past once.
//!
//! A layer is read once, front to back, and never held in memory, so an ELF
//! file cannot be parsed from a slice. Instead [`ElfScan`] keeps bounded
//! windows of it: a prefix (headers, program headers, `.interp`, usually
//! `.dynstr`), a suffix (section headers and their names, which linkers put
//! last), and ranges it learns it needs as the stream goes (the section
//! table wherever `e_shoff` says, `PT_DYNAMIC`, the dynamic string table, Go's
//! build info). The `object` crate parses those windows through a sparse
//! [`ReadRef`]; a range that streamed past before it was known is simply
//! missing, and the fact that needed it stays unknown.
//!
//! (Past 600 lines with its unit tests: the scanner's windows and the facts
//! read through them share one private sparse reader; the code alone is
//! under 660 lines and splits no further without exposing it.)

use std::ops::Range;

use object::elf;
use object::read::elf::{Dyn, FileHeader, ProgramHeader, SectionHeader};
use object::{Endianness, ReadRef};
use serde::{Deserialize, Serialize};

/// Bytes kept from the start of every ELF file.
const PREFIX: u64 = 512 * 1024;
/// Bytes kept from its end.
const SUFFIX: u64 = 64 * 1024;
/// Largest section header table, dynamic section or dynamic string table kept.
const TABLE: u64 = 1024 * 1024;
/// Bytes kept after Go's build-info magic.
const GO_WINDOW: u64 = 64 * 1024;
/// The most bytes [`ElfScan::feed`] takes in one step.
const STEP: usize = 64 * 1024;
const GO_MAGIC: &[u8] = b"\xff Go buildinf:";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ElfKind {
    Executable,
    SharedLibrary,
    /// Relocatable objects, core files and the like.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Linkage {
    /// No interpreter and no dynamic section.
    Static,
    /// Position-independent, relocates itself, needs no loader.
    StaticPie,
    Dynamic,
}

/// A Go binary's embedded build information.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoBuild {
    /// `go1.22.1`.
    pub go_version: String,
    /// The main module's path (`path` line, else `mod`).
    pub path: String,
    /// The main module's version (`(devel)` when built from a work tree).
    pub version: String,
}

/// The facts kept of one ELF file (a few hundred bytes at most).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElfFacts {
    pub class64: bool,
    pub machine: u16,
    pub kind: ElfKind,
    pub linkage: Linkage,
    /// `PT_INTERP`, the loader the kernel runs.
    pub interp: Option<Box<[u8]>>,
    /// `DT_NEEDED` names, in order; `None` when the dynamic string table
    /// streamed past before it was known.
    pub needed: Option<Vec<Box<[u8]>>>,
    /// `DT_RUNPATH` and `DT_RPATH` directories.
    pub runpath: Vec<Box<[u8]>>,
    pub soname: Option<Box<[u8]>>,
    /// Bytes `strip` would remove (symbol tables, debug sections and their
    /// headers); `None` when the section table could not be read.
    pub strippable: Option<u64>,
    pub upx: bool,
    pub go: Option<GoBuild>,
}

/// One window of the file: `buf` holds the bytes captured from `start` on.
#[derive(Debug)]
struct Window {
    start: u64,
    end: u64,
    buf: Vec<u8>,
}

/// The captured windows, readable by `object` as if they were the file.
#[derive(Debug, Default)]
pub struct Sparse {
    size: u64,
    windows: Vec<Window>,
}

impl Sparse {
    fn slice(&self, offset: u64, size: u64) -> Option<&[u8]> {
        let end = offset.checked_add(size)?;
        self.windows.iter().find_map(|w| {
            (w.start <= offset && end <= w.start + w.buf.len() as u64)
                .then(|| &w.buf[(offset - w.start) as usize..(end - w.start) as usize])
        })
    }

    fn have(&self, r: &Range<u64>) -> bool {
        self.slice(r.start, r.end - r.start).is_some()
    }
}

impl<'a> ReadRef<'a> for &'a Sparse {
    fn len(self) -> Result<u64, ()> {
        Ok(self.size)
    }

    fn read_bytes_at(self, offset: u64, size: u64) -> Result<&'a [u8], ()> {
        self.slice(offset, size).ok_or(())
    }

    fn read_bytes_at_until(self, range: Range<u64>, delimiter: u8) -> Result<&'a [u8], ()> {
        let w = self
            .windows
            .iter()
            .find(|w| w.start <= range.start && range.start < w.start + w.buf.len() as u64)
            .ok_or(())?;
        let from = (range.start - w.start) as usize;
        let to = (range.end.min(w.start + w.buf.len() as u64) - w.start) as usize;
        let bytes = w.buf.get(from..to).ok_or(())?;
        let n = memchr::memchr(delimiter, bytes).ok_or(())?;
        Ok(&bytes[..n])
    }
}

/// Where the scan stands: each stage waits for the ranges it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Header,
    ProgramHeaders,
    Dynamic,
    Done,
}

/// A streaming scan of one file that may be ELF.
#[derive(Debug)]
pub struct ElfScan {
    data: Sparse,
    pos: u64,
    stage: Stage,
    /// `Some` once the file is known to be Go: the last bytes of the
    /// previous chunk, for a magic split across chunks.
    go_tail: Option<Vec<u8>>,
    go_found: bool,
    not_elf: bool,
}

impl ElfScan {
    /// A scan of a regular file of `size` bytes, or `None` when too small to
    /// be ELF.
    pub fn new(size: u64) -> Option<ElfScan> {
        if size < 52 {
            return None;
        }
        let mut windows = vec![Window {
            start: 0,
            end: size.min(PREFIX),
            buf: Vec::new(),
        }];
        if size > PREFIX {
            windows.push(Window {
                start: size.saturating_sub(SUFFIX).max(PREFIX),
                end: size,
                buf: Vec::new(),
            });
        }
        Some(ElfScan {
            data: Sparse { size, windows },
            pos: 0,
            stage: Stage::Header,
            go_tail: None,
            go_found: false,
            not_elf: false,
        })
    }

    /// False once the first bytes showed this is not an ELF file: feeding
    /// it more is a no-op.
    pub fn wants_more(&self) -> bool {
        !self.not_elf
    }

    /// The next chunk of the file, of any length: it is scanned in pieces of
    /// at most [`STEP`] bytes, so that a table the headers point to further
    /// on is still ahead when they are read, also when the caller hands over
    /// the whole file at once (a mapped archive).
    pub fn feed(&mut self, chunk: &[u8]) {
        for piece in chunk.chunks(STEP) {
            self.feed_piece(piece);
        }
    }

    fn feed_piece(&mut self, chunk: &[u8]) {
        if self.not_elf || chunk.is_empty() {
            return;
        }
        if self.pos == 0 && !chunk.starts_with(b"\x7fELF") {
            self.not_elf = true;
            self.data.windows = Vec::new();
            return;
        }
        let pos = self.pos;
        let end = pos + chunk.len() as u64;
        if let Some(tail) = self.go_tail.take() {
            self.search_go(tail, chunk, pos);
        }
        for w in &mut self.data.windows {
            let at = w.start + w.buf.len() as u64;
            if at >= w.end || at < pos || at >= end {
                continue;
            }
            let take = (w.end.min(end) - at) as usize;
            let from = (at - pos) as usize;
            if w.buf.capacity() == 0 {
                w.buf.reserve_exact((w.end - w.start) as usize);
            }
            w.buf.extend_from_slice(&chunk[from..from + take]);
        }
        self.pos = end;
        self.discover();
    }

    /// Look for Go's build-info magic in `tail ++ chunk` (`chunk` starts at
    /// file offset `pos`), and keep a window after it once found.
    fn search_go(&mut self, tail: Vec<u8>, chunk: &[u8], pos: u64) {
        if self.go_found {
            return;
        }
        let joined_start = pos - tail.len() as u64;
        let across = if tail.is_empty() {
            None
        } else {
            let mut j = tail.clone();
            j.extend_from_slice(&chunk[..chunk.len().min(GO_MAGIC.len())]);
            memchr::memmem::find(&j, GO_MAGIC).map(|i| joined_start + i as u64)
        };
        let found =
            across.or_else(|| memchr::memmem::find(chunk, GO_MAGIC).map(|i| pos + i as u64));
        if let Some(at) = found {
            self.go_found = true;
            let mut buf = Vec::new();
            if at < pos {
                buf.extend_from_slice(&tail[(at - joined_start) as usize..]);
                buf.extend_from_slice(chunk);
            } else {
                buf.extend_from_slice(&chunk[(at - pos) as usize..]);
            }
            buf.truncate(GO_WINDOW as usize);
            self.data.windows.push(Window {
                start: at,
                end: (at + GO_WINDOW).min(self.data.size),
                buf,
            });
            return;
        }
        let keep = chunk.len().min(GO_MAGIC.len() - 1);
        self.go_tail = Some(chunk[chunk.len() - keep..].to_vec());
    }

    fn want(&mut self, start: u64, len: u64) {
        let len = len.min(TABLE);
        let end = start.saturating_add(len).min(self.data.size);
        if start >= end || self.data.have(&(start..end)) {
            return;
        }
        // Only what is still ahead can be captured.
        if start < self.pos {
            return;
        }
        self.data.windows.push(Window {
            start,
            end,
            buf: Vec::new(),
        });
    }

    fn discover(&mut self) {
        loop {
            let before = self.stage;
            match self.data.slice(0, 5).map(|b| b[4]) {
                Some(elf::ELFCLASS64) => self.step::<elf::FileHeader64<Endianness>>(),
                Some(elf::ELFCLASS32) => self.step::<elf::FileHeader32<Endianness>>(),
                Some(_) => self.stage = Stage::Done,
                None => return,
            }
            if self.stage == before {
                return;
            }
        }
    }

    fn step<H: FileHeader<Endian = Endianness>>(&mut self) {
        let data = &self.data;
        match self.stage {
            Stage::Header => {
                if !data.have(&(0..std::mem::size_of::<H>() as u64)) {
                    return;
                }
                let Ok(h) = H::parse(data) else {
                    self.stage = Stage::Done;
                    return;
                };
                let Ok(e) = h.endian() else {
                    self.stage = Stage::Done;
                    return;
                };
                let ph = (
                    h.e_phoff(e).into(),
                    h.e_phnum(e) as u64 * h.e_phentsize(e) as u64,
                );
                let sh = (
                    h.e_shoff(e).into(),
                    h.e_shnum(e) as u64 * h.e_shentsize(e) as u64,
                );
                self.want(ph.0, ph.1);
                self.want(sh.0, sh.1);
                self.stage = Stage::ProgramHeaders;
            }
            Stage::ProgramHeaders => {
                let Some((h, e)) = header::<H>(data) else {
                    self.stage = Stage::Done;
                    return;
                };
                // Offsets and sizes come from the image: saturating sums.
                let phoff: u64 = h.e_phoff(e).into();
                let ph = phoff..phoff.saturating_add(h.e_phnum(e) as u64 * h.e_phentsize(e) as u64);
                if !data.have(&ph) {
                    if self.pos >= ph.end {
                        self.stage = Stage::Done;
                    }
                    return;
                }
                let phdrs = h.program_headers(e, data).unwrap_or(&[]);
                let mut wanted = Vec::new();
                let mut go = false;
                for p in phdrs {
                    let (off, len) = (p.p_offset(e).into(), p.p_filesz(e).into());
                    match p.p_type(e) {
                        elf::PT_INTERP | elf::PT_DYNAMIC => wanted.push((off, len)),
                        elf::PT_NOTE => {
                            if let Ok(Some(mut notes)) = p.notes(e, data) {
                                while let Ok(Some(n)) = notes.next() {
                                    go |= n.name() == b"Go";
                                }
                            }
                        }
                        _ => {}
                    }
                }
                for (off, len) in wanted {
                    self.want(off, len);
                }
                if go && self.go_tail.is_none() && !self.go_found {
                    // Search from here on (the magic sits in the data
                    // segment, well after the headers) and in what the prefix
                    // already holds.
                    let held = self.data.windows[0].buf.clone();
                    self.search_go(Vec::new(), &held, 0);
                }
                self.stage = Stage::Dynamic;
            }
            Stage::Dynamic => {
                let Some((h, e)) = header::<H>(data) else {
                    self.stage = Stage::Done;
                    return;
                };
                let phdrs = h.program_headers(e, data).unwrap_or(&[]);
                let Some(dynamic) = phdrs.iter().find(|p| p.p_type(e) == elf::PT_DYNAMIC) else {
                    self.stage = Stage::Done;
                    return;
                };
                let Ok(Some(entries)) = dynamic.dynamic(e, data) else {
                    let off: u64 = dynamic.p_offset(e).into();
                    if self.pos >= off.saturating_add(dynamic.p_filesz(e).into()) {
                        self.stage = Stage::Done;
                    }
                    return;
                };
                if let Some(r) = dynstr::<H>(phdrs, entries, e) {
                    self.want(r.start, r.end - r.start);
                }
                self.stage = Stage::Done;
            }
            Stage::Done => {}
        }
    }

    /// The facts, once the whole file went past.
    pub fn finish(self) -> Option<ElfFacts> {
        if self.not_elf {
            return None;
        }
        match self.data.slice(0, 5).map(|b| b[4])? {
            elf::ELFCLASS64 => facts::<elf::FileHeader64<Endianness>>(&self.data),
            elf::ELFCLASS32 => facts::<elf::FileHeader32<Endianness>>(&self.data),
            _ => None,
        }
    }
}

fn header<H: FileHeader<Endian = Endianness>>(data: &Sparse) -> Option<(&H, Endianness)> {
    let h = H::parse(data).ok()?;
    Some((h, h.endian().ok()?))
}

fn tag<D: Dyn<Endian = Endianness>>(d: &D, e: Endianness) -> Option<i64> {
    Some(d.d_tag(e).into())
}

/// File offset of a virtual address, through the `PT_LOAD` segments.
fn file_offset<H: FileHeader<Endian = Endianness>>(
    phdrs: &[H::ProgramHeader],
    e: Endianness,
    addr: u64,
) -> Option<u64> {
    phdrs.iter().find_map(|p| {
        let (va, sz): (u64, u64) = (p.p_vaddr(e).into(), p.p_filesz(e).into());
        (p.p_type(e) == elf::PT_LOAD && va <= addr && addr < va.saturating_add(sz)).then(|| {
            let off: u64 = p.p_offset(e).into();
            off.saturating_add(addr - va)
        })
    })
}

/// The file range of the dynamic string table.
fn dynstr<H: FileHeader<Endian = Endianness>>(
    phdrs: &[H::ProgramHeader],
    entries: &[H::Dyn],
    e: Endianness,
) -> Option<Range<u64>> {
    let mut addr = None;
    let mut size = None;
    for d in entries {
        match tag(d, e) {
            Some(elf::DT_STRTAB) => addr = Some(d.d_val(e).into()),
            Some(elf::DT_STRSZ) => size = Some(d.d_val(e).into()),
            Some(elf::DT_NULL) => break,
            _ => {}
        }
    }
    let off = file_offset::<H>(phdrs, e, addr?)?;
    Some(off..off.saturating_add(size?.min(TABLE)))
}

fn facts<H: FileHeader<Endian = Endianness>>(data: &Sparse) -> Option<ElfFacts> {
    let (h, e) = header::<H>(data)?;
    let phdrs = h.program_headers(e, data).unwrap_or(&[]);
    let mut interp = None;
    let mut dynamic = None;
    for p in phdrs {
        match p.p_type(e) {
            elf::PT_INTERP => interp = p.interpreter(e, data).ok().flatten(),
            elf::PT_DYNAMIC => dynamic = Some(p),
            _ => {}
        }
    }
    let entries = dynamic.and_then(|p| p.dynamic(e, data).ok().flatten());
    let strtab = entries.and_then(|d| dynstr::<H>(phdrs, d, e));
    let string = |off: u64| -> Option<Box<[u8]>> {
        let r = strtab.as_ref()?;
        let at = r.start.checked_add(off)?;
        data.read_bytes_at_until(at..r.end, 0).ok().map(Box::from)
    };
    let mut needed = Some(Vec::new());
    let mut runpath = Vec::new();
    let mut soname = None;
    let mut pie = false;
    for d in entries.unwrap_or(&[]) {
        let val: u64 = d.d_val(e).into();
        match tag(d, e) {
            Some(elf::DT_NULL) => break,
            Some(elf::DT_NEEDED) => match (string(val), needed.as_mut()) {
                (Some(s), Some(n)) => n.push(s),
                _ => needed = None,
            },
            Some(elf::DT_SONAME) => soname = string(val),
            Some(elf::DT_RUNPATH) | Some(elf::DT_RPATH) => {
                if let Some(s) = string(val) {
                    runpath.extend(
                        s.split(|&b| b == b':')
                            .filter(|p| !p.is_empty())
                            .map(Box::from),
                    );
                }
            }
            Some(elf::DT_FLAGS_1) => pie |= val & elf::DF_1_PIE as u64 != 0,
            _ => {}
        }
    }
    if dynamic.is_some() && entries.is_none() {
        needed = None;
    }
    let etype = h.e_type(e);
    let kind = match etype {
        elf::ET_EXEC => ElfKind::Executable,
        elf::ET_DYN if interp.is_some() || pie => ElfKind::Executable,
        elf::ET_DYN => ElfKind::SharedLibrary,
        _ => ElfKind::Other,
    };
    let linkage = match (interp.is_some(), dynamic.is_some()) {
        (true, _) => Linkage::Dynamic,
        (false, false) => Linkage::Static,
        (false, true) if kind == ElfKind::Executable => Linkage::StaticPie,
        (false, true) => Linkage::Dynamic,
    };
    let upx = upx::<H>(h, e, data);
    let go = go_build(data);
    Some(ElfFacts {
        class64: h.is_type_64(),
        machine: h.e_machine(e),
        kind,
        linkage,
        interp: interp.map(Box::from),
        needed,
        runpath,
        soname,
        strippable: strippable::<H>(h, e, data),
        upx,
        go,
    })
}

/// UPX's own markers: the `l_info` block right after the program headers
/// carries the magic `UPX!`, and its stub carries a `$Info:` banner.
fn upx<H: FileHeader<Endian = Endianness>>(h: &H, e: Endianness, data: &Sparse) -> bool {
    let phoff: u64 = h.e_phoff(e).into();
    let after_ph = phoff.saturating_add(h.e_phnum(e) as u64 * h.e_phentsize(e) as u64);
    if data.slice(after_ph.saturating_add(4), 4) == Some(b"UPX!") {
        return true;
    }
    let head = data.slice(0, data.size.min(4096)).unwrap_or(&[]);
    memchr::memmem::find(head, b"This file is packed with the UPX executable packer").is_some()
}

fn align(v: u64, a: u64) -> u64 {
    if a <= 1 {
        v
    } else {
        v.div_ceil(a).saturating_mul(a)
    }
}

/// Bytes `strip` (GNU `--strip-all`) would remove: it drops the symbol
/// tables, their string tables and the debug sections, keeps every
/// allocated section where it is, lays the kept non-allocated sections out
/// after them, then a rebuilt section-name table and the section headers.
fn strippable<H: FileHeader<Endian = Endianness>>(
    h: &H,
    e: Endianness,
    data: &Sparse,
) -> Option<u64> {
    let sections = h.section_headers(e, data).ok()?;
    if sections.is_empty() {
        return Some(0);
    }
    let names_index = h.shstrndx(e, data).ok()? as usize;
    let names = sections.get(names_index)?;
    let (noff, nsize): (u64, u64) = (names.sh_offset(e).into(), names.sh_size(e).into());
    let name_of = |s: &H::SectionHeader| -> Option<&[u8]> {
        let at = noff.checked_add(s.sh_name(e) as u64)?;
        data.read_bytes_at_until(at..noff.saturating_add(nsize), 0)
            .ok()
    };
    // Sections removed: symbol tables, the string tables they link, debug info.
    let mut removed = vec![false; sections.len()];
    for (i, s) in sections.iter().enumerate() {
        let name = name_of(s)?;
        if s.sh_type(e) == elf::SHT_SYMTAB {
            removed[i] = true;
            if let Some(r) = removed.get_mut(s.sh_link(e) as usize) {
                *r = true;
            }
        }
        if name.starts_with(b".debug") || name.starts_with(b".zdebug") || name == b".stab" {
            removed[i] = true;
        }
    }
    if !removed.iter().any(|&r| r) {
        return Some(0);
    }
    let alloc = |s: &H::SectionHeader| s.sh_flags(e).into() & elf::SHF_ALLOC as u64 != 0;
    let bits = |s: &H::SectionHeader| s.sh_type(e) != elf::SHT_NOBITS && s.sh_type(e) != 0;
    let phoff: u64 = h.e_phoff(e).into();
    let mut end = phoff.saturating_add(h.e_phnum(e) as u64 * h.e_phentsize(e) as u64);
    end = end.max(std::mem::size_of::<H>() as u64);
    for p in h.program_headers(e, data).unwrap_or(&[]) {
        let off: u64 = p.p_offset(e).into();
        end = end.max(off.saturating_add(p.p_filesz(e).into()));
    }
    for s in sections.iter().filter(|s| alloc(s) && bits(s)) {
        let off: u64 = s.sh_offset(e).into();
        end = end.max(off.saturating_add(s.sh_size(e).into()));
    }
    let mut kept = 0u64;
    let mut names_len = 1u64;
    for (i, s) in sections.iter().enumerate() {
        if removed[i] {
            continue;
        }
        kept += 1;
        if i != 0 {
            names_len += name_of(s)?.len() as u64 + 1;
        }
        if i == names_index || alloc(s) || !bits(s) {
            continue;
        }
        end = align(end, s.sh_addralign(e).into()).saturating_add(s.sh_size(e).into());
    }
    end = end.saturating_add(names_len);
    end = align(end, if h.is_type_64() { 8 } else { 4 });
    end = end.saturating_add(kept * h.e_shentsize(e) as u64);
    Some(data.size.saturating_sub(end))
}

fn uvarint(b: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, &x) in b.iter().enumerate().take(10) {
        v |= ((x & 0x7f) as u64) << (7 * i);
        if x & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

/// Go ≥ 1.18's build info: a 32-byte header (magic, pointer size, flags with
/// bit 1 = inline strings), then the Go version and the module information,
/// each a varint length and the bytes.
fn go_build(data: &Sparse) -> Option<GoBuild> {
    let w = data
        .windows
        .iter()
        .find(|w| w.buf.starts_with(GO_MAGIC) && w.buf.len() >= 32)?;
    let b = &w.buf;
    if b[15] & 2 == 0 {
        return None; // pre-1.18 layout: pointers into the data segment
    }
    let mut at = 32;
    let mut next = || -> Option<String> {
        let (n, k) = uvarint(b.get(at..)?)?;
        let from = at.checked_add(k)?;
        let to = from.checked_add(usize::try_from(n).ok()?)?;
        let s = b.get(from..to)?;
        at = to;
        Some(String::from_utf8_lossy(s).into_owned())
    };
    let go_version = next()?;
    let info = next().unwrap_or_default();
    let mut path = String::new();
    let mut version = String::new();
    for line in info.lines() {
        let mut f = line.split('\t');
        match f.next() {
            Some("path") if path.is_empty() => path = f.next().unwrap_or("").to_string(),
            Some("mod") => {
                path = f.next().unwrap_or("").to_string();
                version = f.next().unwrap_or("").to_string();
            }
            _ => {}
        }
    }
    Some(GoBuild {
        go_version,
        path,
        version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(bytes: &[u8], chunk: usize) -> Option<ElfFacts> {
        let mut s = ElfScan::new(bytes.len() as u64)?;
        for c in bytes.chunks(chunk) {
            s.feed(c);
        }
        s.finish()
    }

    #[test]
    fn not_elf_is_none() {
        assert!(scan(&[0u8; 4096], 100).is_none());
    }

    #[test]
    fn this_test_binary_parses_in_any_chunking() {
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let a = scan(&exe, 256 * 1024).unwrap();
        let b = scan(&exe, 4093).unwrap();
        // The whole file in one chunk, as a mapped archive hands it over: the
        // dynamic section and the string table after the prefix must still be
        // read.
        let c = scan(&exe, exe.len()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.kind, ElfKind::Executable);
        assert!(a.needed.as_ref().is_some_and(|n| !n.is_empty()));
    }

    #[test]
    fn go_magic_split_across_chunks_is_found() {
        let mut s = ElfScan::new(100).unwrap();
        s.go_tail = Some(Vec::new());
        let mut file = vec![0u8; 40];
        file.extend_from_slice(GO_MAGIC);
        file.resize(100, 0);
        s.search_go(Vec::new(), &file[..45], 0);
        let tail = s.go_tail.take().unwrap();
        s.search_go(tail, &file[45..], 45);
        assert!(s.go_found);
        assert_eq!(s.data.windows.last().unwrap().start, 40);
    }
}
