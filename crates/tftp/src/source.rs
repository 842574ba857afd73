//! File sources.
