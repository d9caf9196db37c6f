//! The `fanout` binary: everything happens in the library; this only hands the exit code
//! to the operating system.

fn main() {
    std::process::exit(fanout::cli::main_entry());
}
