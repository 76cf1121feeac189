/* libunwind.a for the router builds (scripts/build-router).
 *
 * std for a musl target links `-lunwind` whatever the panic strategy, and with
 * `-Zbuild-std` nothing provides it (rustup's prebuilt targets ship LLVM's libunwind.a).
 * The binary defines the functions std calls itself (src/bin_unwind.rs, so that LTO can drop
 * std's backtrace symbolizer), and the linker takes nothing from this archive; it is kept
 * because the link needs a libunwind.a, and as the fallback should std ever call one more.
 * ddflare is built with panic = "abort", so nothing ever unwinds: the only callers left are
 * std's backtrace printer (RUST_BACKTRACE) and its frame accessor. These stand-ins report an
 * empty stack, so a panic still prints its message and then aborts; RUST_BACKTRACE prints no
 * frames, which is also what the x86_64 and aarch64 builds print, as their unwind tables are
 * discarded (.cargo/no-unwind-tables.ld). */

/* _URC_END_OF_STACK in both the generic and the ARM EHABI _Unwind_Reason_Code. */
#define END_OF_STACK 5

int _Unwind_Backtrace(void *trace, void *arg) {
  (void)trace;
  (void)arg;
  return END_OF_STACK;
}

#if defined(__arm__)
/* ARM EHABI: _Unwind_GetIP is a macro over this. 1 is _UVRSR_NOT_IMPLEMENTED. */
int _Unwind_VRS_Get(void *context, int regclass, unsigned regno, int representation,
                    void *value) {
  (void)context;
  (void)regclass;
  (void)regno;
  (void)representation;
  (void)value;
  return 1;
}
#else
unsigned long _Unwind_GetIP(void *context) {
  (void)context;
  return 0;
}
#endif
