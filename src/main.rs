//! The `fedicensus` command; everything lives in the library.

fn main() -> std::process::ExitCode {
    // Die quietly like other Unix tools when the reader of our output goes away
    // (`fedicensus server x | head`), instead of panicking on a broken pipe.
    #[cfg(unix)]
    // SAFETY: called first thing, before any thread exists; SIG_DFL is always valid.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    fedicensus::cli::main()
}
