//! The `propusk` command line: wires arguments to the library crates.
//!
//! Exit codes follow `shared/INTERFACE.md`: 0 valid / done, 1 invalid, 2 unknown, 64 usage
//! error.

pub mod bench;
pub mod cli;
pub mod demo;
pub mod inspect;
pub mod issue;
pub mod verify;
pub mod wallet;

/// Exit code: the command did its job, or every credential is valid.
pub const EXIT_OK: u8 = 0;
/// Exit code: a credential is invalid (refused by a decoder or a check).
pub const EXIT_INVALID: u8 = 1;
/// Exit code: the verifier cannot tell.
pub const EXIT_UNKNOWN: u8 = 2;
/// Exit code: the command line itself is wrong (sysexits `EX_USAGE`).
pub const EXIT_USAGE: u8 = 64;
/// Exit code: an input or output file could not be read or written (sysexits `EX_IOERR`).
pub const EXIT_IO: u8 = 74;
