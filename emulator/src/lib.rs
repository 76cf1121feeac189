//! Cloudflare API v4 emulator.
