//! Integration tests for dhcp-pxe: real firmware fixtures, hand-built packets, replies,
//! wire-level properties and property-based round trips.

mod firmware;
mod handbuilt;
mod replies;
mod roundtrip;
mod support;
mod wire;
