//! The byte-exact wire layer: message type, option table, decoding and encoding.

pub mod code;
pub mod decode;
pub mod encode;
pub mod interop;
pub mod message;
