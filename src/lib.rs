//! The `propusk` command line: wires arguments to the library crates.
