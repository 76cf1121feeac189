//! Cloudflare API v4.
