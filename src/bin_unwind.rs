//! The unwinder entry points of the static release binary, as stand-ins that never unwind.
//!
//! The release build aborts on panic (`panic = "abort"`) and its unwind tables are discarded
//! (`.cargo/no-unwind-tables.ld`), so nothing ever unwinds: no personality routine runs and no
//! landing pad resumes. What is left of the unwinder is std's backtrace printer, which walks the
//! stack with `_Unwind_Backtrace` and then symbolizes each frame with a DWARF reader (gimli,
//! addr2line, a zlib inflater and a demangler: ~190 KB). With no unwind tables and a stripped
//! binary it could only ever print an empty trace.
//!
//! Defined here, in Rust, these functions are part of the LTO module: LLVM sees that
//! `_Unwind_Backtrace` never calls its callback, so the symbolizer behind that callback is dead
//! code and is dropped, and `libunwind.a` is no longer linked at all. A panic still prints its
//! message (`RUST_BACKTRACE` prints no frames, as before) and aborts.
//!
//! Compiled only where this holds: a musl target built with `panic = "abort"` (the release
//! builds of every architecture ddflare ships). Tests and debug builds unwind (the test harness
//! catches panics) and keep the real unwinder. The router builds, whose std is built with
//! `panic = "abort"`, call only `_Unwind_Backtrace` and `_Unwind_GetIP` (on ARM,
//! `_Unwind_VRS_Get`, which its `_Unwind_GetIP` is a macro over); `scripts/lib/unwind-stub.c`
//! stays as the `libunwind.a` their link asks for, and no part of it is used.
#![allow(unsafe_code)] // `no_mangle` (an unsafe attribute) is the only way to define them.

use std::ffi::{c_int, c_void};

/// `_URC_END_OF_STACK`: the walk is over before the first frame.
const END_OF_STACK: c_int = 5;

type TraceFn = extern "C" fn(*mut c_void, *mut c_void) -> c_int;

#[unsafe(no_mangle)]
extern "C" fn _Unwind_Backtrace(_trace: TraceFn, _arg: *mut c_void) -> c_int {
    END_OF_STACK
}

/// Called only from a landing pad, which a panic never reaches when panics abort.
#[unsafe(no_mangle)]
extern "C" fn _Unwind_Resume(_exception: *mut c_void) -> ! {
    std::process::abort()
}

// Used by std's personality routine, which only the unwinder calls: never.

#[unsafe(no_mangle)]
extern "C" fn _Unwind_GetLanguageSpecificData(_ctx: *mut c_void) -> *mut c_void {
    std::ptr::null_mut()
}

#[unsafe(no_mangle)]
extern "C" fn _Unwind_GetRegionStart(_ctx: *mut c_void) -> usize {
    0
}

#[unsafe(no_mangle)]
extern "C" fn _Unwind_GetTextRelBase(_ctx: *mut c_void) -> usize {
    0
}

#[unsafe(no_mangle)]
extern "C" fn _Unwind_GetDataRelBase(_ctx: *mut c_void) -> usize {
    0
}

#[unsafe(no_mangle)]
extern "C" fn _Unwind_GetIP(_ctx: *mut c_void) -> usize {
    0
}

#[unsafe(no_mangle)]
extern "C" fn _Unwind_GetIPInfo(_ctx: *mut c_void, ip_before_insn: *mut c_int) -> usize {
    let _ = ip_before_insn;
    0
}

#[unsafe(no_mangle)]
extern "C" fn _Unwind_SetGR(_ctx: *mut c_void, _reg: c_int, _value: usize) {}

#[unsafe(no_mangle)]
extern "C" fn _Unwind_SetIP(_ctx: *mut c_void, _value: usize) {}

/// ARM EHABI (armv7): reads a register of a frame; `_UVRSR_NOT_IMPLEMENTED`.
#[cfg(target_arch = "arm")]
#[unsafe(no_mangle)]
extern "C" fn _Unwind_VRS_Get(
    _ctx: *mut c_void,
    _class: c_int,
    _reg: u32,
    _repr: c_int,
    _value: *mut c_void,
) -> c_int {
    1
}
