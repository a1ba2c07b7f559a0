//! The `imgscope` binary; everything is in `cli/` (see its documentation).

mod cli;

fn main() -> std::process::ExitCode {
    tune_allocator();
    cli::main()
}

/// glibc raises its mmap threshold each time a large block is freed (up to
/// 32 MiB); past that, the index's growing columns and the layer indexes
/// are carved from its heaps and leave holes there as they grow and go
/// (about 20 MiB of the peak RSS on 1M files). A fixed threshold of 1 MiB
/// keeps blocks that large mapped: grown in place (mremap), given back
/// when freed. See docs/performance.md.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    // SAFETY: mallopt only sets a malloc parameter; called before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}
