//! Integration tests for the pxelinux crate.

mod corpus;
mod lookup;
mod printer;
mod seed;
mod support;
