//! pxelinux.cfg syntax tree, model, validator and generator.
#![warn(missing_docs)]
