//! `propusk`: offline-first signed health credentials.

use std::process::ExitCode;

/// mimalloc: the server's pages allocate and free many small strings on every core at once,
/// where glibc's allocator spent a fifth of the portal's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // The standard library's print macros panic when the reader of standard output has gone
    // (`propusk issuer key list | head -1`): that one panic ends the command quietly, as a
    // shell's SIGPIPE would; any other panic is reported as usual.
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") {
            std::process::exit(i32::from(propusk::error::EXIT_CLOSED));
        }
        report(info);
    }));
    ExitCode::from(propusk::cli::run(std::env::args_os()))
}
