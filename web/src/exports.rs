//! The WebAssembly interface: exported functions over one input and one output buffer, so that
//! JavaScript needs no generated glue. The page asks [`input`] for room, writes a request
//! there, calls [`call`] with the operation's name written first, and reads [`output`] /
//! [`output_len`]. The only unsafe here is `#[unsafe(no_mangle)]`: the exported names.
#![allow(unsafe_code)]

use std::cell::RefCell;

use crate::Engine;

thread_local! {
    static ENGINE: RefCell<Engine> = RefCell::new(Engine::default());
    static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static OUTPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Room for a request of `len` bytes: where to write it.
#[unsafe(no_mangle)]
pub extern "C" fn input(len: usize) -> *mut u8 {
    INPUT.with_borrow_mut(|input| {
        input.clear();
        input.resize(len, 0);
        input.as_mut_ptr()
    })
}

/// Runs the operation whose name is the input's first `op_len` bytes on the rest of the input;
/// the answer is in [`output`] (its length the return value, and [`output_len`]).
#[unsafe(no_mangle)]
pub extern "C" fn call(op_len: usize) -> usize {
    let answer = INPUT.with_borrow(|input| {
        let (op, request) = input.split_at(op_len.min(input.len()));
        let op = std::str::from_utf8(op).unwrap_or("");
        ENGINE.with_borrow_mut(|engine| engine.handle(op, request))
    });
    OUTPUT.with_borrow_mut(|output| {
        *output = answer;
        output.len()
    })
}

/// Where the last answer is.
#[unsafe(no_mangle)]
pub extern "C" fn output() -> *const u8 {
    OUTPUT.with_borrow(|output| output.as_ptr())
}

/// The last answer's length.
#[unsafe(no_mangle)]
pub extern "C" fn output_len() -> usize {
    OUTPUT.with_borrow(Vec::len)
}

/// Randomness is not needed to verify; a crate that asks for it gets an error, not a panic.
#[cfg(target_arch = "wasm32")]
fn no_randomness(_: &mut [u8]) -> Result<(), getrandom::Error> {
    Err(getrandom::Error::UNSUPPORTED)
}

#[cfg(target_arch = "wasm32")]
getrandom::register_custom_getrandom!(no_randomness);
