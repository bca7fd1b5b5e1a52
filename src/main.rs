//! The `fedicensus` command; everything lives in the library.

fn main() -> std::process::ExitCode {
    fedicensus::main()
}
