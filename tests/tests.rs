//! Integration tests: the real server on an ephemeral loopback port, real
//! gRPC clients, real processes. One binary, one module per concern.

mod bad_input;
mod common;
mod end_to_end;
mod health;
mod queue;
mod security;
