//! dialogwatch
