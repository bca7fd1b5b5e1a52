//! The `fedicensus` command; everything lives in the library.

fn main() -> std::process::ExitCode {
    raise_open_file_limit();
    fedicensus::cli::main()
}

/// A crawl holds a socket per server in flight; the usual soft limit of 1,024 open
/// files is too low for that, and the hard limit is ours to take.
fn raise_open_file_limit() {
    #[cfg(unix)]
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        let mut limit = std::mem::zeroed::<libc::rlimit>();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
