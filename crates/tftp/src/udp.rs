//! UDP socket layer.
